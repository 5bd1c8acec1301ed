"""Cross-validation on finite data picks the restricted strategy that the replica theory
recommends (issue 3, acceptance 3, second part).

Scenarios A, B, C of docs/translasso_theory.md (K = 2, alpha = (0.5, 4), sigma = 0.1): the theory
recommends dlam = 0 (vector transfer) in A and kappa = 0 (support transfer) in B and C, with
regrets of the other restricted strategy of 16-27%. One instance per scenario at N = 2000 is
cross-validated with :class:`lasso.GeneralizedTransLassoCV` (5 folds, lam1 by the target CV
error as in the theory's "target" rule); the better of the CV errors of the dlam = 0 and
kappa = 0 sub-grids must name the theory's strategy.
"""

import warnings

import numpy as np
import pytest

import lasso
import replica

pytestmark = pytest.mark.slow

_SCENARIOS = {
    # name: (pi_common, pi_unique, corr, theory's recommendation)
    "A": (0.10, 0.02, 1.0, "dlam0"),
    "B": (0.06, 0.06, 1.0, "kappa0"),
    "C": (0.10, 0.02, 0.5, "kappa0"),
}


def _scenario(pc, pu, corr):
    prior = replica.support_prior(pc, [pu, pu], corr=corr)
    return replica.TransferScenario((0.5, 4.0), (0.1, 0.1), prior)


@pytest.mark.parametrize("name", sorted(_SCENARIOS))
def test_cv_strategy_matches_replica_recommendation(name):
    pc, pu, corr, expected = _SCENARIOS[name]
    sc = _scenario(pc, pu, corr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", replica.ConvergenceWarning)
        rec = replica.recommend(sc, "target")
    assert rec.strategy == expected  # the theory side of docs/translasso_theory.md

    sample = sc.sample(2000, np.random.default_rng([2024, ord(name)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = lasso.GeneralizedTransLassoCV(
            strategy="full", cv=5, lam1_cv="target", random_state=0, n_jobs=2,
            progress=False,
        ).fit(sample.target, sample.sources)
    table = est.strategy_table(("full", "dlam0", "kappa0")).set_index("strategy")
    cv_pick = "dlam0" if table.loc["dlam0", "cv_mse"] <= table.loc["kappa0", "cv_mse"] \
        else "kappa0"
    assert cv_pick == rec.strategy, table
    # the cross-validated restricted strategy is close to the full CV search, as predicted
    assert table.loc[cv_pick, "cv_mse"] <= 1.1 * table.loc["full", "cv_mse"]
