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


@njit(cache=True, fastmath=True, nogil=True)
def _col_dot(A, j, r):
    s = 0.0
    for i in range(A.shape[0]):
        s += A[i, j] * r[i]
    return s


@njit(cache=True, fastmath=True, nogil=True)
def _col_axpy(A, j, d, r):
    for i in range(A.shape[0]):
        r[i] -= d * A[i, j]


@njit(cache=True, nogil=True)
def _restricted_gap(A, b, r, x, w, L, ws):
    """Duality gap of the problem restricted to ``ws`` (coordinates outside are zero).

    Dual point: the rescaled residual ``r / s``, ``s = max(1, max |A_j^T r| / w_j)`` over
    penalised coordinates of ``ws``; each unpenalised coordinate adds the decrease one exact
    coordinate step would still achieve, ``(A_j^T r)^2 / (2 ||A_j||^2)``.
    """
    rr = np.dot(r, r)
    br = np.dot(b, r)
    pen = 0.0
    scale = 1.0
    extra = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        g = _col_dot(A, j, r)
        wj = w[j]
        if wj > 0.0:
            pen += wj * abs(x[j])
            q = abs(g) / wj
            if q > scale:
                scale = q
        elif L[j] > 0.0:
            extra += g * g / (2.0 * L[j])
    dual = br / scale - 0.5 * rr / (scale * scale)
    return 0.5 * rr + pen - dual + extra


@njit(cache=True, nogil=True)
def _ws_objective(r, x, w, ws):
    pen = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        if x[j] != 0.0:
            pen += w[j] * abs(x[j])
    return 0.5 * np.dot(r, r) + pen


@njit(cache=True, nogil=True)
def _anderson_coefficients(hist):
    """Solve ``(U U^T + reg I) z = 1`` with ``U`` the K successive differences of the K+1
    stored iterates (plain loops and Gaussian elimination: keeps compilation short)."""
    K = hist.shape[0] - 1
    n = hist.shape[1]
    C = np.zeros((K, K))
    for k in range(K):
        for m in range(k, K):
            s = 0.0
            for j in range(n):
                s += (hist[k + 1, j] - hist[k, j]) * (hist[m + 1, j] - hist[m, j])
            C[k, m] = s
            C[m, k] = s
    tr = 0.0
    for k in range(K):
        tr += C[k, k]
    reg = 1e-10 * tr + 1e-300
    z = np.ones(K)
    for k in range(K):
        C[k, k] += reg
    # Gaussian elimination with partial pivoting
    for k in range(K):
        p = k
        for i in range(k + 1, K):
            if abs(C[i, k]) > abs(C[p, k]):
                p = i
        if p != k:
            for m in range(K):
                C[k, m], C[p, m] = C[p, m], C[k, m]
            z[k], z[p] = z[p], z[k]
        if C[k, k] == 0.0:
            for m in range(K):
                z[m] = np.nan
            return z
        for i in range(k + 1, K):
            f = C[i, k] / C[k, k]
            for m in range(k, K):
                C[i, m] -= f * C[k, m]
            z[i] -= f * z[k]
    for k in range(K - 1, -1, -1):
        s = z[k]
        for m in range(k + 1, K):
            s -= C[k, m] * z[m]
        z[k] = s / C[k, k]
    return z


@njit(cache=True, nogil=True)
def cd_working_set(A, b, r, x, w, L, ws, tol, max_epochs, n_anderson):
    """Cyclic coordinate descent on the coordinates ``ws`` until the duality gap of the
    problem restricted to ``ws`` is at most ``tol``, or ``max_epochs`` epochs have run.

    The restricted gap costs one pass over the working set, so it is evaluated only when a
    free estimate says it may be small: an epoch decreases the objective by at least
    ``d = sum_j ||A_j||^2 dx_j^2 / 2``; with the contraction factor estimated from two
    consecutive epochs, ``rho = d_k / d_{k-1}``, the remaining decrease of a linearly
    converging sequence is about ``d_k rho / (1 - rho)``. The caller then checks the gap on
    all of ``A`` (which may bring new coordinates into the working set).

    Every ``n_anderson`` epochs (0: never) the last iterates are extrapolated by Anderson
    acceleration (as in Bertrand & Massias 2021, skglm's AndersonCD); the extrapolated point
    is kept only if it lowers the objective.

    Returns the number of epochs run.
    """
    n = ws.shape[0]
    K = n_anderson
    hist = np.empty((K + 1, n))
    n_hist = 0
    r_acc = np.empty_like(r)
    x_acc = np.empty(n)
    prev = np.inf
    for epoch in range(max_epochs):
        decrease = 0.0
        for jj in range(n):
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
        if not np.isfinite(decrease) or decrease == 0.0:
            return epoch + 1
        rho = min(decrease / prev, 0.999)
        prev = decrease
        # the estimate is unreliable when convergence is very slow: check every 50 epochs too
        if (rho < 0.999 and decrease * (1.0 + rho / (1.0 - rho)) <= tol) or epoch % 50 == 49:
            if _restricted_gap(A, b, r, x, w, L, ws) <= tol:
                return epoch + 1
            prev = np.inf
        if K > 0:
            for jj in range(n):
                hist[n_hist, jj] = x[ws[jj]]
            n_hist += 1
            if n_hist == K + 1:
                n_hist = 0
                z = _anderson_coefficients(hist)
                sz = z.sum()
                if not (np.isfinite(sz) and sz != 0.0):
                    continue
                c = z / sz
                for jj in range(n):
                    v = 0.0
                    for k in range(K):
                        v += c[k] * hist[k + 1, jj]
                    x_acc[jj] = v
                for i in range(r.shape[0]):
                    r_acc[i] = r[i]
                for jj in range(n):
                    d = x_acc[jj] - x[ws[jj]]
                    if d != 0.0:
                        _col_axpy(A, ws[jj], d, r_acc)
                f_old = _ws_objective(r, x, w, ws)
                pen = 0.0
                for jj in range(n):
                    if x_acc[jj] != 0.0:
                        pen += w[ws[jj]] * abs(x_acc[jj])
                f_new = 0.5 * np.dot(r_acc, r_acc) + pen
                if f_new < f_old:
                    for jj in range(n):
                        x[ws[jj]] = x_acc[jj]
                    for i in range(r.shape[0]):
                        r[i] = r_acc[i]
    return max_epochs


