"""Diagnostic (not a timing): where does the digits bridge prediction miss at small n_t?

For the closed-form encoder of every alpha (K = 5, digits 1 -> 8 pool, the population of the
bridge experiment) the OLS head is resampled exactly: rows drawn with replacement from the pool,
the excess risk computed in whitened coordinates (the population risk of the fitted head minus
the population residual). That isolates the head-estimation error from the encoder training
(the experiment trains the encoder by L-BFGS). Printed per (alpha, n_t): Monte Carlo mean and
s.e. of the test error, the four predictions' relative errors, and the effective second-order
coefficient n^2 (E[excess] - a1/n) against c2, with the largest leverages of the pool.

Run from the repository root (about 15 s, plus about 3 min for the stratified column):
``OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/diagnose_bridge_head.py [reps]``.
"""

from __future__ import annotations

import math
import sys

import numpy as np

import dynamics.reconstruction_transfer as rt
from dynamics.ols_expansion import ols_expansion
from validation.experiments.reconstruction_perception import (
    ReconstructionPerceptionConfig,
    _bridge_setup,
)


def _whitened(Z, Y):
    W = np.hstack([np.ones((len(Z), 1)), Z - Z.mean(0)])
    w, Q = np.linalg.eigh(W.T @ W / len(W))
    U = W @ Q / np.sqrt(w)
    coef, *_ = np.linalg.lstsq(W, Y - Y.mean(0), rcond=None)
    return U, Y - Y.mean(0) - W @ coef


def excess_draws(U, e, n, reps, seed):
    """Exact OLS excess risk of ``reps`` heads fitted on ``n`` rows drawn with replacement,
    and its first-order part |g|^2 (mean exactly a1/n: a control variate)."""
    rng = np.random.default_rng(seed)
    out = np.empty((2, reps))
    for r in range(reps):
        i = rng.integers(0, len(U), n)
        g = U[i].T @ e[i] / n
        h = np.linalg.solve(U[i].T @ U[i] / n, g)
        out[:, r] = np.sum(h * h), np.sum(g * g)
    return out


def main(reps: int = 4000) -> None:
    cfg = ReconstructionPerceptionConfig()
    pb, _, _, _, _ = _bridge_setup("digits", cfg)
    X, Y = pb.samples
    K = cfg.bridge_K
    print("alpha  n_t  MC error (s.e.)    gauss  sandw  2nd-ord  lever  strat  "
          "| n^2(E-a1/n) vs c2 | q_max")
    for alpha in cfg.bridge_alphas:
        E, _ = rt.source_encoder(pb, alpha, K)
        U, e = _whitened(X @ E.T, Y)
        ex = ols_expansion(X @ E.T, Y)
        q = np.sort(np.sum(U * U, 1))
        for n in cfg.bridge_n_ts:
            x, g2 = excess_draws(U, e, n, reps, [11, n])
            d = x - g2  # beyond first order; E[g2] = a1 / n exactly
            mc = ex.residual_var + ex.a1 / n + d.mean()
            se = d.std(ddof=1) / math.sqrt(reps)
            rel = []
            for est in rt.ESTIMATIONS:
                try:
                    p = rt.predict_target_error(pb, alpha, K, n, estimation=est).target_error
                    rel.append(f"{100 * (p / mc - 1):+6.1f}%")
                except ValueError:
                    rel.append("  n/a  ")
            print(f"{alpha:<6g} {n:>4} {mc:.5f} ({se:.5f})  {' '.join(rel)}  | "
                  f"{n * n * d.mean():6.2f} +- {n * n * se:5.2f} vs {ex.c2:6.2f} | "
                  f"{q[-1]:.0f}, {q[-2]:.0f} (mean {q.mean():.0f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000)
