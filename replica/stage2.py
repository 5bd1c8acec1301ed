r"""Stage 2 (target fine-tuning): replica-symmetric equations of state and the full solver.

Order parameters :math:`\Theta_2=(Q_2,m_2,R,\chi_2,\chi_{12})` with stage 1 frozen
(Okajima & Obuchi 2024; spec ``translasso_replica.md`` section 3.3, derived and checked against
finite-N Lasso in section 3.8). With
:math:`c_y=1-(\kappa\chi_1+\chi_{12})/(1+\chi_1)` and :math:`c_1=(\kappa-\chi_{12})/(1+\chi_1)`:

.. math::

    \hat Q_2=\frac{\alpha_0}{1+\chi_2},\ \hat m_2=\frac{\alpha_0c_y}{1+\chi_2},\
    \hat R=-\frac{\alpha_0c_1}{1+\chi_2},\ \hat\chi_2=\frac{\alpha_0G}{(1+\chi_2)^2},\
    \hat\chi_{12}=\frac{\alpha_0[c_y(\rho_0+\sigma_0^2)-(c_y+c_1)m_1^{(0)}+c_1Q_1-m_2+R]}
    {(1+\chi_1)(1+\chi_2)},

:math:`G=c_y^2(\rho_0+\sigma_0^2)+c_1^2Q_1+Q_2-2c_yc_1m_1^{(0)}-2c_ym_2+2c_1R`. The effective
scalar problem is :math:`\hat x_2=\mathcal S_{\lambda_e}(h_2)/\hat Q_2` with
:math:`h_2=\hat m_2r^{(0)}+\hat R\hat x_1(h_1)+\zeta_2` and
:math:`\lambda_e=\lambda_2+\Delta\lambda\,\mathbb 1[|h_1|\le\lambda_1]`. Given the stage-1 field
:math:`h_1`, the inner Gaussian average is a closed form (:mod:`replica.moments`); the outer
average over :math:`h_1` is a Gauss-Legendre rule on pieces split at :math:`h_1=\pm\lambda_1`
(where the integrand jumps, spec section 4), and :math:`\chi_{12}` carries the closed-form
support-flip term at :math:`h_1=\pm\lambda_1`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from replica.errors import IllPosedError, NonFiniteIterateError, report_nonconvergence
from replica.fixed_point import anderson_step, residual
from replica.moments import st_moments
from replica.scenario import TransferScenario, TransLassoHyper
from replica.stage1 import (
    _CONVERGED,
    _NONFINITE,
    PretrainingResult,
    _check_solver_args,
    _prior_arrays,
    solve_pretraining,
    stage1_class_fields,
)

__all__ = ["TransLassoResult", "solve_trans_lasso", "solve_finetuning", "QuadratureRule"]

_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TV_FLOOR = 1e-14
_MIN_NODES = 10
# boundary layers at inner-threshold bends: cuts at c * width for these c, while below 1.5
_LAYER = (2.0, 6.0, 20.0, 60.0)
_LAYER_MAX = 1.5


@dataclass(frozen=True)
class QuadratureRule:
    r"""Outer quadrature over the standardised stage-1 field :math:`t=(h_1-\eta_c)/s_c`.

    The range ``[edges[0], edges[-1]]`` is cut at ``edges``, at the two kinks
    :math:`t=(\pm\lambda_1-\eta_c)/s_c`, and where the inner soft threshold switches on
    (:math:`|\mu_c(h)|=\lambda_e(h)`); each piece gets an ``n_nodes``-point Gauss-Legendre rule.
    Where that bend is narrow (conditional variance :math:`\tilde v_c\to0`, e.g. nearly equal
    stage-1 and stage-2 penalties) graded cuts resolve the boundary layer. The default agrees
    with the reference cases to about 1e-10 relative and with the exact target-only limit near
    :math:`\lambda_2=\lambda_1` to 1e-9 (tested); the mass beyond :math:`|t|=8` is below 1e-15.
    """

    n_nodes: int = 12
    edges: tuple = (-8.0, -4.0, -1.5, 1.5, 4.0, 8.0)

    def __post_init__(self) -> None:
        if int(self.n_nodes) < 2:
            raise ValueError(f"n_nodes = {self.n_nodes}: need at least 2 nodes per piece")
        e = tuple(float(v) for v in self.edges)
        if len(e) < 2 or any(b <= a for a, b in zip(e[:-1], e[1:], strict=False)):
            raise ValueError(f"edges = {self.edges}: must be strictly increasing (>= 2 values)")
        object.__setattr__(self, "edges", e)
        object.__setattr__(self, "n_nodes", int(self.n_nodes))

    def arrays(self):
        """(edges, nodes, weights): rules with 1..n_nodes points stacked, row n-1 for n points.

        A piece of width ``L`` gets ``max(min_nodes, ceil(n_nodes * L / w_max))`` points, with
        ``w_max`` the widest base piece, so narrow pieces between close cuts stay cheap.
        """
        x, w = _gauss_legendre_table(self.n_nodes)
        return np.asarray(self.edges), x, w


_GL_TABLES: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _gauss_legendre_table(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes/weights on [-1, 1] for 1..n points (row k: k+1 points, padded)."""
    tab = _GL_TABLES.get(n)
    if tab is None:
        xs = np.zeros((n, n))
        ws = np.zeros((n, n))
        for k in range(1, n + 1):
            xk, wk = np.polynomial.legendre.leggauss(k)
            xs[k - 1, :k] = xk
            ws[k - 1, :k] = wk
        tab = (xs, ws)
        _GL_TABLES[n] = tab
    return tab


