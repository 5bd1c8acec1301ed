r"""Closed-form Gaussian moments of the soft-threshold function.

For :math:`X\sim\mathcal N(\mu, v)` and the soft threshold
:math:`\mathcal S_\lambda(x)=\operatorname{sign}(x)(|x|-\lambda)_+` this module evaluates
(Okajima & Obuchi 2024; ``docs/translasso_theory.md``, soft-threshold moments)

.. math::

    P_\lambda(\mu,v)=\Pr(|X|>\lambda),\qquad
    M^{(1)}_\lambda(\mu,v)=\mathbb E\,\mathcal S_\lambda(X),\qquad
    M^{(2)}_\lambda(\mu,v)=\mathbb E\,\mathcal S_\lambda(X)^2 .

Writing :math:`s=\sqrt v`, :math:`t_\pm=(\lambda\mp\mu)/s` and the Gaussian partial moments
:math:`\psi_k(t)=\mathbb E[(Z-t)_+^k]`, :math:`Z\sim\mathcal N(0,1)`,

.. math::

    P=\psi_0(t_+)+\psi_0(t_-),\qquad M^{(1)}=s\,[\psi_1(t_+)-\psi_1(t_-)],\qquad
    M^{(2)}=s^2\,[\psi_2(t_+)+\psi_2(t_-)] .

Numerical care (derived; the Gaussian density and tail are written out in the kernels, which
keeps numba's call tree, and so its first compilation, short): the textbook forms
:math:`\psi_1=\phi(t)-t\Phi(-t)` and :math:`\psi_2=(1+t^2)\Phi(-t)-t\phi(t)` cancel
catastrophically in the upper tail (a relative loss of about :math:`t^4/2`), so for
:math:`t>6` we use Laplace's continued fraction of
the Mills ratio :math:`\Phi(-t)/\phi(t)=1/(t+T_1)`, :math:`T_k=k/(t+T_{k+1})`, which gives the
cancellation-free products :math:`\psi_1=\phi R T_1` and :math:`\psi_2=\phi R T_1 T_2`.
When :math:`\mu` is small compared with :math:`s` the difference in :math:`M^{(1)}` cancels; there
:math:`M^{(1)}=s\int_{t_+}^{t_-}\Phi(-u)\,du` is evaluated from its Taylor series about the
midpoint :math:`\bar t` (half-width :math:`h`),
:math:`2h[\Phi(-\bar t)+\phi(\bar t)\sum_{k\ge1}h^{2k}\mathrm{He}_{2k-1}(\bar t)/(2k+1)!]`.
:math:`\lambda=\infty` gives zeros; :math:`v=0` gives the deterministic values.
All functions are numba-compiled (``cache=True``) and callable from other kernels.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from replica.checks import real_array

__all__ = [
    "soft_threshold_moments",
    "st_moments",
    "gaussian_partial_moments",
    "INV_SQRT_2PI",
]

_SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)  # the standard normal density at 0

# Direct formulas up to this t (relative loss ~ t^4/2 ulp), continued fraction beyond.
_T_DIRECT = 6.0


@njit(cache=True, error_model="numpy")
def gaussian_partial_moments(t):
    r"""Return :math:`(\psi_0,\psi_1,\psi_2)(t)`, :math:`\psi_k(t)=\mathbb E[(Z-t)_+^k]`.

    Relative accuracy better than 1e-11 for every finite ``t`` (continued fraction for
    ``t > 6``).
    """
    if t == math.inf:
        return 0.0, 0.0, 0.0
    if t == -math.inf:
        return 1.0, math.inf, math.inf
    if t <= _T_DIRECT:
        p0 = 0.5 * math.erfc(t / _SQRT2)
        ph = INV_SQRT_2PI * math.exp(-0.5 * t * t)
        p1 = ph - t * p0
        p2 = (1.0 + t * t) * p0 - t * ph
        return p0, p1, p2
    # Laplace continued fraction, evaluated backwards: T_k = k / (t + T_{k+1}).
    depth = 20 + int(500.0 / (t * t))
    tk = 0.0
    t2 = 0.0
    for k in range(depth, 1, -1):
        tk = k / (t + tk)
    t2 = tk  # T_2
    t1 = 1.0 / (t + t2)  # T_1
    r = 1.0 / (t + t1)  # Mills ratio
    ph = INV_SQRT_2PI * math.exp(-0.5 * t * t)
    p0 = 0.5 * math.erfc(t / _SQRT2)
    return p0, ph * r * t1, ph * r * t1 * t2


@njit(cache=True, error_model="numpy")
def st_moments(mu, v, lam):
    r"""Soft-threshold moments :math:`(P_\lambda, M^{(1)}_\lambda, M^{(2)}_\lambda)(\mu, v)`.

    Parameters
    ----------
    mu : float
        Mean of the Gaussian input.
    v : float
        Variance (``>= 0``; ``v = 0`` gives the deterministic values).
    lam : float
        Threshold ``>= 0``; ``math.inf`` gives ``(0, 0, 0)``.
    """
    if lam == math.inf:
        return 0.0, 0.0, 0.0
    if v <= 0.0:
        a = abs(mu) - lam
        if a > 0.0:
            st = a if mu > 0.0 else -a
            return 1.0, st, st * st
        return 0.0, 0.0, 0.0
    s = math.sqrt(v)
    tp = (lam - mu) / s
    tm = (lam + mu) / s
    p0p, p1p, p2p = gaussian_partial_moments(tp)
    p0m, p1m, p2m = gaussian_partial_moments(tm)
    prob = p0p + p0m
    m2 = v * (p2p + p2m)
    dt = 2.0 * mu / s  # = tm - tp, without cancellation
    tbar = 0.5 * (tp + tm)
    if abs(dt) * max(1.0, abs(tbar)) <= 1.0:
        # M1 = s * int_{tp}^{tm} Phi(-u) du by its Taylor series about tbar (even terms only):
        # 2h [Phi(-tbar) + phi(tbar) sum_k h^{2k} He_{2k-1}(tbar) / (2k+1)!],  h*max(1,|t|) <= 1/2
        h = 0.5 * dt
        h2 = h * h
        he_prev = 1.0  # He_0
        he = tbar  # He_1
        coef = h2 / 6.0  # h^2 / 3!
        acc = 0.0
        for k in range(1, 10):
            acc += coef * he
            # advance He_{2k-1} -> He_{2k+1} via two steps of He_{n+1} = t He_n - n He_{n-1}
            n = 2 * k - 1
            he_next = tbar * he - n * he_prev
            he_prev = he_next
            he = tbar * he_next - (n + 1) * he
            coef *= h2 / ((2 * k + 2) * (2 * k + 3))
        tail = 0.5 * math.erfc(tbar / _SQRT2)
        m1 = s * dt * (tail + INV_SQRT_2PI * math.exp(-0.5 * tbar * tbar) * acc)
    else:
        m1 = s * (p1p - p1m)
    return prob, m1, m2


def soft_threshold_moments(mu, v, lam):
    r"""Vectorised :func:`st_moments` for numpy arrays (broadcasting).

    Parameters
    ----------
    mu, v, lam : array_like
        Means (finite), variances (finite, ``>= 0``) and thresholds (``>= 0``, ``inf``
        allowed); they broadcast against each other. NaN anywhere is refused by name.

    Returns
    -------
    P, M1, M2 : numpy.ndarray
        :math:`\Pr(|X|>\lambda)`, :math:`\mathbb E\mathcal S_\lambda(X)` and
        :math:`\mathbb E\mathcal S_\lambda(X)^2` for :math:`X\sim\mathcal N(\mu,v)`
        (``docs/translasso_theory.md``, soft-threshold moments).
    """
    arrays = {"mu": real_array("mu", mu), "v": real_array("v", v), "lam": real_array("lam", lam)}
    try:
        mu, v, lam = np.broadcast_arrays(*arrays.values())
    except ValueError as err:
        shapes = ", ".join(f"{k} {a.shape}" for k, a in arrays.items())
        raise ValueError(f"mu, v, lam: shapes do not broadcast ({shapes})") from err
    if not np.all(np.isfinite(mu)):
        raise ValueError("mu: entries must be finite")
    if not (np.all(np.isfinite(v)) and np.all(v >= 0)):
        raise ValueError("v: variances must be finite and >= 0")
    if np.any(lam < 0):
        raise ValueError("lam: thresholds must be >= 0 (inf allowed)")
    out = np.empty((3,) + mu.shape)
    _vec_moments(mu.ravel(), v.ravel(), lam.ravel(), out.reshape(3, -1))
    return out[0], out[1], out[2]


@njit(cache=True, error_model="numpy")
def _vec_moments(mu, v, lam, out):
    for i in range(mu.shape[0]):
        p, m1, m2 = st_moments(mu[i], v[i], lam[i])
        out[0, i] = p
        out[1, i] = m1
        out[2, i] = m2
