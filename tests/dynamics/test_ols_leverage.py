"""Leverage-resummed OLS excess risk (dynamics.ols_leverage) against Monte Carlo.

The populations are finite pools (the rows are the population: moments and the test risk are
exact); OLS heads are fitted on rows drawn with replacement and their excess risk computed in
whitened coordinates by plain numpy here (eigh whitening, lstsq residuals). The package is used
only for the quantity under test and, in the power checks, for the estimations it must beat.
"""

import math

import numpy as np
import pytest

import dynamics.reconstruction_transfer as rt
from dynamics.errors import ConvergenceError
from dynamics.ols_expansion import ols_expansion
from dynamics.ols_leverage import gaussian_excess, leverage_excess, resolvent_fixed_point
from tests.ols_pool import mc_ols_excess, whiten_pool


def _rare_scale_pool(seed=0, N=3000, K=3):
    """1 % of the rows have scale 10 (whitened leverage up to ~430 against a mean of 4); the
    residual is heteroscedastic (noise grows with |g_1|) and misspecified (a scaled
    g_2^2 - 1 term), so it correlates with the leverage and its direction."""
    rng = np.random.default_rng(seed)
    s = np.where(rng.random(N) < 0.01, 10.0, 1.0)
    G = rng.standard_normal((N, K))
    Z = s[:, None] * G
    y = (Z.sum(1) / math.sqrt(K) + rng.standard_normal(N) * (0.5 + 0.5 * np.abs(G[:, 0]))
         + 0.3 * np.sqrt(s) * (G[:, 1] ** 2 - 1))
    return Z - Z.mean(0), (y - y.mean())[:, None]


@pytest.mark.parametrize("n", [7, 20, 50])
def test_rare_high_leverage_rows_match_monte_carlo(n):
    """n = 7 (just above d = 4), 20 and 50 (far below the largest leverage, ~430): the
    resummation is within 3 MC s.e. or 5 % (measured +3.6, +0.3, -1.4 %); the sandwich and the
    second-order series are > 8 % off (measured 10-70 % and 105-300 %)."""
    Z, Y = _rare_scale_pool()
    U, e = whiten_pool(Z - Z.mean(0), Y)
    assert np.sum(U * U, 1).max() > 8 * n  # the 1/n series is not controlled here
    mc, se = mc_ols_excess(U, e, n, 3000, seed=[1, n])
    lev = leverage_excess(Z, Y, n).excess
    assert abs(lev - mc) < max(3 * se, 0.05 * mc)
    pb = rt.LinearTransferProblem.from_data(Z, Y, Y)
    sand = rt.predict_for_encoder(pb, np.eye(3), n, estimation="sandwich")
    ex = ols_expansion(Z, Y)
    for other in (sand.estimation_error, ex.excess(n)):
        assert abs(other - mc) > 0.08 * mc and abs(other - mc) > 3 * se


def _misspecified_pool(seed=0, N=1500):
    """Uniform features, residual driven by z1^2, z1 z2 and z2^3 (large odd-moment terms)."""
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-1.7, 1.7, (N, 2))
    Y = np.c_[Z[:, 0] + Z[:, 0] ** 2 + 0.1 * rng.standard_normal(N),
              Z[:, 1] * Z[:, 0] + 0.5 * Z[:, 1] ** 3]
    return Z - Z.mean(0), Y - Y.mean(0)


def test_two_row_term_carries_the_misspecification():
    """Two outputs, misspecified residual, n = 50: the full resummation matches Monte Carlo
    within 3 s.e. or 3 %, the one-row part alone is more than 5 % (and 3 s.e.) off."""
    Z, Y = _misspecified_pool()
    U, e = whiten_pool(Z - Z.mean(0), Y)
    n = 50
    mc, se = mc_ols_excess(U, e, n, 4000, seed=7)
    r = leverage_excess(Z, Y, n)
    assert abs(r.excess - mc) < max(3 * se, 0.03 * mc)
    one_row = r.calibration * r.self_term
    assert abs(one_row - mc) > 0.05 * mc and abs(one_row - mc) > 3 * se


@pytest.mark.parametrize("K,n,intercept", [(1, 6, True), (3, 9, True), (5, 30, True),
                                           (4, 7, False), (2, 40, False)])
def test_gaussian_reference_equals_general_resummation(K, n, intercept):
    """The quadrature (symmetric) Gaussian resummation equals the general one on a large
    Gaussian population with independent unit noise (law error ~ 1/sqrt(N)), and the exact
    reference is the Wishart formula."""
    rng = np.random.default_rng([K, n])
    N = 60000
    Z = rng.standard_normal((N, K))
    e = rng.standard_normal((N, 1))
    Z = Z - Z.mean(0)
    W = np.hstack([np.ones((N, 1)), Z]) if intercept else Z
    w, Q = np.linalg.eigh(W.T @ W / N)
    U = W @ Q / np.sqrt(w)
    e = e - U @ (U.T @ e / N)
    e = e / np.sqrt(np.mean(e * e))  # unit residual variance
    from dynamics.ols_leverage import _resummed

    self_term, pair, _, _ = _resummed(U, e, n)
    exact, res = gaussian_excess(K, n, intercept)
    assert self_term == pytest.approx(res, rel=0.02)
    assert abs(pair) < 0.02 * res
    ref = 1 / n + (1 + 1 / n) * K / (n - K - 2) if intercept else K / (n - K - 1)
    assert exact == pytest.approx(ref, rel=1e-14)