@njit(cache=True)
def _phi(t):
    return _INV_SQRT2PI * math.exp(-0.5 * t * t)


@njit(cache=True)
def stage2_conjugates(alpha0, rho0, sig0sq, kappa, q1, m10, chi1, state):
    """(Qh2, mh2, Rh, chih2, chih12) of spec section 3.3; state = (Q2, m2, R, chi2, chi12)."""
    q2, m2, r, chi2, chi12 = state[0], state[1], state[2], state[3], state[4]
    cy = 1.0 - (kappa * chi1 + chi12) / (1.0 + chi1)
    c1 = (kappa - chi12) / (1.0 + chi1)
    d2 = 1.0 + chi2
    qh2 = alpha0 / d2
    mh2 = alpha0 * cy / d2
    rh = -alpha0 * c1 / d2
    ry = rho0 + sig0sq
    g = cy * cy * ry + c1 * c1 * q1 + q2 - 2.0 * cy * c1 * m10 - 2.0 * cy * m2 + 2.0 * c1 * r
    chih2 = alpha0 * g / (d2 * d2)
    chih12 = alpha0 * (cy * ry - (cy + c1) * m10 + c1 * q1 - m2 + r) / ((1.0 + chi1) * d2)
    return qh2, mh2, rh, chih2, chih12, g


@njit(cache=True)
def _add_kink(cuts, n_cut, tk, width, lo, hi):
    """Add the cut tk and, if the bend there is narrow, graded cuts tk +- c * width."""
    cuts[n_cut] = tk
    n_cut += 1
    for c in _LAYER:
        d = c * width
        if d >= _LAYER_MAX:
            break
        for t in (tk - d, tk + d):
            if lo < t < hi:
                cuts[n_cut] = t
                n_cut += 1
    return n_cut


@njit(cache=True)
def _soft(h, lam):
    if h > lam:
        return h - lam
    if h < -lam:
        return h + lam
    return 0.0


