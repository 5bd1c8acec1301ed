"""Linear reconstruction-transfer bridge: hand cases and Monte Carlo of the OLS head."""

import numpy as np
import pytest

import dynamics.reconstruction_transfer as rt
from dynamics.errors import NotIdentifiableError
from dynamics.linear_reconstruction import subspace_distance


def _ols_mc(task, pb, E, n, reps, seed):
    errs = []
    for r in range(reps):
        X, _, Y = task.sample(n, np.random.default_rng([seed, r]))
        A = np.hstack([np.ones((n, 1)), X @ E.T])
        c, *_ = np.linalg.lstsq(A, Y, rcond=None)
        errs.append(rt.population_risk(pb, c[1:].T @ E, c[0]))
    errs = np.array(errs)
    return errs.mean(), errs.std(ddof=1) / np.sqrt(reps)


def test_population_residual_hand_case():
    lam = np.array([3.0, 2.0, 1.0, 0.5])
    bt = np.array([[1.0, 0.0, 2.0, 1.0]])
    task = rt.GaussianTransferTask(lam, np.eye(4)[:1], bt, 0.1, 0.2)
    pb = task.problem()
    E = np.eye(4)[[0, 2]]  # features x_1, x_3
    # residual = noise + the part of beta on the dropped coordinates
    expected = 0.2 ** 2 + 0.0 ** 2 * 2.0 + 1.0 ** 2 * 0.5
    assert rt.population_residual(pb, E) == pytest.approx(expected, rel=1e-12)
    assert rt.population_residual(pb, 5 * E) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("alpha,n", [(0.01, 20), (1.0, 40), (1000.0, 25)])
def test_gaussian_ols_prediction_matches_monte_carlo(alpha, n):
    task = rt.GaussianTransferTask.low_variance_target(D=20, seed=1)
    pb = task.problem()
    K = 4
    E, _ = rt.source_encoder(pb, alpha, K)
    pred = rt.predict_target_error(pb, alpha, K, n)
    mean, se = _ols_mc(task, pb, E, n, 600, seed=7)
    assert abs(mean - pred.target_error) < 3 * se + 1e-12


def test_no_intercept_formula_matches_monte_carlo():
    task = rt.GaussianTransferTask.low_variance_target(D=12, seed=3)
    pb = task.problem()
    E, _ = rt.source_encoder(pb, 0.1, 3)
    pred = rt.predict_target_error(pb, 0.1, 3, 15, intercept=False)
    errs = []
    for r in range(600):
        X, _, Y = task.sample(15, np.random.default_rng([11, r]))
        c, *_ = np.linalg.lstsq(X @ E.T, Y, rcond=None)
        errs.append(rt.population_risk(pb, c.T @ E, 0.0))
    errs = np.array(errs)
    assert abs(errs.mean() - pred.target_error) < 3 * errs.std(ddof=1) / np.sqrt(600)


def test_large_alpha_is_pca_and_hurts_low_variance_target():
    task = rt.GaussianTransferTask.low_variance_target(D=20, seed=0)
    pb = task.problem()
    E, _ = rt.source_encoder(pb, 1e6, 4)
    assert subspace_distance(E, np.eye(20)[:4]) < 1e-6  # diagonal covariance, decreasing
    lo = rt.predict_target_error(pb, 1e-3, 4, 50).target_error
    hi = rt.predict_target_error(pb, 1e6, 4, 50).target_error
    assert hi > 3 * lo


def test_sandwich_equals_gaussian_for_gaussian_population():
    task = rt.GaussianTransferTask.low_variance_target(D=10, seed=2)
    X, ys, yt = task.sample(200000, seed=5)
    pb = rt.LinearTransferProblem.from_data(X, ys, yt)
    g = rt.predict_target_error(pb, 0.1, 3, 30, estimation="gaussian")
    s = rt.predict_target_error(pb, 0.1, 3, 30, estimation="sandwich")
    assert s.estimation_error == pytest.approx(g.estimation_error, rel=0.03)


def test_alpha_zero_with_wide_encoder_is_not_identifiable():
    task = rt.GaussianTransferTask.low_variance_target(D=10, n_source=2, seed=0)
    pb = task.problem()
    with pytest.raises(NotIdentifiableError, match="not unique"):
        rt.source_encoder(pb, 0.0, 4)
    E, _ = rt.source_encoder(pb, 0.0, 2)  # K = number of source outputs: fine
    assert E.shape == (2, 10)


def test_table_and_best_alpha():
    pb = rt.GaussianTransferTask.low_variance_target(D=16, seed=0).problem()
    tab = rt.transfer_error_table(pb, [0.0, 0.01, 100.0], [4, 5], [8, 40])
    bad = tab[tab["status"] != "ok"]
    assert set(bad["alpha"]) == {0.0}  # alpha = 0 with K > 3 source outputs
    assert bad["status"].str.contains("not identifiable").sum() == 4
    best = rt.best_alpha(tab)
    assert (best["alpha"] == 0.01).all()
