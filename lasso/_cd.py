"""Numba kernels: cyclic coordinate descent for the weighted Lasso on a working set.

Problem (derived; the generic weighted Lasso):

.. math::

    \\min_x\\ \\tfrac12\\|b - A x\\|_2^2 + \\sum_j w_j |x_j|,\\qquad w_j \\in [0, \\infty].

``A`` is Fortran-ordered so that a column is contiguous. The residual ``r = b - A x`` is
updated in place, as is ``x``. All kernels are compiled with ``cache=True``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath=True)
def _col_dot(A, j, r):
    s = 0.0
    for i in range(A.shape[0]):
        s += A[i, j] * r[i]
    return s


@njit(cache=True, fastmath=True)
def _col_axpy(A, j, d, r):
    for i in range(A.shape[0]):
        r[i] -= d * A[i, j]


@njit(cache=True)
def cd_working_set(A, r, x, w, L, ws, tol, max_epochs):
    """Cyclic coordinate descent on the coordinates ``ws`` until one epoch decreases the
    objective by at most ``tol`` or ``max_epochs`` epochs have run.

    For exact coordinate minimisation the decrease of an epoch is
    ``sum_j ||A_j||^2 dx_j^2 / 2 + (penalty terms >= 0)``; we use the first sum, which costs
    nothing to accumulate. The caller checks the duality gap (one pass over all of ``A``).

    Returns the number of epochs run.
    """
    for epoch in range(max_epochs):
        decrease = 0.0
        for jj in range(ws.shape[0]):
            j = ws[jj]
            Lj = L[j]
            if Lj == 0.0:
                continue
            xj = x[j]
            z = xj + _col_dot(A, j, r) / Lj
            t = w[j] / Lj
            if z > t:
                new = z - t
            elif z < -t:
                new = z + t
            else:
                new = 0.0
            if new != xj:
                d = new - xj
                _col_axpy(A, j, d, r)
                x[j] = new
                decrease += 0.5 * Lj * d * d
        if not np.isfinite(decrease):
            return epoch + 1
        if decrease <= tol:
            return epoch + 1
    return max_epochs
