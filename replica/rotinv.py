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

Numerics: :math:`\gamma_k(\chi)` is found by a second-order Newton iteration on
:math:`1/g(\gamma)`, started from a predictor built from the previous outer iterate and
stopped as soon as a Taylor step is exact to rounding (about 1.3 passes over the eigenvalues
per outer iteration); for :math:`\chi\lambda_{\max}<1` the functionals are evaluated in
forms without cancellation (:func:`_r_without_cancellation`). The outer fixed point is an
Anderson iteration with a capped first attempt and two fallbacks (:func:`_run_stages`).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
from numba import njit

from replica.design import SpectralDesign, Spectrum
from replica.errors import ConvergenceError, ConvergenceWarning, NonFiniteIterateError
from replica.moments import st_moments
from replica.scenario import TransferScenario
from replica.stage1 import flat_fields

__all__ = ["RotInvPretrainingResult", "solve_rotinv_pretraining", "spectral_r"]

_CONVERGED, _MAX_ITER, _NONFINITE = 0, 1, 2


@njit(cache=True, fastmath=True)
def _stieltjes(ev, zfrac, invn, gam):
    """(g, s2, s3, s4) = (1/N) sum 1/(lam + gam)^(1..4), zeros counted by zfrac (SIMD:
    fastmath only reorders the sums)."""
    g = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    for j in range(ev.shape[0]):
        t = 1.0 / (ev[j] + gam)
        t2 = t * t
        g += t
        s2 += t2
        s3 += t2 * t
        s4 += t2 * t2
    g *= invn
    s2 *= invn
    s3 *= invn
    s4 *= invn
    if zfrac > 0.0:
        t = 1.0 / gam
        g += zfrac * t
        s2 += zfrac * t * t
        s3 += zfrac * t * t * t
        s4 += zfrac * t * t * t * t
    return g, s2, s3, s4


@njit(cache=True)
def _small_chi(ev, invn, chi):
    """Free-cumulant series R(z) = k1 + k2 z + k3 z^2 at z = -chi, used for chi lam_max < 1e-7
    (where gamma ~ 1/chi is too large to invert for): relative error below ~1e-13."""
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
def _h_step(g, s2, s3, dh):
    r"""Second-order step :math:`\delta` with :math:`h(\gamma+\delta)-h(\gamma)=dh` for
    :math:`h=1/g` (:math:`h'=s_2/g^2`, :math:`h''=2(s_2^2-gs_3)/g^3\le0`): the Newton step
    plus its quadratic correction (error :math:`O(\delta^3)`)."""
    hp = s2 / (g * g)
    hpp = 2.0 * (s2 * s2 - g * s3) / (g * g * g)
    d = dh / hp
    return d - 0.5 * hpp * d * d / hp


@njit(cache=True)
def _invert_stieltjes(ev, zfrac, chi, warm):
    r"""Solve :math:`g(\gamma)=\chi` for a spectrum with at least two distinct values.

    ``warm`` = (chi0, gamma0, s2, s3) of a previous solve (chi0 <= 0: none), updated in place.
    The start is the second-order predictor in :math:`h=1/g` (nearly linear in
    :math:`\gamma`); each evaluation of the moments :math:`g,s_2,s_3,s_4` gives a step
    :math:`\delta`; once :math:`|\delta|` is below :math:`10^{-5}` of the distance
    :math:`\gamma+\lambda_{\min}` to the pole, the step and the Taylor update
    :math:`s_2\mapsto s_2-2s_3\delta+3s_4\delta^2` are exact to ~1e-15 relative and no
    further evaluation is needed. Safeguarded by the bracket
    :math:`-\lambda_{\min}<\gamma\le1/\chi-\lambda_{\min}` (bisection if a step leaves it).
    Returns (gamma, s2)."""
    n_pos = ev.shape[0]
    invn = (1.0 - zfrac) / n_pos
    lam_min = 0.0 if zfrac > 0.0 else ev[0]
    lo = -lam_min
    hi = 1.0 / chi - lam_min
    target = 1.0 / chi
    gam = 0.5 * (lo + hi)
    if warm[0] > 0.0:
        g0 = warm[0]
        pred = warm[1] + _h_step(g0, warm[2], warm[3], target - 1.0 / g0)
        if lo < pred < hi:
            gam = pred
    for _ in range(200):
        g, s2, s3, s4 = _stieltjes(ev, zfrac, invn, gam)
        f = 1.0 / g - target  # increasing in gam
        if f > 0.0:
            hi = gam
        elif f < 0.0:
            lo = gam
        d = _h_step(g, s2, s3, -f)
        if abs(d) <= 1e-5 * (gam + lam_min) or hi - lo <= 1e-15 * (abs(gam) + lam_min):
            s2 += d * (3.0 * s4 * d - 2.0 * s3)
            s3 -= 3.0 * s4 * d
            gam += d
            break
        new = gam + d
        gam = new if lo < new < hi else 0.5 * (lo + hi)
    warm[0] = chi
    warm[1] = gam
    warm[2] = s2
    warm[3] = s3
    return gam, s2


