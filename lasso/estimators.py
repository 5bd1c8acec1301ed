r"""Two-stage transfer Lasso estimators with a scikit-learn API.

The central estimator is the generalized Trans-Lasso (Okajima & Obuchi 2024,
arXiv:2409.17704; objectives as in spec section 2, in the unnormalised form for which the
replica predictions hold with :math:`A_{\mu i}\sim\mathcal N(0,1/N)` and no rescaling).
Dataset index 0 is the target, indices 1..K the sources.

Stage 1 (pretraining on all rows, target included):

.. math::

    \hat x^{(1st)} = \arg\min_x\ \tfrac12\sum_{k=0}^{K}\|y^{(k)} - A^{(k)}x\|_2^2
    + \lambda_1\|x\|_1 .

Stage 2 (fine-tuning on the target), with :math:`S=\mathrm{supp}(\hat x^{(1st)})`:

.. math::

    \hat x^{(2nd)} = \arg\min_x\ \tfrac12\|y^{(0)} - \kappa A^{(0)}\hat x^{(1st)} - A^{(0)}x\|_2^2
    + \lambda_2\sum_{i\in S}|x_i| + (\lambda_2+\Delta\lambda)\sum_{i\notin S}|x_i| ,

and the estimate is :math:`\hat x = \kappa\hat x^{(1st)} + \hat x^{(2nd)}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_is_fitted

from ._data import center, stack_fortran
from ._validation import check_datasets, check_identifiable, check_penalty
from .errors import NotIdentifiableError
from .solver import SOLVERS, LassoResult, column_sq_norms, solve_weighted_lasso


@dataclass(frozen=True)
class TransferFit:
    """Result of one two-stage fit.

    Attributes
    ----------
    coef : ndarray (N,)
        :math:`\\kappa\\hat x^{(1st)} + \\hat x^{(2nd)}`.
    coef_stage1, coef_stage2 : ndarray (N,)
        :math:`\\hat x^{(1st)}` and :math:`\\hat x^{(2nd)}`.
    support_stage1 : ndarray of bool (N,)
        :math:`S`.
    intercept : float
        Target intercept (0 without ``fit_intercept``).
    stage1, stage2 : LassoResult
        Solver results of the two stages (objective, duality gap, convergence).
    """

    coef: np.ndarray
    coef_stage1: np.ndarray
    coef_stage2: np.ndarray
    support_stage1: np.ndarray
    intercept: float
    stage1: LassoResult
    stage2: LassoResult

    @property
    def converged(self) -> bool:
        return self.stage1.converged and self.stage2.converged

    def to_dict(self) -> dict:
        d = {f"stage1_{k}": v for k, v in self.stage1.to_dict().items()}
        d.update({f"stage2_{k}": v for k, v in self.stage2.to_dict().items()})
        d["intercept"] = self.intercept
        d["converged"] = self.converged
        return d


def stage2_weights(support, lam2: float, dlam: float) -> np.ndarray:
    r"""Stage-2 penalties :math:`\lambda_2 + \Delta\lambda\,\mathbb 1[i\notin S]`
    (``dlam = inf`` restricts the fit to :math:`S`)."""
    support = np.asarray(support, dtype=bool)
    w = np.full(support.shape, float(lam2))
    w[~support] = np.inf if np.isinf(dlam) else lam2 + dlam
    return w


def _check_solver(solver):
    if solver not in SOLVERS:
        raise ValueError(f"solver = {solver!r}: must be one of {SOLVERS}")


def _check_kappa(kappa) -> float:
    k = float(kappa)
    if not np.isfinite(k):
        raise ValueError(f"kappa = {kappa}: must be a finite real number")
    return k


class _Prepared:
    """Centred target and pooled design for repeated fits (internal)."""

    def __init__(self, target, sources, fit_intercept, pooled=True):
        (X0, y0) = target
        X0c, y0c, self.x0_mean, self.y0_mean = center(X0, y0, fit_intercept)
        self.A0 = np.asfortranarray(X0c)
        self.y0 = np.ascontiguousarray(y0c)
        self.L0 = column_sq_norms(self.A0)
        self.n_features = X0.shape[1]
        if pooled:
            cs = [center(X, y, fit_intercept) for X, y in sources]
            self.A = stack_fortran([X0c] + [c[0] for c in cs])
            self.b = np.concatenate([y0c] + [c[1] for c in cs])
            self.L = column_sq_norms(self.A)

    def intercept(self, coef) -> float:
        return float(self.y0_mean - self.x0_mean @ coef)


def _stage1(prep, lam1, solver, tol, max_iter, strict, init=None) -> LassoResult:
    return solve_weighted_lasso(
        prep.A, prep.b, lam1, solver=solver, tol=tol, max_iter=max_iter, init=init,
        strict=strict, col_sq_norms=prep.L,
    )


def _stage2(A0, y0, L0, x1, offset, lam2, kappa, dlam, solver, tol, max_iter, strict, init=None):
    """Stage 2 given the stage-1 vector; ``offset`` is the target prediction used for the
    offset (``A0 @ x1`` in-sample, or pre-validated values)."""
    support = x1 != 0
    n_free = int(support.sum()) if lam2 == 0 else 0
    if n_free > A0.shape[0]:
        raise NotIdentifiableError(
            f"lam2 = 0 leaves the {n_free} stage-1 support coordinates unpenalised but the target "
            f"has only {A0.shape[0]} rows: stage 2 is not identifiable; use lam2 > 0"
        )
    b = y0 - kappa * offset if kappa != 0 else y0
    return solve_weighted_lasso(
        A0, b, stage2_weights(support, lam2, dlam), solver=solver, tol=tol, max_iter=max_iter,
        init=init, strict=strict, col_sq_norms=L0,
    )


def fit_two_stage(
    target, sources, lam1, lam2, kappa, dlam, *, solver="fast", tol=1e-8, max_iter=10_000,
    fit_intercept=False, strict=False,
) -> TransferFit:
    r"""Fit the generalized Trans-Lasso once and return a :class:`TransferFit`.

    Functional form of :class:`GeneralizedTransLasso` (same parameters); see the module
    docstring for the objectives (Okajima & Obuchi 2024, arXiv:2409.17704).
    """
    _check_solver(solver)
    target, sources = check_datasets(target, sources, require_sources=False)
    lam1 = check_penalty(lam1, "lam1")
    lam2 = check_penalty(lam2, "lam2")
    dlam = check_penalty(dlam, "dlam", allow_inf=True)
    kappa = _check_kappa(kappa)
    n_rows = target[0].shape[0] + sum(X.shape[0] for X, _ in sources)
    check_identifiable(lam1, n_rows, target[0].shape[1], "lam1")
    prep = _Prepared(target, sources, fit_intercept)
    return _fit_prepared(prep, lam1, lam2, kappa, dlam, solver, tol, max_iter, strict)


def _fit_prepared(prep, lam1, lam2, kappa, dlam, solver, tol, max_iter, strict, s1=None):
    if s1 is None:
        s1 = _stage1(prep, lam1, solver, tol, max_iter, strict)
    x1 = s1.coef
    s2 = _stage2(
        prep.A0, prep.y0, prep.L0, x1, prep.A0 @ x1, lam2, kappa, dlam, solver, tol,
        max_iter, strict,
    )
    coef = kappa * x1 + s2.coef
    return TransferFit(
        coef=coef, coef_stage1=x1, coef_stage2=s2.coef, support_stage1=x1 != 0,
        intercept=prep.intercept(coef), stage1=s1, stage2=s2,
    )


class _TransferBase(RegressorMixin, BaseEstimator):
    """Shared predict / result plumbing."""

    def _set_fit(self, fit: TransferFit):
        self.fit_ = fit
        self.coef_ = fit.coef
        self.coef_stage1_ = fit.coef_stage1
        self.coef_stage2_ = fit.coef_stage2
        self.support_stage1_ = fit.support_stage1
        self.intercept_ = fit.intercept
        self.n_features_in_ = fit.coef.shape[0]
        return self

    def predict(self, X):
        """Target prediction :math:`X\\hat x + \\text{intercept}`."""
        check_is_fitted(self, "coef_")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has shape {X.shape}: expected {self.n_features_in_} features as in fit"
            )
        return X @ self.coef_ + self.intercept_

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination :math:`R^2` of the target prediction."""
        return super().score(X, y, sample_weight=sample_weight)


