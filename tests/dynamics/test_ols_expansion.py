"""Second-order expansion of the OLS excess risk (dynamics.ols_expansion) against Monte Carlo.

The oracle population is a finite pool (its rows are the population, so moments and the test
risk are exact); OLS heads are fitted on rows drawn with replacement. The tests compute the
whitening, residuals and leverages themselves (plain numpy) and use the package only for the
quantity under test.
"""

import math

import numpy as np
import pytest

import dynamics.reconstruction_transfer as rt
from dynamics.ols_expansion import ols_expansion, third_moment_norm
from tests.ols_pool import whiten_pool


def _pool(seed=0, N=4000, K=3, c=2):
    """Non-Gaussian features (scale mixture + a skewed coordinate), heteroscedastic residual,
    a quadratic misspecification, two outputs."""
    rng = np.random.default_rng(seed)
    tau = np.where(rng.random(N) < 0.8, 0.6, 2.6)
    Z = np.sqrt(tau)[:, None] * rng.standard_normal((N, K))
    Z[:, 0] += 0.7 * (rng.chisquare(3, N) - 3) / math.sqrt(6)
    noise = rng.standard_normal((N, c)) * (0.3 + 0.5 * np.abs(Z[:, :1]))
    Y = Z @ rng.standard_normal((K, c)) + 0.4 * Z[:, :1] ** 2 + noise
    Z = Z - Z.mean(0)
    return Z, Y - Y.mean(0)


def _mc_beyond_first_order(U, e, n, reps, seed):
    """Draws of excess - g'g (the excess risk minus its exactly known first-order part)."""
    rng = np.random.default_rng(seed)
    out = np.empty(reps)
    for r in range(reps):
        i = rng.integers(0, len(U), n)
        S = U[i].T @ U[i] / n
        g = U[i].T @ e[i] / n
        h = np.linalg.solve(S, g)
        out[r] = np.sum(h * h) - np.sum(g * g)
    return out


def _misspecified_pool(seed=0, N=4000):
    """Light-tailed (uniform) features, residual driven by z1^2, z1 z2 and z2^3: the odd-moment
    terms |v|^2 and |T|^2 of c2 are large."""
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-1.7, 1.7, (N, 2))
    Y = np.c_[Z[:, 0] + Z[:, 0] ** 2 + 0.1 * rng.standard_normal(N),
              Z[:, 1] * Z[:, 0] + 0.5 * Z[:, 1] ** 3]
    return Z - Z.mean(0), Y - Y.mean(0)


def _sandwich_c2(ex, a1, K, intercept):
    return (a1 - ex.residual_var) * (K + 3) if intercept else a1 * (K + 1)


def _without_odd_terms(ex, a1, K, intercept):
    return ex.c2 - ex.v_term - ex.t_term


@pytest.mark.parametrize("pool,intercept,wrong", [
    (_pool, True, _sandwich_c2), (_pool, False, _sandwich_c2),
    (_misspecified_pool, True, _without_odd_terms)])
def test_second_order_coefficient_matches_monte_carlo(pool, intercept, wrong):
    """n^2 (E[excess] - a1/n) at n = 400 by Monte Carlo against c2; the power check compares
    with a wrong coefficient (the sandwich's Gaussian-style one, or c2 without |v|^2+|T|^2)."""
    Z, Y = pool()
    U, e = whiten_pool(Z, Y, intercept)
    ex = ols_expansion(Z, Y, intercept)
    a1 = np.mean(np.sum(e ** 2, 1) * np.sum(U ** 2, 1))
    assert ex.a1 == pytest.approx(a1, rel=1e-10)
    n, reps = 400, 20000
    d = n * n * _mc_beyond_first_order(U, e, n, reps, seed=[1, intercept])
    mc, se = d.mean(), d.std(ddof=1) / math.sqrt(reps)
    assert abs(mc - ex.c2) < 4 * se
    assert abs(mc - wrong(ex, a1, Z.shape[1], intercept)) > 6 * se


