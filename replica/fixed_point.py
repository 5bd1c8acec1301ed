r"""Anderson-accelerated damped fixed-point steps shared by the stage-1 and stage-2 kernels.

For a map :math:`F` with residual :math:`g_k=F(x_k)-x_k`, the type-II Anderson step with
memory :math:`m` and mixing :math:`\beta` (Walker & Ni 2011) is

.. math::

    \gamma=\arg\min_\gamma\|g_k-\Delta G\,\gamma\|_2,\qquad
    x_{k+1}=x_k+\beta g_k-(\Delta X+\beta\,\Delta G)\gamma,

with :math:`\Delta X,\Delta G` the last :math:`m` differences of iterates and residuals.
Safeguards (ours): the history is cleared and a plain damped step
:math:`x_{k+1}=x_k+\beta g_k` is taken whenever the residual grew by more than a factor 2, the
extrapolated point is not finite, or it leaves the admissible set (components flagged
``positive`` must stay :math:`\ge0`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["anderson_step", "residual"]


@njit(cache=True)
def anderson_step(x, fx, res, prev_res, hist_dx, hist_dg, last_x, last_g, count, beta,
                  positive):
    """Return the next iterate and the new history count (history arrays are updated in place).

    Parameters
    ----------
    x, fx : current iterate and its image; ``res``/``prev_res`` the current/previous max-norm
        residuals; ``hist_dx, hist_dg`` arrays of shape (m, n); ``last_x, last_g`` the previous
        iterate and residual (updated); ``count`` number of stored differences (< 0: none yet,
        no previous point); ``beta`` mixing (1 - damping); ``positive`` boolean mask.
    """
    n = x.shape[0]
    m = hist_dx.shape[0]
    g = fx - x
    damped = x + beta * g
    if m == 0:
        return damped, count
    if count >= 0 and res > 2.0 * prev_res:
        count = -1  # restart
    if count >= 0:
        # shift in the newest difference (ring buffer kept in order, newest last)
        if count == m:
            for j in range(m - 1):
                hist_dx[j, :] = hist_dx[j + 1, :]
                hist_dg[j, :] = hist_dg[j + 1, :]
            count = m - 1
        hist_dx[count, :] = x - last_x
        hist_dg[count, :] = g - last_g
        count += 1
    else:
        count = 0
    last_x[:] = x
    last_g[:] = g
    if count == 0:
        return damped, count
    k = count
    a = np.empty((k, k))
    b = np.empty(k)
    scale = 0.0
    for i in range(k):
        for j in range(k):
            s = 0.0
            for t in range(n):
                s += hist_dg[i, t] * hist_dg[j, t]
            a[i, j] = s
        s = 0.0
        for t in range(n):
            s += hist_dg[i, t] * g[t]
        b[i] = s
        scale = max(scale, a[i, i])
    if not (scale > 0.0) or not math.isfinite(scale):
        count = 0
        return damped, count
    for i in range(k):
        a[i, i] += 1e-12 * scale
    gam = np.linalg.solve(a, b)
    new = damped.copy()
    for j in range(k):
        for t in range(n):
            new[t] -= (hist_dx[j, t] + beta * hist_dg[j, t]) * gam[j]
    ok = True
    for t in range(n):
        if not math.isfinite(new[t]) or (positive[t] and new[t] < 0.0):
            ok = False
    if not ok:
        count = 0
        return damped, count
    return new, count


@njit(cache=True)
def residual(x, fx):
    """(max_i |fx_i - x_i|, all entries of fx finite)."""
    res = 0.0
    finite = True
    for i in range(x.shape[0]):
        if not math.isfinite(fx[i]):
            finite = False
        d = abs(fx[i] - x[i])
        if d > res:
            res = d
    return res, finite