class GeneralizedTransLasso(_TransferBase):
    r"""Generalized Trans-Lasso (Okajima & Obuchi 2024, arXiv:2409.17704; spec section 2).

    Stage 1 pools target and sources,

    .. math::

        \hat x^{(1st)} = \arg\min_x \tfrac12\sum_{k=0}^K\|y^{(k)} - A^{(k)}x\|_2^2
        + \lambda_1\|x\|_1 ,

    stage 2 fine-tunes on the target with offset :math:`\kappa A^{(0)}\hat x^{(1st)}` and extra
    penalty :math:`\Delta\lambda` off :math:`S=\mathrm{supp}(\hat x^{(1st)})`,

    .. math::

        \hat x^{(2nd)} = \arg\min_x \tfrac12\|y^{(0)} - \kappa A^{(0)}\hat x^{(1st)}
        - A^{(0)}x\|_2^2 + \sum_i(\lambda_2 + \Delta\lambda\,\mathbb 1[i\notin S])|x_i| ,

    and :math:`\hat x = \kappa\hat x^{(1st)} + \hat x^{(2nd)}`. Objectives are unnormalised
    (no :math:`1/M`) and nothing is standardised. Special cases: :math:`\kappa=1,
    \Delta\lambda=0` is oracle Trans-Lasso (Li, Cai & Li 2022) with all sources informative;
    :math:`\kappa=1-\alpha, \Delta\lambda=\lambda_2(1/\alpha-1)` is Pretraining Lasso
    (Craig et al. 2024); :math:`\kappa=0,\Delta\lambda=0` is the target-only Lasso.

    Parameters
    ----------
    lam1 : float
        Stage-1 penalty :math:`\lambda_1\ge0` (0 only with at least as many pooled rows as
        features).
    lam2 : float
        Stage-2 base penalty :math:`\lambda_2\ge0`.
    kappa : float
        Weight :math:`\kappa` of the pretrained vector in the offset (any real).
    dlam : float
        Extra penalty :math:`\Delta\lambda\ge0` off the stage-1 support (``inf`` restricts
        stage 2 to the support).
    solver : {"fast", "cvxpy"}
        ``"fast"``: numba working-set coordinate descent; ``"cvxpy"``: CLARABEL oracle.
    tol : float
        Duality-gap tolerance relative to :math:`\|b\|^2`, per stage.
    max_iter : int
        Maximum coordinate-descent epochs per stage.
    fit_intercept : bool
        Fit an unpenalised intercept per dataset (each dataset is centred by its own means).
    strict : bool
        Raise :class:`~lasso.errors.ConvergenceError` instead of warning.

    Attributes
    ----------
    coef_, coef_stage1_, coef_stage2_ : ndarray (N,)
    support_stage1_ : ndarray of bool (N,)
    intercept_ : float
    fit_ : TransferFit
        Full result, including both stages' objectives and duality gaps.
    """

    def __init__(
        self, lam1=1.0, lam2=1.0, kappa=1.0, dlam=0.0, *, solver="fast", tol=1e-8,
        max_iter=10_000, fit_intercept=False, strict=False,
    ):
        self.lam1 = lam1
        self.lam2 = lam2
        self.kappa = kappa
        self.dlam = dlam
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.strict = strict

    def fit(self, target, sources):
        """Fit on ``target = (X0, y0)`` and ``sources = [(X1, y1), ...]`` (at least one)."""
        target, sources = check_datasets(target, sources, require_sources=True)
        fit = fit_two_stage(
            target, sources, self.lam1, self.lam2, self.kappa, self.dlam, solver=self.solver,
            tol=self.tol, max_iter=self.max_iter, fit_intercept=self.fit_intercept,
            strict=self.strict,
        )
        return self._set_fit(fit)


