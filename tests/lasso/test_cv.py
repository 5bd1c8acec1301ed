"""GeneralizedTransLassoCV: CV errors against independent fold-by-fold refits, the cvxpy
oracle, strategy restrictions, reproducibility and the progress bar."""

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold

from lasso import (
    ConvergenceWarning,
    GeneralizedTransLasso,
    GeneralizedTransLassoCV,
    compare_strategies,
    solve_weighted_lasso_gram,
)

from ._helpers import cvx_lasso, gaussian_design, make_transfer

# tiny grids put optima on the grid edge; that warning is tested in test_edge_warning
pytestmark = pytest.mark.filterwarnings("ignore:the best lam")

SMALL = dict(lam2_grid=[0.3, 0.1, 0.03], kappa_grid=[0.0, 1.0], dlam_grid=[0.0, 0.2],
             cv=3, random_state=0, progress=False)


def _manual_cv_mse(target, sources, lam1, lam2, kappa, dlam, cv, seed, fit_intercept=False):
    """Fold-by-fold refits with the (separately tested) GeneralizedTransLasso."""
    X0, y0 = target
    n0 = X0.shape[0]
    n_pool = n0 + sum(X.shape[0] for X, _ in sources)
    errs = []
    for tr, te in KFold(cv, shuffle=True, random_state=seed).split(X0):
        f2 = tr.size / n0
        f1 = (n_pool - te.size) / n_pool
        est = GeneralizedTransLasso(lam1 * f1, lam2 * f2, kappa, dlam * f2, tol=1e-12,
                                    fit_intercept=fit_intercept)
        est.fit((X0[tr], y0[tr]), sources)
        errs.append(np.mean((y0[te] - est.predict(X0[te])) ** 2))
    return np.mean(errs)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_cv_errors_match_fold_refits(fit_intercept):
    target, sources = make_transfer(0, N=40, rows=(30, 90), shift=0.2 * fit_intercept)
    est = GeneralizedTransLassoCV(lam1=0.3, tol=1e-12, fit_intercept=fit_intercept, **SMALL)
    est.fit(target, sources)
    df = est.cv_results_
    assert len(df) == 3 * 2 * 2
    for i in [0, 5, 11]:
        row = df.iloc[i]
        ref = _manual_cv_mse(target, sources, 0.3, row.lam2, row.kappa, row.dlam, 3, 0,
                             fit_intercept)
        assert row.mean_test_mse == pytest.approx(ref, rel=1e-6)
    # the refit is the plain estimator at the best parameters
    best = GeneralizedTransLasso(**est.best_params_, tol=1e-12,
                                 fit_intercept=fit_intercept).fit(target, sources)
    np.testing.assert_allclose(est.coef_, best.coef_, atol=1e-6)
    assert est.best_score_ == df.mean_test_mse.min()
    assert df.loc[est.best_index_, "rank_test_mse"] == 1


@pytest.mark.parametrize("gram", [False, True])
def test_cv_fast_matches_cvxpy_solver(gram):
    target, sources = make_transfer(1, N=25, rows=(24, 50))
    kw = dict(lam1=0.3, **{**SMALL, "lam2_grid": [0.3, 0.1, 0.03, 0.01]})
    fast = GeneralizedTransLassoCV(tol=1e-12, gram=gram, **kw).fit(target, sources)
    ref = GeneralizedTransLassoCV(solver="cvxpy", **kw).fit(target, sources)
    np.testing.assert_allclose(fast.cv_results_.mean_test_mse, ref.cv_results_.mean_test_mse,
                               rtol=1e-5)
    assert fast.best_params_ == ref.best_params_


def test_gram_solver_matches_cvxpy():
    rng = np.random.default_rng(2)
    A = gaussian_design(rng, 40, 70)
    b = A @ (rng.standard_normal(70) * (rng.random(70) < 0.2)) + 0.1 * rng.standard_normal(40)
    w = rng.uniform(0.01, 0.1, 70)
    w[:4] = np.inf
    res = solve_weighted_lasso_gram(A.T @ A, A.T @ b, b @ b, w, tol=1e-12)
    ref, _ = cvx_lasso(A, b, w)
    np.testing.assert_allclose(res.coef, ref, atol=1e-5)


def test_lam1_pooled_cv_matches_fold_refits():
    target, sources = make_transfer(3, N=30, rows=(20, 60))
    grid = [3.0, 1.0, 0.3, 0.1, 0.03, 0.01]
    est = GeneralizedTransLassoCV(lam1_grid=grid, tol=1e-12, **SMALL).fit(target, sources)
    X = np.vstack([target[0], sources[0][0]])
    y = np.concatenate([target[1], sources[0][1]])
    ref = []
    for lam in grid:
        e = []
        for tr, te in KFold(3, shuffle=True, random_state=0).split(y):
            coef, _ = cvx_lasso(X[tr], y[tr], lam * tr.size / y.size)
            e.append(np.mean((y[te] - X[te] @ coef) ** 2))
        ref.append(np.mean(e))
    np.testing.assert_allclose(est.lam1_cv_results_.mean_test_mse, ref, rtol=1e-5)
    assert est.best_params_["lam1"] == grid[int(np.argmin(ref))]


