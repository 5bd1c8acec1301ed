"""Shared test data and independent cvxpy formulations of the published objectives."""

from __future__ import annotations

import cvxpy as cp
import numpy as np

CLARABEL = dict(solver=cp.CLARABEL, tol_gap_abs=1e-13, tol_gap_rel=1e-13, tol_feas=1e-13)


def gaussian_design(rng, M, N):
    return rng.standard_normal((M, N)) / np.sqrt(N)


def make_transfer(seed, N=60, rows=(30, 120), sigma=0.1, shift=0.0, n_sources=1):
    """Target + sources with A ~ N(0, 1/N) and related Bernoulli-Gaussian truths."""
    rng = np.random.default_rng(seed)
    r = rng.standard_normal(N) * (rng.random(N) < 0.2)
    data = []
    counts = list(rows) + [rows[-1]] * (n_sources + 1 - len(rows))
    for k, M in enumerate(counts[: n_sources + 1]):
        rk = r + (shift * rng.standard_normal(N) * (rng.random(N) < 0.1) if k else 0.0)
        X = gaussian_design(rng, M, N)
        y = X @ rk + sigma * rng.standard_normal(M) + (0.3 * k if shift else 0.0)
        data.append((X, y))
    return data[0], data[1:]


def cvx_lasso(A, b, weights, offset=None, intercept=False):
    """argmin 1/2||b - offset - c - A x||^2 + sum w|x| solved by cvxpy (test-own)."""
    N = A.shape[1]
    x = cp.Variable(N)
    c = cp.Variable() if intercept else 0.0
    w = np.asarray(weights, dtype=float) * np.ones(N)
    fin = np.isfinite(w)
    off = 0.0 if offset is None else offset
    cons = [x[np.flatnonzero(~fin)] == 0] if (~fin).any() else []
    obj = 0.5 * cp.sum_squares(b - off - c - A @ x) + w[fin] @ cp.abs(x[np.flatnonzero(fin)])
    cp.Problem(cp.Minimize(obj), cons).solve(**CLARABEL)
    return np.asarray(x.value), (float(c.value) if intercept else 0.0)


def clean(x, tol=1e-9):
    x = np.array(x, dtype=float)
    x[np.abs(x) <= tol * max(1.0, np.abs(x).max())] = 0.0
    return x
