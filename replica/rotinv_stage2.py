r"""Stage 2 of the Generalized Trans-Lasso for a right-rotationally invariant target design.

Derivation (``docs/translasso_real_designs.md``, section 3): the two estimators share the
target design, so we track the two columns :math:`(\hat x^{(1st)},\hat\beta)` with
:math:`\hat\beta=\kappa\hat x^{(1st)}+\hat x^{(2nd)}`. Both satisfy stationarity conditions
with the *same* quadratic part :math:`J=A_0^\top A_0` and the same linear term
:math:`A_0^\top y_0` (stage 1 with only the target; free source blocks add to stage 1 only),
so a two-column oracle VAMP (Gerbelot, Abbara & Krzakala, arXiv:2002.04372, with 2x2
matrix-valued precisions as in the graph-based AMP of Gerbelot & Berthier,
arXiv:2109.11905) applies, with precisions that are upper-triangular 2x2 matrices. Eliminating
its message variables at the fixed point gives, with the susceptibility matrix

.. math::

    X=\begin{pmatrix}\chi_1&\kappa\chi_1+\chi_{12}\\0&\chi_2\end{pmatrix},\qquad
    \Gamma=R_0(-X)=X^{-1}-\gamma_0(X)

(matrix functions; :math:`\gamma_0` inverts the Stieltjes transform
:math:`\chi=\frac1N\sum_i(\lambda_i+\gamma)^{-1}` of the target spectrum, off-diagonal entry by
a divided difference), the conjugates :math:`\hat Q_2=\Gamma_{22}`,
:math:`\hat m_2=\Gamma_{22}+\Gamma_{12}`, :math:`\hat R=-(\kappa\Gamma_{22}+\Gamma_{12})`, and
the covariance :math:`\hat C` of :math:`(\zeta_1,\zeta_2)` (target block) as the solution of
the linear equation

.. math::

    \big\langle M^\top\hat CM\big\rangle=\sigma_0^2\big\langle\lambda M^\top\mathbf 1
    \mathbf 1^\top M\big\rangle+\big\langle M^\top X^{-\top}EX^{-1}M\big\rangle-E,
    \qquad M(\lambda)=(\lambda I+\gamma_0(X))^{-1},

averaged over the spectrum, where :math:`E` is the 2x2 error covariance of
:math:`(\hat x^{(1st)},\hat\beta)` against :math:`(r^{(0)},r^{(0)})`. For the
Marchenko-Pastur law this is exactly the i.i.d. stage 2 (:func:`replica.solve_trans_lasso`);
for one column it is the single-stage formula of :mod:`replica.rotinv`. The scalar problem
is the i.i.d. one (:func:`replica.stage2.stage2_averages`).
"""

from __future__ import annotations

import math

import numpy as np

from replica.design import SpectralDesign, Spectrum
from replica.rotinv import spectral_r
from replica.stage2 import stage2_averages, stage2_model

__all__ = ["spectral_nodes", "rotinv_stage2_conjugates", "rotinv_stage2_map"]


def spectral_nodes(spectrum: Spectrum, n_quad: int = 4000):
    """(nodes, weights, zero mass) of the spectrum: its positive eigenvalues with weight 1/N,
    or for the exact Marchenko-Pastur law a Gauss-Chebyshev (second kind) rule of its
    density :math:`\\sqrt{(\\lambda_+-\\lambda)(\\lambda-\\lambda_-)}/(2\\pi\\lambda)` on
    :math:`[(1-\\sqrt\\alpha)^2,(1+\\sqrt\\alpha)^2]` (mass :math:`\\min(1,\\alpha)`)."""
    if spectrum.is_exact_mp:
        a = spectrum.mp_ratio
        k = np.arange(1, n_quad + 1)
        th = k * math.pi / (n_quad + 1)
        t = np.cos(th)
        w = math.pi / (n_quad + 1) * np.sin(th) ** 2
        c, h = 1.0 + a, 2.0 * math.sqrt(a)
        lam = c + h * t
        wts = w * h * h / (2.0 * math.pi * lam)
        return lam, wts, max(0.0, 1.0 - a)
    n = spectrum.eigenvalues.size
    pos = np.asarray(spectrum.positive, dtype=np.float64)
    return pos, np.full(pos.size, 1.0 / n), spectrum.n_zero / n


def _gamma(spectrum, chi, gam0=-1.0):
    kind, ev, z, mp = spectrum.kernel_arrays()
    return spectral_r(kind, ev, z, mp, float(chi), float(gam0))[2]


def _avg(nodes, f_nodes, f_zero):
    lam, w, z = nodes
    return float(np.dot(w, f_nodes) + z * f_zero)


def rotinv_stage2_conjugates(state, st1, spectrum, nodes, par, gam_warm=-1.0):
    r"""Conjugates ``(Qh2, mh2, Rh, chih2, chih12, gamma2)`` of the state (Q2, m2, R, chi2,
    chi12); ``st1`` the stage-1 fixed point, ``par`` = (kappa, sigma0^2, rho0).

    ``chih1`` of the target block is recomputed as a check (returned by
    :func:`rotinv_stage2_parts`)."""
    return rotinv_stage2_parts(state, st1, spectrum, nodes, par, gam_warm)[:6]


