r"""Stage 2 (target fine-tuning): replica-symmetric equations of state and the full solver.

Order parameters :math:`\Theta_2=(Q_2,m_2,R,\chi_2,\chi_{12})` with stage 1 frozen
(Okajima & Obuchi 2024, arXiv:2409.17704; ``docs/translasso_theory.md``, stage-2 equations, checked
against finite-N Lasso there). With
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
(where the integrand jumps), and :math:`\chi_{12}` carries the closed-form support-flip term
at :math:`h_1=\pm\lambda_1`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from replica.checks import instance
from replica.errors import NotIdentifiableError
from replica.moments import INV_SQRT_2PI, st_moments
from replica.quadrature import QuadratureRule, default_kernel_args
from replica.scenario import TransferScenario, TransLassoHyper
from replica.solver import initial_state, run_fixed_point, solver_options
from replica.stage1 import (
    PretrainingResult,
    solve_pretraining,
    stage1_class_fields,
    unused_stage1_part,
)

__all__ = [
    "TransLassoResult",
    "solve_trans_lasso",
    "solve_finetuning",
    "QuadratureRule",
    "stage2_model",
    "stage2_conjugates",
    "stage2_map",
    "stage2_averages",
]

# rows of the per-class array ``cls`` of the stage-2 model
W, MU0, COV00, ETA, S2, U0 = range(6)
# entries of the parameter vector ``par`` of the stage-2 model
QH1, LAM1, ALPHA0, RHO0, SIG0SQ, KAPPA, Q1, M10, CHI1, LAM2, DLAM = range(11)


def stage2_model(scenario: TransferScenario, hyper: TransLassoHyper, stage1: PretrainingResult,
                 quadrature: QuadratureRule | None = None) -> tuple:
    """Kernel model of stage 2: ``(2, unused stage-1 part, (cls, par, quad))``.

    ``cls`` (6, C) holds per class the rows ``w, mu0, Sigma00, eta, s^2, u0`` (target
    components and the law of the stage-1 field); ``par`` the scalars indexed by ``QH1, LAM1,
    ALPHA0, RHO0, SIG0SQ, KAPPA, Q1, M10, CHI1, LAM2, DLAM``; ``quad`` is
    :meth:`QuadratureRule.kernel_args`.
    """
    prior = scenario.prior
    w, mu, cov = prior.weights, prior.means, prior.covs
    eta, s2, u = stage1_class_fields(w, mu, cov, np.asarray(stage1.mh1), stage1.chih1)
    cls = np.empty((6, w.shape[0]))
    for row, values in ((W, w), (MU0, mu[:, 0]), (COV00, cov[:, 0, 0]), (ETA, eta), (S2, s2),
                        (U0, u[:, 0])):
        cls[row] = values
    par = np.array([
        stage1.Qh1, hyper.lam1, scenario.alphas[0], prior.second_moments[0],
        scenario.sigmas[0] ** 2, hyper.kappa, stage1.Q1, stage1.m1[0], stage1.chi1, hyper.lam2,
        hyper.dlam,
    ])
    quad = quadrature.kernel_args() if quadrature is not None else default_kernel_args()
    return (2, unused_stage1_part(prior), (cls, par, quad))


@njit(cache=True, error_model="numpy")
def stage2_conjugates(par, state):
    """(Qh2, mh2, Rh, chih2, chih12, G) of the state (Q2, m2, R, chi2, chi12)."""
    q2, m2, r, chi2, chi12 = state[0], state[1], state[2], state[3], state[4]
    kappa, q1, m10, chi1, alpha0 = par[KAPPA], par[Q1], par[M10], par[CHI1], par[ALPHA0]
    cy = 1.0 - (kappa * chi1 + chi12) / (1.0 + chi1)
    c1 = (kappa - chi12) / (1.0 + chi1)
    d2 = 1.0 + chi2
    qh2 = alpha0 / d2
    mh2 = alpha0 * cy / d2
    rh = -alpha0 * c1 / d2
    ry = par[RHO0] + par[SIG0SQ]
    g = cy * cy * ry + c1 * c1 * q1 + q2 - 2.0 * cy * c1 * m10 - 2.0 * cy * m2 + 2.0 * c1 * r
    chih2 = alpha0 * g / (d2 * d2)
    chih12 = alpha0 * (cy * ry - (cy + c1) * m10 + c1 * q1 - m2 + r) / ((1.0 + chi1) * d2)
    return qh2, mh2, rh, chih2, chih12, g


@njit(cache=True, error_model="numpy")
def _class_law(cls, c, conj, variance_floor):
    r"""Inner Gaussian law of class c given h: ``(s, nu, gam, tv, reg_h, cov_rg)``.

    The inner field is :math:`\mathcal N(\nu+\gamma(h-\eta_c)+\hat R\hat x_1(h),\tilde v)`;
    :math:`E[r_0|h]=\mu_0+{\rm reg}_h(h-\eta_c)` and :math:`{\rm Cov}(r_0,g|h)={\rm cov}_{rg}`.
    """
    mh2, chih2, chih12 = conj[1], conj[3], conj[4]
    s2 = cls[S2, c]
    vg = mh2 * mh2 * cls[COV00, c] + chih2
    kc = mh2 * cls[U0, c] + chih12
    gam = kc / s2
    tv = vg - kc * kc / s2
    if tv < variance_floor:
        tv = variance_floor
    # E[r0 x2 | h] = E[r0 | h] M1 + Cov(r0, g | h) P (Stein); no division by tv, which
    # vanishes when the two stages' noises become fully correlated
    return (math.sqrt(s2), mh2 * cls[MU0, c], gam, tv, cls[U0, c] / s2,
            mh2 * cls[COV00, c] - gam * cls[U0, c])


@njit(cache=True, error_model="numpy")
def _add_kink(cuts, n_cut, tk, width, span, quad):
    """Add the cut tk and, if the bend there is narrow, graded cuts tk +- c * width."""
    lo, hi = span
    layers, layer_max = quad[3], quad[4][1]
    cuts[n_cut] = tk
    n_cut += 1
    for c in layers:
        d = c * width
        if d >= layer_max:
            break
        for t in (tk - d, tk + d):
            if lo < t < hi:
                cuts[n_cut] = t
                n_cut += 1
    return n_cut


@njit(cache=True, error_model="numpy")
def _bend_cuts(cuts, n_cut, eta_c, law, par, rh, span, quad):
    """Cuts where the inner soft threshold switches on, |mu(h)| = lam_e(h).

    mu(h) is piecewise linear (kinks at +-lam1), so these are the points where the integrand
    bends sharply when the conditional variance tv is small; the bend has width
    sqrt(tv) / |d mu / d t|, and graded cuts around it resolve that boundary layer.
    """
    s, nu, gam, tv = law[0], law[1], law[2], law[3]
    lam1, lam2, qh1 = par[LAM1], par[LAM2], par[QH1]
    lam_in = lam2 + par[DLAM]
    lo, hi = span
    stv = math.sqrt(tv)
    for sgn in (-1.0, 1.0):
        if gam != 0.0:
            hk = eta_c + (sgn * lam_in - nu) / gam
            tk = (hk - eta_c) / s
            if abs(hk) <= lam1 and lo < tk < hi:
                n_cut = _add_kink(cuts, n_cut, tk, stv / (abs(gam) * s), span, quad)
        slope = gam + rh / qh1
        if lam1 < math.inf and slope != 0.0:
            for side in (-1.0, 1.0):
                hk = (sgn * lam2 - nu + gam * eta_c + side * rh * lam1 / qh1) / slope
                tk = (hk - eta_c) / s
                if side * hk > lam1 and lo < tk < hi:
                    n_cut = _add_kink(cuts, n_cut, tk, stv / (abs(slope) * s), span, quad)
    return n_cut


@njit(cache=True, error_model="numpy")
def _class_cuts(cls, c, par, law, rh, quad):
    """Sorted breakpoints in t = (h - eta)/s of class c: base edges, kinks and bends.

    A zero-mean class (mu_c = 0, hence eta = nu = 0) gives an integrand even in h (Q2, chi2,
    R, m2 and chi12 terms are products of two odd or two even functions): its range is
    t >= 0 (the integral is doubled by the caller).
    """
    edges = quad[0]
    n_edges = edges.shape[0]
    cuts = np.empty(n_edges + 3 + 6 * (1 + 2 * quad[3].shape[0]))
    eta_c, s = cls[ETA, c], law[0]
    sym = cls[MU0, c] == 0.0 and eta_c == 0.0
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
    lam1 = par[LAM1]
    if lam1 < math.inf:
        for sgn in (-1.0, 1.0):
            tk = (sgn * lam1 - eta_c) / s
            if lo < tk < hi:
                cuts[n_cut] = tk
                n_cut += 1
    n_cut = _bend_cuts(cuts, n_cut, eta_c, law, par, rh, (lo, hi), quad)
    out = np.empty(n_cut)  # insertion sort of the few cuts
    for i in range(n_cut):
        v = cuts[i]
        j = i - 1
        while j >= 0 and out[j] > v:
            out[j + 1] = out[j]
            j -= 1
        out[j + 1] = v
    return out


@njit(cache=True, error_model="numpy")
def _integrate_class(cls, c, par, law, conj, cuts, quad, acc):
    """Add class c's share of (Q2, m2, R, chi2, chi12 smooth part) numerators to ``acc``."""
    edges, gx, gw, tune = quad[0], quad[1], quad[2], quad[4]
    s, nu, gam, tv, reg_h, cov_rg = law
    rh, qh1, lam1, lam2 = conj[2], par[QH1], par[LAM1], par[LAM2]
    lam_in = lam2 + par[DLAM]
    eta_c, mu0_c = cls[ETA, c], cls[MU0, c]
    fold = 2.0 if (mu0_c == 0.0 and eta_c == 0.0) else 1.0
    n_max = gx.shape[0]
    w_max = 0.0
    for j in range(edges.shape[0] - 1):
        w_max = max(w_max, edges[j + 1] - edges[j])
    for p in range(cuts.shape[0] - 1):
        half = 0.5 * (cuts[p + 1] - cuts[p])
        if half <= 0.0:
            continue
        mid = 0.5 * (cuts[p] + cuts[p + 1])
        n_pt = int(math.ceil(n_max * 2.0 * half / w_max))
        n_pt = min(max(n_pt, int(tune[0])), n_max)
        for j in range(n_pt):
            t = mid + half * gx[n_pt - 1, j]
            wt = fold * cls[W, c] * gw[n_pt - 1, j] * half * (INV_SQRT_2PI * math.exp(-0.5 * t * t))
            h = eta_c + s * t
            x1 = 0.0  # the pretrained coefficient S_lam1(h) / Qh1
            if h > lam1:
                x1 = (h - lam1) / qh1
            elif h < -lam1:
                x1 = (h + lam1) / qh1
            inside = abs(h) <= lam1
            pr, m1v, m2v = st_moments(nu + gam * (h - eta_c) + rh * x1, tv,
                                      lam_in if inside else lam2)
            acc[0] += wt * m2v
            acc[2] += wt * x1 * m1v
            acc[3] += wt * pr
            acc[1] += wt * ((mu0_c + reg_h * (h - eta_c)) * m1v + cov_rg * pr)
            if not inside:
                acc[4] += wt * pr


