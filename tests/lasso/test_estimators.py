"""Two-stage estimators: fast path against cvxpy, and the published special cases against
independent cvxpy formulations of the original (normalised) objectives."""

import cvxpy as cp
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Lasso

from lasso import (
    GeneralizedTransLasso,
    PooledLasso,
    PretrainingLasso,
    TargetLasso,
    lasso_objective,
    stage2_weights,
)

from ._helpers import CLARABEL, clean, cvx_lasso, make_transfer


def _oracle_two_stage(target, sources, lam1, lam2, kappa, dlam):
    """Spec section 2 written out with cvxpy (test-own)."""
    (X0, y0) = target
    A = np.vstack([X0] + [X for X, _ in sources])
    b = np.concatenate([y0] + [y for _, y in sources])
    x1 = clean(cvx_lasso(A, b, lam1)[0])
    w2 = np.where(x1 != 0, lam2, lam2 + dlam)
    x2 = clean(cvx_lasso(X0, y0, w2, offset=kappa * X0 @ x1)[0])
    return x1, x2


CASES = [
    # lam1, lam2, kappa, dlam
    (0.3, 0.1, 1.0, 0.05),
    (0.2, 0.05, 0.5, 0.2),
    (0.5, 0.2, 0.0, 0.1),
    (0.3, 0.1, 1.3, 0.0),
    (0.3, 0.1, 0.7, np.inf),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_generalized_fast_matches_cvxpy(case, seed):
    target, sources = make_transfer(seed, N=60, rows=(30, 150), n_sources=2)
    lam1, lam2, kappa, dlam = case
    est = GeneralizedTransLasso(lam1, lam2, kappa, dlam, tol=1e-14).fit(target, sources)
    x1, x2 = _oracle_two_stage(target, sources, lam1, lam2, kappa, dlam)
    np.testing.assert_allclose(est.coef_stage1_, x1, atol=1e-5)
    np.testing.assert_array_equal(est.support_stage1_, x1 != 0)
    np.testing.assert_allclose(est.coef_stage2_, x2, atol=1e-5)
    np.testing.assert_allclose(est.coef_, kappa * x1 + x2, atol=1e-5)
    # objective of each stage on the problem the fast path solved
    X0, y0 = target
    w2 = stage2_weights(est.support_stage1_, lam2, dlam)
    b2 = y0 - kappa * X0 @ est.coef_stage1_
    f_ref = lasso_objective(X0, b2, clean(cvx_lasso(X0, b2, w2)[0]), w2)
    assert abs(est.fit_.stage2.objective - f_ref) <= 1e-8 * f_ref
    A = np.vstack([target[0]] + [X for X, _ in sources])
    b = np.concatenate([target[1]] + [y for _, y in sources])
    f1 = lasso_objective(A, b, x1, lam1)
    assert abs(est.fit_.stage1.objective - f1) <= 1e-8 * f1


def test_unpenalised_stage2_on_support():
    """lam2 = 0: S unpenalised in stage 2 (identifiable when the target has more rows than |S|)."""
    target, sources = make_transfer(2, N=40, rows=(80, 150))
    est = GeneralizedTransLasso(0.1, 0.0, 1.0, 0.3, tol=1e-14).fit(target, sources)
    x1, x2 = _oracle_two_stage(target, sources, 0.1, 0.0, 1.0, 0.3)
    np.testing.assert_allclose(est.coef_, x1 + x2, atol=1e-5)
    small_target = (target[0][:10], target[1][:10])
    with pytest.raises(ValueError, match="not identifiable.*lam2 > 0"):
        GeneralizedTransLasso(0.1, 0.0, 1.0, 0.3).fit(small_target, sources)


def test_solver_cvxpy_option_agrees():
    target, sources = make_transfer(3, N=50, rows=(25, 100))
    kw = dict(lam1=0.3, lam2=0.1, kappa=0.8, dlam=0.1)
    fast = GeneralizedTransLasso(**kw, tol=1e-14).fit(target, sources)
    ref = GeneralizedTransLasso(**kw, solver="cvxpy").fit(target, sources)
    np.testing.assert_allclose(fast.coef_, ref.coef_, atol=1e-5)
    for s in ("stage1", "stage2"):
        f, r = getattr(fast.fit_, s).objective, getattr(ref.fit_, s).objective
        assert abs(f - r) <= 1e-8 * r


def test_intercepts_match_explicit_per_dataset_intercepts():
    target, sources = make_transfer(4, N=40, rows=(30, 90), shift=0.3)
    lam1, lam2, kappa, dlam = 0.3, 0.1, 0.9, 0.05
    est = GeneralizedTransLasso(lam1, lam2, kappa, dlam, fit_intercept=True, tol=1e-14)
    est.fit(target, sources)
    # stage 1 with one unpenalised intercept per dataset
    data = [target] + sources
    x = cp.Variable(40)
    cs = cp.Variable(len(data))
    loss = sum(cp.sum_squares(y - cs[k] - X @ x) for k, (X, y) in enumerate(data))
    cp.Problem(cp.Minimize(0.5 * loss + lam1 * cp.norm1(x))).solve(**CLARABEL)
    x1 = clean(x.value)
    X0, y0 = target
    c1 = float(cs.value[0])
    w2 = np.where(x1 != 0, lam2, lam2 + dlam)
    x2, c2 = cvx_lasso(X0, y0, w2, offset=kappa * (X0 @ x1 + c1), intercept=True)
    x2 = clean(x2)
    np.testing.assert_allclose(est.coef_stage1_, x1, atol=1e-5)
    np.testing.assert_allclose(est.coef_, kappa * x1 + x2, atol=1e-5)
    assert est.intercept_ == pytest.approx(kappa * c1 + c2, abs=1e-5)
    Xt = np.random.default_rng(0).standard_normal((5, 40))
    np.testing.assert_allclose(est.predict(Xt), Xt @ est.coef_ + est.intercept_)


def test_kappa1_dlam0_is_oracle_trans_lasso_of_li_cai_li():
    """Li, Cai & Li (2022) oracle Trans-Lasso in its own normalised form (oracle algorithm):
    w = argmin 1/(2(n_A+n_0)) sum ||y-Xw||^2 + lam_w|w|_1;
    delta = argmin 1/(2 n_0)||y0 - X0(w + delta)||^2 + lam_d|delta|_1."""
    target, sources = make_transfer(5, N=50, rows=(30, 120), n_sources=2)
    X0, y0 = target
    n0 = X0.shape[0]
    nA = sum(X.shape[0] for X, _ in sources)
    lam_w, lam_d = 0.002, 0.004
    Xall = np.vstack([X0] + [X for X, _ in sources])
    yall = np.concatenate([y0] + [y for _, y in sources])
    w = cp.Variable(50)
    cp.Problem(cp.Minimize(cp.sum_squares(yall - Xall @ w) / (2 * (nA + n0))
                           + lam_w * cp.norm1(w))).solve(**CLARABEL)
    d = cp.Variable(50)
    cp.Problem(cp.Minimize(cp.sum_squares(y0 - X0 @ (w.value + d)) / (2 * n0)
                           + lam_d * cp.norm1(d))).solve(**CLARABEL)
    beta = w.value + d.value
    est = GeneralizedTransLasso(lam1=(nA + n0) * lam_w, lam2=n0 * lam_d, kappa=1.0, dlam=0.0,
                                tol=1e-14).fit(target, sources)
    np.testing.assert_allclose(est.coef_, beta, atol=1e-5)


@pytest.mark.parametrize("alpha", [0.25, 0.6, 1.0])
def test_pretraining_lasso_matches_craig_et_al_objective(alpha):
    """Craig et al. (2024) stage 2 in its own normalised form (their stage-2 objective):
    argmin 1/(2 n0)||y0 - (1-alpha) eta - X0 beta||^2 + lam_k sum pf_j |beta_j|."""
    target, sources = make_transfer(6, N=50, rows=(30, 120))
    X0, y0 = target
    n0 = X0.shape[0]
    lam1, lam_k = 0.3, 0.003
    A = np.vstack([X0, sources[0][0]])
    b = np.concatenate([y0, sources[0][1]])
    theta = clean(cvx_lasso(A, b, lam1)[0])
    eta = X0 @ theta
    pf = np.where(theta != 0, 1.0, 1.0 / alpha)
    beta = cp.Variable(50)
    cp.Problem(cp.Minimize(cp.sum_squares(y0 - (1 - alpha) * eta - X0 @ beta) / (2 * n0)
                           + lam_k * pf @ cp.abs(beta))).solve(**CLARABEL)
    expected = (1 - alpha) * theta + clean(beta.value)
    pt = PretrainingLasso(alpha, lam1, n0 * lam_k, tol=1e-14).fit(target, sources)
    np.testing.assert_allclose(pt.coef_, expected, atol=1e-5)
    m = pt.mapped_params()
    assert m["kappa"] == pytest.approx(1 - alpha)
    assert m["dlam"] == pytest.approx(n0 * lam_k * (1 / alpha - 1))
    gtl = GeneralizedTransLasso(lam1, n0 * lam_k, tol=1e-14, **m).fit(target, sources)
    np.testing.assert_allclose(gtl.coef_, expected, atol=1e-5)


def test_pretraining_alpha0_restricts_to_support():
    target, sources = make_transfer(7, N=40, rows=(30, 100))
    pt = PretrainingLasso(0.0, 0.4, 0.05, tol=1e-14).fit(target, sources)
    assert np.all(pt.coef_[~pt.support_stage1_] == 0)
    X0, y0 = target
    w = np.where(pt.support_stage1_, 0.05, np.inf)
    x2 = clean(cvx_lasso(X0, y0 - X0 @ pt.coef_stage1_, w)[0])
    np.testing.assert_allclose(pt.coef_, pt.coef_stage1_ + x2, atol=1e-5)


def test_pretraining_prevalidated_offsets_fast_matches_cvxpy():
    target, sources = make_transfer(8, N=40, rows=(30, 100))
    kw = dict(alpha=0.5, lam1=0.3, lam2=0.05, prevalidate=True, cv=3, random_state=0)
    fast = PretrainingLasso(**kw, tol=1e-14).fit(target, sources)
    ref = PretrainingLasso(**kw, solver="cvxpy").fit(target, sources)
    np.testing.assert_allclose(fast.coef_, ref.coef_, atol=1e-5)
    plain = PretrainingLasso(**{**kw, "prevalidate": False}, tol=1e-14).fit(target, sources)
    assert np.max(np.abs(plain.coef_ - fast.coef_)) > 1e-4  # the offsets really differ


def test_target_lasso_matches_sklearn_and_gtl_special_case():
    target, sources = make_transfer(9, N=50, rows=(40, 100))
    X0, y0 = target
    lam = 0.1
    tl = TargetLasso(lam, tol=1e-14).fit(target)
    sk = Lasso(alpha=lam / X0.shape[0], fit_intercept=False, tol=1e-12, max_iter=100000)
    sk.fit(X0, y0)
    np.testing.assert_allclose(tl.coef_, sk.coef_, atol=1e-6)
    gtl = GeneralizedTransLasso(0.3, lam, kappa=0.0, dlam=0.0, tol=1e-14).fit(target, sources)
    np.testing.assert_allclose(gtl.coef_, tl.coef_, atol=1e-8)
    tlc = TargetLasso(lam, solver="cvxpy").fit(target)
    np.testing.assert_allclose(tl.coef_, tlc.coef_, atol=1e-5)
    assert abs(tl.result_.objective - tlc.result_.objective) <= 1e-8 * tlc.result_.objective
    tli = TargetLasso(lam, fit_intercept=True, tol=1e-14).fit(target)
    ski = Lasso(alpha=lam / X0.shape[0], tol=1e-12, max_iter=100000).fit(X0, y0)
    np.testing.assert_allclose(tli.coef_, ski.coef_, atol=1e-6)
    assert tli.intercept_ == pytest.approx(ski.intercept_, abs=1e-6)


def test_pooled_lasso_matches_cvxpy():
    target, sources = make_transfer(10, N=50, rows=(30, 80), n_sources=2)
    pl = PooledLasso(0.2, tol=1e-14).fit(target, sources)
    plc = PooledLasso(0.2, solver="cvxpy").fit(target, sources)
    np.testing.assert_allclose(pl.coef_, plc.coef_, atol=1e-5)
    A = np.vstack([target[0]] + [X for X, _ in sources])
    b = np.concatenate([target[1]] + [y for _, y in sources])
    np.testing.assert_allclose(pl.coef_, clean(cvx_lasso(A, b, 0.2)[0]), atol=1e-5)


def test_kkt_of_both_stages_on_large_instance():
    target, sources = make_transfer(11, N=1500, rows=(750, 3000), sigma=0.1)
    lam1, lam2, kappa, dlam = 0.3, 0.1, 0.9, 0.1
    est = GeneralizedTransLasso(lam1, lam2, kappa, dlam, tol=1e-12).fit(target, sources)
    assert est.fit_.converged
    X0, y0 = target
    A = np.vstack([X0, sources[0][0]])
    b = np.concatenate([y0, sources[0][1]])
    for Am, bm, x, w, res in [
        (A, b, est.coef_stage1_, np.full(1500, lam1), est.fit_.stage1),
        (X0, y0 - kappa * X0 @ est.coef_stage1_, est.coef_stage2_,
         stage2_weights(est.support_stage1_, lam2, dlam), est.fit_.stage2),
    ]:
        g = Am.T @ (bm - Am @ x)
        nz = x != 0
        eps = 10 * np.sqrt(2 * res.gap) + 1e-9
        assert np.all(np.abs(g[~nz]) <= w[~nz] + eps)
        np.testing.assert_allclose(g[nz], w[nz] * np.sign(x[nz]), atol=eps)


def test_sklearn_api():
    est = GeneralizedTransLasso(0.3, 0.1, kappa=0.5, dlam=0.2, solver="fast")
    params = est.get_params()
    assert params["kappa"] == 0.5 and params["dlam"] == 0.2 and params["fit_intercept"] is False
    est.set_params(kappa=0.7)
    assert clone(est).kappa == 0.7
    target, sources = make_transfer(12, N=30, rows=(20, 60))
    est.fit(target, sources)
    X0, y0 = target
    np.testing.assert_allclose(est.predict(X0), X0 @ est.coef_)
    # score is the R^2 of the target prediction, written out independently; on a fresh
    # sample of the target model it stays well above 0 (transfer works) and below 1 (noise)
    Xt, yt = make_transfer(12, N=30, rows=(200, 60))[0]
    resid = yt - Xt @ est.coef_
    r2 = 1.0 - resid @ resid / np.sum((yt - yt.mean()) ** 2)
    assert est.score(Xt, yt) == pytest.approx(r2, rel=1e-12)
    assert 0.5 < r2 < 0.999
    with pytest.raises(ValueError, match="features"):
        est.predict(X0[:, :10])