def test_second_order_prediction_at_moderate_n():
    """Full predicted test error at n = 50 (12.5 d): second order within 3 MC s.e.; the
    sandwich and Gaussian formulas are many s.e. (and > 3 %) away."""
    Z, Y = _pool()
    pb = rt.LinearTransferProblem.from_data(Z, Y[:, :1], Y)
    U, e = whiten_pool(Z, Y, True)
    a1 = np.mean(np.sum(e ** 2, 1) * np.sum(U ** 2, 1))
    n, reps = 50, 20000
    d = _mc_beyond_first_order(U, e, n, reps, seed=3)
    mc = a1 / n + d.mean()  # E[excess], the first-order part exact
    se = d.std(ddof=1) / math.sqrt(reps)
    E = np.eye(Z.shape[1])
    pred = {est: rt.predict_for_encoder(pb, E, n, estimation=est) for est in rt.ESTIMATIONS}
    s2 = np.mean(np.sum(e ** 2, 1))
    assert pred["second_order"].population_error == pytest.approx(s2, rel=1e-9)
    excess = {k: p.target_error - p.population_error for k, p in pred.items()}
    assert abs(excess["second_order"] - mc) < 3 * se
    for k in ("sandwich", "gaussian"):
        assert abs(excess[k] - mc) > 10 * se
        assert abs(excess[k] - mc) > 0.03 * (s2 + mc)


def test_full_risk_through_trained_heads():
    """Same pool, n = 60, test error of lstsq heads through population_risk (no whitening)."""
    Z, Y = _pool(seed=4, N=1500)
    pb = rt.LinearTransferProblem.from_data(Z, Y[:, :1], Y)
    n, reps = 60, 3000
    rng = np.random.default_rng(9)
    err = np.empty(reps)
    for r in range(reps):
        i = rng.integers(0, len(Z), n)
        A = np.hstack([np.ones((n, 1)), Z[i]])
        c, *_ = np.linalg.lstsq(A, Y[i], rcond=None)
        err[r] = rt.population_risk(pb, c[1:].T, c[0])
    mc, se = err.mean(), err.std(ddof=1) / math.sqrt(reps)
    p = rt.predict_for_encoder(pb, np.eye(3), n, estimation="second_order")
    assert abs(p.target_error - mc) < 3 * se


@pytest.mark.parametrize("intercept", [True, False])
def test_gaussian_population_gives_wishart_coefficient(intercept):
    """c2 = s2 K (K + 3) with intercept and s2 K (K + 1) without (expansion of the exact
    Gaussian formulas), from sample moments of Gaussian data; tolerance from the spread of
    independent batches."""
    K, s = 3, 0.5
    vals = []
    for b in range(8):
        rng = np.random.default_rng([21, b])
        Z = rng.standard_normal((20000, K)) @ np.array([[2.0, 0, 0], [0.5, 1, 0], [0, 0, 0.3]])
        y = Z @ np.array([1.0, -2.0, 0.5]) + s * rng.standard_normal(20000)
        vals.append(ols_expansion(Z, y, intercept).c2)
    exact = s ** 2 * K * (K + 3 if intercept else K + 1)
    m, se = np.mean(vals), np.std(vals, ddof=1) / math.sqrt(len(vals))
    assert se < 0.03 * exact  # the check has resolution
    assert abs(m - exact) < 4 * se + 1e-3 * exact


def test_second_order_equals_gaussian_formula_for_gaussian_population():
    task = rt.GaussianTransferTask.low_variance_target(D=10, seed=2)
    X, ys, yt = task.sample(100000, seed=5)
    pb = rt.LinearTransferProblem.from_data(X, ys, yt)
    g = rt.predict_target_error(pb, 0.1, 3, 20, estimation="gaussian")
    s = rt.predict_target_error(pb, 0.1, 3, 20, estimation="second_order")
    assert s.estimation_error == pytest.approx(g.estimation_error, rel=0.03)


