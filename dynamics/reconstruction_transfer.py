r"""Linear theory of transfer with a reconstruction loss (Cui & Yu 2024 in the linear model).

The bridge between Cui & Yu, *Transfer Learning with Reconstruction Loss* (arXiv 2404.00505)
and the linear model of Balestriero & LeCun (ICML 2024).  Derivation and assumptions:
``docs/linear_reconstruction_theory.md``, section 5.

Source stage (population, centred input :math:`x`, covariance :math:`\Sigma`): a linear encoder
:math:`E\in\mathbb R^{K\times D}` with a source head and a decoder minimises

.. math::

    \frac1{c_s}\mathbb E\|y_s-b-WEx\|^2+\frac{\alpha}{D}\mathbb E\|x-ZEx\|^2 ,

(both terms mean-reduced, as ``MSELoss`` in the authors' code).  By the lemma
(:mod:`dynamics.linear_reconstruction`) :math:`E_\alpha` spans the top-``K`` generalised
eigenvectors of :math:`(C_s^\top C_s/c_s+\tfrac{\alpha}{D}\Sigma^2,\ \Sigma)`,
:math:`C_s=\mathbb E[y_sx^\top]`.

Target stage: :math:`E_\alpha` is frozen and a head :math:`\hat y=\hat b+\hat w^\top z`,
:math:`z=E_\alpha x`, is fitted by ordinary least squares (with intercept) on :math:`n_t`
i.i.d. target samples.  Its expected test error is

.. math::

    \mathcal E(\alpha,K,n_t)=\sigma^2_\alpha+\frac{\sigma^2_\alpha}{n_t}
    +\Big(1+\frac1{n_t}\Big)\frac{\operatorname{tr}(\Sigma_z^{-1}\Gamma_\alpha)}{n_t-K-2},

with the population residual
:math:`\sigma^2_\alpha=\mathrm{Var}(y_t)
-\operatorname{tr}[C_tE^\top(E\Sigma E^\top)^{-1}EC_t^\top]`,
:math:`\Sigma_z=E\Sigma E^\top` and :math:`\Gamma_\alpha=\mathbb E[\|\varepsilon\|^2zz^\top]`
(:math:`\varepsilon` the population residual).  For Gaussian :math:`(z,\varepsilon)`,
:math:`\operatorname{tr}(\Sigma_z^{-1}\Gamma)=K\sigma^2` and the formula is exact:
:math:`\mathcal E=\sigma^2_\alpha(1+1/n_t)(n_t-2)/(n_t-K-2)` (``estimation="gaussian"``).
With samples of the population, ``estimation="sandwich"`` uses the measured
:math:`\Gamma_\alpha` (exact to first order in :math:`1/n_t` for any distribution), and
``estimation="leverage"`` resums the high-leverage rows non-perturbatively
(:mod:`dynamics.ols_leverage`: deterministic equivalent of the resolvent, one- and two-row
terms, calibrated to the exact Gaussian result); ``estimation="stratified"`` does the same
given the composition of the sample over known strata (``sample_groups``, e.g. the classes)
and averages over it (:mod:`dynamics.ols_strata`); ``estimation="second_order"`` replaces
:math:`K+2` by the effective dimension
:math:`m=c_2/\operatorname{tr}(\Sigma_z^{-1}\Gamma_\alpha)-1` that makes the expansion exact to
second order (:mod:`dynamics.ols_expansion`; :math:`m=K+2` for Gaussian features).  It refuses
(:class:`~dynamics.errors.NotIdentifiableError`, a ``ValueError``) when
:math:`n_t-m<(n_t-K-2)/2`: the expansion is then not controlled.

Consequence (Gaussian case): the factor multiplying :math:`\sigma^2_\alpha` does not depend on
:math:`\alpha`, so the reconstruction loss helps the target exactly when it lowers the
population residual of the target on the frozen ``K`` features, and the best :math:`\alpha`
does not depend on :math:`n_t`; :math:`n_t` sets the best width ``K``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from dynamics.checks import as_rng, check_real
from dynamics.errors import NotIdentifiableError
from dynamics.linear_reconstruction import LinearObjective, check_data, solve
from dynamics.ols_expansion import ols_expansion
from dynamics.ols_leverage import leverage_excess
from dynamics.ols_strata import stratified_leverage_excess

__all__ = [
    "LinearTransferProblem",
    "TransferPrediction",
    "GaussianTransferTask",
    "source_objective",
    "source_encoder",
    "population_residual",
    "predict_target_error",
    "predict_for_encoder",
    "scratch_target_error",
    "transfer_error_table",
    "best_alpha",
    "population_risk",
]

ESTIMATIONS = ("gaussian", "sandwich", "second_order", "leverage", "stratified")


def _as_rows(name: str, a, D: int) -> np.ndarray:
    a = check_data(name, np.atleast_2d(np.asarray(a, dtype=float)))
    if a.shape[1] != D:
        raise ValueError(f"{name} has shape {a.shape}: need {D} columns (the input dimension)")
    return a


@dataclass(frozen=True, eq=False)
class LinearTransferProblem:
    r"""Population moments of a source and a target task on the same centred input.

    Attributes
    ----------
    cov : ndarray (D, D)
        :math:`\Sigma=\mathbb E[xx^\top]`, ``x`` centred, positive definite.
    source_cross : ndarray (c_s, D)
        :math:`C_s=\mathbb E[y_sx^\top]`.
    target_cross : ndarray (c_t, D)
        :math:`C_t=\mathbb E[y_tx^\top]`.
    target_var : float
        :math:`\mathbb E\|y_t-\mathbb E y_t\|^2`.
    target_mean : ndarray (c_t,)
        :math:`\mathbb E y_t`.
    samples : tuple (X, Y_t) or None
        Samples of the population (centred ``X``, ``N x D``; ``Y_t``, ``N x c_t``), needed only
        for ``estimation="sandwich"`` and ``"second_order"``; when the population *is* a
        finite data set, pass all of it.
    sample_groups : ndarray (N,) or None
        Stratum label of every sample row (e.g. the class of each image; at most 4 labels),
        used by ``estimation="stratified"`` (:mod:`dynamics.ols_strata`); without it that
        estimation is the leverage resummation.
    """

    cov: np.ndarray
    source_cross: np.ndarray
    target_cross: np.ndarray
    target_var: float
    target_mean: np.ndarray | None = None
    samples: tuple | None = None
    sample_groups: np.ndarray | None = None

    def __post_init__(self) -> None:
        s = check_data("cov", self.cov)
        if s.shape[0] != s.shape[1]:
            raise ValueError(f"cov has shape {s.shape}: must be square")
        D = s.shape[0]
        w = np.linalg.eigvalsh(0.5 * (s + s.T))
        if not w[0] > 1e-12 * max(w[-1], 1e-300):
            raise ValueError(f"cov is not positive definite (smallest eigenvalue {w[0]:.3g}): "
                             "drop constant features or add jitter")
        cs = _as_rows("source_cross", self.source_cross, D)
        ct = _as_rows("target_cross", self.target_cross, D)
        v = self.target_var
        if isinstance(v, bool) or not isinstance(v, Real) or not (math.isfinite(v) and v >= 0):
            raise ValueError(f"target_var = {v!r}: must be a finite number >= 0")
        mean = np.zeros(ct.shape[0]) if self.target_mean is None else np.atleast_1d(
            check_data("target_mean", np.atleast_1d(self.target_mean), 1))
        if mean.shape != (ct.shape[0],):
            raise ValueError(f"target_mean has shape {mean.shape}: need ({ct.shape[0]},)")
        for name, val in (("cov", 0.5 * (s + s.T)), ("source_cross", cs), ("target_cross", ct),
                          ("target_var", float(v)), ("target_mean", mean)):
            object.__setattr__(self, name, val)
        if self.samples is not None:
            X, Y = self.samples
            X = check_data("samples[0]", X)
            Y = check_data("samples[1]", np.reshape(Y, (len(Y), -1)))
            if X.shape[1] != D or Y.shape != (X.shape[0], ct.shape[0]):
                raise ValueError(f"samples have shapes {X.shape} and {Y.shape}: need (N, {D}) "
                                 f"and (N, {ct.shape[0]})")
            object.__setattr__(self, "samples", (X, Y))
        if self.sample_groups is not None:
            g = np.asarray(self.sample_groups)
            if self.samples is None or g.shape != (len(self.samples[0]),):
                raise ValueError(f"sample_groups has shape {g.shape}: need one label per "
                                 "row of samples (and samples)")
            object.__setattr__(self, "sample_groups", g)

    @property
    def dim(self) -> int:
        return self.cov.shape[0]

    @classmethod
    def from_data(cls, X, Y_source, Y_target, keep_samples: bool = True, groups=None):
        """Moments of a finite population (the rows of ``X``); ``X`` is centred here;
        ``groups``: optional stratum label per row (kept with the samples)."""
        X = check_data("X", X)
        ys = check_data("Y_source", np.reshape(Y_source, (len(Y_source), -1)))
        yt = check_data("Y_target", np.reshape(Y_target, (len(Y_target), -1)))
        if ys.shape[0] != X.shape[0] or yt.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but Y_source has {ys.shape[0]} and "
                             f"Y_target {yt.shape[0]}: shapes mismatch")
        N = X.shape[0]
        Xc = X - X.mean(0)
        ytc = yt - yt.mean(0)
        return cls(Xc.T @ Xc / N, (ys - ys.mean(0)).T @ Xc / N, ytc.T @ Xc / N,
                   float(np.sum(ytc ** 2) / N), yt.mean(0),
                   (Xc, yt) if keep_samples else None,
                   groups if keep_samples else None)


@dataclass(frozen=True)
class TransferPrediction:
    """Predicted target test error (per-sample squared error, summed over target outputs)."""

    alpha: float
    K: int
    n_t: int
    population_error: float
    estimation_error: float
    target_error: float
    estimation: str
    eigengap: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not (
            math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha = {alpha!r}: reconstruction weight must be a finite number >= 0")
    return float(alpha)


def source_objective(problem: LinearTransferProblem, alpha: float) -> LinearObjective:
    r"""Joint source objective :math:`\frac1{c_s}\|y_s-WEx\|^2+\frac{\alpha}{D}\|x-ZEx\|^2`."""
    a = _check_alpha(alpha)
    cs = problem.source_cross
    D = problem.dim
    B = np.vstack([cs / math.sqrt(cs.shape[0]), math.sqrt(a / D) * problem.cov])
    return LinearObjective(B, problem.cov, 0.0, "joint_source")


def source_encoder(problem: LinearTransferProblem, alpha: float, K: int,
                   rtol: float = 1e-9) -> tuple[np.ndarray, float]:
    """Optimal frozen encoder ``E_alpha`` (``K x D``) and its relative eigengap.

    Raises
    ------
    NotIdentifiableError
        If the optimal subspace is not unique (relative eigengap below ``rtol``), e.g.
        ``alpha = 0`` with ``K`` larger than the number of source outputs; use a small
        ``alpha > 0`` for the limit alpha -> 0+ (reconstruction breaks the tie).
    """
    rtol = check_real("rtol", rtol, nonneg=True)
    sol = solve(source_objective(problem, alpha), K)
    gap = sol.eigengap / max(sol.eigenvalues[0], 1e-300)
    if gap < rtol:
        raise NotIdentifiableError(
            f"alpha = {alpha}, K = {K}: the optimal source encoder is not unique (relative "
            f"eigengap {gap:.2g}); with alpha = 0 only rank(C_s) = "
            f"{np.linalg.matrix_rank(problem.source_cross)} directions are determined. Use a "
            "small alpha > 0 (the limit alpha -> 0+)"
        )
    return sol.encoder, float(gap)


def population_residual(problem: LinearTransferProblem, E) -> float:
    r"""Population residual on z = E x: Var(y_t) - tr[C_t E^T (E S E^T)^{-1} E C_t^T]."""
    E = _as_rows("encoder", E, problem.dim)
    if np.linalg.matrix_rank(E) < E.shape[0]:
        raise ValueError(f"encoder ({E.shape[0]} x {E.shape[1]}) has linearly dependent rows: "
                         "the OLS head on its features is not determined")
    G = E @ problem.cov @ E.T
    F = E @ problem.target_cross.T
    return float(max(problem.target_var - np.sum(F * np.linalg.solve(G, F)), 0.0))


def _check_nt(n_t, K: int, intercept: bool) -> int:
    lo = K + 3 if intercept else K + 2
    if isinstance(n_t, bool) or not isinstance(n_t, Integral) or n_t < lo:
        raise ValueError(f"n_t = {n_t!r}: the OLS head on K = {K} features"
                         f"{' with intercept' if intercept else ''} needs n_t >= {lo}")
    return int(n_t)


def _sandwich_trace(problem: LinearTransferProblem, E) -> float:
    X, Y = problem.samples
    Z = X @ E.T
    Z = Z - Z.mean(0)
    G = Z.T @ Z / len(Z)
    W = np.linalg.solve(G, Z.T @ (Y - Y.mean(0)) / len(Z))
    eps = Y - Y.mean(0) - Z @ W
    lev = np.sum(Z * np.linalg.solve(G, Z.T).T, axis=1)
    return float(np.mean(np.sum(eps ** 2, axis=1) * lev))


def _second_order_shift(problem, E, n: int, intercept: bool) -> tuple[float, float]:
    """(trace, shift m) with the expansion a1/n + c2/n^2 of ols_expansion matched exactly."""
    X, Y = problem.samples
    ex = ols_expansion(X @ E.T, Y, intercept)
    K = E.shape[0]
    tr = ex.a1 - ex.residual_var if intercept else ex.a1
    gauss = K + 2 if intercept else K + 1
    y_var = float(np.mean(np.sum((Y - Y.mean(0)) ** 2, axis=-1))) if np.ndim(Y) > 1 \
        else float(np.var(Y))
    if not ex.residual_var > 1e-24 * y_var:  # zero residual (up to rounding): no error
        return 0.0, gauss
    if not tr > 1e-14 * max(ex.residual_var, 1e-300):
        return max(tr, 0.0), gauss  # no estimation error beyond the intercept term
    m = ex.c2 / tr - (1 if intercept else 0)
    if n - m < 0.5 * (n - gauss):
        raise NotIdentifiableError(
            f"n_t = {n}: the second-order expansion is not controlled (effective dimension "
            f"{m:.3g} against {gauss} for Gaussian features; it must stay below "
            f"{0.5 * (n + gauss):.3g}, i.e. at most double the sandwich estimation term): use "
            "estimation='sandwich' or a larger n_t")
    return tr, float(m)


def _leverage_term(problem, E, n: int, intercept: bool, estimation: str = "leverage"
                   ) -> float:
    """Leverage-resummed excess risk of the head (:mod:`dynamics.ols_leverage`), conditioned
    on the composition of the strata for ``"stratified"`` (:mod:`dynamics.ols_strata`)."""
    if problem.samples is None:
        raise ValueError(f"estimation = {estimation!r} needs problem.samples (population "
                         "samples)")
    X, Y = problem.samples
    if estimation == "stratified" and problem.sample_groups is not None:
        return stratified_leverage_excess(X @ E.T, Y, problem.sample_groups, n, intercept)
    return leverage_excess(X @ E.T, Y, n, intercept).excess


def _estimation_terms(problem, E, estimation: str, sigma2: float, n: int,
                      intercept: bool) -> tuple[float, float]:
    """(trace term, denominator shift m): estimation error ~ tr / (n - m)."""
    K = E.shape[0]
    if estimation not in ESTIMATIONS:
        raise ValueError(f"estimation = {estimation!r}: choose from {ESTIMATIONS}")
    gauss = K + 2 if intercept else K + 1
    if estimation == "gaussian":
        return K * sigma2, gauss
    if problem.samples is None:
        raise ValueError(f"estimation = {estimation!r} needs problem.samples (population "
                         "samples)")
    if estimation == "sandwich":
        return _sandwich_trace(problem, E), gauss
    return _second_order_shift(problem, E, n, intercept)


def _prediction(problem, E, gap, alpha, n_t, estimation, intercept) -> TransferPrediction:
    if not isinstance(intercept, bool | np.bool_):
        raise ValueError(f"intercept = {intercept!r}: must be True or False")
    K = E.shape[0]
    n = _check_nt(n_t, K, intercept)
    s2 = population_residual(problem, E)
    if estimation in ("leverage", "stratified"):
        est = _leverage_term(problem, E, n, bool(intercept), estimation)
    else:
        tr, m = _estimation_terms(problem, E, estimation, s2, n, bool(intercept))
        est = s2 / n + (1 + 1 / n) * tr / (n - m) if intercept else tr / (n - m)
    if not (math.isfinite(s2) and math.isfinite(est)):
        raise ValueError(f"encoder: the predicted error is not finite (residual {s2}, "
                         f"estimation term {est}): the encoded features overflow float64; "
                         "rescale the encoder")
    return TransferPrediction(float(alpha), K, n, s2, float(est), float(s2 + est),
                              estimation, gap)


def predict_for_encoder(problem: LinearTransferProblem, E, n_t: int, *,
                        estimation: str = "gaussian", intercept: bool = True
                        ) -> TransferPrediction:
    """Expected target test error of an OLS head on the frozen features of any encoder ``E``."""
    E = _as_rows("encoder", E, problem.dim)
    if E.shape[0] > problem.dim:
        raise ValueError(f"encoder has K = {E.shape[0]} rows > D = {problem.dim}")
    return _prediction(problem, E, math.nan, math.nan, n_t, estimation, intercept)


def predict_target_error(problem: LinearTransferProblem, alpha: float, K: int, n_t: int, *,
                         estimation: str = "gaussian", intercept: bool = True
                         ) -> TransferPrediction:
    """Expected target test error of joint training + frozen encoder + OLS head (module doc)."""
    E, gap = source_encoder(problem, alpha, K)
    return _prediction(problem, E, gap, alpha, n_t, estimation, intercept)


def scratch_target_error(problem: LinearTransferProblem, n_t: int, *,
                         estimation: str = "gaussian", intercept: bool = True
                         ) -> TransferPrediction:
    """Regular learning: OLS on the raw ``D`` inputs (encoder = identity), ``alpha = nan``."""
    return _prediction(problem, np.eye(problem.dim), math.inf, math.nan, n_t, estimation,
                       intercept)


def transfer_error_table(problem: LinearTransferProblem, alphas, Ks, n_ts, *,
                         estimation: str = "gaussian", intercept: bool = True):
    """Tidy table of :func:`predict_target_error` over ``alphas x Ks x n_ts``.

    Points where the encoder is not identifiable or ``n_t`` is too small get ``status`` set to
    the reason and NaN errors (reported, not dropped).  Returns a ``pandas.DataFrame`` (pandas
    is imported here only; the theory itself is numpy/scipy).
    """
    import pandas as pd

    for name, grid in (("alphas", alphas), ("Ks", Ks), ("n_ts", n_ts)):
        if np.ndim(grid) != 1 or np.size(grid) == 0:
            raise ValueError(f"{name} = {grid!r}: expected a non-empty 1-d sequence")
    for a in alphas:
        _check_alpha(a)
    # argument errors raise here; only the per-point refusals below become a status
    if estimation not in ESTIMATIONS:
        raise ValueError(f"estimation = {estimation!r}: choose from {ESTIMATIONS}")
    if estimation != "gaussian" and problem.samples is None:
        raise ValueError(f"estimation = {estimation!r} needs problem.samples (population "
                         "samples)")
    if not isinstance(intercept, bool | np.bool_):
        raise ValueError(f"intercept = {intercept!r}: must be True or False")
    for K in Ks:
        if isinstance(K, bool) or not isinstance(K, Integral) or not 1 <= K <= problem.dim:
            raise ValueError(f"Ks contains {K!r}: widths must be integers in [1, {problem.dim}]")
    for n in n_ts:
        if isinstance(n, bool) or not isinstance(n, Integral):
            raise ValueError(f"n_ts contains {n!r}: sample sizes must be integers")
    rows = []
    for K in Ks:
        for a in alphas:
            try:
                E, gap = source_encoder(problem, a, K)
                err = None
            except NotIdentifiableError as exc:
                err = f"not identifiable: {exc}"
            for n in n_ts:
                row = {"alpha": float(a), "K": int(K), "n_t": int(n)}
                if err is None:
                    try:
                        pred = _prediction(problem, E, gap, a, n, estimation, intercept)
                        row.update(pred.to_dict(), status="ok")
                    except ValueError as exc:
                        row.update(status=str(exc))
                else:
                    row.update(status=err)
                rows.append(row)
    df = pd.DataFrame(rows)
    for c in ("population_error", "estimation_error", "target_error"):
        if c not in df:
            df[c] = np.nan
    return df


def best_alpha(table, error: str = "target_error"):
    """Row of the smallest ``error`` for every ``(K, n_t)`` of a transfer table."""
    cols = getattr(table, "columns", None)
    if cols is None or not {"K", "n_t"} <= set(cols):
        raise ValueError("table: expected a DataFrame from transfer_error_table (columns K, n_t)")
    if error not in cols:
        raise ValueError(f"error = {error!r}: not a column of the table (e.g. 'target_error')")
    ok = table.dropna(subset=[error])
    idx = ok.groupby(["K", "n_t"])[error].idxmin()
    return ok.loc[idx].reset_index(drop=True)


def population_risk(problem: LinearTransferProblem, W, b) -> float:
    r"""Exact target risk of a linear predictor :math:`\hat y=b+Wx` (``W``: ``c_t x D``).

    :math:`\mathrm{Var}(y_t)+\|b-\mathbb Ey_t\|^2-2\operatorname{tr}(WC_t^\top)
    +\operatorname{tr}(W\Sigma W^\top)`.
    """
    W = _as_rows("W", W, problem.dim)
    b = np.atleast_1d(np.asarray(b, dtype=float))
    if W.shape[0] != problem.target_cross.shape[0] or b.shape != (W.shape[0],):
        raise ValueError(f"W has shape {W.shape} and b {b.shape}: need "
                         f"({problem.target_cross.shape[0]}, D) and ({W.shape[0]},)")
    return float(problem.target_var + np.sum((b - problem.target_mean) ** 2)
                 - 2 * np.sum(W * problem.target_cross) + np.sum((W @ problem.cov) * W))


@dataclass(frozen=True, eq=False)
class GaussianTransferTask:
    r"""Synthetic task: :math:`x\sim N(0,\mathrm{diag}(\lambda))`, :math:`y=\beta^\top x+\xi`.

    Attributes
    ----------
    eigenvalues : (D,) input variances.
    beta_source : (c_s, D), beta_target : (c_t, D) regression coefficients.
    noise_source, noise_target : label-noise standard deviations.
    """

    eigenvalues: np.ndarray
    beta_source: np.ndarray
    beta_target: np.ndarray
    noise_source: float = 0.1
    noise_target: float = 0.1

    def __post_init__(self) -> None:
        lam = check_data("eigenvalues", self.eigenvalues, 1)
        if np.any(lam <= 0):
            raise ValueError("eigenvalues must be positive")
        D = lam.size
        object.__setattr__(self, "eigenvalues", lam)
        object.__setattr__(self, "beta_source", _as_rows("beta_source", self.beta_source, D))
        object.__setattr__(self, "beta_target", _as_rows("beta_target", self.beta_target, D))
        for name in ("noise_source", "noise_target"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, Real) or not (
                    math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} = {v!r}: must be a finite number >= 0")

    @classmethod
    def low_variance_target(cls, D: int = 30, decay: float = 0.85, n_source: int = 3,
                            noise: float = 0.3, seed=0) -> GaussianTransferTask:
        """Source and target live in the low-variance half of the input directions.

        ``lambda_i = decay**i``; each of the ``n_source`` source outputs has Gaussian
        coefficients on the ``D - D//2`` lowest-variance directions, scaled by
        ``1/sqrt(lambda_i)`` so every direction carries the same signal variance; the target is
        the normalised sum of the source coefficient vectors.  Reconstruction pulls the encoder
        towards the high-variance directions and so should hurt the target.
        """
        if isinstance(D, bool) or not isinstance(D, Integral) or D < 4:
            raise ValueError(f"D = {D!r}: must be an integer >= 4")
        if isinstance(n_source, bool) or not isinstance(n_source, Integral) or n_source < 1:
            raise ValueError(f"n_source = {n_source!r}: must be a positive integer")
        if not 0 < check_real("decay", decay) < 1:
            raise ValueError(f"decay = {decay!r}: must lie in (0, 1)")
        if D > 100_000:
            raise ValueError(f"D = {D}: at most 100000 input dimensions")
        check_real("noise", noise, nonneg=True)
        lam = decay ** np.arange(D, dtype=float)
        h = D // 2
        rng = as_rng(seed)
        bs = np.zeros((n_source, D))
        bs[:, h:] = rng.standard_normal((n_source, D - h)) / np.sqrt(lam[h:] * (D - h))
        bt = bs.sum(0, keepdims=True) / np.sqrt(n_source)
        return cls(lam, bs, bt, noise, noise)

    def problem(self) -> LinearTransferProblem:
        lam = self.eigenvalues
        bt = self.beta_target
        var = float(np.sum(bt * bt * lam) + bt.shape[0] * self.noise_target ** 2)
        return LinearTransferProblem(np.diag(lam), self.beta_source * lam, bt * lam, var)

    def sample(self, n: int, seed=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` draws ``(X, Y_source, Y_target)``."""
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
            raise ValueError(f"n = {n!r}: must be a positive integer")
        width = self.eigenvalues.size + self.beta_source.shape[0] + self.beta_target.shape[0]
        if n * width > 500_000_000:
            raise ValueError(f"n = {n}: {n} x {width} draws are over the 5e+08 entries allowed")
        rng = as_rng(seed)
        X = rng.standard_normal((n, self.eigenvalues.size)) * np.sqrt(self.eigenvalues)
        ys = X @ self.beta_source.T + self.noise_source * rng.standard_normal(
            (n, self.beta_source.shape[0]))
        yt = X @ self.beta_target.T + self.noise_target * rng.standard_normal(
            (n, self.beta_target.shape[0]))
        return X, ys, yt
