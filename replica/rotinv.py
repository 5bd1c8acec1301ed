r"""Single-stage Lasso and stage 1 (pooled pretraining) for right-rotationally invariant designs.

Design of dataset k: :math:`A^{(k)}=U_kS_kV_k^\top` with Haar :math:`V_k`, independent across
datasets ("free blocks"); :math:`\{\lambda^{(k)}_i\}_{i\le N}` the eigenvalues of
:math:`A^{(k)\top}A^{(k)}` (:class:`replica.design.Spectrum`). For a given :math:`\chi` let
:math:`\gamma_k` solve :math:`\frac1N\sum_i(\lambda^{(k)}_i+\gamma_k)^{-1}=\chi`,
:math:`s_k=\frac1N\sum_i(\lambda^{(k)}_i+\gamma_k)^{-2}`, and

.. math::

    R_k(-\chi)=\frac1\chi-\gamma_k,\qquad R_k'(-\chi)=\frac1{\chi^2}-\frac1{s_k}.

The stage-1 conjugates (docs ``docs/translasso_real_designs.md``, sections 1-2; obtained by
eliminating the oracle-VAMP state evolution of Gerbelot, Abbara & Krzakala,
arXiv:2002.04372) are

.. math::

    \hat Q_1=\sum_kR_k(-\chi_1),\quad \hat m_1^{(k)}=R_k(-\chi_1),\quad
    \hat\chi_1=\sum_k\big[R_k'(-\chi_1)(\rho_k-2m_1^{(k)}+Q_1)
    +\sigma_k^2\,(R_k-\chi_1R_k')\big],

and the scalar problem is the i.i.d. one (Okajima & Obuchi 2024; :mod:`replica.stage1`):
:math:`\hat x_1=\mathcal S_{\lambda_1}(h_1)/\hat Q_1`,
:math:`h_1=\sum_k\hat m_1^{(k)}r^{(k)}+\zeta_1`, :math:`\zeta_1\sim\mathcal N(0,\hat\chi_1)`.
For a Marchenko-Pastur spectrum :math:`R_k(z)=\alpha_k/(1-z)` and the equations are exactly
those of :func:`replica.solve_pretraining`. K = 1 is the single-stage Lasso.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from replica.design import SpectralDesign, Spectrum
from replica.errors import ConvergenceError, ConvergenceWarning, NonFiniteIterateError
from replica.moments import st_moments
from replica.scenario import TransferScenario

__all__ = ["RotInvPretrainingResult", "solve_rotinv_pretraining", "spectral_r"]

_CONVERGED, _MAX_ITER, _NONFINITE = 0, 1, 2


@njit(cache=True, fastmath=True)
def _stieltjes(ev, zfrac, invn, gam):
    """(g, s2) = (1/N) sum 1/(lam + gam)^(1, 2), zeros counted by zfrac (SIMD: fastmath only
    reorders the sums)."""
    g = 0.0
    s2 = 0.0
    for j in range(ev.shape[0]):
        t = 1.0 / (ev[j] + gam)
        g += t
        s2 += t * t
    g *= invn
    s2 *= invn
    if zfrac > 0.0:
        g += zfrac / gam
        s2 += zfrac / (gam * gam)
    return g, s2


@njit(cache=True)
def _small_chi(ev, invn, chi):
    """Free-cumulant series R(z) = k1 + k2 z + k3 z^2 at z = -chi (chi lam_max < 1e-5, where
    1/chi - gamma would cancel): relative error below ~1e-9."""
    m1 = 0.0
    m2 = 0.0
    m3 = 0.0
    for j in range(ev.shape[0]):
        e = ev[j]
        m1 += e
        m2 += e * e
        m3 += e * e * e
    m1 *= invn
    m2 *= invn
    m3 *= invn
    k2 = m2 - m1 * m1
    k3 = m3 - 3.0 * m1 * m2 + 2.0 * m1 * m1 * m1
    r = m1 - k2 * chi + k3 * chi * chi
    gam = 1.0 / chi - r if chi > 0.0 else math.inf
    return r, k2 - 2.0 * k3 * chi, gam


@njit(cache=True)
def spectral_r(kind, ev, zfrac, mp, chi, gam0):
    r""":math:`(R(-\chi), R'(-\chi), \gamma)` of one spectrum.

    ``kind`` 1: exact Marchenko-Pastur with ratio ``mp``; 0: the positive eigenvalues ``ev``
    (sorted ascending) plus a fraction ``zfrac`` of zeros. ``gam0`` (> lower bound) is a warm
    start for :math:`\gamma`; pass -1 for none. Safeguarded Newton on
    :math:`1/g(\gamma)=1/\chi` (nearly linear in :math:`\gamma`), bracketed by
    :math:`-\lambda_{\min}<\gamma\le1/\chi-\lambda_{\min}`.
    """
    if kind == 1:
        r = mp / (1.0 + chi)
        gam = 1.0 / chi - r if chi > 0.0 else math.inf
        return r, mp / ((1.0 + chi) * (1.0 + chi)), gam
    n_pos = ev.shape[0]
    invn = (1.0 - zfrac) / n_pos
    if chi * ev[n_pos - 1] < 1e-5:
        return _small_chi(ev, invn, chi)
    lam_min = 0.0 if zfrac > 0.0 else ev[0]
    lo = -lam_min
    hi = 1.0 / chi - lam_min
    if hi <= lo or ev[n_pos - 1] - lam_min <= 1e-14 * ev[n_pos - 1]:
        # one-point spectrum (g = 1/(lam + gam)): closed form
        gam = hi
        g, s2 = _stieltjes(ev, zfrac, invn, gam)
        return 1.0 / chi - gam, 1.0 / (chi * chi) - 1.0 / s2, gam
    gam = gam0 if lo < gam0 < hi else 0.5 * (lo + hi)
    target = 1.0 / chi
    g, s2 = _stieltjes(ev, zfrac, invn, gam)
    for _ in range(200):
        f = 1.0 / g - target  # increasing in gam
        if abs(f) <= 4e-16 * target:
            break
        if f > 0.0:
            hi = gam
        else:
            lo = gam
        step = f * g * g / s2
        new = gam - step
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        done = abs(new - gam) <= 1e-13 * (1e-3 + abs(gam))
        gam = new
        g, s2 = _stieltjes(ev, zfrac, invn, gam)
        if done:
            break
    return 1.0 / chi - gam, 1.0 / (chi * chi) - 1.0 / s2, gam


@njit(cache=True)
def _conjugates(kinds, evs, zfracs, mps, sig2, rho, state, gams):
    """(Qh1, mh[K], chih1); gams (warm starts) updated in place."""
    k_data = kinds.shape[0]
    q1 = state[0]
    chi = state[1 + k_data]
    qh = 0.0
    chih = 0.0
    mh = np.empty(k_data)
    for k in range(k_data):
        r, rp, gam = spectral_r(kinds[k], evs[k], zfracs[k], mps[k], chi, gams[k])
        gams[k] = gam
        mh[k] = r
        qh += r
        chih += rp * (rho[k] - 2.0 * state[1 + k] + q1) + sig2[k] * (r - chi * rp)
    return qh, mh, chih


@njit(cache=True)
def _scalar_map(w, mu, cov, qh, mh, chih, lam1):
    """Stage-1 scalar problem averages (the i.i.d. equations of :mod:`replica.stage1`)."""
    n_cls, k_data = mu.shape
    out = np.zeros(k_data + 2)
    for c in range(n_cls):
        eta = 0.0
        s2 = chih
        u = np.empty(k_data)
        for k in range(k_data):
            uk = 0.0
            for j in range(k_data):
                uk += cov[c, k, j] * mh[j]
            u[k] = uk
            eta += mh[k] * mu[c, k]
            s2 += mh[k] * uk
        p, m1c, m2c = st_moments(eta, s2, lam1)
        out[0] += w[c] * m2c
        for k in range(k_data):
            out[1 + k] += w[c] * (mu[c, k] * m1c + u[k] * p)
        out[1 + k_data] += w[c] * p
    out[0] /= qh * qh
    for k in range(k_data):
        out[1 + k] /= qh
    out[1 + k_data] /= qh
    return out


@njit(cache=True)
def _anderson(x, g, hx, hg, count, beta):
    """Type-II Anderson step (Walker & Ni 2011) from the stored iterates ``hx`` and residuals
    ``hg`` (rows 0..count-1, newest last); falls back to the damped step when the
    extrapolation is not finite or leaves Q, chi >= 0. Minimal copy of the i.i.d. solver's
    accelerator, kept local so that this module uses only public replica names."""
    n = x.shape[0]
    damped = x + beta * g
    k = count - 1
    if k < 1:
        return damped
    a = np.empty((k, k))
    b = np.empty(k)
    dg = np.empty((k, n))
    dx = np.empty((k, n))
    for i in range(k):
        dg[i] = hg[i + 1] - hg[i]
        dx[i] = hx[i + 1] - hx[i]
    scale = 0.0
    for i in range(k):
        for j in range(k):
            a[i, j] = np.dot(dg[i], dg[j])
        b[i] = np.dot(dg[i], g)
        scale = max(scale, a[i, i])
    if not (scale > 0.0) or not math.isfinite(scale):
        return damped
    for i in range(k):
        a[i, i] += 1e-12 * scale
    gam = np.linalg.solve(a, b)
    new = damped.copy()
    for j in range(k):
        new -= (dx[j] + beta * dg[j]) * gam[j]
    if not np.all(np.isfinite(new)) or new[0] < 0.0 or new[n - 1] <= 0.0:
        return damped
    return new


@njit(cache=True)
def _iterate(prior, spectra, noise, lam1, init, ctrl):
    """Anderson-accelerated iteration (memory ctrl[3]; 0 = plain damped); prior = (w, mu, cov),
    spectra = (kinds, evs, zfracs, mps), noise = (sig2, rho), ctrl = (damping, tol, max_iter,
    memory). Returns (state, iterations, residual, status)."""
    w, mu, cov = prior
    kinds, evs, zfracs, mps = spectra
    sig2, rho = noise
    damping, tol, max_iter, mem = ctrl[0], ctrl[1], int(ctrl[2]), int(ctrl[3])
    x = init.copy()
    n = x.shape[0]
    gams = -np.ones(kinds.shape[0])
    hx = np.zeros((mem + 1, n))
    hg = np.zeros((mem + 1, n))
    count = 0
    res = math.inf
    prev = math.inf
    for it in range(1, max_iter + 1):
        qh, mh, chih = _conjugates(kinds, evs, zfracs, mps, sig2, rho, x, gams)
        fx = _scalar_map(w, mu, cov, qh, mh, chih, lam1)
        res = 0.0
        for i in range(n):
            if not math.isfinite(fx[i]):
                return x, it, math.inf, _NONFINITE
            res = max(res, abs(fx[i] - x[i]))
        if res <= tol:
            return fx, it, res, _CONVERGED
        g = fx - x
        if res > 2.0 * prev:
            count = 0  # restart the history
        prev = res
        if count == mem + 1:
            for j in range(mem):
                hx[j] = hx[j + 1]
                hg[j] = hg[j + 1]
            count = mem
        hx[count] = x
        hg[count] = g
        count += 1
        x = _anderson(x, g, hx, hg, count, 1.0 - damping) if mem > 0 else x + (1 - damping) * g
        if x[n - 1] <= 0.0:
            x[n - 1] = 1e-12
    return x, max_iter, res, _MAX_ITER


@dataclass(frozen=True)
class RotInvPretrainingResult:
    r"""Fixed point of the rotationally invariant stage-1 (or single-stage Lasso) equations.

    Attributes
    ----------
    Q1, m1, chi1
        :math:`\|\hat x\|^2/N`, :math:`\hat x\cdot r^{(k)}/N` (index 0 target), :math:`\chi_1`.
    Qh1, mh1, chih1
        Conjugates; ``mh1[k]`` :math:`=R_k(-\chi_1)`.
    gamma
        :math:`\gamma_k` of each spectrum at the fixed point.
    mse1
        :math:`\|\hat x-r^{(0)}\|^2/N=\rho_0-2m_1^{(0)}+Q_1`.
    mse1_per_dataset
        :math:`\rho_k-2m_1^{(k)}+Q_1`.
    density1
        Fraction of non-zeros, :math:`\hat Q_1\chi_1`.
    converged, iterations, residual
        Convergence report (max-norm residual of the fixed-point map).
    """

    lam1: float
    Q1: float
    m1: tuple
    chi1: float
    Qh1: float
    mh1: tuple
    chih1: float
    gamma: tuple
    mse1: float
    mse1_per_dataset: tuple
    density1: float
    converged: bool
    iterations: int
    residual: float

    @property
    def state(self) -> np.ndarray:
        return np.array([self.Q1, *self.m1, self.chi1])

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            val = getattr(self, f.name)
            if isinstance(val, tuple):
                for k, v in enumerate(val):
                    out[f"{f.name}_{k}"] = v
            else:
                out[f.name] = val
        return out


def _design_arrays(design: SpectralDesign):
    """Kernel inputs: kinds, a tuple of eigenvalue arrays, zero fractions, MP ratios."""
    arrs = [s.kernel_arrays() for s in design.spectra]
    kinds = np.array([a[0] for a in arrs], dtype=np.int64)
    evs = tuple(np.ascontiguousarray(a[1]) for a in arrs)
    zf = np.array([a[2] for a in arrs])
    mps = np.array([a[3] for a in arrs])
    return kinds, evs, zf, mps


def solve_rotinv_pretraining(
    scenario: TransferScenario,
    design: SpectralDesign | Spectrum,
    lam1: float,
    *,
    tol: float = 1e-11,
    max_iter: int = 5000,
    damping: float = 0.0,
    init=None,
    strict: bool = False,
    anderson: int = 4,
) -> RotInvPretrainingResult:
    r"""Solve the stage-1 (pooled Lasso) equations for free rotationally invariant blocks.

    Parameters
    ----------
    scenario : TransferScenario
        Prior and noise levels (its ``alphas`` are not used: the spectra carry the sizes).
    design : SpectralDesign or Spectrum
        One spectrum per dataset (a single :class:`Spectrum` for K = 1).
    lam1 : float
        Penalty of :math:`\frac12\sum_k\|y^{(k)}-A^{(k)}x\|^2+\lambda_1\|x\|_1`, ``> 0``.
    tol, max_iter, damping, init, strict, anderson
        As :func:`replica.solve_pretraining`: Anderson-accelerated iteration (memory
        ``anderson``, mixing ``1 - damping``), retried once with plain damping 0.9 if it
        fails.

    Returns
    -------
    RotInvPretrainingResult
    """
    if isinstance(design, Spectrum):
        design = SpectralDesign((design,))
    if not isinstance(design, SpectralDesign):
        raise ValueError(f"design: expected a SpectralDesign or Spectrum, got "
                         f"{type(design).__name__}")
    design.check_scenario(scenario)
    lam1 = float(lam1)
    if not (lam1 > 0) or math.isinf(lam1):
        raise ValueError(f"lam1 = {lam1}: must be positive and finite")
    if not (tol > 0):
        raise ValueError(f"tol = {tol}: must be > 0")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter = {max_iter}: must be >= 1")
    if not (0.0 <= damping < 1.0):
        raise ValueError(f"damping = {damping}: must lie in [0, 1)")
    p = scenario.prior
    k_data = scenario.n_datasets
    sig2 = np.asarray(scenario.sigmas, dtype=np.float64) ** 2
    rho = np.asarray(p.second_moments, dtype=np.float64)
    if init is None:
        x0 = np.zeros(k_data + 2)
        x0[0] = 1.0
        x0[-1] = 1.0
    elif isinstance(init, RotInvPretrainingResult):
        x0 = init.state
    else:
        x0 = np.asarray(init, dtype=np.float64).copy()
        if x0.shape != (k_data + 2,):
            raise ValueError(f"init: expected {k_data + 2} values (Q1, m1..., chi1), got "
                             f"{x0.shape}")
    kinds, evs, zf, mps = _design_arrays(design)
    if int(anderson) < 0:
        raise ValueError(f"anderson = {anderson}: memory must be >= 0")
    args = ((p.weights, p.means, p.covs), (kinds, evs, zf, mps), (sig2, rho), lam1, x0)
    state, it, res, status = _iterate(*args, np.array([damping, tol, max_iter, anderson]))
    if status != _CONVERGED:  # retry once with plain, heavier damping
        state, it2, res, status = _iterate(*args, np.array([max(0.9, damping), tol, max_iter,
                                                            0.0]))
        it += it2
    if status == _NONFINITE:
        raise NonFiniteIterateError(f"rotationally invariant stage 1: an iterate became NaN/inf "
                                    f"(lam1 = {lam1}); try a larger damping")
    converged = status == _CONVERGED
    if not converged:
        msg = (f"rotationally invariant stage 1 did not converge: residual {res:.3g} > tol "
               f"{tol:.3g} after {it} iterations")
        if strict:
            raise ConvergenceError(msg)
        import warnings

        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    gams = -np.ones(k_data)
    qh, mh, chih = _conjugates(kinds, evs, zf, mps, sig2, rho, state, gams)
    q1 = float(state[0])
    m1 = np.asarray(state[1 : 1 + k_data])
    per = rho - 2.0 * m1 + q1
    return RotInvPretrainingResult(
        lam1=lam1, Q1=q1, m1=tuple(float(v) for v in m1), chi1=float(state[-1]),
        Qh1=float(qh), mh1=tuple(float(v) for v in mh), chih1=float(chih),
        gamma=tuple(float(v) for v in gams), mse1=float(per[0]),
        mse1_per_dataset=tuple(float(v) for v in per), density1=float(qh * state[-1]),
        converged=bool(converged), iterations=int(it), residual=float(res),
    )
