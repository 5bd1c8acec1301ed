"""Stacking and centring of datasets (internal module of :mod:`lasso`)."""

from __future__ import annotations

import numpy as np


def stack_fortran(Xs) -> np.ndarray:
    """Stack 2-D arrays row-wise into one Fortran-ordered float64 array (one copy)."""
    n = sum(X.shape[0] for X in Xs)
    out = np.empty((n, Xs[0].shape[1]), dtype=np.float64, order="F")
    i = 0
    for X in Xs:
        out[i : i + X.shape[0]] = X
        i += X.shape[0]
    return out


def center(X, y, fit_intercept: bool):
    """Return ``(Xc, yc, x_mean, y_mean)``; without intercept the means are zero and the
    arrays are returned unchanged.

    Centring each dataset by its own means is the same as fitting an unpenalised intercept per
    dataset (profiling the intercept out of the squared loss)."""
    if not fit_intercept:
        return X, y, np.zeros(X.shape[1]), 0.0
    xm = X.mean(axis=0)
    ym = float(y.mean())
    return X - xm, y - ym, xm, ym