class _SingleLasso(_TransferBase):
    """One-penalty baselines: shared parameters and fitted attributes."""

    def __init__(self, lam=1.0, *, solver="fast", tol=1e-8, max_iter=10_000,
                 fit_intercept=False, strict=False):
        self.lam = lam
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.strict = strict

    def _set_single(self, res, prep):
        self.result_ = res
        self.coef_ = res.coef
        self.intercept_ = prep.intercept(res.coef)
        self.n_features_in_ = res.coef.shape[0]
        return self


class TargetLasso(_SingleLasso):
    r"""Target-only Lasso baseline,
    :math:`\arg\min_x \tfrac12\|y^{(0)}-A^{(0)}x\|_2^2+\lambda\|x\|_1` (sources ignored).

    Equals the generalized Trans-Lasso with :math:`\kappa=\Delta\lambda=0`.
    Parameters as in :class:`GeneralizedTransLasso` with ``lam`` the penalty.
    """

    def fit(self, target, sources=None):
        """Fit on ``target = (X0, y0)``; ``sources`` is accepted and ignored."""
        _check_solver(self.solver)
        target, _ = check_datasets(target, sources, require_sources=False)
        lam = check_penalty(self.lam, "lam")
        check_identifiable(lam, target[0].shape[0], target[0].shape[1], "lam")
        prep = _Prepared(target, [], self.fit_intercept, pooled=False)
        res = solve_weighted_lasso(
            prep.A0, prep.y0, lam, solver=self.solver, tol=self.tol, max_iter=self.max_iter,
            strict=self.strict, col_sq_norms=prep.L0,
        )
        return self._set_single(res, prep)


