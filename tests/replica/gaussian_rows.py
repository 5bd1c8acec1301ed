"""Simulation of the Generalized Trans-Lasso on Gaussian rows of a covariance design, shared
by the Sigma-theory tests."""

import math
import warnings

import numpy as np

import lasso


def simulate_target_errors(design, scenario, hypers, seeds):
    """Mean and s.e. over ``seeds`` of the target error ``||x2 - r0||^2 / N`` for each
    hyperparameter tuple of ``hypers`` (same instance for every strategy of a seed)."""
    N = design.n_features
    Ms = scenario.n_samples(N)
    out = {s: [] for s in hypers}
    for seed in seeds:
        rng = np.random.default_rng([seed, N, 5])
        truth = scenario.prior.sample(N, rng)
        As = [design.sample_design(m, rng) for m in Ms]
        ys = [As[k] @ truth[k] + scenario.sigmas[k] * rng.standard_normal(m)
              for k, m in enumerate(Ms)]
        for s, h in hypers.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", lasso.ConvergenceWarning)
                est = lasso.GeneralizedTransLasso(*h, tol=1e-10, max_iter=100_000)
                est.fit((As[0], ys[0]), [(As[1], ys[1])])
            out[s].append(np.mean((est.coef_ - truth[0]) ** 2))
    return {s: (float(np.mean(v)), float(np.std(v, ddof=1) / math.sqrt(len(v))))
            for s, v in out.items()}
