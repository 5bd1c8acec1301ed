"""Sigma theory of both stages (replica.covariance) against the i.i.d. solver (Sigma = I),
Gaussian-rows simulations with the digits pixel covariance, and a slow CD oracle."""

import math

import numpy as np
import pytest
from sklearn.datasets import load_digits

import replica
from replica.covariance import MonteCarlo, batched_quadratic_lasso, solve_covariance
from replica.design import CovarianceDesign
from tests.replica.gaussian_rows import simulate_target_errors

_SC = replica.TransferScenario((2.0, 6.0), (0.1, 0.1),
                               replica.support_prior(0.10, [0.02, 0.02]))
# i.i.d.-optimal hyperparameters of _SC (replica.strategy_table(_SC, "target"))
_HYPERS = {
    "full": (0.39119, 0.134192, 1.035028, 0.151298),
    "dlam0": (0.39119, 0.177700, 1.034566, 0.0),
    "kappa0": (0.39119, 0.101964, 0.0, 0.197814),
    "trans_lasso": (0.39119, 0.174958, 1.0, 0.0),
    "pretraining_lasso": (0.39119, 0.129888, 0.9999, 1298.746714),
    "target_lasso": (0.39119, 0.143620, 0.0, 0.0),
}


def _digits_sigma():
    X = load_digits().data
    X = X[:, X.std(0) > 0]
    return CovarianceDesign.from_rows(X, name="digits")


def test_batched_cd_matches_scipy_oracle():
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    n = 12
    G = rng.standard_normal((30, n))
    S = G.T @ G / 30
    B = rng.standard_normal((3, n))
    W = np.abs(rng.standard_normal((3, n))) * 0.5
    q = np.array([0.7, 1.0, 2.0])
    X = np.zeros((3, n))
    assert batched_quadratic_lasso(S, q, B, W, X, 1e-12, 10_000) > 0
    for s in range(3):
        # smooth split x = u - v, u, v >= 0: bound-constrained QP (independent oracle)
        def f(z, s=s):
            u, v = z[:n], z[n:]
            x = u - v
            return 0.5 * q[s] * x @ S @ x - B[s] @ x + W[s] @ (u + v)

        def g(z, s=s):
            x = z[:n] - z[n:]
            gx = q[s] * S @ x - B[s]
            return np.r_[gx + W[s], -gx + W[s]]

        r = minimize(f, np.zeros(2 * n), jac=g, bounds=[(0, None)] * (2 * n), method="L-BFGS-B",
                     options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000})
        np.testing.assert_allclose(X[s], r.x[:n] - r.x[n:], atol=1e-5)


def test_identity_sigma_reproduces_iid_theory():
    """Sigma = I is the i.i.d. theory: every output within 3 Monte Carlo s.e."""
    h = replica.TransLassoHyper(0.3, 0.1, 0.5, 0.2)
    sc = replica.TransferScenario((0.5, 4.0), (0.1, 0.1),
                                  replica.support_prior(0.1, [0.02, 0.02]))
    iid = replica.solve_trans_lasso(sc, h)
    th = solve_covariance(sc, CovarianceDesign(np.eye(120)), h, mc=MonteCarlo(None, 8, 1))
    assert th.converged
    for name, want in (("mse1", iid.mse1), ("mse2", iid.mse2), ("density1", iid.density1),
                       ("density2", iid.density2), ("chi2", iid.chi2), ("Q2", iid.Q2),
                       ("R", iid.R), ("eps2", iid.eps2)):
        err = getattr(th, name + "_se")
        assert 0 < err < 0.1 * abs(want) + 1e-3, (name, err)
        assert abs(getattr(th, name) - want) < 3 * err, (name, getattr(th, name), err, want)


def _check_digits(strategies, n_seeds):
    d = _digits_sigma()
    hypers = {s: _HYPERS[s] for s in strategies}
    sim = simulate_target_errors(d, _SC, hypers, range(n_seeds))
    iid = replica.strategy_table(_SC, "target").set_index("strategy")["mse2"]
    for s, h in hypers.items():
        th = solve_covariance(_SC, d, replica.TransLassoHyper(*h))
        mean, se = sim[s]
        z = (mean - th.mse2) / math.hypot(se, th.mse2_se)
        assert abs(z) < 2.0, (s, th.mse2, th.mse2_se, mean, se)
        # the i.i.d. theory is far off on this covariance (the check has power)
        assert (mean - iid[s]) / se > 4.0, (s, iid[s], mean, se)


def test_sigma_theory_vs_gaussian_rows_digits_small():
    """Two strategies, N = 61 digits covariance, 120 seeds (default suite)."""
    _check_digits(("trans_lasso", "kappa0"), 120)


@pytest.mark.slow
def test_sigma_theory_vs_gaussian_rows_digits_six_strategies():
    _check_digits(tuple(_HYPERS), 300)


def test_result_reports():
    d = CovarianceDesign(np.eye(40))
    sc = replica.TransferScenario((1.0,), (0.2,), replica.support_prior(0.0, [0.2]))
    r = solve_covariance(sc, d, 0.3, mc=MonteCarlo(20, 3, 0))
    assert r.converged and r.n_replicates == 3 and r.n_samples == 20
    dd = r.to_dict()
    assert dd["mse1"] == r.mse1 and dd["mse1_se"] == r.mse1_se and "mse2" not in dd
    again = solve_covariance(sc, d, 0.3, mc=MonteCarlo(20, 3, 0))
    assert again.mse1 == r.mse1  # same seed, same numbers
    with pytest.raises(replica.ConvergenceError):
        solve_covariance(sc, d, 0.3, mc=MonteCarlo(20, 3, 0), max_iter=2, strict=True)
    with pytest.warns(replica.ConvergenceWarning):
        solve_covariance(sc, d, 0.3, mc=MonteCarlo(20, 3, 0), max_iter=2)