def rotinv_stage2_parts(state, st1, spectrum, nodes, par, gam_warm=-1.0):
    """As :func:`rotinv_stage2_conjugates`, plus (Gamma, C) 2x2 matrices for checks."""
    q2, m2, r, chi2, chi12 = (float(v) for v in state)
    kappa, sig0sq, rho0 = par
    chi1 = st1.chi1
    q1, m1 = st1.Q1, st1.m1[0]
    x12 = kappa * chi1 + chi12
    a = st1.gamma[0]
    d = _gamma(spectrum, chi2, gam_warm)
    lam, w, z = nodes
    ma = 1.0 / (lam + a)
    md = 1.0 / (lam + d)
    za, zd = 1.0 / a, 1.0 / d  # zero eigenvalues (only when z > 0, then a, d > 0)
    if z == 0.0:
        za = zd = 0.0
    s_ad = _avg(nodes, ma * md, za * zd)
    b = -x12 / s_ad  # gamma_0(X)_12 = X_12 (d - a) / (chi2 - chi1)
    xinv = np.array([[1.0 / chi1, -x12 / (chi1 * chi2)], [0.0, 1.0 / chi2]])
    gam2 = np.array([[a, b], [0.0, d]])
    g = xinv - gam2
    e11 = rho0 - 2.0 * m1 + q1
    e12 = kappa * q1 + r - (1.0 + kappa) * m1 - m2 + rho0
    e22 = kappa * kappa * q1 + q2 + rho0 + 2.0 * kappa * r - 2.0 * kappa * m1 - 2.0 * m2
    e = np.array([[e11, e12], [e12, e22]])
    ce = xinv.T @ e @ xinv
    # per node: M = [[ma, -b ma md], [0, md]]; u = M^T 1 = (ma, md (1 - b ma))
    m12 = -b * ma * md
    z12 = -b * za * zd

    def avg_mcm(c, weight_l=False):
        f11 = c[0, 0] * ma * ma
        f12 = ma * (c[0, 0] * m12 + c[0, 1] * md)
        f22 = (m12 * (c[0, 0] * m12 + c[0, 1] * md) + md * (c[1, 0] * m12 + c[1, 1] * md))
        if weight_l:
            return np.array([[np.dot(w, lam * f11), np.dot(w, lam * f12)],
                             [np.dot(w, lam * f12), np.dot(w, lam * f22)]])
        g11 = c[0, 0] * za * za
        g12 = za * (c[0, 0] * z12 + c[0, 1] * zd)
        g22 = z12 * (c[0, 0] * z12 + c[0, 1] * zd) + zd * (c[1, 0] * z12 + c[1, 1] * zd)
        return np.array([[_avg(nodes, f11, g11), _avg(nodes, f12, g12)],
                         [_avg(nodes, f12, g12), _avg(nodes, f22, g22)]])

    rhs = sig0sq * avg_mcm(np.ones((2, 2)), weight_l=True) + avg_mcm(ce) - e
    # L(C) = <M^T C M> is triangular in (c11, c12, c22)
    l11 = avg_mcm(np.array([[1.0, 0.0], [0.0, 0.0]]))
    l12 = avg_mcm(np.array([[0.0, 1.0], [1.0, 0.0]]))
    l22 = avg_mcm(np.array([[0.0, 0.0], [0.0, 1.0]]))
    c11 = rhs[0, 0] / l11[0, 0]
    c12 = (rhs[0, 1] - c11 * l11[0, 1]) / l12[0, 1]
    c22 = (rhs[1, 1] - c11 * l11[1, 1] - c12 * l12[1, 1]) / l22[1, 1]
    qh2 = g[1, 1]
    mh2 = g[1, 1] + g[0, 1]
    rh = -(kappa * g[1, 1] + g[0, 1])
    cmat = np.array([[c11, c12], [c12, c22]])
    return qh2, mh2, rh, c22, c12, d, g, cmat


def rotinv_stage2_map(state, st1, spectrum, nodes, par, model, gam_warm=-1.0):
    """One application of the stage-2 map: conjugates, then the i.i.d. scalar averages."""
    qh2, mh2, rh, chih2, chih12, d = rotinv_stage2_conjugates(state, st1, spectrum, nodes,
                                                              par, gam_warm)
    conj = (qh2, mh2, rh, chih2, chih12, 0.0)
    return np.asarray(stage2_averages(model, conj)), d


def solve_rotinv_stage2_proto(scenario, design, hyper, st1, tol=1e-11, max_iter=2000,
                              damping=0.0, anderson=4, x0=None):
    """Prototype fixed point (Python loop around the compiled Anderson step)."""
    from replica.fixed_point import CONVERGED, RUNNING, fixed_point_step, new_run
    from replica.solver import SolverOptions

    sp0 = design.spectra[0] if isinstance(design, SpectralDesign) else design
    nodes = spectral_nodes(sp0)
    par = (hyper.kappa, scenario.sigmas[0] ** 2, scenario.prior.second_moments[0])
    model = stage2_model(scenario, hyper, st1)
    opts = SolverOptions(tol=tol, max_iter=max_iter, damping=damping, anderson=anderson)
    ctrl = opts.ctrl()
    x = np.array([0.5, 0.1, 0.1, 0.5, 0.0] if x0 is None else x0, dtype=float)
    x, hist, positive = new_run(x, ctrl[3], (0, 3))
    gw = -1.0
    res, status, it = math.inf, RUNNING, 0
    for it in range(1, max_iter + 1):
        fx, gw = rotinv_stage2_map(x, st1, sp0, nodes, par, model, gw)
        x, res, status = fixed_point_step(x, fx, hist, ctrl, positive)
        if status != RUNNING:
            break
    return x, it, res, status == CONVERGED
