r"""Anderson-accelerated damped fixed-point steps shared by the stage-1 and stage-2 kernels.

For a map :math:`F` with residual :math:`g_k=F(x_k)-x_k`, the type-II Anderson step with
memory :math:`m` and mixing :math:`\beta` (Walker & Ni 2011) is

.. math::

    \gamma=\arg\min_\gamma\|g_k-\Delta G\,\gamma\|_2,\qquad
    x_{k+1}=x_k+\beta g_k-(\Delta X+\beta\,\Delta G)\gamma,

with :math:`\Delta X,\Delta G` the last :math:`m` differences of iterates and residuals.
Safeguards (ours): the history is cleared and a plain damped step
:math:`x_{k+1}=x_k+\beta g_k` is taken whenever the residual grew by more than a factor
``restart`` (2, :class:`replica.solver.SolverOptions`), the extrapolated point is not
finite, or it leaves the admissible set (components flagged ``positive`` must stay
:math:`\ge0`).

The kernels avoid numpy array expressions and ``np.linalg``: both make numba compile error
formatting and LAPACK bindings, which dominated the first-run time of the package (explicit
loops give the same numbers and compile in a fraction of the time).

A run's memory is one float array ``hist`` of shape ``(2 m + 3, n)``: rows ``0..m-1`` hold
:math:`\Delta X`, rows ``m..2m-1`` hold :math:`\Delta G`, row ``2m`` the previous iterate, row
``2m+1`` the previous residual vector and row ``2m+2`` the scalars ``(count, previous residual
norm)`` (``count < 0``: no previous point).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "CONVERGED",
    "MAX_ITER",
    "NONFINITE",
    "RUNNING",
    "new_run",
    "fixed_point_step",
]

# status codes of a fixed-point run (returned by the stage kernels)
CONVERGED, MAX_ITER, NONFINITE, RUNNING = 0, 1, 2, -1


@njit(cache=True, error_model="numpy")
def new_run(x0, memory, nonneg):
    """Start of a run: ``(x, hist, positive)``.

    ``x`` is a copy of ``x0``; ``hist`` the empty Anderson memory (layout in the module
    docstring); ``positive`` flags the components ``nonneg = (i, j)`` that must stay >= 0.
    """
    n = x0.shape[0]
    x = np.empty(n)
    positive = np.empty(n, dtype=np.bool_)
    for t in range(n):
        x[t] = x0[t]
        positive[t] = t == nonneg[0] or t == nonneg[1]
    hist = np.empty((2 * memory + 3, n))
    for i in range(2 * memory + 3):
        for t in range(n):
            hist[i, t] = 0.0
    hist[2 * memory + 2, 0] = -1.0  # no previous point
    hist[2 * memory + 2, 1] = math.inf  # previous residual norm
    return x, hist, positive


@njit(cache=True, error_model="numpy")
def _push_difference(x, fx, hist, memory, count):
    """Append (x - last x, g - last g) to the ordered history (oldest dropped when full)."""
    n = x.shape[0]
    if count == memory:
        for j in range(memory - 1):
            for t in range(n):
                hist[j, t] = hist[j + 1, t]
                hist[memory + j, t] = hist[memory + j + 1, t]
        count = memory - 1
    for t in range(n):
        g = fx[t] - x[t]
        hist[count, t] = x[t] - hist[2 * memory, t]
        hist[memory + count, t] = g - hist[2 * memory + 1, t]
    return count + 1


@njit(cache=True, error_model="numpy")
def _extrapolate(x, fx, hist, memory, count, ctrl):
    """Anderson extrapolation from ``count`` stored differences: ``(point, usable)``."""
    n = x.shape[0]
    a = np.empty((count, count))
    b = np.empty(count)
    scale = 0.0
    for i in range(count):
        for j in range(count):
            s = 0.0
            for t in range(n):
                s += hist[memory + i, t] * hist[memory + j, t]
            a[i, j] = s
        s = 0.0
        for t in range(n):
            s += hist[memory + i, t] * (fx[t] - x[t])
        b[i] = s
        scale = max(scale, a[i, i])
    new = np.empty(n)
    if not (scale > 0.0) or not math.isfinite(scale):
        return new, False
    for i in range(count):
        a[i, i] += ctrl[5] * scale  # ridge, relative to the largest diagonal entry
    # solve a gam = b: Gaussian elimination with partial pivoting (count is a few)
    for col in range(count):
        piv = col
        for r in range(col + 1, count):
            if abs(a[r, col]) > abs(a[piv, col]):
                piv = r
        for j in range(count):
            a[col, j], a[piv, j] = a[piv, j], a[col, j]
        b[col], b[piv] = b[piv], b[col]
        for r in range(col + 1, count):
            f = a[r, col] / a[col, col]
            for j in range(col, count):
                a[r, j] -= f * a[col, j]
            b[r] -= f * b[col]
    gam = np.empty(count)
    beta = 1.0 - ctrl[0]
    for r in range(count - 1, -1, -1):
        acc = b[r]
        for j in range(r + 1, count):
            acc -= a[r, j] * gam[j]
        gam[r] = acc / a[r, r]
    for t in range(n):
        new[t] = x[t] + beta * (fx[t] - x[t])
        for j in range(count):
            new[t] -= (hist[j, t] + beta * hist[memory + j, t]) * gam[j]
    return new, True


@njit(cache=True, error_model="numpy", inline="always")
def fixed_point_step(x, fx, hist, ctrl, positive):
    """Convergence check and accelerated step: returns ``(next, residual, status)``.

    ``ctrl = (damping, tol, max_iter, memory, restart, ridge)``
    (:meth:`replica.solver.SolverOptions.ctrl`); status is :data:`CONVERGED` (``next`` is
    ``fx``), :data:`NONFINITE` (``next`` is ``x``) or :data:`RUNNING` (``next`` is the
    Anderson step, or the damped step ``x + (1 - damping)(fx - x)``). ``hist`` (module
    docstring) is updated in place; components flagged in ``positive`` must stay >= 0.
    Inlined into the loop (``inline="always"``): compiled once, as part of it.
    """
    n = x.shape[0]
    res = 0.0
    for t in range(n):
        if not math.isfinite(fx[t]):
            return x, math.inf, NONFINITE
        d = abs(fx[t] - x[t])
        if d > res:
            res = d
    if res <= ctrl[1]:
        return fx, res, CONVERGED
    beta = 1.0 - ctrl[0]
    memory = (hist.shape[0] - 3) // 2
    meta = 2 * memory + 2
    damped = np.empty(n)
    for t in range(n):
        damped[t] = x[t] + beta * (fx[t] - x[t])
    if memory == 0:
        return damped, res, RUNNING
    count = int(hist[meta, 0])
    if count >= 0 and res > ctrl[4] * hist[meta, 1]:
        count = -1  # restart
    count = _push_difference(x, fx, hist, memory, count) if count >= 0 else 0
    for t in range(n):
        hist[2 * memory, t] = x[t]
        hist[2 * memory + 1, t] = fx[t] - x[t]
    hist[meta, 1] = res
    if count > 0:
        new, ok = _extrapolate(x, fx, hist, memory, count, ctrl)
        for t in range(n):
            if not math.isfinite(new[t]) or (positive[t] and new[t] < 0.0):
                ok = False
        if ok:
            hist[meta, 0] = count
            return new, res, RUNNING
        count = 0
    hist[meta, 0] = count
    return damped, res, RUNNING
