r"""Closed-form Gaussian moments of the soft-threshold function.

For :math:`X\sim\mathcal N(\mu, v)` and the soft threshold
:math:`\mathcal S_\lambda(x)=\operatorname{sign}(x)(|x|-\lambda)_+` this module evaluates
(Okajima & Obuchi 2024, spec ``translasso_replica.md`` section 3.1)

.. math::

    P_\lambda(\mu,v)=\Pr(|X|>\lambda),\qquad
    M^{(1)}_\lambda(\mu,v)=\mathbb E\,\mathcal S_\lambda(X),\qquad
    M^{(2)}_\lambda(\mu,v)=\mathbb E\,\mathcal S_\lambda(X)^2 .

Writing :math:`s=\sqrt v`, :math:`t_\pm=(\lambda\mp\mu)/s` and the Gaussian partial moments
:math:`\psi_k(t)=\mathbb E[(Z-t)_+^k]`, :math:`Z\sim\mathcal N(0,1)`,

.. math::

    P=\psi_0(t_+)+\psi_0(t_-),\qquad M^{(1)}=s\,[\psi_1(t_+)-\psi_1(t_-)],\qquad
    M^{(2)}=s^2\,[\psi_2(t_+)+\psi_2(t_-)] .

Numerical care (derived): the textbook forms
:math:`\psi_1=\phi(t)-t\Phi(-t)` and :math:`\psi_2=(1+t^2)\Phi(-t)-t\phi(t)` cancel
catastrophically in the upper tail, so for :math:`t>3` we use Laplace's continued fraction of
the Mills ratio :math:`\Phi(-t)/\phi(t)=1/(t+T_1)`, :math:`T_k=k/(t+T_{k+1})`, which gives the
cancellation-free products :math:`\psi_1=\phi R T_1` and :math:`\psi_2=\phi R T_1 T_2`.
When :math:`\mu` is small compared with :math:`s` the difference in :math:`M^{(1)}` cancels; there
:math:`M^{(1)}=s\int_{t_+}^{t_-}\Phi(-u)\,du` is evaluated by Gauss-Legendre quadrature of a
smooth integrand. :math:`\lambda=\infty` gives zeros; :math:`v=0` gives the deterministic values.
All functions are numba-compiled (``cache=True``) and callable from other kernels.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["soft_threshold_moments", "st_moments", "gaussian_partial_moments"]

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)

# 10-point Gauss-Legendre rule on [-1, 1] (for the small-mean branch of M1).
_GL10_X, _GL10_W = np.polynomial.legendre.leggauss(10)


@njit(cache=True)
def _phi(t):
    return _INV_SQRT2PI * math.exp(-0.5 * t * t)


@njit(cache=True)
def _upper_tail(t):
    """Phi(-t) accurate in both tails."""
    return 0.5 * math.erfc(t / _SQRT2)


@njit(cache=True)
def gaussian_partial_moments(t):
    r"""Return :math:`(\psi_0,\psi_1,\psi_2)(t)`, :math:`\psi_k(t)=\mathbb E[(Z-t)_+^k]`.

    Accurate to a few ulps relative for every finite ``t`` (continued fraction for ``t > 3``).
    """
    if t == math.inf:
        return 0.0, 0.0, 0.0
    if t == -math.inf:
        return 1.0, math.inf, math.inf
    if t <= 3.0:
        p0 = _upper_tail(t)
        ph = _phi(t)
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
    ph = _phi(t)
    p0 = _upper_tail(t)
    return p0, ph * r * t1, ph * r * t1 * t2


@njit(cache=True)
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
        # M1 = s * int_{tp}^{tm} Phi(-u) du, smooth integrand over a short interval.
        acc = 0.0
        for j in range(_GL10_X.shape[0]):
            u = tbar + 0.5 * dt * _GL10_X[j]
            acc += _GL10_W[j] * _upper_tail(u)
        m1 = s * 0.5 * dt * acc
    else:
        m1 = s * (p1p - p1m)
    return prob, m1, m2


def soft_threshold_moments(mu, v, lam):
    r"""Vectorised :func:`st_moments` for numpy arrays (broadcasting).

    Returns
    -------
    P, M1, M2 : numpy.ndarray
        :math:`\Pr(|X|>\lambda)`, :math:`\mathbb E\mathcal S_\lambda(X)` and
        :math:`\mathbb E\mathcal S_\lambda(X)^2` for :math:`X\sim\mathcal N(\mu,v)`
        (spec section 3.1).
    """
    mu, v, lam = np.broadcast_arrays(
        np.asarray(mu, dtype=float), np.asarray(v, dtype=float), np.asarray(lam, dtype=float)
    )
    if np.any(v < 0) or np.any(lam < 0):
        raise ValueError("soft_threshold_moments: v and lam must be >= 0")
    out = np.empty((3,) + mu.shape)
    _vec_moments(mu.ravel(), v.ravel(), lam.ravel(), out.reshape(3, -1))
    return out[0], out[1], out[2]


@njit(cache=True)
def _vec_moments(mu, v, lam, out):
    for i in range(mu.shape[0]):
        p, m1, m2 = st_moments(mu[i], v[i], lam[i])
        out[0, i] = p
        out[1, i] = m1
        out[2, i] = m2