@njit(cache=True)
def stage2_map(w, mu0, cov00, eta, s2, u0, qh1, lam1, alpha0, rho0, sig0sq, kappa, q1, m10,
               chi1, lam2, dlam, edges, gx, gw, state):
    """One undamped application of the stage-2 fixed-point map (spec section 3.3)."""
    qh2, mh2, rh, chih2, chih12, _ = stage2_conjugates(
        alpha0, rho0, sig0sq, kappa, q1, m10, chi1, state
    )
    lam_in = lam2 + dlam
    q2n = 0.0
    m2n = 0.0
    rn = 0.0
    chi2n = 0.0
    chi12_smooth = 0.0
    chi12_flip = 0.0
    n_edges = edges.shape[0]
    cuts = np.empty(n_edges + 3 + 6 * (1 + 2 * len(_LAYER)))
    n_max = gx.shape[0]
    w_max = 0.0
    for j in range(n_edges - 1):
        w_max = max(w_max, edges[j + 1] - edges[j])
    for c in range(w.shape[0]):
        if w[c] == 0.0:
            continue
        s = math.sqrt(s2[c])
        vg = mh2 * mh2 * cov00[c] + chih2
        nu = mh2 * mu0[c]
        kc = mh2 * u0[c] + chih12
        gam = kc / s2[c]
        tv = vg - kc * kc / s2[c]
        if tv < _TV_FLOOR:
            tv = _TV_FLOOR
        # E[r0 | h] = mu0 + (u0 / s2)(h - eta) and Cov(r0, g | h) = mh2 Sigma00 - gam u0, so
        # E[r0 x2 | h] = E[r0 | h] M1 + Cov(r0, g | h) P (Stein); no division by tv, which
        # vanishes when the two stages' noises become fully correlated
        reg_h = u0[c] / s2[c]
        cov_rg = mh2 * cov00[c] - gam * u0[c]
        # breakpoints in t = (h - eta)/s: base edges plus the kinks at h = -lam1, +lam1.
        # A zero-mean class (mu_c = 0, hence eta = nu = 0) gives an integrand even in h
        # (Q2, chi2, R, m2 and chi12 terms are products of two odd or two even functions):
        # integrate over t >= 0 and double.
        sym = mu0[c] == 0.0 and eta[c] == 0.0
        fold = 2.0 if sym else 1.0
        lo = 0.0 if sym else edges[0]
        hi = edges[n_edges - 1]
        n_cut = 0
        if sym:
            cuts[0] = 0.0
            n_cut = 1
        for j in range(n_edges):
            if edges[j] > lo or (not sym and edges[j] == lo):
                cuts[n_cut] = edges[j]
                n_cut += 1
        if lam1 < math.inf:
            for sgn in (-1.0, 1.0):
                tk = (sgn * lam1 - eta[c]) / s
                if lo < tk < hi:
                    cuts[n_cut] = tk
                    n_cut += 1
        # where the inner soft threshold switches on, |mu(h)| = lam_e: mu(h) is piecewise linear
        # (kinks at +-lam1), so these are the points where the integrand bends sharply when the
        # conditional variance tv is small; the bend has width sqrt(tv) / |d mu / d t|, and
        # a graded set of cuts around it resolves that boundary layer
        stv = math.sqrt(tv)
        for sgn in (-1.0, 1.0):
            if gam != 0.0:
                hk = eta[c] + (sgn * lam_in - nu) / gam
                tk = (hk - eta[c]) / s
                if abs(hk) <= lam1 and lo < tk < hi:
                    n_cut = _add_kink(cuts, n_cut, tk, stv / (abs(gam) * s), lo, hi)
            if lam1 < math.inf:
                slope = gam + rh / qh1
                if slope != 0.0:
                    for side in (-1.0, 1.0):
                        hk = (sgn * lam2 - nu + gam * eta[c] + side * rh * lam1 / qh1) / slope
                        tk = (hk - eta[c]) / s
                        if side * hk > lam1 and lo < tk < hi:
                            n_cut = _add_kink(cuts, n_cut, tk, stv / (abs(slope) * s), lo, hi)
        srt = np.sort(cuts[:n_cut])
        for p in range(n_cut - 1):
            a = srt[p]
            b = srt[p + 1]
            half = 0.5 * (b - a)
            if half <= 0.0:
                continue
            mid = 0.5 * (a + b)
            n_pt = int(math.ceil(n_max * 2.0 * half / w_max))
            n_pt = min(max(n_pt, _MIN_NODES), n_max)
            for j in range(n_pt):
                t = mid + half * gx[n_pt - 1, j]
                wt = fold * w[c] * gw[n_pt - 1, j] * half * _phi(t)
                h = eta[c] + s * t
                x1 = _soft(h, lam1) / qh1 if lam1 < math.inf else 0.0
                mub = nu + gam * (h - eta[c])
                mui = mub + rh * x1
                inside = abs(h) <= lam1
                lam_e = lam_in if inside else lam2
                pr, m1v, m2v = st_moments(mui, tv, lam_e)
                q2n += wt * m2v
                rn += wt * x1 * m1v
                chi2n += wt * pr
                m2n += wt * ((mu0[c] + reg_h * (h - eta[c])) * m1v + cov_rg * pr)
                if not inside:
                    chi12_smooth += wt * pr
        if dlam > 0.0 and lam1 < math.inf:
            for sgn in (-1.0, 1.0):
                hk = sgn * lam1
                tk = (hk - eta[c]) / s
                dens = _phi(tk) / s
                mub = nu + gam * (hk - eta[c])
                _, a_out, _ = st_moments(mub, tv, lam2)
                _, a_in, _ = st_moments(mub, tv, lam_in)
                chi12_flip += w[c] * sgn * dens * (a_out - a_in)
    out = np.empty(5)
    out[0] = q2n / (qh2 * qh2)
    out[1] = m2n / qh2
    out[2] = rn / qh2
    out[3] = chi2n / qh2
    out[4] = rh / (qh1 * qh2) * chi12_smooth + chi12_flip / qh2
    return out