def test_third_moment_routes_agree_with_explicit_tensor():
    rng = np.random.default_rng(0)
    U = rng.standard_normal((40, 4)) + 0.3
    e = rng.standard_normal((40, 2))
    T = np.einsum("io,ia,ib,ic->oabc", e, U, U, U) / 40
    ref = float(np.sum(T * T))
    for method in ("gram", "tensor", "auto"):
        assert third_moment_norm(U, e, method) == pytest.approx(ref, rel=1e-12)


def test_pieces_match_explicit_sums():
    Z, Y = _pool(seed=2, N=300)
    ex = ols_expansion(Z, Y)
    U, e = whiten_pool(Z, Y, True)
    q, e2 = np.sum(U ** 2, 1), np.sum(e ** 2, 1)
    C = np.einsum("i,ia,ib->ab", q, U, U) / len(U) - np.eye(U.shape[1])
    v = np.einsum("i,ia,io->ao", q, U, e) / len(U)
    assert ex.self_term == pytest.approx(-2 * np.mean(e2 * (q * q - q)), rel=1e-9)
    assert ex.cov_term == pytest.approx(3 * np.mean(e2 * np.einsum("ia,ab,ib->i", U, C, U)),
                                        rel=1e-9)
    assert ex.v_term == pytest.approx(3 * np.sum(v * v), rel=1e-9)
    assert ex.dim == 4 and ex.max_leverage == pytest.approx(q.max(), rel=1e-9)


def _heavy_leverage_problem():
    rng = np.random.default_rng(5)
    Z = rng.standard_normal((200, 2))
    Z[0] = [40.0, -30.0]
    y = Z @ np.array([1.0, 1.0]) + 0.1 * rng.standard_normal(200)
    y[0] += 60.0
    return rt.LinearTransferProblem.from_data(Z, y, y)


BAD = [
    (lambda: ols_expansion(np.ones((5, 2)), np.ones(4)), "shapes mismatch"),
    (lambda: ols_expansion([[np.nan, 1.0]] * 9, np.ones(9)), "features contains NaN"),
    (lambda: ols_expansion(np.ones((9, 2)), [np.inf] * 9), "y contains inf"),
    (lambda: ols_expansion(np.ones((3, 1)), np.ones(3)), "singular"),
    (lambda: ols_expansion(np.eye(3), np.ones(3)), "need more than d = 4"),
    (lambda: ols_expansion(np.eye(5), np.ones(5), intercept="yes"), "intercept"),
    (lambda: third_moment_norm(np.eye(3), np.ones((3, 1)), "fast"), "method"),
    (lambda: rt.predict_target_error(
        rt.GaussianTransferTask.low_variance_target(D=8).problem(), 0.1, 2, 20,
        estimation="second_order"), "needs problem.samples"),
    (lambda: rt.predict_target_error(
        rt.GaussianTransferTask.low_variance_target(D=8).problem(), 0.1, 2, 20,
        estimation="third_order"), "estimation = 'third_order'"),
    (lambda: rt.predict_for_encoder(_heavy_leverage_problem(), np.eye(2), 8,
                                    estimation="second_order"), "not controlled"),
]


@pytest.mark.parametrize("call,match", BAD)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_table_reports_refused_second_order_points():
    pb = _heavy_leverage_problem()
    E = np.eye(2)
    # n_t = 8 is refused (not controlled); n_t = 4000 is far in the controlled range
    with pytest.raises(ValueError, match="not controlled"):
        rt.predict_for_encoder(pb, E, 8, estimation="second_order")
    tab = rt.transfer_error_table(pb, [1.0], [1], [8, 4000], estimation="second_order")
    assert list(tab["status"].str.contains("not controlled")) == [True, False]
    assert tab["status"].iloc[1] == "ok" and np.isnan(tab["target_error"].iloc[0])
    assert np.isfinite(tab["target_error"].iloc[1])