@pytest.mark.parametrize("strategy,check", [
    ("dlam0", lambda df: (df.dlam == 0).all()),
    ("kappa0", lambda df: (df.kappa == 0).all()),
    ("trans", lambda df: ((df.kappa == 1) & (df.dlam == 0)).all()),
    ("target", lambda df: ((df.kappa == 0) & (df.dlam == 0)).all()),
])
def test_strategies_restrict_the_grid(strategy, check):
    target, sources = make_transfer(4, N=30, rows=(24, 60))
    est = GeneralizedTransLassoCV(strategy=strategy, lam1=0.3, **SMALL).fit(target, sources)
    assert check(est.cv_results_)


def test_compare_strategies_reads_restricted_optima_off_one_run():
    target, sources = make_transfer(5, N=30, rows=(24, 60))
    table = compare_strategies(target, sources, lam1=0.3, **SMALL)
    assert isinstance(table, pd.DataFrame)
    assert list(table.strategy) == ["full", "dlam0", "kappa0"]
    assert {"cv_mse", "cv_mse_se", "lam1", "lam2", "kappa", "dlam", "is_best"} <= set(table)
    full = table.set_index("strategy").cv_mse
    assert full["full"] <= full["dlam0"] and full["full"] <= full["kappa0"]
    # each restricted optimum equals a separate CV run restricted to that strategy
    for s in ("dlam0", "kappa0"):
        sep = GeneralizedTransLassoCV(strategy=s, lam1=0.3, **SMALL).fit(target, sources)
        assert sep.best_score_ == pytest.approx(full[s], rel=1e-6)


def test_reproducible_and_parallel_equals_serial():
    target, sources = make_transfer(6, N=30, rows=(24, 60))
    kw = dict(SMALL, lam1_grid=[1.0, 0.3, 0.1])
    a = GeneralizedTransLassoCV(n_jobs=1, **kw).fit(target, sources)
    b = GeneralizedTransLassoCV(n_jobs=2, **kw).fit(target, sources)
    pd.testing.assert_frame_equal(a.cv_results_, b.cv_results_)
    assert a.best_params_ == b.best_params_


def test_progress_bar_is_shown(capsys):
    target, sources = make_transfer(7, N=20, rows=(20, 40))
    kw = dict(SMALL, progress=0.0)  # show at once (default: after one second)
    GeneralizedTransLassoCV(lam1=0.3, **kw).fit(target, sources)
    assert "stage 2 grid" in capsys.readouterr().err


@pytest.mark.filterwarnings("always:the best lam")
def test_edge_warning():
    target, sources = make_transfer(11, N=30, rows=(24, 60))
    kw = {**SMALL, "lam2_grid": [1.0, 0.3], "kappa_grid": [0.0], "dlam_grid": [0.0]}
    with pytest.warns(UserWarning, match="the best lam2 = 0.3 is the smallest"):
        GeneralizedTransLassoCV(lam1=0.3, **kw).fit(target, sources)


def test_bad_cv_arguments():
    target, sources = make_transfer(8, N=20, rows=(20, 40))
    with pytest.raises(ValueError, match="strategy"):
        GeneralizedTransLassoCV(strategy="both").fit(target, sources)
    with pytest.raises(ValueError, match="cv = 1"):
        GeneralizedTransLassoCV(cv=1).fit(target, sources)
    with pytest.raises(ValueError, match=r"lam2_grid\[1\] = -1.0"):
        GeneralizedTransLassoCV(lam2_grid=[1.0, -1.0]).fit(target, sources)
    with pytest.raises(ValueError, match="sources is empty"):
        GeneralizedTransLassoCV().fit(target, [])


def _scenario(N, seed):
    """Spec 5.4 scenario A sampled at N (alphas 0.5, 4; sigma 0.1)."""
    rng = np.random.default_rng(seed)
    u = rng.random(N)
    v = rng.standard_normal(N)
    r0 = np.where(u < 0.12, v, 0.0)
    r1 = np.where(u < 0.10, v, 0.0) + np.where((u >= 0.12) & (u < 0.14),
                                               rng.standard_normal(N), 0.0)
    out = []
    for a, r in ((0.5, r0), (4.0, r1)):
        X = gaussian_design(rng, int(a * N), N)
        out.append((X, X @ r + 0.1 * rng.standard_normal(X.shape[0])))
    return out[0], out[1:]


def test_cv_runs_on_medium_problem_quickly():
    target, sources = _scenario(400, 9)
    t = time.perf_counter()
    est = GeneralizedTransLassoCV(n_jobs=2, random_state=0, progress=False).fit(target, sources)
    assert time.perf_counter() - t < 60
    tab = est.strategy_table(("full", "dlam0", "kappa0", "target"))
    best = tab.set_index("strategy").cv_mse
    assert best["full"] < best["target"]  # transfer helps in scenario A


@pytest.mark.slow
def test_cv_2000_features_under_a_minute():
    """Acceptance 3 (timing part): 2000 features, default grids, 2 workers."""
    target, sources = _scenario(2000, 10)
    t = time.perf_counter()
    est = GeneralizedTransLassoCV(n_jobs=2, random_state=0).fit(target, sources)
    elapsed = time.perf_counter() - t
    assert elapsed < 60, est.timings_


@pytest.mark.filterwarnings("ignore:fast Lasso solver did not converge")
def test_unconverged_cv_fits_are_reported_not_dropped():
    target, sources = make_transfer(12, N=30, rows=(24, 60))
    est = GeneralizedTransLassoCV(lam1=0.3, tol=1e-14, max_iter=1, **SMALL)
    with pytest.warns(ConvergenceWarning, match="CV fits did not reach tol"):
        est.fit(target, sources)
    assert len(est.cv_results_) == 12
    assert est.cv_results_["n_unconverged"].sum() > 0
