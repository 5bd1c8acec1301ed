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
    PretrainingLasso,
    compare_strategies,
    solve_weighted_lasso_gram,
)

from ._helpers import cvx_lasso, gaussian_design, make_transfer

# tiny grids put optima on the grid edge; that warning is tested in test_edge_warning
pytestmark = pytest.mark.filterwarnings("ignore:the best lam")

SMALL = dict(lam2_grid=[0.3, 0.1, 0.03], kappa_grid=[0.0, 1.0], dlam_grid=[0.0, 0.2],
             pt_alpha_grid=[0.0, 0.5], cv=3, random_state=0, progress=False)
N_POINTS = 3 * 2 * 2 + 3 * 2  # product grid + Pretraining Lasso points


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
    assert len(df) == N_POINTS
    # every grid point against independent fold-by-fold refits; the choice against the
    # brute-force minimum of those refits (the grid points written out by the test)
    points = [(l2, k, d, np.nan) for k in (0.0, 1.0) for d in (0.0, 0.2)
              for l2 in (0.3, 0.1, 0.03)]
    points += [(l2, 1 - a, np.inf if a == 0 else l2 * (1 / a - 1), a) for a in (0.0, 0.5)
               for l2 in (0.3, 0.1, 0.03)]
    ref = [_manual_cv_mse(target, sources, 0.3, l2, k, d, 3, 0, fit_intercept)
           for l2, k, d, _ in points]
    np.testing.assert_allclose(df.mean_test_mse, ref, rtol=1e-6)
    np.testing.assert_array_equal(df.pt_alpha, [p[3] for p in points])
    l2, k, d, _ = points[int(np.argmin(ref))]
    assert est.best_params_ == pytest.approx({"lam1": 0.3, "lam2": l2, "kappa": k, "dlam": d})
    assert est.best_score_ == pytest.approx(min(ref), rel=1e-6)
    # the refit is the plain estimator at the best parameters
    best = GeneralizedTransLasso(0.3, l2, k, d, tol=1e-12,
                                 fit_intercept=fit_intercept).fit(target, sources)
    np.testing.assert_allclose(est.coef_, best.coef_, atol=1e-6)
    assert df.loc[est.best_index_, "rank_test_mse"] == 1


@pytest.mark.parametrize("gram", [False, True])
def test_cv_fast_matches_cvxpy_solver(gram):
    target, sources = make_transfer(1, N=25, rows=(24, 50))
    # (alpha = 0 can tie exactly with dlam = 0.2 at kappa = 1: both empty off the support)
    kw = dict(lam1=0.3, **{**SMALL, "lam2_grid": [0.3, 0.1, 0.03, 0.01],
                           "pt_alpha_grid": [0.5]})
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


def _pt(a, lam2):
    return np.inf if a == 0 else lam2 * (1 / a - 1)


# the (kappa, dlam, pt_alpha) points each strategy searches with SMALL, written out by hand
_EXPECTED_POINTS = {
    "dlam0": {(0.0, 0.0, None), (1.0, 0.0, None)},
    "kappa0": {(0.0, 0.0, None), (0.0, 0.2, None)},
    "trans_lasso": {(1.0, 0.0, None)},
    "target_lasso": {(0.0, 0.0, None)},
    "pretraining_lasso": {(1.0, "pt", 0.0), (0.5, "pt", 0.5)},
}


@pytest.mark.parametrize("strategy", sorted(_EXPECTED_POINTS))
def test_strategies_search_exactly_their_points(strategy):
    target, sources = make_transfer(4, N=30, rows=(24, 60))
    est = GeneralizedTransLassoCV(strategy=strategy, lam1=0.3, **SMALL).fit(target, sources)
    df = est.cv_results_
    got = set()
    for r in df.itertuples():
        if np.isnan(r.pt_alpha):
            got.add((r.kappa, r.dlam, None))
        else:
            assert r.dlam == pytest.approx(_pt(r.pt_alpha, r.lam2))
            got.add((r.kappa, "pt", r.pt_alpha))
    assert got == _EXPECTED_POINTS[strategy]
    assert sorted(set(df.lam2)) == [0.03, 0.1, 0.3]
    assert len(df) == 3 * len(_EXPECTED_POINTS[strategy])


