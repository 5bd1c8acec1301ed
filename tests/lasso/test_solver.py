"""Weighted Lasso solver: fast path against cvxpy, closed forms and KKT conditions."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lasso import (
    ConvergenceError,
    ConvergenceWarning,
    duality_gap,
    lambda_max,
    lasso_objective,
    lasso_path,
    solve_weighted_lasso,
)

from ._helpers import cvx_lasso, gaussian_design


def _instance(seed, M, N, special=True):
    rng = np.random.default_rng(seed)
    A = gaussian_design(rng, M, N)
    x0 = rng.standard_normal(N) * (rng.random(N) < 0.2)
    b = A @ x0 + 0.1 * rng.standard_normal(M)
    w = rng.uniform(0.02, 0.2, N)
    if special:
        w[:3] = 0.0  # unpenalised
        w[3:6] = np.inf  # excluded
    return A, b, w


@pytest.mark.parametrize("seed,M,N", [(0, 150, 100), (1, 60, 200), (2, 300, 300), (3, 40, 40)])
def test_fast_matches_cvxpy(seed, M, N):
    A, b, w = _instance(seed, M, N, special=M >= 40)
    fast = solve_weighted_lasso(A, b, w, tol=1e-14)
    ref, _ = cvx_lasso(A, b, w)
    assert fast.converged
    f_ref = lasso_objective(A, b, ref, w)
    assert abs(fast.objective - f_ref) <= 1e-8 * abs(f_ref)
    assert fast.objective <= f_ref * (1 + 1e-12)  # the oracle cannot beat an optimum
    np.testing.assert_allclose(fast.coef, ref, atol=1e-5)
    assert np.all(fast.coef[np.isinf(w)] == 0)


def test_cvxpy_solver_option_matches_fast():
    A, b, w = _instance(4, 80, 50)
    fast = solve_weighted_lasso(A, b, w, tol=1e-14)
    oracle = solve_weighted_lasso(A, b, w, solver="cvxpy")
    assert oracle.solver == "cvxpy"
    assert abs(fast.objective - oracle.objective) <= 1e-8 * oracle.objective
    np.testing.assert_allclose(fast.coef, oracle.coef, atol=1e-5)


def test_orthonormal_design_is_soft_thresholding():
    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(rng.standard_normal((80, 30)))
    b = rng.standard_normal(80)
    w = rng.uniform(0, 1.0, 30)
    z = Q.T @ b
    expected = np.sign(z) * np.maximum(np.abs(z) - w, 0)
    res = solve_weighted_lasso(Q, b, w, tol=1e-14)
    np.testing.assert_allclose(res.coef, expected, atol=1e-10)


def test_lambda_max_gives_zero_and_below_gives_nonzero():
    A, b, _ = _instance(6, 100, 80, special=False)
    lmax = lambda_max(A, b)
    assert np.all(solve_weighted_lasso(A, b, lmax * 1.0001).coef == 0)
    assert np.count_nonzero(solve_weighted_lasso(A, b, lmax * 0.99).coef) >= 1


def test_kkt_conditions_large_instance():
    rng = np.random.default_rng(7)
    M, N = 1500, 2500
    A = np.asfortranarray(gaussian_design(rng, M, N))
    x0 = rng.standard_normal(N) * (rng.random(N) < 0.1)
    b = A @ x0 + 0.1 * rng.standard_normal(M)
    w = np.where(rng.random(N) < 0.5, 0.05, 0.15)
    res = solve_weighted_lasso(A, b, w, tol=1e-12)
    assert res.converged
    g = A.T @ (b - A @ res.coef)
    nz = res.coef != 0
    scale = np.sqrt(2 * res.gap)  # |A_j^T r| errors are O(sqrt(gap)) for unit-norm columns
    assert np.all(np.abs(g[~nz]) <= w[~nz] + 10 * scale + 1e-9)
    np.testing.assert_allclose(g[nz], w[nz] * np.sign(res.coef[nz]), atol=10 * scale + 1e-9)
    assert duality_gap(A, b, res.coef, w) <= 1e-12 * (b @ b) * 1.01


def test_path_warm_start_matches_cvxpy():
    A, b, _ = _instance(8, 70, 90, special=False)
    lams = lambda_max(A, b) * np.array([0.5, 0.2, 0.05])
    path = lasso_path(A, b, lams, tol=1e-14)
    for lam, res in zip(lams, path, strict=True):
        ref, _ = cvx_lasso(A, b, lam)
        np.testing.assert_allclose(res.coef, ref, atol=1e-5)


def test_unconverged_warns_with_gap_and_strict_raises():
    A, b, _ = _instance(9, 60, 200, special=False)
    with pytest.warns(ConvergenceWarning, match="duality gap"):
        res = solve_weighted_lasso(A, b, 0.001, tol=1e-14, max_iter=1)
    assert not res.converged and res.relative_gap > 1e-14
    with pytest.raises(ConvergenceError, match="duality gap"):
        solve_weighted_lasso(A, b, 0.001, tol=1e-14, max_iter=1, strict=True)


def test_converged_fit_does_not_warn():
    A, b, _ = _instance(10, 60, 40, special=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solve_weighted_lasso(A, b, 0.05)


def test_bad_weights_and_solver_rejected():
    A, b, _ = _instance(11, 20, 10, special=False)
    with pytest.raises(ValueError, match="non-negative"):
        solve_weighted_lasso(A, b, -1.0)
    with pytest.raises(ValueError, match="solver"):
        solve_weighted_lasso(A, b, 1.0, solver="magic")


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    M=st.integers(5, 40),
    N=st.integers(1, 40),
    lam_frac=st.floats(0.01, 1.2),
    zero_frac=st.floats(0.0, 0.3),
)
def test_fast_never_worse_than_oracle_and_kkt_holds(seed, M, N, lam_frac, zero_frac):
    rng = np.random.default_rng(seed)
    A = gaussian_design(rng, M, N)
    b = rng.standard_normal(M)
    w = lam_frac * lambda_max(A, b) * rng.uniform(0.5, 1.5, N)
    w[rng.random(N) < zero_frac] = 0.0
    if np.sum(w == 0) >= M:  # unpenalised least squares must stay identifiable
        w[w == 0] = 0.1
    fast = solve_weighted_lasso(A, b, w, tol=1e-13, max_iter=100_000)
    ref, _ = cvx_lasso(A, b, w)
    f_ref = lasso_objective(A, b, ref, w)
    assert fast.objective <= f_ref + 1e-8 * max(f_ref, 1e-12) + 1e-14
    g = A.T @ (b - A @ fast.coef)
    nz = fast.coef != 0
    eps = 1e-5 * max(1.0, np.abs(b).max())
    assert np.all(np.abs(g[~nz]) <= w[~nz] + eps)
    np.testing.assert_allclose(g[nz], w[nz] * np.sign(fast.coef[nz]), atol=eps)
