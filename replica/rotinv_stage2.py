r"""Both stages of the Generalized Trans-Lasso for right-rotationally invariant designs.

Target design :math:`A_0=U_0S_0V_0^\top` with Haar :math:`V_0`; sources with independent
rotations (free blocks, :mod:`replica.rotinv`) enter stage 1 only. Derivation
(``docs/translasso_real_designs.md``, section 3): the stage-1 estimator and the combined one,
:math:`\hat\beta=\kappa\hat x^{(1st)}+\hat x^{(2nd)}`, satisfy stationarity conditions with the
*same* quadratic part :math:`J=A_0^\top A_0` and linear term :math:`A_0^\top y_0` in the target
block, so a two-column oracle VAMP (Gerbelot, Abbara & Krzakala, arXiv:2002.04372, with 2x2
matrix-valued precisions as in the graph-based AMP of Gerbelot & Berthier, arXiv:2109.11905)
describes them; its precisions are upper-triangular 2x2 matrices, functions of the
susceptibility matrix

.. math::

    X=\begin{pmatrix}\chi_1&\kappa\chi_1+\chi_{12}\\0&\chi_2\end{pmatrix}
    =\langle M\rangle,\qquad M(\lambda)=(\lambda I+\Gamma_2)^{-1},

with :math:`\langle\cdot\rangle` the average over the eigenvalues :math:`\lambda` of
:math:`J` (so :math:`\Gamma_2=\gamma_0(X)`, the inverse Stieltjes transform as a matrix
function, off-diagonal entry by a divided difference). Eliminating the messages gives the
target block's precision and noise covariance

.. math::

    \Gamma=R_0(-X)=X^{-1}\langle\lambda M\rangle,\qquad
    \big\langle M^\top\hat CM\big\rangle=\sigma_0^2\big\langle\lambda M^\top\mathbf1\mathbf1^\top
    M\big\rangle+\big\langle D^\top ED\big\rangle,\quad D=X^{-1}M-I,

where :math:`E` is the 2x2 error covariance of :math:`(\hat x^{(1st)},\hat\beta)` against
:math:`(r^{(0)},r^{(0)})`. The stage-2 conjugates are :math:`\hat Q_2=\Gamma_{22}`,
:math:`\hat m_2=\Gamma_{22}+\Gamma_{12}`, :math:`\hat R=-(\kappa\Gamma_{22}+\Gamma_{12})`,
:math:`\hat\chi_2=\hat C_{22}`, :math:`\hat\chi_{12}=\hat C_{12}` (:math:`\hat C_{11}` is the
target block's share of :math:`\hat\chi_1`); the scalar problem is the i.i.d. one
(:func:`replica.stage2.stage2_averages`). For the Marchenko-Pastur law,
:math:`\Gamma=\alpha_0(I+X)^{-1}` and :math:`\hat C=\alpha_0(I+X)^{-\top}(E+\sigma_0^2
\mathbf1\mathbf1^\top)(I+X)^{-1}`: the i.i.d. equations of :func:`replica.solve_trans_lasso`
(reproduced to ~1e-15); with one column, the single-stage formulas of :mod:`replica.rotinv`.
All averages are sums over the eigenvalues in forms without cancellation (centred
resolvents); :math:`\hat C` is solved in the eigenbasis of :math:`X` when
:math:`\chi_2\le\chi_1/2` (including the empty stage-2 support, :math:`\chi_2=0`) and by a
triangular solve otherwise (including the confluent :math:`\chi_1=\chi_2`). Checked against
Haar-rotated simulations in ``docs/translasso_real_designs.md``, section 6.1.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from replica.checks import instance, integer
from replica.design import SpectralDesign, Spectrum
from replica.errors import ConvergenceWarning, NotIdentifiableError
from replica.quadrature import QuadratureRule
from replica.rotinv import RotInvPretrainingResult, solve_rotinv_pretraining, spectral_r
from replica.scenario import TransferScenario, TransLassoHyper
from replica.solver import initial_state, run_fixed_point, solver_options
from replica.stage2 import S2, stage2_averages, stage2_model, two_stage_dict

__all__ = ["RotInvTransLassoResult", "solve_rotinv_trans_lasso", "spectral_nodes",
           "rotinv_stage2_conjugates"]

_MP_NODES = 4000  # Gauss-Chebyshev nodes of an exact Marchenko-Pastur density
_MAX_NODES = 10**7  # memory guard of spectral_nodes
_EMPTY_STAGE1 = 1e-12  # density1 below this: stage 1 selects nothing (see _empty_stage1_result)


def spectral_nodes(spectrum: Spectrum, n_quad: int = _MP_NODES):
    r"""``(nodes, weights, zero_mass)`` representing the eigenvalue law of a spectrum.

    An empirical spectrum: its positive eigenvalues, weight :math:`1/N` each. The exact
    Marchenko-Pastur law of ratio :math:`\alpha`: a Gauss-Chebyshev rule of the second kind
    for its density :math:`\sqrt{(\lambda_+-\lambda)(\lambda-\lambda_-)}/(2\pi\lambda)` on
    :math:`[(1-\sqrt\alpha)^2,(1+\sqrt\alpha)^2]` (mass :math:`\min(1,\alpha)`; the rest at
    zero), exact to rounding for the smooth resolvent averages used here.
    """
    instance("spectrum", spectrum, Spectrum)
    n_quad = integer("n_quad", n_quad, low=1)
    if n_quad > _MAX_NODES:
        raise ValueError(f"n_quad = {n_quad}: must be <= {_MAX_NODES:,} (quadrature nodes)")
    if spectrum.is_exact_mp:
        a = spectrum.mp_ratio
        th = np.arange(1, n_quad + 1) * math.pi / (n_quad + 1)
        c, h = 1.0 + a, 2.0 * math.sqrt(a)
        lam = c + h * np.cos(th)
        wts = math.pi / (n_quad + 1) * np.sin(th) ** 2 * h * h / (2.0 * math.pi * lam)
        return lam, wts, max(0.0, 1.0 - a)
    n = spectrum.eigenvalues.size
    pos = np.asarray(spectrum.positive, dtype=np.float64)
    return pos, np.full(pos.size, 1.0 / n), spectrum.n_zero / n


def _resolvents(nodes, a, d):
    r"""Nodes (zero eigenvalues appended as one node), weights and the two resolvents
    :math:`(\lambda+a)^{-1}`, :math:`(\lambda+d)^{-1}`, each rescaled to at most 1 (only
    ratios of averages homogeneous in each resolvent are used); ``d = inf``
    (:math:`\chi_2=0`) is the limit, a constant."""
    lam, w, z = nodes
    if z > 0.0:
        lam, w = np.append(lam, 0.0), np.append(w, z)
    lo = float(lam.min())
    ra = (lo + a) / (lam + a)
    rd = np.ones_like(lam) if math.isinf(d) else (lo + d) / (lam + d)
    return lam, w, ra, rd


def _avg_sandwich(w, left, c, right):
    r""":math:`\langle L^\top CR\rangle` for per-node upper-triangular L, R (entries
    ``(11, 12, 22)``) and a symmetric 2x2 C; returns (11, 12, 22) of the (symmetric)
    average."""
    l11, l12, l22 = left
    r11, r12, r22 = right
    t12 = c[0, 0] * r12 + c[0, 1] * r22  # (C R)_12
    t22 = c[1, 0] * r12 + c[1, 1] * r22  # (C R)_22
    return (float(np.dot(w, l11 * c[0, 0] * r11)), float(np.dot(w, l11 * t12)),
            float(np.dot(w, l12 * t12 + l22 * t22)))


def _noise_triangular(lam, w, ma, md, mu, x12, e, sig0sq):
    r""":math:`\hat C` by the triangular solve of :math:`\langle M^\top\hat CM\rangle=\ldots`
    (well conditioned unless :math:`\chi_2\ll|X_{12}|`); ``ma``, ``md`` the resolvents
    :math:`m_i=(\lambda+\gamma_i)^{-1}` per node, ``mu`` the :math:`\lambda`-means of
    :func:`_means`. Entries of :math:`M`: :math:`m_a`, :math:`X_{12}m_am_d/\langle m_am_d
    \rangle`, :math:`m_d`; of :math:`D=X^{-1}M-I`, without cancellation:
    :math:`m_a(\mu_a-\lambda)`, :math:`X_{12}m_am_d(\mu_{ad}-\lambda)/(\chi_1\chi_2)`,
    :math:`m_d(\mu_d-\lambda)`."""
    chi_a, chi_d = float(np.dot(w, ma)), float(np.dot(w, md))
    mm = (ma, x12 * ma * md / float(np.dot(w, ma * md)), md)
    dev = (ma * (mu[0] - lam), x12 * ma * md * (mu[2] - lam) / (chi_a * chi_d),
           md * (mu[1] - lam))
    sig = _avg_sandwich(w, dev, e, dev)
    noise = _avg_sandwich(w * lam, mm, np.ones((2, 2)), mm)
    rhs = [sig0sq * noise[i] + sig[i] for i in range(3)]
    l11 = _avg_sandwich(w, mm, np.array([[1.0, 0.0], [0.0, 0.0]]), mm)
    l12 = _avg_sandwich(w, mm, np.array([[0.0, 1.0], [1.0, 0.0]]), mm)
    l22 = _avg_sandwich(w, mm, np.array([[0.0, 0.0], [0.0, 1.0]]), mm)[2]
    c11 = rhs[0] / l11[0]
    c12 = (rhs[1] - c11 * l11[1]) / l12[1]
    c22 = (rhs[2] - c11 * l11[2] - c12 * l12[2]) / l22
    return np.array([[c11, c12], [c12, c22]])


def _noise_eigenbasis(lam, w, ra, rd, mu, p, e, sig0sq):
    r""":math:`\hat C=P^{-\top}\tilde CP^{-1}` in the eigenbasis :math:`P=[[1,p],[0,1]]` of
    :math:`X` (:math:`p=X_{12}/(\chi_2-\chi_1)`), where the equation is diagonal:
    :math:`\tilde C_{ij}=\sigma_0^2\tilde J_{ij}\langle\lambda m_im_j\rangle/\langle m_im_j
    \rangle+\tilde E_{ij}\langle m_im_j(\mu_i-\lambda)(\mu_j-\lambda)\rangle/
    \langle m_im_j\rangle` (:math:`\tilde E=P^\top EP`, :math:`\tilde J=P^\top\mathbf1
    \mathbf1^\top P`); well conditioned unless :math:`\chi_1\approx\chi_2`."""
    res = (ra, rd)
    pm = np.array([[1.0, p], [0.0, 1.0]])
    et = pm.T @ e @ pm
    u = pm.T @ np.ones(2)
    ct = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            mij = w * res[i] * res[j]
            s = float(mij.sum())
            ct[i, j] = (sig0sq * u[i] * u[j] * float(np.dot(mij, lam)) / s
                        + et[i, j] * float(np.dot(mij, (mu[i] - lam) * (mu[j] - lam))) / s)
    pinv = np.array([[1.0, -p], [0.0, 1.0]])
    return pinv.T @ ct @ pinv


def _means(lam, w, ra, rd):
    r""":math:`\lambda`-means :math:`(\mu_a,\mu_d,\mu_{ad})` under the weights
    :math:`m_a`, :math:`m_d`, :math:`m_am_d` (:math:`\mu_a=R_0(-\chi_1)`,
    :math:`\mu_d=R_0(-\chi_2)`)."""
    wa, wd = w * ra, w * rd
    wad = wa * rd
    return (float(np.dot(wa, lam) / wa.sum()), float(np.dot(wd, lam) / wd.sum()),
            float(np.dot(wad, lam) / wad.sum()))


def rotinv_stage2_conjugates(state, stage1: RotInvPretrainingResult, nodes, gamma2: float,
                             par) -> tuple:
    r"""Target-block precision :math:`\Gamma` and noise covariance :math:`\hat C` (2x2 arrays).

    ``state`` = (Q2, m2, R, chi2, chi12); ``nodes`` from :func:`spectral_nodes` of the target
    spectrum; ``gamma2`` = :math:`\gamma_0(\chi_2)` (``inf`` for :math:`\chi_2=0`); ``par`` =
    (kappa, sigma0^2, rho0). :math:`\Gamma=X^{-1}\langle\lambda M\rangle` is evaluated as
    :math:`\Gamma_{11}=\mu_a`, :math:`\Gamma_{22}=\mu_d`,
    :math:`\Gamma_{12}=X_{12}(\mu_{ad}-\mu_d)/\chi_1` (:func:`_means`), free of the
    cancellation in :math:`X^{-1}-\gamma_0(X)`; :math:`\hat C` in the eigenbasis of
    :math:`X` when :math:`\chi_2\le\chi_1/2` (the stage-2 support emptying,
    :math:`\chi_2\to0`, included), otherwise by a triangular solve.
    """
    instance("stage1", stage1, RotInvPretrainingResult)
    st = np.asarray(state, dtype=np.float64) if not isinstance(state, str) else np.empty(0)
    if st.shape != (5,) or not np.all(np.isfinite(st)):
        raise ValueError(f"state = {state!r}: expected 5 finite numbers (Q2, m2, R, chi2, chi12)")
    if not (isinstance(nodes, tuple) and len(nodes) == 3):
        raise ValueError("nodes: expected the (nodes, weights, zero_mass) of spectral_nodes")
    if not (isinstance(par, tuple | list) and len(par) == 3):
        raise ValueError(f"par = {par!r}: expected (kappa, sigma0^2, rho0)")
    q2, m2, r, chi2, chi12 = (float(v) for v in st)
    kappa, sig0sq, rho0 = par
    chi1, q1, m1 = stage1.chi1, stage1.Q1, stage1.m1[0]
    x12 = kappa * chi1 + chi12
    lam, w, ra, rd = _resolvents(nodes, stage1.gamma[0], gamma2)
    mu = _means(lam, w, ra, rd)
    gam = np.array([[mu[0], x12 * (mu[2] - mu[1]) / chi1], [0.0, mu[1]]])
    e12 = kappa * q1 + r - (1.0 + kappa) * m1 - m2 + rho0
    e22 = kappa * kappa * q1 + q2 + rho0 + 2.0 * kappa * r - 2.0 * kappa * m1 - 2.0 * m2
    e = np.array([[rho0 - 2.0 * m1 + q1, e12], [e12, e22]])
    if chi2 <= 0.5 * chi1:
        cmat = _noise_eigenbasis(lam, w, ra, rd, mu, x12 / (chi2 - chi1), e, sig0sq)
    else:
        a = stage1.gamma[0]
        cmat = _noise_triangular(lam, w, 1.0 / (lam + a), 1.0 / (lam + gamma2), mu, x12, e,
                                 sig0sq)
    return gam, cmat


def _stage2_iid_conjugates(gam, cmat, kappa):
    """(Qh2, mh2, Rh, chih2, chih12, 0) in the layout of :func:`replica.stage2.stage2_averages`."""
    return (gam[1, 1], gam[1, 1] + gam[0, 1], -(kappa * gam[1, 1] + gam[0, 1]), cmat[1, 1],
            cmat[0, 1], 0.0)


class _Map:
    """The stage-2 fixed-point map of one problem, as an ``iterate`` for
    :func:`replica.solver.run_fixed_point` (a Python loop around the compiled Anderson step)."""

    def __init__(self, scenario, hyper, stage1, spectrum, quadrature):
        self.stage1, self.spectrum = stage1, spectrum
        self.nodes = spectral_nodes(spectrum)
        self.par = (hyper.kappa, scenario.sigmas[0] ** 2, scenario.prior.second_moments[0])
        self.model = stage2_model(scenario, hyper, stage1, quadrature)
        self.kernel = spectrum.kernel_arrays()
        self.gamma2 = -1.0

    def conjugates(self, state):
        chi2 = float(state[3])
        kind, ev, z, mp = self.kernel
        if chi2 > 0.0:
            warm = self.gamma2 if math.isfinite(self.gamma2) else -1.0
            self.gamma2 = spectral_r(kind, ev, z, mp, chi2, warm)[2]
        else:
            self.gamma2 = math.inf
        gam, cmat = rotinv_stage2_conjugates(state, self.stage1, self.nodes, self.gamma2,
                                             self.par)
        return gam, cmat

    def __call__(self, model, x0, ctrl):
        from replica.fixed_point import MAX_ITER, RUNNING, fixed_point_step, new_run

        x, hist, positive = new_run(np.asarray(x0, dtype=np.float64), ctrl[3], (0, 3))
        res = math.inf
        for it in range(1, int(ctrl[2]) + 1):
            gam, cmat = self.conjugates(x)
            fx = np.asarray(stage2_averages(self.model, _stage2_iid_conjugates(
                gam, cmat, self.par[0])))
            x, res, status = fixed_point_step(x, fx, hist, ctrl, positive)
            if status != RUNNING:
                return x, it, res, status
        return x, int(ctrl[2]), res, MAX_ITER


@dataclass(frozen=True)
class RotInvTransLassoResult:
    r"""Fixed point of both stages for a rotationally invariant design, and the observables.

    Attributes
    ----------
    stage1 : RotInvPretrainingResult
        Stage-1 fixed point (free blocks).
    Q2, m2, R, chi2, chi12
        As :class:`replica.TransLassoResult`.
    Qh2, mh2, Rh, chih2, chih12
        Conjugates (module docstring).
    gamma2
        :math:`\gamma_0(\chi_2)` of the target spectrum.
    mse2
        :math:`\|\kappa\hat x^{(1st)}+\hat x^{(2nd)}-r^{(0)}\|^2/N`.
    density2
        Fraction of non-zeros of :math:`\hat x^{(2nd)}`, :math:`\hat Q_2\chi_2`.
    converged, iterations, residual
        Convergence report of the stage-2 iteration (``converged`` is True only if stage 1
        converged as well).
    """

    hyper: TransLassoHyper
    stage1: RotInvPretrainingResult
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
    gamma2: float
    mse2: float
    density2: float
    converged: bool
    iterations: int
    residual: float

    @property
    def mse1(self) -> float:
        return self.stage1.mse1

    @property
    def density1(self) -> float:
        return self.stage1.density1

    @property
    def state(self) -> np.ndarray:
        """Stage-2 state vector (Q2, m2, R, chi2, chi12), for warm starts."""
        return np.array([self.Q2, self.m2, self.R, self.chi2, self.chi12])

    def to_dict(self) -> dict:
        """Flat dict: hyperparameters, stage-1 quantities (suffix ``1`` on the reports) and
        stage 2."""
        return two_stage_dict(self)


def _target_rank_fraction(spectrum: Spectrum) -> float:
    if spectrum.is_exact_mp:
        return min(1.0, spectrum.mp_ratio)
    return 1.0 - spectrum.n_zero / spectrum.eigenvalues.size


def _check_inputs(scenario, design, hyper, stage1):
    instance("scenario", scenario, TransferScenario)
    instance("hyper", hyper, TransLassoHyper)
    if isinstance(design, Spectrum):
        design = SpectralDesign((design,))
    if not isinstance(design, SpectralDesign):
        raise ValueError(f"design: expected a SpectralDesign or Spectrum, got "
                         f"{type(design).__name__}")
    design.check_scenario(scenario)
    if not (0.0 < hyper.lam1 < math.inf):
        raise ValueError(f"hyper.lam1 = {hyper.lam1}: must be positive and finite for a "
                         "rotationally invariant design")
    if math.isinf(hyper.lam2):
        raise ValueError(f"hyper.lam2 = {hyper.lam2}: must be finite (lam2 = inf is no "
                         "fine-tuning; use solve_rotinv_pretraining)")
    if stage1 is not None:
        instance("stage1", stage1, RotInvPretrainingResult)
        if stage1.lam1 != hyper.lam1:
            raise ValueError(f"stage1.lam1 = {stage1.lam1} differs from hyper.lam1 = "
                             f"{hyper.lam1}")
        if len(stage1.m1) != scenario.n_datasets:
            raise ValueError(f"stage1: solved for {len(stage1.m1)} datasets but the scenario "
                             f"has {scenario.n_datasets}")
    return design


def _check_stage1_fixed_point(scenario, design, stage1) -> None:
    """ValueError unless a converged ``stage1`` is the stage-1 fixed point of this scenario
    and design (a few warm-started iterations must not move it): a stage 1 solved for another
    prior, noise level or spectrum would otherwise give a silently wrong stage 2."""
    if not stage1.converged:
        return  # reported through ``converged`` of the result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = solve_rotinv_pretraining(scenario, design, stage1.lam1, init=stage1,
                                         max_iter=20)
    old, new = stage1.state, again.state
    slack = max(1e-7, 1e4 * stage1.residual)  # a stage 1 solved with a looser tol moves a bit
    if not np.all(np.abs(new - old) <= slack * (1.0 + np.abs(old))):
        raise ValueError(
            f"stage1: not the stage-1 fixed point of this scenario and design (state "
            f"{old.tolist()} moves to {new.tolist()}); solve it with the same scenario and "
            "design, or omit stage1")


def _check_well_posed(hyper, spectrum, density1):
    rank = _target_rank_fraction(spectrum)
    if hyper.lam2 == 0.0 and hyper.dlam == 0.0 and rank < 1.0:
        raise NotIdentifiableError(
            f"lam2 = dlam = 0 with a target design of rank fraction {rank:.4g} < 1: stage 2 is "
            "an unpenalised least-squares fit with a null space; use lam2 > 0 or dlam > 0")
    if hyper.lam2 == 0.0 and hyper.dlam > 0.0 and density1 >= rank:
        raise NotIdentifiableError(
            f"lam2 = 0 leaves the pretrained support unpenalised, but its density "
            f"{density1:.4g} >= the target rank fraction {rank:.4g}: stage 2 has no unique "
            "solution; use lam2 > 0")


def solve_rotinv_trans_lasso(
    scenario: TransferScenario,
    design: SpectralDesign | Spectrum,
    hyper: TransLassoHyper,
    *,
    tol: float = 1e-11,
    max_iter: int = 5000,
    damping: float = 0.0,
    init: RotInvTransLassoResult | None = None,
    strict: bool = False,
    stage1: RotInvPretrainingResult | None = None,
    quadrature: QuadratureRule | None = None,
    anderson: int = 4,
) -> RotInvTransLassoResult:
    r"""Solve both stages of the Generalized Trans-Lasso for rotationally invariant designs.

    Same estimator as :func:`replica.solve_trans_lasso`; dataset k has the design
    :math:`A_k=U_kS_kV_k^\top` with Haar :math:`V_k` independent across datasets and the
    spectrum ``design.spectra[k]`` of :math:`A_k^\top A_k`. Equations: module docstring and
    ``docs/translasso_real_designs.md`` (section 3); checked against Haar-rotated
    simulations there.

    Parameters
    ----------
    scenario : TransferScenario
        Prior and noise levels (``alphas`` unused: the spectra carry the sizes).
    design : SpectralDesign or Spectrum
        One spectrum per dataset (index 0: target).
    hyper : TransLassoHyper
        :math:`(\lambda_1,\lambda_2,\kappa,\Delta\lambda)`; ``lam1`` positive and finite,
        ``lam2`` finite.
    tol, max_iter, damping, strict, quadrature, anderson
        As :func:`replica.solve_trans_lasso`.
    init : RotInvTransLassoResult, optional
        Warm start of both stages.
    stage1 : RotInvPretrainingResult, optional
        Reuse a solved stage 1 (same ``lam1``).

    Returns
    -------
    RotInvTransLassoResult

    Raises
    ------
    ValueError
        Bad input (naming the argument). NotIdentifiableError: unpenalised stage 2 with a
        rank-deficient target design.
    """
    design = _check_inputs(scenario, design, hyper, stage1)
    if quadrature is not None:
        instance("quadrature", quadrature, QuadratureRule)
    options = solver_options(tol, max_iter, damping, anderson, strict)
    if stage1 is None:
        s1_init = init.stage1 if isinstance(init, RotInvTransLassoResult) else None
        stage1 = solve_rotinv_pretraining(scenario, design, hyper.lam1, tol=tol,
                                          max_iter=max_iter, damping=damping, init=s1_init,
                                          strict=strict, anderson=anderson)
    else:
        _check_stage1_fixed_point(scenario, design, stage1)
    sp0 = design.spectra[0]
    _check_well_posed(hyper, sp0, stage1.density1)
    if stage1.density1 < _EMPTY_STAGE1:
        return _empty_stage1_result(scenario, sp0, hyper, stage1, (tol, max_iter, damping,
                                                                   strict, anderson))
    fmap = _Map(scenario, hyper, stage1, sp0, quadrature)
    if np.any(fmap.model[2][0][S2] <= 0):
        raise NotIdentifiableError(
            "the stage-1 field has zero variance (a noiseless scenario recovered exactly): the "
            "stage-2 equations are degenerate; give the target some noise (sigmas[0] > 0)")
    x0 = initial_state(init, RotInvTransLassoResult, [0.5, 0.1, 0.1, 0.5, 0.0],
                       "(Q2, m2, R, chi2, chi12)")
    if not np.all(np.isfinite(x0)):
        raise ValueError(f"init: contains NaN or infinite values ({x0.tolist()}); give a "
                         "finite state (Q2, m2, R, chi2, chi12) or a previous result")
    fp = run_fixed_point(fmap, None, x0, options,
                         lambda: f"rotationally invariant stage-2 saddle point at {hyper}",
                         hint="try a larger damping or a warm start")
    return _result(hyper, stage1, fmap, fp)


def _empty_stage1_result(scenario, sp0, hyper, stage1, opts) -> RotInvTransLassoResult:
    r"""Stage 1 selects nothing (:math:`\hat x^{(1st)}=0`, e.g. ``lam1`` above
    :math:`\|A^\top y\|_\infty`): every coordinate is off the pretrained support, so stage 2 is
    the single-stage Lasso on the target with penalty :math:`\lambda_2+\Delta\lambda`
    (:func:`replica.solve_rotinv_pretraining` on dataset 0). This is the
    :math:`\chi_1\to0` limit of the two-column equations, where they divide 0 by 0:
    :math:`R=\chi_{12}=0`, :math:`\hat Q_2=\hat m_2=\mu_d`, :math:`\hat R=-\kappa\mu_d`,
    :math:`\hat\chi_{12}=\sigma_0^2\mu_d+(\rho_0-m_2)\langle m_d(\langle\lambda\rangle-
    \lambda)(\mu_d-\lambda)\rangle/\langle m_d\rangle` (the triangular solve with
    :math:`m_a` constant and :math:`X_{12}\to0`)."""
    tol, max_iter, damping, strict, anderson = opts
    lam = hyper.lam2 + hyper.dlam
    if not 0.0 < lam < math.inf:
        raise ValueError(
            f"hyper = {hyper}: stage 1 selects no feature (density1 = {stage1.density1:.3g}), "
            f"so stage 2 is the target Lasso with lam2 + dlam = {lam}, which must be positive "
            "and finite here; lower lam1")
    prior = scenario.prior
    p0 = type(prior)(prior.weights, prior.means[:, :1], prior.covs[:, :1, :1])
    target = TransferScenario(scenario.alphas[:1], scenario.sigmas[:1], p0)
    one = solve_rotinv_pretraining(target, SpectralDesign((sp0,)), lam, tol=tol,
                                   max_iter=max_iter, damping=damping, strict=strict,
                                   anderson=anderson)
    lam_n, w, _, rd = _resolvents(spectral_nodes(sp0), 1.0, one.gamma[0])
    mud = float(np.dot(w * rd, lam_n) / np.dot(w, rd))
    rho0, sig0sq, k = prior.second_moments[0], scenario.sigmas[0] ** 2, hyper.kappa
    m2 = one.m1[0]
    dev = float(np.dot(w * rd, (np.dot(w, lam_n) - lam_n) * (mud - lam_n)) / np.dot(w, rd))
    chih12 = sig0sq * mud + (rho0 - m2) * dev
    mse2 = rho0 + k * k * stage1.Q1 + one.Q1 - 2 * k * stage1.m1[0] - 2 * m2
    return RotInvTransLassoResult(
        hyper=hyper, stage1=stage1, Q2=one.Q1, m2=m2, R=0.0, chi2=one.chi1, chi12=0.0,
        Qh2=one.Qh1, mh2=one.Qh1, Rh=-k * one.Qh1, chih2=one.chih1, chih12=float(chih12),
        gamma2=float(one.gamma[0]), mse2=float(mse2), density2=one.density1,
        converged=bool(one.converged and stage1.converged), iterations=one.iterations,
        residual=one.residual)


def _result(hyper, stage1, fmap, fp) -> RotInvTransLassoResult:
    state = fp.state
    gam, cmat = fmap.conjugates(state)
    qh2, mh2, rh, chih2, chih12, _ = _stage2_iid_conjugates(gam, cmat, hyper.kappa)
    q2, m2, r, chi2, chi12 = (float(v) for v in state)
    k, rho0 = hyper.kappa, fmap.par[2]
    mse2 = rho0 + k * k * stage1.Q1 + q2 - 2 * k * stage1.m1[0] - 2 * m2 + 2 * k * r
    return RotInvTransLassoResult(
        hyper=hyper, stage1=stage1, Q2=q2, m2=m2, R=r, chi2=chi2, chi12=chi12,
        Qh2=float(qh2), mh2=float(mh2), Rh=float(rh), chih2=float(chih2),
        chih12=float(chih12), gamma2=float(fmap.gamma2), mse2=float(mse2),
        density2=float(qh2 * chi2), converged=bool(fp.converged and stage1.converged),
        iterations=fp.iterations, residual=fp.residual)
