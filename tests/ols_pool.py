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