@njit(cache=True, error_model="numpy")
def _add_flip_term(cls, c, par, law, acc):
    """Add class c's support-flip term of chi12 (the jump of lam_e at h = +-lam1) to acc[5]."""
    s, nu, gam, tv = law[0], law[1], law[2], law[3]
    lam2 = par[LAM2]
    for sgn in (-1.0, 1.0):
        hk = sgn * par[LAM1]
        tk = (hk - cls[ETA, c]) / s
        dens = INV_SQRT_2PI * math.exp(-0.5 * tk * tk) / s
        mub = nu + gam * (hk - cls[ETA, c])
        _, a_out, _ = st_moments(mub, tv, lam2)
        _, a_in, _ = st_moments(mub, tv, lam2 + par[DLAM])
        acc[5] += cls[W, c] * sgn * dens * (a_out - a_in)


@njit(cache=True, error_model="numpy", inline="always")
def stage2_map(model, state):
    """One undamped application of the stage-2 fixed-point map (``docs/translasso_theory.md``).

    Inlined into the iteration kernel (``inline="always"``): compiled once, not twice.
    """
    return stage2_averages(model, stage2_conjugates(model[2][1], state))


@njit(cache=True, error_model="numpy", inline="always")
def stage2_averages(model, conj):
    """New stage-2 state (Q2, m2, R, chi2, chi12) of the scalar problem for given conjugates
    ``conj = (Qh2, mh2, Rh, chih2, chih12, ...)`` (the averages of :func:`stage2_map`; also
    used with the conjugates of other design families, :mod:`replica.rotinv_stage2`)."""
    cls, par, quad = model[2]
    qh2, rh = conj[0], conj[2]
    # numerators of Q2, m2, R, chi2, the smooth and the support-flip parts of chi12
    acc = np.empty(6)
    for i in range(6):
        acc[i] = 0.0
    for c in range(cls.shape[1]):
        if cls[W, c] == 0.0:
            continue
        law = _class_law(cls, c, conj, quad[4][2])
        cuts = _class_cuts(cls, c, par, law, rh, quad)
        _integrate_class(cls, c, par, law, conj, cuts, quad, acc)
        if par[DLAM] > 0.0 and par[LAM1] < math.inf:
            _add_flip_term(cls, c, par, law, acc)
    out = np.empty(5)
    out[0] = acc[0] / (qh2 * qh2)
    out[1] = acc[1] / qh2
    out[2] = acc[2] / qh2
    out[3] = acc[3] / qh2
    out[4] = rh / (par[QH1] * qh2) * acc[4] + acc[5] / qh2
    return out


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
        :math:`\sigma_0^2+\rho_0+\kappa^2Q_1+Q_2-2\kappa m_1^{(0)}-2m_2+2\kappa R`.
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
        return two_stage_dict(self)


