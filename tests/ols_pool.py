"""Whitening of a finite population for the exact OLS-risk Monte Carlo checks (tests of
``dynamics.ols_expansion`` and ``dynamics.ols_leverage``)."""

import numpy as np


def whiten_pool(Z, Y, intercept=True):
    """Whitened regressors ``U`` (``U^T U / P = I``; eigh, independent of the code under test)
    and the population least-squares residual ``e`` of the pool ``(Z, Y)``."""
    W = np.hstack([np.ones((len(Z), 1)), Z]) if intercept else Z
    w, Q = np.linalg.eigh(W.T @ W / len(W))
    U = W @ Q / np.sqrt(w)
    coef, *_ = np.linalg.lstsq(W, Y, rcond=None)
    return U, Y - W @ coef


def mc_ols_excess(U, e, n, reps, seed):
    """Mean and s.e. of the exact OLS excess risk ``|(U_S^T U_S)^{-1} U_S^T e_S|^2`` over
    ``reps`` samples ``S`` of ``n`` rows drawn with replacement (whitened coordinates)."""
    rng = np.random.default_rng(seed)
    x = np.empty(reps)
    for r in range(reps):
        i = rng.integers(0, len(U), n)
        h = np.linalg.solve(U[i].T @ U[i], U[i].T @ e[i])
        x[r] = np.sum(h * h)
    return x.mean(), x.std(ddof=1) / np.sqrt(reps)