@njit(cache=True)
def _r_without_cancellation(ev, zfrac, invn, gam, chi):
    r""":math:`(R, R')` at :math:`\gamma` for small :math:`\chi\lambda_{\max}`, where
    :math:`1/\chi-\gamma` and :math:`1/\chi^2-1/s_2` cancel. With :math:`t_i=1/(\lambda_i+
    \gamma)`, :math:`u=\frac1N\sum\lambda_it_i=1-\gamma g` and :math:`t_i-g=t_i(u-\lambda_i
    g)`: :math:`R=u/g` and :math:`R'=(s_2-g^2)/(g^2s_2)` with
    :math:`s_2-g^2=\frac1N\sum t_i^2(u-\lambda_ig)^2` (two passes, no cancellation); the
    residual :math:`g-\chi` of the inversion is corrected to first order."""
    g = 0.0
    s2 = 0.0
    u = 0.0
    for j in range(ev.shape[0]):
        t = 1.0 / (ev[j] + gam)
        g += t
        s2 += t * t
        u += ev[j] * t
    g = g * invn + zfrac / gam
    s2 = s2 * invn + zfrac / (gam * gam)
    u *= invn
    var = 0.0
    for j in range(ev.shape[0]):
        t = (u - ev[j] * g) / (ev[j] + gam)
        var += t * t
    var = var * invn + zfrac * (u / gam) ** 2
    rp = var / (g * g * s2)
    return u / g - rp * (chi - g), rp


@njit(cache=True)
def _spectral_warm(kind, ev, zfrac, mp, chi, warm):
    """(R(-chi), R'(-chi), gamma) with the warm state of :func:`_invert_stieltjes`."""
    if kind == 1:
        r = mp / (1.0 + chi)
        gam = 1.0 / chi - r if chi > 0.0 else math.inf
        return r, mp / ((1.0 + chi) * (1.0 + chi)), gam
    n_pos = ev.shape[0]
    invn = (1.0 - zfrac) / n_pos
    if chi * ev[n_pos - 1] < 1e-7:
        return _small_chi(ev, invn, chi)
    lam_min = 0.0 if zfrac > 0.0 else ev[0]
    hi = 1.0 / chi - lam_min
    if hi <= -lam_min or ev[n_pos - 1] - lam_min <= 1e-14 * ev[n_pos - 1]:
        # one-point spectrum (g = 1/(lam + gam)): closed form
        gam = hi
        s2 = _stieltjes(ev, zfrac, invn, gam)[1]
        return 1.0 / chi - gam, 1.0 / (chi * chi) - 1.0 / s2, gam
    gam, s2 = _invert_stieltjes(ev, zfrac, chi, warm)
    if chi * ev[n_pos - 1] < 1.0:  # 1/chi - gamma, 1/chi^2 - 1/s2 would lose digits
        r, rp = _r_without_cancellation(ev, zfrac, invn, gam, chi)
        return r, rp, gam
    return 1.0 / chi - gam, 1.0 / (chi * chi) - 1.0 / s2, gam