def two_stage_dict(result) -> dict:
    """Flat dict of a two-stage result (fields ``hyper``, ``stage1`` and the stage-2 ones):
    the hyperparameters, the stage-1 dict without ``lam1`` and with its solver reports suffixed
    ``1``, then every stage-2 field."""
    out = dict(result.hyper.to_dict())
    s1 = result.stage1.to_dict()
    s1.pop("lam1", None)
    for key in ("converged", "iterations", "residual"):
        s1[f"{key}1"] = s1.pop(key)
    out.update(s1)
    for f in fields(result):
        if f.name not in ("hyper", "stage1"):
            out[f.name] = getattr(result, f.name)
    out["converged"] = bool(result.converged)
    return out


def _check_well_posed(scenario: TransferScenario, hyper: TransLassoHyper, density1: float):
    a0 = scenario.alphas[0]
    if hyper.lam2 == 0.0:
        if hyper.dlam == 0.0 and a0 <= 1.0:
            raise NotIdentifiableError(
                f"lam2 = dlam = 0 with alphas[0] = {a0:.4g} <= 1: stage 2 is an unpenalised "
                "least-squares fit with fewer target rows than features; use lam2 > 0 or dlam > 0"
            )
        if hyper.dlam > 0.0 and density1 >= a0:
            raise NotIdentifiableError(
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
    instance("scenario", scenario, TransferScenario)
    instance("hyper", hyper, TransLassoHyper)
    instance("stage1", stage1, PretrainingResult)
    if quadrature is not None:
        instance("quadrature", quadrature, QuadratureRule)
    options = solver_options(tol, max_iter, damping, anderson, strict)
    if stage1.lam1 != hyper.lam1:
        raise ValueError(f"stage1.lam1 = {stage1.lam1} differs from hyper.lam1 = {hyper.lam1}")
    _check_well_posed(scenario, hyper, stage1.density1)
    from replica.kernels import iterate  # the loop of both stages (imports this module)

    model = stage2_model(scenario, hyper, stage1, quadrature)
    if np.any(model[2][0][S2] <= 0):
        raise NotIdentifiableError(
            "the stage-1 field has zero variance (a noiseless scenario recovered exactly, e.g. "
            "an all-zero prior with zero noise): the stage-2 equations are degenerate; give the "
            "target some noise (sigmas[0] > 0)"
        )
    x0 = initial_state(init, TransLassoResult, [0.5, 0.1, 0.1, 0.5, 0.0],
                       "(Q2, m2, R, chi2, chi12)")
    fp = run_fixed_point(iterate, model, x0, options,
                         lambda: f"stage-2 saddle point at {hyper}",
                         hint="try a larger damping or a warm start")
    return _trans_lasso_result(hyper, stage1, model[2][1], fp)


def _trans_lasso_result(hyper, stage1, par, fp) -> TransLassoResult:
    state = fp.state
    qh2, mh2, rh, chih2, chih12, g = stage2_conjugates(par, state)
    sig0sq, rho0 = par[SIG0SQ], par[RHO0]
    q2, m2, r, chi2, chi12 = (float(v) for v in state)
    k = hyper.kappa
    eps2 = sig0sq + rho0 + k * k * stage1.Q1 + q2 - 2 * k * stage1.m1[0] - 2 * m2 + 2 * k * r
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
        mse2=float(eps2 - sig0sq),
        density2=float(qh2 * chi2),
        train_error2=float(g / (1.0 + chi2) ** 2),
        converged=bool(fp.converged and stage1.converged),
        iterations=fp.iterations,
        residual=fp.residual,
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
    output :math:`\kappa\hat x^{(1st)}+\hat x^{(2nd)}`
    (``docs/translasso_theory.md``).

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
    NotIdentifiableError
        ``lam2 = dlam = 0`` with ``alphas[0] <= 1`` (and similar unpenalised cases).
    NonFiniteIterateError
        An iterate became NaN or infinite.
    """
    instance("hyper", hyper, TransLassoHyper)
    if stage1 is None:
        # the previous stage 1 is a warm start (exact for the same lam1, close for a nearby one)
        s1_init = init.stage1 if isinstance(init, TransLassoResult) else None
        stage1 = solve_pretraining(
            scenario, hyper.lam1, tol=tol, max_iter=max_iter, damping=damping, init=s1_init,
            strict=strict, anderson=anderson,
        )
    return solve_finetuning(
        scenario, hyper, stage1, tol=tol, max_iter=max_iter, damping=damping, init=init,
        strict=strict, quadrature=quadrature, anderson=anderson,
    )