@njit(cache=True)
def stage2_iterate(w, mu0, cov00, eta, s2, u0, qh1, lam1, alpha0, rho0, sig0sq, kappa, q1, m10,
                   chi1, lam2, dlam, edges, gx, gw, init, damping, tol, max_iter, memory):
    """Damped (Anderson-accelerated) iteration of :func:`stage2_map`.

    Returns (state, iterations, residual, status).
    """
    x = init.copy()
    positive = np.zeros(5, dtype=np.bool_)
    positive[0] = True  # Q2
    positive[3] = True  # chi2
    hist_dx = np.zeros((memory, 5))
    hist_dg = np.zeros((memory, 5))
    last_x = np.zeros(5)
    last_g = np.zeros(5)
    count = -1
    res = math.inf
    prev = math.inf
    for it in range(1, max_iter + 1):
        fx = stage2_map(w, mu0, cov00, eta, s2, u0, qh1, lam1, alpha0, rho0, sig0sq, kappa, q1,
                        m10, chi1, lam2, dlam, edges, gx, gw, x)
        res, finite = residual(x, fx)
        if not finite:
            return x, it, math.inf, 2
        if res <= tol:
            return fx, it, res, 0
        x, count = anderson_step(x, fx, res, prev, hist_dx, hist_dg, last_x, last_g, count,
                                 1.0 - damping, positive)
        prev = res
    return x, max_iter, res, 1


@dataclass(frozen=True)
class TransLassoResult:
    r"""Fixed point of both stages and the observables of the Generalized Trans-Lasso.

    Attributes
    ----------
    stage1 : PretrainingResult
        Stage-1 fixed point (also reachable as ``eps1``, ``mse1``, ... attributes below).
    Q2, m2, R, chi2, chi12
        :math:`\|\hat x^{(2nd)}\|^2/N`, :math:`\hat x^{(2nd)}\cdot r^{(0)}/N`,
        :math:`\hat x^{(1st)}\cdot\hat x^{(2nd)}/N`, :math:`\chi_2` and the cross-susceptibility
        :math:`\chi_{12}`.
    Qh2, mh2, Rh, chih2, chih12
        Conjugates.
    eps2
        Prediction error on a new target sample (noise included),
        :math:`\sigma_0^2+\rho_0+\kappa^2Q_1+Q_2-2\kappa m_1^{(0)}-2m_2+2\kappa R` (spec 3.4).
    mse2
        :math:`\varepsilon^{(2nd)}-\sigma_0^2=\|\kappa\hat x^{(1st)}+\hat x^{(2nd)}-r^{(0)}\|^2/N`.
    density2
        Fraction of non-zeros of :math:`\hat x^{(2nd)}`, :math:`\hat Q_2\chi_2`.
    train_error2
        Mean squared stage-2 training residual :math:`G/(1+\chi_2)^2`.
    converged, iterations, residual
        Convergence report of the stage-2 iteration (``converged`` is True only if stage 1
        converged as well).
    """

    hyper: TransLassoHyper
    stage1: PretrainingResult
    Q2: float
    m2: float
    R: float
    chi2: float
    chi12: float
    Qh2: float
    mh2: float
    Rh: float
    chih2: float
    chih12: float
    eps2: float
    mse2: float
    density2: float
    train_error2: float
    converged: bool
    iterations: int
    residual: float

    # stage-1 shortcuts -------------------------------------------------------------------
    @property
    def eps1(self) -> float:
        return self.stage1.eps1

    @property
    def eps1_pooled(self) -> float:
        return self.stage1.eps1_pooled

    @property
    def mse1(self) -> float:
        return self.stage1.mse1

    @property
    def density1(self) -> float:
        return self.stage1.density1

    @property
    def Q1(self) -> float:
        return self.stage1.Q1

    @property
    def m1(self) -> tuple:
        return self.stage1.m1

    @property
    def chi1(self) -> float:
        return self.stage1.chi1

    @property
    def state(self) -> np.ndarray:
        """Stage-2 state vector (Q2, m2, R, chi2, chi12), for warm starts."""
        return np.array([self.Q2, self.m2, self.R, self.chi2, self.chi12])

    def to_dict(self) -> dict:
        """Flat dict: hyperparameters, stage-1 quantities (suffix per dataset) and stage 2."""
        out = dict(self.hyper.to_dict())
        s1 = self.stage1.to_dict()
        s1.pop("lam1", None)
        for key in ("converged", "iterations", "residual"):
            s1[f"{key}1"] = s1.pop(key)
        out.update(s1)
        for f in fields(self):
            if f.name not in ("hyper", "stage1"):
                out[f.name] = getattr(self, f.name)
        out["converged"] = bool(self.converged)
        return out