@njit(cache=True)
def spectral_r(kind, ev, zfrac, mp, chi, gam0):
    r""":math:`(R(-\chi), R'(-\chi), \gamma)` of one spectrum.

    ``kind`` 1: exact Marchenko-Pastur with ratio ``mp``; 0: the positive eigenvalues ``ev``
    (sorted ascending) plus a fraction ``zfrac`` of zeros. ``gam0`` (> lower bound) is a warm
    start for :math:`\gamma`; pass -1 for none. :math:`\gamma` solves
    :math:`1/g(\gamma)=1/\chi` by a safeguarded second-order Newton iteration
    (:func:`_invert_stieltjes`), bracketed by
    :math:`-\lambda_{\min}<\gamma\le1/\chi-\lambda_{\min}`.
    """
    warm = np.zeros(4)
    if kind == 0 and chi > 0.0 and gam0 + (0.0 if zfrac > 0.0 else ev[0]) > 0.0:
        n_pos = ev.shape[0]
        g, s2, s3, _ = _stieltjes(ev, zfrac, (1.0 - zfrac) / n_pos, gam0)
        warm[0] = g
        warm[1] = gam0
        warm[2] = s2
        warm[3] = s3
    return _spectral_warm(kind, ev, zfrac, mp, chi, warm)


@njit(cache=True)
def _conjugates(kinds, evs, zfracs, mps, sig2, rho, state, warm):
    """(Qh1, mh[K], chih1, gamma[K]); ``warm[k]`` (the inversion state of spectrum k, see
    :func:`_invert_stieltjes`) updated in place."""
    k_data = kinds.shape[0]
    q1 = state[0]
    chi = state[1 + k_data]
    qh = 0.0
    chih = 0.0
    mh = np.empty(k_data)
    gams = np.empty(k_data)
    for k in range(k_data):
        r, rp, gams[k] = _spectral_warm(kinds[k], evs[k], zfracs[k], mps[k], chi, warm[k])
        mh[k] = r
        qh += r
        chih += rp * (rho[k] - 2.0 * state[1 + k] + q1) + sig2[k] * (r - chi * rp)
    return qh, mh, chih, gams


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
def _cholesky_solve(a, b):
    """Solve a z = b for a small symmetric positive definite ``a`` (overwritten by its
    Cholesky factor; no LAPACK call, which dominates at these sizes). NaN if not SPD."""
    k = b.shape[0]
    for j in range(k):
        d = a[j, j]
        for i in range(j):
            d -= a[j, i] * a[j, i]
        if not (d > 0.0):
            return np.full(k, np.nan)
        a[j, j] = math.sqrt(d)
        for i in range(j + 1, k):
            v = a[i, j]
            for m in range(j):
                v -= a[i, m] * a[j, m]
            a[i, j] = v / a[j, j]
    z = b.copy()
    for i in range(k):
        for m in range(i):
            z[i] -= a[i, m] * z[m]
        z[i] /= a[i, i]
    for i in range(k - 1, -1, -1):
        for m in range(i + 1, k):
            z[i] -= a[m, i] * z[m]
        z[i] /= a[i, i]
    return z


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
    gam = _cholesky_solve(a, b)
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
    memory). Returns (state, iterations, residual, status, warm starts)."""
    w, mu, cov = prior
    kinds, evs, zfracs, mps = spectra
    sig2, rho = noise
    damping, tol, max_iter, mem = ctrl[0], ctrl[1], int(ctrl[2]), int(ctrl[3])
    x = init.copy()
    n = x.shape[0]
    warm = np.zeros((kinds.shape[0], 4))
    hx = np.zeros((mem + 1, n))
    hg = np.zeros((mem + 1, n))
    count = 0
    res = math.inf
    prev = math.inf
    for it in range(1, max_iter + 1):
        qh, mh, chih, _ = _conjugates(kinds, evs, zfracs, mps, sig2, rho, x, warm)
        fx = _scalar_map(w, mu, cov, qh, mh, chih, lam1)
        res = 0.0
        for i in range(n):
            if not math.isfinite(fx[i]):
                return x, it, math.inf, _NONFINITE, warm
            res = max(res, abs(fx[i] - x[i]))
        if res <= tol:
            return fx, it, res, _CONVERGED, warm
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
    return x, max_iter, res, _MAX_ITER, warm


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
        """Flat dict; vector quantities are spread as ``m1_0, m1_1, ...``."""
        return flat_fields(self)


_KERNEL_INPUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _design_arrays(design: SpectralDesign | Spectrum):
    """Kernel inputs: kinds, a tuple of eigenvalue arrays, zero fractions, MP ratios (cached
    per design object: designs are immutable)."""
    hit = _KERNEL_INPUTS.get(design)
    if hit is None:
        hit = _KERNEL_INPUTS[design] = _build_design_arrays(design)
    return hit


def _build_design_arrays(design):
    if isinstance(design, Spectrum):
        design = SpectralDesign((design,))
    arrs = [s.kernel_arrays() for s in design.spectra]
    kinds = np.array([a[0] for a in arrs], dtype=np.int64)
    evs = tuple(np.array(a[1], dtype=np.float64) for a in arrs)  # writable: one array type
    zf = np.array([a[2] for a in arrs])
    mps = np.array([a[3] for a in arrs])
    return kinds, evs, zf, mps


# first attempt capped: Anderson that has not converged by then is usually wandering (strongly
# expansive maps, e.g. steep power-law spectra at large lam1); memory 2 with mixing 0.6
# converged on every spectrum tried, plain damping 0.9 is the last resort
_FIRST_STAGE_CAP = 60


def _run_stages(args, damping, tol, max_iter, anderson):
    """Up to three attempts from the same start: (damping, anderson) for at most
    ``_FIRST_STAGE_CAP`` iterations, then Anderson memory 2 with damping >= 0.4, then plain
    damping 0.9; iterations are summed. Returns what :func:`_iterate` returns."""
    stages = ((damping, anderson, min(max_iter, _FIRST_STAGE_CAP)),
              (max(0.4, damping), 2, max_iter), (max(0.9, damping), 0, max_iter))
    total = 0
    for d, mem, cap in stages:
        try:
            state, it, res, status, warm = _iterate(*args, np.array([d, tol, cap, mem]))
        except ZeroDivisionError:  # compiled kernel: a resolvent underflowed to zero
            raise NonFiniteIterateError(
                f"rotationally invariant stage 1: division by zero in the iteration (lam1 = "
                f"{args[3]:g}); the spectrum's eigenvalues are too small or too spread for "
                "float64: rescale the design") from None
        total += it
        if status == _CONVERGED:
            break
    return state, total, res, status, warm


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
        ``anderson``, mixing ``1 - damping``) for at most 60 iterations, then, if needed,
        Anderson memory 2 with damping >= 0.4, then plain damping 0.9 (each up to
        ``max_iter``; ``iterations`` counts all).

    Returns
    -------
    RotInvPretrainingResult
    """
    if not isinstance(design, (SpectralDesign, Spectrum)):
        raise ValueError(f"design: expected a SpectralDesign or Spectrum, got "
                         f"{type(design).__name__}")
    if isinstance(design, Spectrum) and scenario.n_datasets != 1:
        SpectralDesign((design,)).check_scenario(scenario)  # raises the ValueError
    if isinstance(design, SpectralDesign):
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
    state, it, res, status, warm = _run_stages(args, damping, tol, int(max_iter), int(anderson))
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
    qh, mh, chih, gams = _conjugates(kinds, evs, zf, mps, sig2, rho, state, warm)
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
