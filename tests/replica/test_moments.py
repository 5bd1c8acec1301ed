"""Closed-form soft-threshold moments against scipy quadrature (issue 2, acceptance 1)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from replica import soft_threshold_moments
from replica.moments import gaussian_partial_moments, st_moments


def _piece(k, a, sign, mu, s, lam):
    """int over z of (sign*(mu + s z) - lam)^k phi(z) on the side where it is positive."""

    def f(z):
        return (sign * (mu + s * z) - lam) ** k * stats.norm.pdf(z)

    # positive for z > a when sign = +1, for z < a when sign = -1
    # phi(z) is below 1e-340 for |z| > 40: clip the range there, keep z = 0 as a break point
    if sign > 0:
        lo, hi = max(a, -40.0), max(a, 0.0) + 40.0
        pts = [0.0] if lo < 0.0 < hi else None
    else:
        lo, hi = min(a, 0.0) - 40.0, min(a, 40.0)
        pts = [0.0] if lo < 0.0 < hi else None
    if k == 0:
        return stats.norm.sf(a) if sign > 0 else stats.norm.cdf(a)
    val, _ = integrate.quad(f, lo, hi, points=pts, epsabs=0.0, epsrel=1e-13, limit=500)
    return val


def quad_moments(mu, v, lam):
    """(P, M1, M2, E|S|) by quadrature over the standard normal z, split at the kinks."""
    s = math.sqrt(v)
    zp = (lam - mu) / s  # S > 0 for z > zp
    zm = (-lam - mu) / s  # S < 0 for z < zm
    p = _piece(0, zp, +1, mu, s, lam) + _piece(0, zm, -1, mu, s, lam)
    up1, lo1 = _piece(1, zp, +1, mu, s, lam), _piece(1, zm, -1, mu, s, lam)
    m2 = _piece(2, zp, +1, mu, s, lam) + _piece(2, zm, -1, mu, s, lam)
    return p, up1 - lo1, m2, up1 + lo1


def _close(x, y, rtol, scale=None):
    scale = abs(y) if scale is None else scale
    return abs(x - y) <= rtol * scale + 1e-300


@settings(max_examples=150, deadline=None)
@given(
    mu=st.floats(-15, 15),
    logv=st.floats(-12, 2),
    lam=st.one_of(st.just(0.0), st.floats(0, 15)),
)
def test_moments_match_quadrature(mu, logv, lam):
    v = 10.0**logv
    p, m1, m2 = st_moments(mu, v, lam)
    qp, qm1, qm2, abs_m1 = quad_moments(mu, v, lam)
    assert _close(p, qp, 1e-10)
    # M1 is a difference of two positive pieces: relative to E|S| (the quadrature's own scale)
    assert _close(m1, qm1, 1e-10, scale=abs_m1)
    assert _close(m2, qm2, 1e-10)


@pytest.mark.parametrize("mu,v", [(0.3, 1.0), (-2.0, 0.01), (0.0, 1e-30), (5.0, 1e-14)])
def test_infinite_threshold_gives_zero(mu, v):
    assert st_moments(mu, v, math.inf) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("mu,lam", [(1.5, 0.5), (-1.5, 0.5), (0.2, 0.5), (3.0, 0.0)])
def test_zero_variance_is_deterministic(mu, lam):
    p, m1, m2 = st_moments(mu, 0.0, lam)
    soft = math.copysign(max(abs(mu) - lam, 0.0), mu)
    assert p == float(abs(mu) > lam)
    assert m1 == soft and m2 == soft**2
    # and continuity: tiny variance gives nearly the same values
    pt, m1t, m2t = st_moments(mu, 1e-20, lam)
    assert abs(m1t - m1) < 1e-9 and abs(m2t - m2) < 1e-9


def test_zero_threshold_is_plain_gaussian_moments():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=50) * 3
    v = rng.uniform(0.01, 4, size=50)
    p, m1, m2 = soft_threshold_moments(mu, v, 0.0)
    np.testing.assert_allclose(p, 1.0)
    np.testing.assert_allclose(m1, mu, rtol=1e-13)
    np.testing.assert_allclose(m2, mu**2 + v, rtol=1e-13)


def test_stein_identity_and_monte_carlo():
    """E[(X - mu) S(X)] = v P and a Monte Carlo check of all three moments."""
    rng = np.random.default_rng(1)
    mu, v, lam = 0.4, 0.7, 0.9
    x = mu + math.sqrt(v) * rng.standard_normal(2_000_000)
    s = np.sign(x) * np.maximum(np.abs(x) - lam, 0)
    p, m1, m2 = st_moments(mu, v, lam)
    assert abs(np.mean((x - mu) * s) - v * p) < 4e-3
    assert abs(np.mean(np.abs(x) > lam) - p) < 2e-3
    assert abs(s.mean() - m1) < 2e-3
    assert abs((s**2).mean() - m2) < 3e-3


@pytest.mark.parametrize("t", [-5.0, 0.0, 2.9, 3.1, 8.0, 25.0])
def test_partial_moments_against_quadrature(t):
    p0, p1, p2 = gaussian_partial_moments(t)
    for k, val in ((1, p1), (2, p2)):
        ref, _ = integrate.quad(lambda z, k=k: (z - t) ** k * stats.norm.pdf(z), t, t + 40,
                                epsabs=0, epsrel=1e-13, limit=300)
        assert _close(val, ref, 1e-11)
    assert _close(p0, stats.norm.sf(t), 1e-12)


def test_vectorised_rejects_negative_inputs():
    with pytest.raises(ValueError):
        soft_threshold_moments(0.0, -1.0, 0.5)
    with pytest.raises(ValueError):
        soft_threshold_moments(0.0, 1.0, -0.5)