def _check_well_posed(scenario: TransferScenario, hyper: TransLassoHyper, density1: float):
    a0 = scenario.alphas[0]
    if hyper.lam2 == 0.0:
        if hyper.dlam == 0.0 and a0 <= 1.0:
            raise IllPosedError(
                f"lam2 = dlam = 0 with alphas[0] = {a0:.4g} <= 1: stage 2 is an unpenalised "
                "least-squares fit with fewer target rows than features; use lam2 > 0 or dlam > 0"
            )
        if hyper.dlam > 0.0 and density1 >= a0:
            raise IllPosedError(
                f"lam2 = 0 leaves the pretrained support unpenalised, but its density "
                f"{density1:.4g} >= alphas[0] = {a0:.4g}: stage 2 has no unique solution; "
                "use lam2 > 0"
            )


def solve_finetuning(
    scenario: TransferScenario,
    hyper: TransLassoHyper,
    stage1: PretrainingResult,
    *,
    tol: float = 1e-11,
    max_iter: int = 5000,
    damping: float = 0.0,
    init=None,
    strict: bool = False,
    quadrature: QuadratureRule | None = None,
    anderson: int = 4,
) -> TransLassoResult:
    """Stage-2 equations of state for a given stage-1 fixed point (:func:`solve_trans_lasso`)."""
    _check_solver_args(tol, max_iter, damping)
    if stage1.lam1 != hyper.lam1:
        raise ValueError(f"stage1.lam1 = {stage1.lam1} differs from hyper.lam1 = {hyper.lam1}")
    _check_well_posed(scenario, hyper, stage1.density1)
    quadrature = quadrature or QuadratureRule()
    edges, gx, gw = quadrature.arrays()
    w, mu, cov, alphas, sig2, rho = _prior_arrays(scenario)
    mh1 = np.asarray(stage1.mh1)
    eta, s2, u = stage1_class_fields(w, mu, cov, mh1, stage1.chih1)
    if np.any(s2 <= 0):
        raise IllPosedError(
            "the stage-1 field has zero variance (a noiseless scenario recovered exactly, e.g. "
            "an all-zero prior with zero noise): the stage-2 equations are degenerate; give the "
            "target some noise (sigmas[0] > 0)"
        )
    if init is None:
        x0 = np.array([0.5, 0.1, 0.1, 0.5, 0.0])
    elif isinstance(init, TransLassoResult):
        x0 = init.state
    else:
        x0 = np.asarray(init, dtype=np.float64).copy()
        if x0.shape != (5,):
            raise ValueError(f"init: expected 5 values (Q2, m2, R, chi2, chi12), got {x0.shape}")
    args = (
        w, mu[:, 0].copy(), cov[:, 0, 0].copy(), eta, s2, u[:, 0].copy(), stage1.Qh1,
        hyper.lam1, alphas[0], rho[0], sig2[0], hyper.kappa, stage1.Q1, stage1.m1[0],
        stage1.chi1, hyper.lam2, hyper.dlam, edges, gx, gw,
    )
    if int(anderson) < 0:
        raise ValueError(f"anderson = {anderson}: memory must be >= 0")
    state, it, res, status = stage2_iterate(*args, x0, damping, tol, int(max_iter), int(anderson))
    total_it = it
    if status != _CONVERGED:
        state, it, res, status = stage2_iterate(
            *args, x0, max(0.9, damping), tol, int(max_iter), 0
        )
        total_it += it
    if status == _NONFINITE:
        raise NonFiniteIterateError(
            f"stage-2 saddle point: an iterate became NaN/inf at {hyper}; try a larger "
            "damping or a warm start"
        )
    converged = status == _CONVERGED
    if not converged:
        report_nonconvergence(f"stage-2 saddle point at {hyper}", total_it, res, tol, strict)
    qh2, mh2, rh, chih2, chih12, g = stage2_conjugates(
        alphas[0], rho[0], sig2[0], hyper.kappa, stage1.Q1, stage1.m1[0], stage1.chi1, state
    )
    q2, m2, r, chi2, chi12 = (float(v) for v in state)
    k = hyper.kappa
    eps2 = sig2[0] + rho[0] + k * k * stage1.Q1 + q2 - 2 * k * stage1.m1[0] - 2 * m2 + 2 * k * r
    return TransLassoResult(
        hyper=hyper,
        stage1=stage1,
        Q2=q2,
        m2=m2,
        R=r,
        chi2=chi2,
        chi12=chi12,
        Qh2=float(qh2),
        mh2=float(mh2),
        Rh=float(rh),
        chih2=float(chih2),
        chih12=float(chih12),
        eps2=float(eps2),
        mse2=float(eps2 - sig2[0]),
        density2=float(qh2 * chi2),
        train_error2=float(g / (1.0 + chi2) ** 2),
        converged=bool(converged and stage1.converged),
        iterations=int(total_it),
        residual=float(res),
    )