class PooledLasso(_SingleLasso):
    r"""Pooled Lasso baseline (stage 1 alone),
    :math:`\arg\min_x \tfrac12\sum_{k=0}^K\|y^{(k)}-A^{(k)}x\|_2^2+\lambda\|x\|_1`.

    Equals the generalized Trans-Lasso with :math:`\kappa=1,\lambda_2\to\infty`.
    With ``fit_intercept`` each dataset gets its own intercept; predictions use the target's.
    """

    def fit(self, target, sources):
        """Fit on ``target = (X0, y0)`` and ``sources = [(X1, y1), ...]`` (at least one)."""
        _check_solver(self.solver)
        target, sources = check_datasets(target, sources, require_sources=True)
        lam = check_penalty(self.lam, "lam")
        n_rows = target[0].shape[0] + sum(X.shape[0] for X, _ in sources)
        check_identifiable(lam, n_rows, target[0].shape[1], "lam")
        prep = _Prepared(target, sources, self.fit_intercept)
        res = _stage1(prep, lam, self.solver, self.tol, self.max_iter, self.strict)
        return self._set_single(res, prep)


class PretrainingLasso(_TransferBase):
    r"""Pretraining Lasso (Craig et al. 2024, arXiv:2401.12911), transfer form: one target
    group fine-tuned from an overall model fitted on all rows.

    Overall model :math:`\hat\theta` = stage 1 of :class:`GeneralizedTransLasso` (penalty
    ``lam1``), :math:`\eta = A^{(0)}\hat\theta`, :math:`S=\mathrm{supp}(\hat\theta)`; then

    .. math::

        \hat\beta = \arg\min_\beta \tfrac12\|y^{(0)} - (1-\alpha)\eta - A^{(0)}\beta\|_2^2
        + \lambda_2\sum_j \mathrm{pf}_j|\beta_j|,\qquad
        \mathrm{pf}_j = 1\ (j\in S),\ 1/\alpha\ (j\notin S),

    and :math:`\hat x = (1-\alpha)\hat\theta + \hat\beta`. This is the generalized
    Trans-Lasso with :math:`\kappa=1-\alpha`, :math:`\Delta\lambda=\lambda_2(1/\alpha-1)`
    (``alpha = 0`` restricts stage 2 to :math:`S`). Objectives are unnormalised: the paper's
    :math:`1/(2n_k)`-normalised :math:`\lambda_k` is ``lam2 / n_0``.

    Parameters
    ----------
    alpha : float in [0, 1]
        Craig et al.'s :math:`\alpha` (1: separate target Lasso; 0: overall model refit on S).
    lam1, lam2 : float
        Overall-model and target penalties (unnormalised).
    prevalidate : bool
        Use pre-validated (out-of-fold) overall predictions as the offset on the target rows,
        as the ptLasso R package does: the target rows are split into ``cv`` folds and the
        offset of a fold comes from the overall model fitted without it (with ``lam1``
        rescaled by the fraction of pooled rows kept, i.e. the same :math:`1/(2M)`-normalised
        penalty). :math:`S` and :math:`\hat\theta` in the final estimate come from the full
        overall fit.
    cv : int
        Number of folds for ``prevalidate``.
    random_state : int or None
        Seed of the fold split.
    solver, tol, max_iter, fit_intercept, strict
        As in :class:`GeneralizedTransLasso`.
    """

    def __init__(
        self, alpha=0.5, lam1=1.0, lam2=1.0, *, prevalidate=False, cv=5, random_state=None,
        solver="fast", tol=1e-8, max_iter=10_000, fit_intercept=False, strict=False,
    ):
        self.alpha = alpha
        self.lam1 = lam1
        self.lam2 = lam2
        self.prevalidate = prevalidate
        self.cv = cv
        self.random_state = random_state
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.strict = strict

    def mapped_params(self) -> dict:
        """The generalized Trans-Lasso parameters ``(kappa, dlam)`` of this estimator."""
        a = float(self.alpha)
        if not 0.0 <= a <= 1.0:
            raise ValueError(f"alpha = {self.alpha}: must lie in [0, 1]")
        lam2 = check_penalty(self.lam2, "lam2")
        dlam = np.inf if a == 0 else lam2 * (1.0 / a - 1.0)
        return {"kappa": 1.0 - a, "dlam": dlam}

    def fit(self, target, sources):
        """Fit on ``target = (X0, y0)`` and ``sources = [(X1, y1), ...]`` (at least one)."""
        _check_solver(self.solver)
        target, sources = check_datasets(target, sources, require_sources=True)
        m = self.mapped_params()
        lam1 = check_penalty(self.lam1, "lam1")
        lam2 = check_penalty(self.lam2, "lam2")
        n_rows = target[0].shape[0] + sum(X.shape[0] for X, _ in sources)
        check_identifiable(lam1, n_rows, target[0].shape[1], "lam1")
        prep = _Prepared(target, sources, self.fit_intercept)
        s1 = _stage1(prep, lam1, self.solver, self.tol, self.max_iter, self.strict)
        x1 = s1.coef
        if not self.prevalidate:
            offset = prep.A0 @ x1
        else:
            offset = self._prevalidated_offset(target, sources, lam1, n_rows, x1)
        s2 = _stage2(
            prep.A0, prep.y0, prep.L0, x1, offset, lam2, m["kappa"], m["dlam"], self.solver,
            self.tol, self.max_iter, self.strict,
        )
        coef = m["kappa"] * x1 + s2.coef
        return self._set_fit(TransferFit(
            coef=coef, coef_stage1=x1, coef_stage2=s2.coef, support_stage1=x1 != 0,
            intercept=prep.intercept(coef), stage1=s1, stage2=s2,
        ))

    def _prevalidated_offset(self, target, sources, lam1, n_rows, x1_full):
        X0, y0 = target
        n0 = X0.shape[0]
        if not (isinstance(self.cv, (int, np.integer)) and 2 <= self.cv <= n0):
            raise ValueError(f"cv = {self.cv}: must be an integer in [2, n_target_rows={n0}]")
        offset = np.empty(n0)
        folds = KFold(self.cv, shuffle=True, random_state=self.random_state).split(X0)
        for train, test in folds:
            p = _Prepared((X0[train], y0[train]), sources, self.fit_intercept)
            lam_k = lam1 * (n_rows - test.size) / n_rows
            theta = _stage1(p, lam_k, self.solver, self.tol, self.max_iter, self.strict,
                            init=x1_full if self.solver == "fast" else None).coef
            # centred out-of-fold prediction, on the scale of the centred target used in stage 2
            if self.fit_intercept:
                xm = X0.mean(axis=0)
                offset[test] = (X0[test] - xm) @ theta
            else:
                offset[test] = X0[test] @ theta
        return offset
