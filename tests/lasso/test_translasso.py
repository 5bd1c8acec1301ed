"""Trans-Lasso (Li, Cai & Li 2022): oracle against its published objective, full method
fast vs cvxpy, ranking and Q-aggregation properties."""

import cvxpy as cp
import numpy as np
import pytest

from lasso import GeneralizedTransLasso, TransLasso, q_aggregate, rank_sources

from ._helpers import CLARABEL, gaussian_design


def _sources(seed, N=60, n0=40, ns=120):
    """Target, one far source, one identical-truth source, one in-between."""
    rng = np.random.default_rng(seed)
    r = rng.standard_normal(N) * (rng.random(N) < 0.15)
    bad = 2.0 * rng.standard_normal(N) * (rng.random(N) < 0.4)

    def ds(M, truth):
        X = gaussian_design(rng, M, N)
        return X, X @ truth + 0.1 * rng.standard_normal(M)

    return ds(n0, r), [ds(ns, bad), ds(ns, r), ds(ns, r + 0.5 * bad)], r


def test_oracle_matches_li_cai_li_normalised_objective():
    target, sources, _ = _sources(0)
    X0, y0 = target
    inf = [1, 2]
    Xs = [X0] + [sources[i][0] for i in inf]
    ys = [y0] + [sources[i][1] for i in inf]
    n = sum(len(y) for y in ys)
    n0 = len(y0)
    lam_w, lam_d = 0.001, 0.003
    w = cp.Variable(60)
    cp.Problem(cp.Minimize(cp.sum_squares(np.concatenate(ys) - np.vstack(Xs) @ w) / (2 * n)
                           + lam_w * cp.norm1(w))).solve(**CLARABEL)
    d = cp.Variable(60)
    cp.Problem(cp.Minimize(cp.sum_squares(y0 - X0 @ (w.value + d)) / (2 * n0)
                           + lam_d * cp.norm1(d))).solve(**CLARABEL)
    est = TransLasso(n * lam_w, n0 * lam_d, informative=inf, tol=1e-14).fit(target, sources)
    np.testing.assert_allclose(est.coef_, w.value + d.value, atol=1e-5)
    gtl = GeneralizedTransLasso(n * lam_w, n0 * lam_d, 1.0, 0.0, tol=1e-14)
    gtl.fit(target, [sources[i] for i in inf])
    np.testing.assert_allclose(est.coef_, gtl.coef_, atol=1e-8)


@pytest.mark.parametrize("aggregation", ["q", "select"])
def test_full_method_fast_matches_cvxpy(aggregation):
    target, sources, _ = _sources(1)
    kw = dict(lam1=0.2, lam2=0.05, aggregation=aggregation, random_state=3)
    fast = TransLasso(**kw, tol=1e-14).fit(target, sources)
    ref = TransLasso(**kw, solver="cvxpy").fit(target, sources)
    np.testing.assert_allclose(fast.candidates_, ref.candidates_, atol=1e-5)
    np.testing.assert_allclose(fast.weights_, ref.weights_, atol=1e-6)
    np.testing.assert_allclose(fast.coef_, ref.coef_, atol=1e-5)


def test_ranking_puts_informative_source_first_and_aggregation_uses_it():
    target, sources, r = _sources(2)
    est = TransLasso(0.2, 0.05, random_state=0).fit(target, sources)
    assert est.ranking_[0] == 1 and est.ranking_[-1] == 0
    assert est.weights_.sum() == pytest.approx(1.0)
    assert np.all(est.weights_ >= 0)
    # the aggregate is far better than the target-only candidate (column 0)
    err = np.linalg.norm(est.coef_ - r)
    assert err < 0.7 * np.linalg.norm(est.candidates_[:, 0] - r)


def test_rank_sources_definition():
    rng = np.random.default_rng(3)
    X0, y0 = rng.standard_normal((10, 6)), rng.standard_normal(10)
    X1, y1 = rng.standard_normal((20, 6)), rng.standard_normal(20)
    R, order = rank_sources((X0, y0), [(X1, y1), (X0, y0)], n_top=3)
    d = np.sort(np.abs(X1.T @ y1 / 20 - X0.T @ y0 / 10))[::-1]
    assert R[0] == pytest.approx(np.sum(d[:3] ** 2))
    assert R[1] == 0.0 and list(order) == [1, 0]


def test_q_aggregation_closed_form_limits():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 5))
    truth = np.array([1.0, -1, 0, 0, 2])
    y = X @ truth
    B = np.column_stack([truth, np.zeros(5), truth + 1.0])
    agg = q_aggregate(B, X, y, temperature=1.0)
    np.testing.assert_allclose(agg.theta, [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(agg.coef, truth, atol=1e-10)
    # two identical candidates share the weight equally
    agg2 = q_aggregate(np.column_stack([truth, truth]), X, y, temperature=1.0)
    np.testing.assert_allclose(agg2.theta, [0.5, 0.5])
    with pytest.raises(ValueError, match="temperature"):
        q_aggregate(B, X, y, temperature=0.0)


def test_cv_penalties_run_and_intercept():
    target, sources, r = _sources(5)
    X0, y0 = target
    shifted = [(X, y + 1.0) for X, y in sources]
    est = TransLasso(fit_intercept=True, random_state=0).fit((X0, y0 + 2.0), shifted)
    assert est.intercept_ == pytest.approx(2.0, abs=0.3)
    assert np.linalg.norm(est.coef_ - r) < np.linalg.norm(r)


def test_default_random_state_is_reproducible():
    """No random_state given: the held-out split and the CV folds are the same on every call
    (issue 8); another seed draws another split, so the comparison can fail."""
    target, sources, _ = _sources(6)
    a = TransLasso(lam1="cv", lam2=0.05).fit(target, sources)
    b = TransLasso(lam1="cv", lam2=0.05).fit(target, sources)
    np.testing.assert_array_equal(a.heldout_index_, b.heldout_index_)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    c = TransLasso(lam1="cv", lam2=0.05, random_state=11).fit(target, sources)
    assert not np.array_equal(a.heldout_index_, c.heldout_index_)


def test_pretraining_prevalidation_default_random_state_is_reproducible():
    from lasso import PretrainingLasso

    target, sources, _ = _sources(7)
    kw = dict(alpha=0.5, lam1=0.3, lam2=0.05, prevalidate=True, cv=3)
    a = PretrainingLasso(**kw).fit(target, sources)
    b = PretrainingLasso(**kw).fit(target, sources)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    c = PretrainingLasso(**kw, random_state=5).fit(target, sources)
    assert np.max(np.abs(a.coef_ - c.coef_)) > 1e-8