def solve_trans_lasso(
    scenario: TransferScenario,
    hyper: TransLassoHyper,
    *,
    tol: float = 1e-11,
    max_iter: int = 5000,
    damping: float = 0.0,
    init: TransLassoResult | None = None,
    strict: bool = False,
    stage1: PretrainingResult | None = None,
    quadrature: QuadratureRule | None = None,
    anderson: int = 4,
) -> TransLassoResult:
    r"""Solve the replica-symmetric equations of both stages of the Generalized Trans-Lasso.

    Stage 1: :math:`\hat x^{(1st)}=\arg\min_x\frac12\sum_k\|y^{(k)}-A^{(k)}x\|^2+\lambda_1\|x\|_1`.
    Stage 2:
    :math:`\hat x^{(2nd)}=\arg\min_x\frac12\|y^{(0)}-\kappa A^{(0)}\hat x^{(1st)}-A^{(0)}x\|^2
    +\sum_i(\lambda_2+\Delta\lambda\mathbb 1[i\notin S])|x_i|`,
    :math:`S=\mathrm{supp}\,\hat x^{(1st)}`;
    output :math:`\kappa\hat x^{(1st)}+\hat x^{(2nd)}` (spec sections 2-3).

    Parameters
    ----------
    scenario : TransferScenario
        Data ensemble (index 0: target).
    hyper : TransLassoHyper
        :math:`(\lambda_1,\lambda_2,\kappa,\Delta\lambda)`.
    tol, max_iter, damping
        Fixed-point controls (max-norm residual, iteration cap, damping :math:`\eta`).
    init : TransLassoResult, optional
        Warm start of both stages (e.g. the neighbouring point of a sweep).
    strict : bool
        Raise :class:`~replica.errors.ConvergenceError` instead of warning.
    stage1 : PretrainingResult, optional
        Reuse an already solved stage 1 (must have the same ``lam1``).
    quadrature : QuadratureRule, optional
        Outer Gauss-Legendre rule of the stage-2 integrals.
    anderson : int
        Memory of the Anderson acceleration of both stages (0: plain damped iteration; a
        failed accelerated run is retried with plain, heavier damping).

    Returns
    -------
    TransLassoResult

    Raises
    ------
    IllPosedError
        ``lam2 = dlam = 0`` with ``alphas[0] <= 1`` (and similar unpenalised cases).
    NonFiniteIterateError
        An iterate became NaN or infinite.
    """
    if not isinstance(hyper, TransLassoHyper):
        raise ValueError(f"hyper: expected TransLassoHyper, got {type(hyper).__name__}")
    if stage1 is None:
        # the previous stage 1 is a warm start (exact for the same lam1, close for a nearby one)
        s1_init = init.stage1 if init is not None else None
        stage1 = solve_pretraining(
            scenario, hyper.lam1, tol=tol, max_iter=max_iter, damping=damping, init=s1_init,
            strict=strict, anderson=anderson,
        )
    return solve_finetuning(
        scenario, hyper, stage1, tol=tol, max_iter=max_iter, damping=damping, init=init,
        strict=strict, quadrature=quadrature, anderson=anderson,
    )
