"""Replica predictions against a small finite-N simulation with scikit-learn (issue 2, acc. 3).

The estimator is implemented here directly with scikit-learn's coordinate descent (column
rescaling for the per-feature stage-2 penalties), independently of the ``lasso`` package.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

import replica as rp


def _weighted_lasso(a, y, weights):
    """argmin 1/2 ||y - a x||^2 + sum_i weights_i |x_i| (weights > 0)."""
    m = a.shape[0]
    model = Lasso(alpha=1.0 / m, fit_intercept=False, tol=1e-12, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(a / weights, y)
    return model.coef_ / weights


def _simulate(scenario, hyper, n, seed):
    sample = scenario.sample(n, np.random.default_rng(seed))
    a_all = np.vstack(sample.designs)
    y_all = np.concatenate(sample.responses)
    x1 = _weighted_lasso(a_all, y_all, np.full(n, hyper.lam1))
    a0, y0 = sample.target
    support = x1 != 0
    w2 = hyper.lam2 + hyper.dlam * (~support)
    x2 = _weighted_lasso(a0, y0 - hyper.kappa * a0 @ x1, w2)
    r0 = sample.truth[0]
    xhat = hyper.kappa * x1 + x2
    return {
        "mse1": np.mean((x1 - r0) ** 2),
        "mse2": np.mean((xhat - r0) ** 2),
        "density2": np.mean(x2 != 0),
        "Q2": np.mean(x2**2),
        "R": np.mean(x1 * x2),
    }


def _point_mass_k3():
    means = np.array([[1, 1, 1], [-1, -1, -1], [0.7, 0, 0], [0, 0.7, 0.7], [0, 0, 0]], float)
    return rp.GaussianMixturePrior([0.05, 0.05, 0.04, 0.04, 0.82], means, np.zeros((5, 3, 3)))


SETTINGS = [
    ("P1-like, both transfers", rp.TransferScenario((1.0, 2.0), (0.5, 0.5), rp.support_prior(
        0.15, [0.05, 0.05], corr=0.8)), rp.TransLassoHyper(0.3, 0.2, 0.5, 0.5)),
    ("Trans-Lasso", rp.TransferScenario((0.6, 3.0), (0.2, 0.2), rp.support_prior(
        0.1, [0.02, 0.02])), rp.TransLassoHyper(0.25, 0.08, 1.0, 0.0)),
    ("K=3 point masses, kappa=0", rp.TransferScenario((0.7, 1.5, 1.5), (0.2, 0.3, 0.3),
                                                      _point_mass_k3()),
     rp.TransLassoHyper(0.35, 0.1, 0.0, 0.6)),
]


@pytest.mark.parametrize("name,scenario,hyper", SETTINGS, ids=[s[0] for s in SETTINGS])
def test_theory_matches_simulation(name, scenario, hyper):
    theory = rp.solve_trans_lasso(scenario, hyper, strict=True)
    runs = [_simulate(scenario, hyper, 1000, seed) for seed in range(4)]
    for q in ("mse1", "mse2", "density2", "Q2", "R"):
        vals = np.array([r[q] for r in runs])
        mean, se = vals.mean(), vals.std(ddof=1) / np.sqrt(len(vals))
        th = getattr(theory, q)
        # errors and densities: within 4 standard errors; the overlaps Q2, R (s.e. from only 4
        # seeds, O(1/N) finite-size bias) get an extra 1% floor
        floor = 0.0 if q in ("mse1", "mse2", "density2") else 0.01 * abs(th)
        assert abs(mean - th) <= 4 * se + floor, (name, q, th, mean, se)
