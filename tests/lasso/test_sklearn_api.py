"""scikit-learn compatibility in the stacked form ``fit(X, y, groups=g)``: the estimator
checks, clone / Pipeline / cross_val_score, GridSearchCV with grouped data (groups routed to
``fit`` and ``score``), and the stacked form against the dataset form."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from lasso import (
    GeneralizedTransLasso,
    GeneralizedTransLassoCV,
    PooledLasso,
    PretrainingLasso,
    TargetLasso,
    TransLasso,
)

from ._helpers import make_transfer

ESTIMATORS = [
    GeneralizedTransLasso(),
    TargetLasso(),
    PooledLasso(),
    PretrainingLasso(),
    TransLasso(),
    GeneralizedTransLassoCV(progress=False, n_lam1=4, n_lam2=4, kappa_grid=[0.0, 1.0],
                            pt_alpha_grid=[0.5]),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    """Every check applies and passes (no expected failures): without ``groups`` every row is
    a target row, so the checks' plain ``fit(X, y)`` is a well-defined fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # CV grid-edge notices on random data
        check(estimator)


def _stacked(seed=0, **kw):
    target, sources = make_transfer(seed, **kw)
    X = np.vstack([target[0]] + [X for X, _ in sources])
    y = np.concatenate([target[1]] + [y for _, y in sources])
    groups = np.concatenate([np.full(target[0].shape[0], "tgt")]
                            + [np.full(X.shape[0], f"src{k}") for k, (X, _) in
                               enumerate(sources)])
    return target, sources, X, y, groups


@pytest.mark.parametrize("make", [
    lambda: GeneralizedTransLasso(0.3, 0.1, 0.8, 0.05, tol=1e-12),
    lambda: PooledLasso(0.2, tol=1e-12),
    lambda: PretrainingLasso(0.4, 0.3, 0.1, tol=1e-12),
    lambda: TargetLasso(0.1, tol=1e-12),
    lambda: TransLasso(0.3, 0.1, tol=1e-12),
])
def test_stacked_form_equals_dataset_form(make):
    target, sources, X, y, groups = _stacked(1, N=30, rows=(25, 60), n_sources=2)
    a = make().fit(target, sources)
    # target rows moved last, rows within each dataset in order (TransLasso's held-out split
    # is drawn over the target rows): the labels, not the row order, define the datasets
    order = np.argsort(groups == "tgt", kind="stable")
    b = make().set_params(target_group="tgt").fit(X[order], y[order], groups=groups[order])
    np.testing.assert_allclose(b.coef_, a.coef_, atol=1e-6)
    X0, y0 = target
    keep = groups == "tgt"
    assert b.score(X, y, groups=groups) == pytest.approx(b.score(X0, y0))
    assert b.score(X, y, groups=groups) != pytest.approx(b.score(X[~keep], y[~keep]))


def test_without_groups_every_row_is_target():
    target, _, X, y, _ = _stacked(2, N=30, rows=(25, 60))
    a = GeneralizedTransLasso(0.3, 0.1, 0.0, 0.0, tol=1e-12).fit(X, y)
    b = TargetLasso(0.1, tol=1e-12).fit((X, y))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)


def test_clone_pipeline_and_cross_val_score():
    target, sources, X, y, groups = _stacked(3, N=30, rows=(40, 80))
    est = GeneralizedTransLasso(0.3, 0.1, kappa=0.5, dlam=0.2, target_group="tgt")
    assert clone(est).get_params() == est.get_params()
    pipe = make_pipeline(FunctionTransformer(), est)
    with sklearn.config_context(enable_metadata_routing=True):
        est.set_fit_request(groups=True).set_score_request(groups=True)
        pipe.fit(X, y, groups=groups)
        np.testing.assert_allclose(pipe.predict(target[0]),
                                   clone(est).fit(target, sources).predict(target[0]))
        scores = cross_val_score(est, X, y, params={"groups": groups},
                                 cv=_target_splits(groups, 4))
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    # the held-out R^2 of fold k is the R^2 of an independent refit without that fold
    train, test = _target_splits(groups, 4)[0]
    ref = GeneralizedTransLasso(0.3, 0.1, kappa=0.5, dlam=0.2, target_group="tgt")
    ref.fit(X[train], y[train], groups=groups[train])
    resid = y[test] - ref.predict(X[test])
    r2 = 1 - resid @ resid / np.sum((y[test] - y[test].mean()) ** 2)
    assert scores[0] == pytest.approx(r2)


def _target_splits(groups, k):
    """K folds over the target rows; every source row is always in training."""
    tgt = np.flatnonzero(groups == "tgt")
    src = np.flatnonzero(groups != "tgt")
    out = []
    for tr, te in KFold(k, shuffle=True, random_state=0).split(tgt):
        out.append((np.sort(np.concatenate([tgt[tr], src])), tgt[te]))
    return out


def test_grid_search_over_generalized_trans_lasso_with_groups():
    """GridSearchCV with grouped stacked data: groups reach fit and score by metadata
    routing; the chosen point equals a brute-force evaluation written out here."""
    target, sources, X, y, groups = _stacked(4, N=30, rows=(40, 90))
    grid = {"kappa": [0.0, 0.5, 1.0], "dlam": [0.0, 0.3], "lam2": [0.3, 0.05]}
    splits = _target_splits(groups, 3)
    est = GeneralizedTransLasso(0.3, target_group="tgt", tol=1e-12)
    with sklearn.config_context(enable_metadata_routing=True):
        est.set_fit_request(groups=True).set_score_request(groups=True)
        gs = GridSearchCV(est, grid, cv=splits, scoring="neg_mean_squared_error")
        gs.fit(X, y, groups=groups)
    brute = {}
    for kappa in grid["kappa"]:
        for dlam in grid["dlam"]:
            for lam2 in grid["lam2"]:
                errs = []
                for train, test in splits:
                    is_t = groups[train] == "tgt"
                    srcs = [(X[train][groups[train] == g], y[train][groups[train] == g])
                            for g in sorted(set(groups[train][~is_t]))]
                    m = GeneralizedTransLasso(0.3, lam2, kappa, dlam, tol=1e-12)
                    m.fit((X[train][is_t], y[train][is_t]), srcs)
                    errs.append(np.mean((y[test] - m.predict(X[test])) ** 2))
                brute[(kappa, dlam, lam2)] = np.mean(errs)
    kappa, dlam, lam2 = min(brute, key=brute.get)
    assert gs.best_params_ == {"kappa": kappa, "dlam": dlam, "lam2": lam2}
    assert -gs.best_score_ == pytest.approx(brute[(kappa, dlam, lam2)], rel=1e-8)
    assert gs.best_estimator_.target_group == "tgt"