def test_compare_strategies_matches_separate_runs_and_brute_force():
    """Every strategy read off one full run equals (a) a separate CV run restricted to that
    strategy and (b) the minimum of independent fold refits over that strategy's points."""
    target, sources = make_transfer(5, N=30, rows=(24, 60))
    strategies = ("full", "dlam0", "kappa0", "trans_lasso", "pretraining_lasso",
                  "target_lasso")
    table = compare_strategies(target, sources, strategies, lam1=0.3, tol=1e-12, **SMALL)
    assert list(table.strategy) == list(strategies)
    assert {"cv_mse", "cv_mse_se", "lam1", "lam2", "kappa", "dlam", "pt_alpha",
            "is_best"} <= set(table)
    best = table.set_index("strategy")
    for s in strategies[1:]:
        sep = GeneralizedTransLassoCV(strategy=s, lam1=0.3, tol=1e-12, **SMALL)
        sep.fit(target, sources)
        assert sep.best_score_ == pytest.approx(best.loc[s, "cv_mse"], rel=1e-9)
        brute = min(
            _manual_cv_mse(target, sources, 0.3, l2, k, _pt(a, l2) if d == "pt" else d, 3, 0)
            for k, d, a in _EXPECTED_POINTS[s] for l2 in (0.3, 0.1, 0.03)
        )
        assert best.loc[s, "cv_mse"] == pytest.approx(brute, rel=1e-6)
    assert best.loc["pretraining_lasso", "pt_alpha"] in (0.0, 0.5)
    assert np.isnan(best.loc["dlam0", "pt_alpha"])
    # the Pretraining row refits as the PretrainingLasso estimator with that alpha
    row = best.loc["pretraining_lasso"]
    gtl = GeneralizedTransLasso(0.3, row.lam2, row.kappa, row.dlam, tol=1e-12)
    pt = PretrainingLasso(row.pt_alpha, 0.3, row.lam2, tol=1e-12)
    np.testing.assert_allclose(gtl.fit(target, sources).coef_,
                               pt.fit(target, sources).coef_, atol=1e-10)


def test_reproducible_and_parallel_equals_serial():
    target, sources = make_transfer(6, N=30, rows=(24, 60))
    kw = dict(SMALL, lam1_grid=[1.0, 0.3, 0.1])
    a = GeneralizedTransLassoCV(n_jobs=1, **kw).fit(target, sources)
    b = GeneralizedTransLassoCV(n_jobs=2, **kw).fit(target, sources)
    pd.testing.assert_frame_equal(a.cv_results_, b.cv_results_)
    assert a.best_params_ == b.best_params_


def test_default_random_state_is_reproducible():
    """No random_state given: the same call twice gives the same folds and numbers; another
    seed gives other folds (so the comparison can fail)."""
    target, sources = make_transfer(6, N=30, rows=(24, 60))
    kw = {k: v for k, v in SMALL.items() if k != "random_state"}
    a = GeneralizedTransLassoCV(lam1_grid=[1.0, 0.3, 0.1], **kw).fit(target, sources)
    b = GeneralizedTransLassoCV(lam1_grid=[1.0, 0.3, 0.1], **kw).fit(target, sources)
    pd.testing.assert_frame_equal(a.cv_results_, b.cv_results_)
    c = GeneralizedTransLassoCV(lam1_grid=[1.0, 0.3, 0.1], **{**kw, "random_state": 7})
    c.fit(target, sources)
    assert not np.allclose(a.cv_results_.mean_test_mse, c.cv_results_.mean_test_mse)


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
        GeneralizedTransLassoCV("target_lasso", lam1=0.3, **kw).fit(target, sources)


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
    tab = est.strategy_table(("full", "dlam0", "kappa0", "target_lasso"))
    best = tab.set_index("strategy").cv_mse
    assert best["full"] < 0.9 * best["target_lasso"]  # transfer helps in scenario A


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
    assert len(est.cv_results_) == N_POINTS
    assert est.cv_results_["n_unconverged"].sum() > 0