def test_gaussian_population_reproduces_the_exact_formula():
    """Sample moments of a Gaussian population with independent noise: the prediction equals
    the exact Gaussian (Wishart) formula within the sampling error of the law (the leverage-
    weighted residual moment of 1e5 draws: ~1 % s.d.)."""
    task = rt.GaussianTransferTask.low_variance_target(D=10, seed=2)
    X, ys, yt = task.sample(100000, seed=5)
    pb = rt.LinearTransferProblem.from_data(X, ys, yt)
    for n in (9, 20, 100):
        g = rt.predict_target_error(pb, 0.1, 3, n, estimation="gaussian")
        lev = rt.predict_target_error(pb, 0.1, 3, n, estimation="leverage")
        assert lev.estimation_error == pytest.approx(g.estimation_error, rel=0.03)


def test_first_order_is_the_sandwich_trace():
    """n E[excess] -> a1 = E[|e|^2 q] (computed here) as n grows: at n = 1e6 within 1e-4."""
    Z, Y = _misspecified_pool(N=800)
    U, e = whiten_pool(Z - Z.mean(0), Y)
    a1 = np.mean(np.sum(e * e, 1) * np.sum(U * U, 1))
    n = 10 ** 6
    assert n * leverage_excess(Z, Y, n).excess == pytest.approx(a1, rel=1e-4)


@pytest.mark.parametrize("pool", [_misspecified_pool, _rare_scale_pool])
def test_second_order_coefficient_is_the_exact_c2(pool):
    """n^2 (excess - a1/n), Richardson-extrapolated from n = 2e4 and 4e4, equals c2 of the
    independent 1/n expansion (dynamics.ols_expansion, itself checked against Monte Carlo):
    the calibrated resummation is exact to second order, the uncalibrated one is not."""
    Z, Y = pool()
    U, e = whiten_pool(Z - Z.mean(0), Y)
    a1 = np.mean(np.sum(e * e, 1) * np.sum(U * U, 1))
    c2 = ols_expansion(Z, Y).c2
    co, raw = [], []
    for n in (20000, 40000):
        r = leverage_excess(Z, Y, n)
        co.append(n * n * (r.excess - a1 / n))
        raw.append(n * n * (r.excess / r.calibration - a1 / n))
    assert 2 * co[1] - co[0] == pytest.approx(c2, rel=0.01, abs=0.01 * a1)
    assert abs(2 * raw[1] - raw[0] - c2) > 2 * a1


def test_direction_carried_by_one_row_is_refused():
    """A pool where one row alone carries a direction: OLS on m < N rows is singular with
    positive probability (infinite expected excess); the resummation refuses."""
    rng = np.random.default_rng(3)
    Z = np.c_[rng.standard_normal(300), np.zeros(300)]
    Z[0, 1] = 1.0
    with pytest.raises(ValueError, match="carried by too few rows"):
        leverage_excess(Z, rng.standard_normal(300), 50)


def test_second_resolvent_iteration_matches_direct_solve():
    """d = 45 > 40 takes the fixed-point iteration; the d^2 x d^2 system solved here directly
    (plain numpy) gives the same X-bar to 1e-10."""
    from dynamics.ols_leverage import second_resolvent

    rng = np.random.default_rng(6)
    N, d, m = 1500, 45, 160
    U = rng.standard_normal((N, d)) * np.where(rng.random(N) < 0.05, 3.0, 1.0)[:, None]
    p = np.full(N, 1 / N)
    Q, h, _ = resolvent_fixed_point(U, p, m)
    A = U @ Q
    c = m * p / (1 + h) ** 2
    L = np.einsum("i,ia,ib,ic,id->abcd", c, A, A, U, U, optimize=True).reshape(d * d, d * d)
    X = np.linalg.solve(np.eye(d * d) - L, (Q @ Q).ravel()).reshape(d, d)
    assert np.max(np.abs(second_resolvent(U, p, m, Q, h) - X)) < 1e-10 * np.abs(X).max()


def test_fixed_point_iteration_budget_is_reported():
    rng = np.random.default_rng(4)
    U = rng.standard_normal((200, 3))
    with pytest.raises(ConvergenceError, match="no convergence in 1 iterations"):
        resolvent_fixed_point(U, np.full(200, 1 / 200), 10, max_iter=1)


BAD = [
    (lambda: leverage_excess(np.ones((5, 2)), np.ones(4), 9), "shapes mismatch"),
    (lambda: leverage_excess([[np.nan, 1.0]] * 9, np.ones(9), 9), "features contains NaN"),
    (lambda: leverage_excess(np.random.default_rng(0).random((9, 2)), [np.inf] * 9, 9),
     "y contains inf"),
    (lambda: leverage_excess(np.ones((9, 1)), np.ones(9), 9), "singular"),
    (lambda: leverage_excess(np.eye(5), np.ones(5), 9, intercept="yes"), "intercept"),
    (lambda: leverage_excess(np.random.default_rng(0).random((30, 3)), np.ones(30), 5),
     "n = 5: OLS on K = 3 features needs n >= 6"),
    (lambda: leverage_excess(np.random.default_rng(0).random((30, 3)), np.ones(30), 6.0),
     "n = 6.0"),
    (lambda: leverage_excess(np.eye(3), np.ones(3), 9), "need more than K"),
    (lambda: resolvent_fixed_point(np.eye(3), np.full(3, 1 / 3), 3), "needs m > d"),
    (lambda: rt.predict_target_error(
        rt.GaussianTransferTask.low_variance_target(D=8).problem(), 0.1, 2, 20,
        estimation="leverage"), "needs problem.samples"),
]


@pytest.mark.parametrize("call,match", BAD)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
