r"""Both stages of the Generalized Trans-Lasso for Gaussian rows with covariance Sigma.

Rows :math:`a\sim\mathcal N(0,\Sigma/N)` in every dataset (:class:`replica.design.
CovarianceDesign`). The per-row Gaussian derivation of the i.i.d. theory (Okajima & Obuchi
2024; the equations of :mod:`replica.stage1` and :mod:`replica.stage2`) goes through with
every overlap weighted by :math:`\Sigma`: :math:`Q_1=\hat x_1^\top\Sigma\hat x_1/N`,
:math:`m_1^{(k)}=\hat x_1^\top\Sigma r^{(k)}/N`,
:math:`\rho_k=\mathbb E\,r^{(k)\top}\Sigma r^{(k)}/N`, likewise :math:`Q_2,m_2,R`.
The conjugate equations are unchanged (:math:`c_y,c_1,\hat\chi_{12}` included) and each
scalar problem becomes an N-dimensional one (Celentano, Montanari & Wei, arXiv:2007.13716,
for one stage; docs ``docs/translasso_real_designs.md`` section 4):

.. math::

    x_1=\arg\min_x\tfrac12\hat Q_1x^\top\Sigma x-x^\top\Big(\Sigma\sum_k\hat m_1^{(k)}r^{(k)}
    +\Sigma^{1/2}\zeta_1\Big)+\lambda_1\|x\|_1,

.. math::

    x_2=\arg\min_x\tfrac12\hat Q_2x^\top\Sigma x-x^\top\big(\Sigma(\hat m_2r^{(0)}+\hat Rx_1)
    +\Sigma^{1/2}\zeta_2\big)+\sum_i(\lambda_2+\Delta\lambda\,\mathbb 1[x_{1,i}=0])|x_i|,

:math:`(\zeta_{1,i},\zeta_{2,i})\sim\mathcal N(0,[[\hat\chi_1,\hat\chi_{12}],[\hat\chi_{12},
\hat\chi_2]])` i.i.d. over i.
Susceptibilities: :math:`\chi_1=\mathbb E|\mathrm{supp}\,x_1|/(N\hat Q_1)`,
:math:`\chi_2=\mathbb E|\mathrm{supp}\,x_2|/(N\hat Q_2)` and, from Stein's identity,
:math:`\hat\chi_1\chi_{12}+\hat\chi_{12}\chi_2=\mathbb E\,\zeta_1^\top\Sigma^{1/2}x_2/N`
(support flips included). Support counts are integers, so the common-random-number map is
piecewise constant in :math:`\chi` at the scale :math:`1/(N n_{\rm samples})`: the iteration
stops at a relative residual ``tol`` = 1e-4, or, if it cycles at that scale, returns the
average of 20 further iterates (unconverged when their spread exceeds ``stall_tol``).
:math:`\Sigma=I` is the i.i.d. theory.

Computation: the expectations over :math:`(r,\zeta_1,\zeta_2)` are Monte Carlo averages over
a fixed set of draws (common random numbers: the fixed-point map is deterministic), the
N-dimensional problems are solved by a batched numba coordinate descent with warm starts.
``n_replicates`` independent sets of draws give independent fixed points; outputs are their
mean and the Monte Carlo standard error is the standard deviation over replicates divided by
:math:`\sqrt{n_{\rm rep}}` (this includes the propagation of the noise through the fixed point).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from replica.design import CovarianceDesign, check_count, check_number, check_size
from replica.errors import ConvergenceError, ConvergenceWarning, NonFiniteIterateError
from replica.scenario import TransferScenario, TransLassoHyper

__all__ = ["MonteCarlo", "CovarianceResult", "solve_covariance", "batched_quadratic_lasso"]


@dataclass(frozen=True)
class MonteCarlo:
    """Monte Carlo controls of the Sigma theory.

    Attributes
    ----------
    n_samples : int
        Draws of :math:`(r,\\zeta_1,\\zeta_2)` (each an N-vector) per replicate.
    n_replicates : int
        Independent replicates (>= 2; their spread gives the Monte Carlo error).
    seed : int
        Seed of the draws (same seed -> same numbers).
    """

    n_samples: int | None = None
    n_replicates: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_samples is not None:
            object.__setattr__(self, "n_samples", check_count("n_samples", self.n_samples))
        if isinstance(self.n_replicates, bool) or check_number(
                "n_replicates", self.n_replicates) < 2:
            raise ValueError(f"n_replicates = {self.n_replicates}: need >= 2 for an error bar")
        object.__setattr__(self, "n_replicates", check_count("n_replicates", self.n_replicates, 2))
        object.__setattr__(self, "seed", check_count("seed", self.seed, 0))


@njit(cache=True)
def _cd_one(sigma, q, b, w, x, c, tol, max_sweeps):
    """Coordinate descent for min 1/2 q x'Sx - b'x + sum w|x| (c = S x kept up to date).
    Returns the number of sweeps (negative if not converged)."""
    n = x.shape[0]
    active_only = False
    for sweep in range(1, max_sweeps + 1):
        dmax = 0.0
        for i in range(n):
            if active_only and x[i] == 0.0:
                continue
            sii = sigma[i, i]
            z = b[i] - q * (c[i] - sii * x[i])
            wi = w[i]
            if z > wi:
                new = (z - wi) / (q * sii)
            elif z < -wi:
                new = (z + wi) / (q * sii)
            else:
                new = 0.0
            d = new - x[i]
            if d != 0.0:
                x[i] = new
                for j in range(n):
                    c[j] += sigma[j, i] * d
                dmax = max(dmax, abs(d) * math.sqrt(sii))
        if dmax <= tol:
            if not active_only:
                return sweep
            active_only = False  # confirm with a full sweep
        else:
            active_only = True
    return -max_sweeps


def batched_quadratic_lasso(sigma, q, B, W, X, tol, max_sweeps):
    r"""Solve :math:`\min_x\frac12q_sx^\top\Sigma x-b_s^\top x+\sum_iw_{si}|x_i|` for every row s.

    Checked entry point of :func:`_batched_cd` (same arguments and result): ``sigma`` (n, n)
    with a positive diagonal, ``q`` (S,) positive, ``B``, ``W`` >= 0 and ``X`` (S, n) float64,
    finite; ``X`` is overwritten with the solutions.
    """
    S = _square(sigma)
    n = S.shape[0]
    arrs = {}
    for name, a, shape in (("q", q, (np.shape(B)[0] if np.ndim(B) else -1,)),
                           ("B", B, None), ("W", W, None)):
        arrs[name] = _finite(name, a, shape or (len(arrs.get("q", ())), n))
    if not isinstance(X, np.ndarray) or X.dtype != np.float64 or X.shape != arrs["B"].shape:
        raise ValueError(f"X: expected a float64 array of shape {arrs['B'].shape} (warm start, "
                         "overwritten)")
    _finite("X", X, X.shape)
    if np.any(arrs["q"] <= 0) or np.any(arrs["W"] < 0) or np.any(np.diag(S) <= 0):
        raise ValueError("q and diag(sigma) must be positive and W >= 0")
    tol = check_number("tol", tol)
    if not tol >= 0:
        raise ValueError(f"tol = {tol}: must be >= 0")
    return _batched_cd(S, arrs["q"], arrs["B"], arrs["W"], X, tol,
                       check_count("max_sweeps", max_sweeps))


def _square(sigma) -> np.ndarray:
    S = _finite("sigma", sigma, None)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"sigma has shape {S.shape}: expected a square matrix")
    return S


def _finite(name: str, a, shape) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected real numbers, got {arr.dtype} entries")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} has shape {arr.shape}: expected {tuple(shape)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


@njit(cache=True)
def _batched_cd(sigma, q, B, W, X, tol, max_sweeps):
    r"""Solve :math:`\min_x\frac12q_sx^\top\Sigma x-b_s^\top x+\sum_iw_{si}|x_i|` for every row s.

    ``X`` (warm start) is overwritten with the solutions; ``q`` has one entry per row.
    Coordinate descent with active-set sweeps; the stopping rule is the largest coordinate
    change (in :math:`\Sigma_{ii}^{1/2}` units) below ``tol``. Returns the worst number of
    sweeps (negative: some row did not converge).
    """
    worst = 0
    for s in range(B.shape[0]):
        c = sigma @ X[s]
        k = _cd_one(sigma, q[s], B[s], W[s], X[s], c, tol, max_sweeps)
        if k < 0:
            return k
        worst = max(worst, k)
    return worst


@dataclass(frozen=True)
class CovarianceResult:
    r"""Sigma theory of both stages, with Monte Carlo errors.

    Every physical quantity ``q`` comes with ``q_se`` (Monte Carlo standard error over the
    replicates). Overlaps are :math:`\Sigma`-weighted.

    Attributes
    ----------
    hyper : TransLassoHyper
    Q1, m1_0, chi1, Q2, m2, R, chi2, chi12
        Order parameters (means over replicates).
    mse1, mse2
        Coefficient errors :math:`\|x_1-r^{(0)}\|^2/N`, :math:`\|\kappa x_1+x_2-r^{(0)}\|^2/N`.
    eps1, eps2
        Prediction errors on a new target row (noise included):
        :math:`\sigma_0^2+\|\Sigma^{1/2}(\hat x-r^{(0)})\|^2/N`.
    density1, density2
        Fractions of non-zeros of :math:`x_1, x_2`.
    converged, iterations, residual
        All replicates converged; iterations of stage 1 + stage 2; final max-norm residual.
    n_features, n_samples, n_replicates
    """

    hyper: TransLassoHyper
    values: dict
    errors: dict
    converged: bool
    iterations: int
    residual: float
    n_features: int
    n_samples: int
    n_replicates: int

    def __getattr__(self, name):
        vals = object.__getattribute__(self, "values")
        errs = object.__getattribute__(self, "errors")
        if name in vals:
            return vals[name]
        if name.endswith("_se") and name[:-3] in errs:
            return errs[name[:-3]]
        raise AttributeError(name)

    def to_dict(self) -> dict:
        out = dict(self.hyper.to_dict())
        for k, v in self.values.items():
            out[k] = v
            out[f"{k}_se"] = self.errors[k]
        for f in fields(self):
            if f.name not in ("hyper", "values", "errors"):
                out[f.name] = getattr(self, f.name)
        return out


def samples_per_replicate(mc: MonteCarlo, n_features: int) -> int:
    """``mc.n_samples`` or, if None, ceil(8000 / N)."""
    if mc.n_samples is not None:
        return int(mc.n_samples)
    return max(2, math.ceil(8000 / n_features))


class _Draws:
    """Common random numbers of all replicates: truths, Sigma r, and Sigma^{1/2} z."""

    def __init__(self, scenario, design, mc):
        rng = np.random.default_rng([int(mc.seed), design.n_features, 7])
        n = design.n_features
        self.n_rep, self.n_per = int(mc.n_replicates), samples_per_replicate(mc, n)
        s = self.n_rep * self.n_per
        truth = np.stack([scenario.prior.sample(n, rng) for _ in range(s)])  # (S, K, N)
        self.r = truth
        self.sr = truth @ design.sigma  # rows: (Sigma r)^T, Sigma symmetric
        self.u1 = rng.standard_normal((s, n)) @ design.root
        self.u2 = rng.standard_normal((s, n)) @ design.root
        self.rep = np.repeat(np.arange(self.n_rep), self.n_per)

    def rep_mean(self, per_sample):
        """Average over the samples of each replicate: (S,) -> (R,)."""
        return per_sample.reshape(self.n_rep, self.n_per).mean(axis=1)


def _rho_sigma(scenario, design) -> np.ndarray:
    r""":math:`\rho_k=\mathbb E\,r^{(k)\top}\Sigma r^{(k)}/N` for i.i.d. coordinates."""
    p = scenario.prior
    mean = np.einsum("c,ck->k", p.weights, p.means)
    var = p.second_moments - mean**2
    n = design.n_features
    return (var * np.trace(design.sigma) + mean**2 * design.sigma.sum()) / n


def _iterate(step, x0, ctrl, what, strict):
    """Damped fixed-point iteration of ``step`` on an (R, p) state; returns (x, it, res, ok).

    ``ctrl = (tol, max_iter, damping, stall_tol)``. When the residual has not improved for 15
    iterations (support counts make the map piecewise constant, so it cycles at the scale of
    one support flip), the next 20 images are averaged and accepted if their relative spread
    is below ``stall_tol``.
    """
    tol, max_iter, damping, stall_tol = ctrl
    x = x0.copy()
    res, best, since = math.inf, math.inf, 0
    tail = []
    for it in range(1, max_iter + 1):
        fx = step(x)
        if not np.all(np.isfinite(fx)):
            raise NonFiniteIterateError(f"{what}: an iterate became NaN/inf; try a larger "
                                        "damping or more Monte Carlo samples")
        res = float(np.max(np.abs(fx - x) / (1e-3 + np.abs(x))))
        if res <= tol:
            return fx, it, res, True
        x = damping * x + (1.0 - damping) * fx
        best, since = (res, 0) if res < best else (best, since + 1)
        if since >= 15:
            tail.append(fx)
            if len(tail) == 20:
                avg = np.mean(tail, axis=0)
                spread = float(np.max(np.ptp(np.asarray(tail), axis=0) / (1e-3 + np.abs(avg))))
                if spread <= stall_tol:
                    return avg, it, spread, True
                res = spread
                break
    msg = (f"{what} did not converge: relative residual {res:.3g} > tol {tol:.3g} after "
           f"{it} iterations")
    if strict:
        raise ConvergenceError(msg)
    warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    return x, it, res, False


class _Solver:
    """Batched fixed points of both stages for all replicates at once."""

    def __init__(self, scenario, design, draws, cd_tol, cd_sweeps):
        self.sc, self.d, self.dr = scenario, design, draws
        self.K = scenario.n_datasets
        self.N = design.n_features
        self.alphas = np.asarray(scenario.alphas)
        self.sig2 = np.asarray(scenario.sigmas) ** 2
        # rho_k per replicate from the same draws (common random numbers): the errors
        # rho - 2 m + Q entering the conjugates are then low-variance estimates of
        # E ||Sigma^{1/2}(x - r)||^2 / N; the exact value _rho_sigma would add the sampling
        # error of ||r||^2 to a small difference
        self.rho = np.stack([draws.rep_mean(np.einsum("skn,skn->sk", draws.sr, draws.r)[:, k])
                             for k in range(self.K)], axis=1) / self.N
        self.rho_exact = _rho_sigma(scenario, design)
        self.cd = (cd_tol, cd_sweeps)
        s = draws.rep.size
        self.X1 = np.zeros((s, self.N))
        self.X2 = np.zeros((s, self.N))

    def _solve(self, q, B, W, X):
        k = _batched_cd(self.d.sigma, q, B, W, X, *self.cd)
        if k < 0:
            raise ConvergenceError(f"coordinate descent of the effective problem did not reach "
                                   f"tol {self.cd[0]:.1e} in {self.cd[1]} sweeps")

    def conj1(self, st):
        """Stage-1 conjugates per replicate: (Qh1, mh1 (R, K), chih1)."""
        q1, m1, chi1 = st[:, 0], st[:, 1:1 + self.K], st[:, -1]
        d = 1.0 + chi1
        qh = self.alphas.sum() / d
        mh = self.alphas[None, :] / d[:, None]
        chih = ((self.rho - 2 * m1 + q1[:, None] + self.sig2) * self.alphas).sum(1) / d**2
        return qh, mh, chih

    def stage1_step(self, st, lam1):
        dr = self.dr
        qh, mh, chih = self.conj1(st)
        rep = dr.rep
        B = np.einsum("sk,skn->sn", mh[rep], dr.sr) + np.sqrt(chih[rep])[:, None] * dr.u1
        W = np.full_like(B, lam1)
        self._solve(qh[rep], B, W, self.X1)
        SX = self.X1 @ self.d.sigma
        out = np.empty_like(st)
        out[:, 0] = dr.rep_mean(np.einsum("sn,sn->s", SX, self.X1)) / self.N
        for k in range(self.K):
            out[:, 1 + k] = dr.rep_mean(np.einsum("sn,sn->s", SX, dr.r[:, k])) / self.N
        out[:, -1] = dr.rep_mean((self.X1 != 0).sum(1) / self.N) / qh
        return out

    def conj2(self, st1, st, kappa):
        """Stage-2 conjugates (those of :mod:`replica.stage2`) per replicate."""
        a0, ry = self.alphas[0], self.rho[:, 0] + self.sig2[0]
        q1, m10, chi1 = st1[:, 0], st1[:, 1], st1[:, -1]
        q2, m2, r, chi2, chi12 = st.T
        cy = 1.0 - (kappa * chi1 + chi12) / (1.0 + chi1)
        c1 = (kappa - chi12) / (1.0 + chi1)
        d2 = 1.0 + chi2
        g = cy**2 * ry + c1**2 * q1 + q2 - 2 * cy * c1 * m10 - 2 * cy * m2 + 2 * c1 * r
        chih12 = a0 * (cy * ry - (cy + c1) * m10 + c1 * q1 - m2 + r) / ((1 + chi1) * d2)
        return a0 / d2, a0 * cy / d2, -a0 * c1 / d2, a0 * g / d2**2, chih12

    def stage2_step(self, st1, st, hyper):
        dr = self.dr
        rep = dr.rep
        qh2, mh2, rh, chih2, chih12 = self.conj2(st1, st, hyper.kappa)
        _, _, chih1 = self.conj1(st1)
        a = chih12 / chih1
        c2 = np.sqrt(np.clip(chih2 - chih12**2 / chih1, 0.0, None))
        noise = (a * np.sqrt(chih1))[rep][:, None] * dr.u1 + c2[rep][:, None] * dr.u2
        SX1 = self.X1 @ self.d.sigma
        B = mh2[rep][:, None] * dr.sr[:, 0] + rh[rep][:, None] * SX1 + noise
        W = np.where(self.X1 == 0.0, hyper.lam2 + hyper.dlam, hyper.lam2)
        self._solve(qh2[rep], B, W, self.X2)
        SX2 = self.X2 @ self.d.sigma
        out = np.empty_like(st)
        out[:, 0] = dr.rep_mean(np.einsum("sn,sn->s", SX2, self.X2)) / self.N
        out[:, 1] = dr.rep_mean(np.einsum("sn,sn->s", SX2, dr.r[:, 0])) / self.N
        out[:, 2] = dr.rep_mean(np.einsum("sn,sn->s", SX2, self.X1)) / self.N
        out[:, 3] = dr.rep_mean((self.X2 != 0).sum(1) / self.N) / qh2
        # Stein: chih1 chi12 + chih12 chi2 = E zeta1' Sigma^{1/2} x2 / N (flips included)
        e1 = np.sqrt(chih1) * dr.rep_mean(np.einsum("sn,sn->s", dr.u1, self.X2)) / self.N
        out[:, 4] = (e1 - chih12 * out[:, 3]) / chih1
        return out


def _observables(solver, hyper, with_stage2):
    """Per-replicate observables read off the final Monte Carlo draws."""
    dr, sig = solver.dr, solver.d.sigma
    r0 = dr.r[:, 0]
    e1 = solver.X1 - r0
    obs = {"mse1": dr.rep_mean((e1**2).mean(1)),
           "eps1": solver.sig2[0] + dr.rep_mean(np.einsum("sn,sn->s", e1 @ sig, e1)) / solver.N,
           "density1": dr.rep_mean((solver.X1 != 0).mean(1))}
    if with_stage2:
        e2 = hyper.kappa * solver.X1 + solver.X2 - r0
        obs["mse2"] = dr.rep_mean((e2**2).mean(1))
        obs["eps2"] = solver.sig2[0] + dr.rep_mean(np.einsum("sn,sn->s", e2 @ sig, e2)) / solver.N
        obs["density2"] = dr.rep_mean((solver.X2 != 0).mean(1))
    return obs


def _check_controls(tol, max_iter, damping, stall_tol, cd_tol, cd_max_sweeps):
    """``(ctrl, cd)`` tuples of the fixed point and the CD, or a ValueError naming the field."""
    tol, damping = check_number("tol", tol), check_number("damping", damping)
    stall_tol, cd_tol = check_number("stall_tol", stall_tol), check_number("cd_tol", cd_tol)
    if not (0.0 <= damping < 1.0):
        raise ValueError(f"damping = {damping}: must lie in [0, 1)")
    for name, v in (("tol", tol), ("stall_tol", stall_tol), ("cd_tol", cd_tol)):
        if not (0 < v < math.inf):
            raise ValueError(f"{name} = {v}: must be positive and finite")
    ctrl = (tol, check_count("max_iter", max_iter), damping, stall_tol)
    return ctrl, (cd_tol, check_count("cd_max_sweeps", cd_max_sweeps))


def solve_covariance(
    scenario: TransferScenario,
    design: CovarianceDesign,
    hyper: TransLassoHyper | float,
    *,
    mc: MonteCarlo | None = None,
    tol: float = 1e-4,
    max_iter: int = 300,
    damping: float = 0.5,
    stall_tol: float = 1e-2,
    cd_tol: float = 1e-10,
    cd_max_sweeps: int = 100_000,
    strict: bool = False,
) -> CovarianceResult:
    r"""Sigma theory of stage 1 (``hyper`` a float :math:`\lambda_1`: single-stage/pooled
    Lasso) or of both stages (``hyper`` a :class:`~replica.TransLassoHyper`).

    Parameters
    ----------
    scenario : TransferScenario
        Sample ratios, noise levels and prior (index 0: target).
    design : CovarianceDesign
        Row covariance :math:`\Sigma` (N x N), shared by all datasets.
    hyper : TransLassoHyper or float
    mc : MonteCarlo
        Draws per replicate, replicates, seed (default ``MonteCarlo()``).
    tol : float
        Relative max-norm residual of the (deterministic, common-random-number) fixed-point
        map at which each stage stops.
    max_iter, damping
        Fixed-point controls (:math:`\Theta\leftarrow\eta\Theta+(1-\eta)F(\Theta)`).
    stall_tol : float
        Accepted relative spread of the averaged iterates when the map cycles at the scale of
        one support flip (far below the Monte Carlo error).
    cd_tol, cd_max_sweeps
        Coordinate-descent controls of the effective N-dimensional problems.
    strict : bool
        Raise :class:`~replica.ConvergenceError` instead of warning.

    Returns
    -------
    CovarianceResult
        Means over replicates with Monte Carlo standard errors (``result.mse2_se``, ...).
    """
    if not isinstance(design, CovarianceDesign):
        raise ValueError(f"design: expected a CovarianceDesign, got {type(design).__name__}")
    if not isinstance(scenario, TransferScenario):
        raise ValueError(f"scenario: expected a TransferScenario, got {type(scenario).__name__}")
    two_stage = isinstance(hyper, TransLassoHyper)
    if not two_stage:
        hyper = TransLassoHyper(check_number("hyper (lam1)", hyper), math.inf, 0.0, 0.0)
    if not (0 < hyper.lam1 < math.inf):
        raise ValueError(f"lam1 = {hyper.lam1}: must be positive and finite for the Sigma theory")
    if two_stage and hyper.lam2 == 0 and hyper.dlam == 0:
        raise ValueError("lam2 = dlam = 0: the Sigma theory needs a penalised stage 2")
    if np.any(np.diag(design.sigma) <= 0):
        raise ValueError("design: Sigma has a zero diagonal entry (a constant column)")
    ctrl, cd = _check_controls(tol, max_iter, damping, stall_tol, cd_tol, cd_max_sweeps)
    if not isinstance(strict, bool | np.bool_):
        raise ValueError(f"strict = {strict!r}: must be True or False")
    mc = MonteCarlo() if mc is None else mc
    if not isinstance(mc, MonteCarlo):
        raise ValueError(f"mc: expected a MonteCarlo, got {type(mc).__name__}")
    n_draws = mc.n_replicates * samples_per_replicate(mc, design.n_features)
    check_size("mc (draws x features)", n_draws, scenario.n_datasets + 2, design.n_features)
    draws = _Draws(scenario, design, mc)
    sol = _Solver(scenario, design, draws, *cd)
    k = scenario.n_datasets
    x0 = np.tile(np.r_[1.0, np.zeros(k), 1.0], (draws.n_rep, 1))
    st1, it1, res1, ok1 = _iterate(lambda s: sol.stage1_step(s, hyper.lam1), x0, ctrl,
                                   "Sigma theory, stage 1", strict)
    sol.stage1_step(st1, hyper.lam1)  # X1 at the fixed point
    names = ["Q1", *[f"m1_{j}" for j in range(k)], "chi1"]
    per = {n: st1[:, j] for j, n in enumerate(names)}
    it, res, ok = it1, res1, ok1
    if two_stage:
        x0 = np.tile(np.array([0.5, 0.1, 0.1, 0.5, 0.0]), (draws.n_rep, 1))
        st2, it2, res2, ok2 = _iterate(lambda s: sol.stage2_step(st1, s, hyper), x0, ctrl,
                                       "Sigma theory, stage 2", strict)
        sol.stage2_step(st1, st2, hyper)
        per.update({n: st2[:, j] for j, n in enumerate(["Q2", "m2", "R", "chi2", "chi12"])})
        it, res, ok = it1 + it2, max(res1, res2), ok1 and ok2
    per.update(_observables(sol, hyper, two_stage))
    n_rep = draws.n_rep
    values = {n: float(np.mean(v)) for n, v in per.items()}
    errors = {n: float(np.std(v, ddof=1) / math.sqrt(n_rep)) for n, v in per.items()}
    return CovarianceResult(hyper=hyper, values=values, errors=errors, converged=bool(ok),
                            iterations=int(it), residual=float(res),
                            n_features=design.n_features, n_samples=draws.n_per,
                            n_replicates=n_rep)