@njit(cache=True, nogil=True)
def correlations(A, r, out):
    """``out[j] = A[:, j] . r`` for every column (single-threaded; A Fortran-ordered)."""
    for j in range(A.shape[1]):
        out[j] = _col_dot(A, j, r)
    return out


@njit(cache=True, nogil=True)
def residual(A, b, x, out):
    """``out = b - A x`` touching only the columns with ``x[j] != 0``."""
    for i in range(b.shape[0]):
        out[i] = b[i]
    for j in range(A.shape[1]):
        if x[j] != 0.0:
            _col_axpy(A, j, x[j], out)
    return out


@njit(cache=True, nogil=True)
def _gram_gap(b2, c, q, x, w, G_diag):
    """(primal, gap) of the weighted Lasso from Gram quantities: ``q = c - G x = A^T r``,
    ``||r||^2 = ||b||^2 - c.x - x.q``, ``b.r = ||b||^2 - c.x``."""
    cx = 0.0
    xq = 0.0
    pen = 0.0
    scale = 1.0
    extra = 0.0
    for j in range(x.shape[0]):
        xj = x[j]
        if xj != 0.0:
            cx += c[j] * xj
            xq += xj * q[j]
            pen += w[j] * abs(xj)
        wj = w[j]
        if wj > 0.0:
            if wj < np.inf:
                s = abs(q[j]) / wj
                if s > scale:
                    scale = s
        elif G_diag[j] > 0.0:
            extra += q[j] * q[j] / (2.0 * G_diag[j])
    rr = max(b2 - cx - xq, 0.0)
    br = b2 - cx
    primal = 0.5 * rr + pen
    dual = br / scale - 0.5 * rr / (scale * scale)
    return primal, max(primal - dual, 0.0) + extra


@njit(cache=True, nogil=True)
def _gram_objective(b2, c, q, x, w):
    cx = 0.0
    xq = 0.0
    pen = 0.0
    for j in range(x.shape[0]):
        xj = x[j]
        if xj != 0.0:
            cx += c[j] * xj
            xq += xj * q[j]
            pen += w[j] * abs(xj)
    return 0.5 * max(b2 - cx - xq, 0.0) + pen


@njit(cache=True, nogil=True)
def cd_gram(G, c, b2, q, x, w, tol, max_epochs, n_anderson):
    """Cyclic coordinate descent on the Gram form ``1/2 x'Gx - c'x + sum w|x|`` (+ ``b2/2``).

    ``q = c - G x`` (the correlations ``A^T r``) is kept current for every coordinate, so
    each coordinate costs O(1) unless it changes (then O(N)), and the duality gap is O(N).
    Every ``n_anderson`` epochs (0: never) the iterates are extrapolated by Anderson
    acceleration, kept only if the objective decreases. Stops when the gap is at most
    ``tol`` (absolute). Returns ``(epochs, primal, gap)``.
    """
    N = x.shape[0]
    diag = np.empty(N)
    for j in range(N):
        diag[j] = G[j, j]
    primal, gap = _gram_gap(b2, c, q, x, w, diag)
    if gap <= tol:
        return 0, primal, gap
    K = n_anderson
    hist = np.empty((K + 1, N))
    n_hist = 0
    x_acc = np.empty(N)
    q_acc = np.empty(N)
    for epoch in range(max_epochs):
        for j in range(N):
            Gjj = diag[j]
            wj = w[j]
            if Gjj == 0.0 or wj == np.inf:
                continue
            xj = x[j]
            z = xj + q[j] / Gjj
            t = wj / Gjj
            if z > t:
                new = z - t
            elif z < -t:
                new = z + t
            else:
                new = 0.0
            if new != xj:
                d = new - xj
                for i in range(N):
                    q[i] -= d * G[j, i]  # G symmetric: row j = column j, contiguous
                x[j] = new
        if K > 0:
            for j in range(N):
                hist[n_hist, j] = x[j]
            n_hist += 1
            if n_hist == K + 1:
                n_hist = 0
                z = _anderson_coefficients(hist)
                sz = z.sum()
                if np.isfinite(sz) and sz != 0.0:
                    for j in range(N):
                        v = 0.0
                        for k in range(K):
                            v += z[k] * hist[k + 1, j]
                        x_acc[j] = v / sz
                        q_acc[j] = q[j]
                    for j in range(N):
                        d = x_acc[j] - x[j]
                        if d != 0.0:
                            for i in range(N):
                                q_acc[i] -= d * G[j, i]
                    if _gram_objective(b2, c, q_acc, x_acc, w) < _gram_objective(b2, c, q, x, w):
                        for j in range(N):
                            x[j] = x_acc[j]
                            q[j] = q_acc[j]
        primal, gap = _gram_gap(b2, c, q, x, w, diag)
        if not np.isfinite(gap) or gap <= tol:
            return epoch + 1, primal, gap
    return max_epochs, primal, gap
