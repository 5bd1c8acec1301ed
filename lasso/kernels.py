r"""Numba kernels: cyclic coordinate descent for the weighted Lasso (derived; the generic
weighted Lasso, see ``docs/`` and :mod:`lasso.solver`).

.. math::

    \min_x\ \tfrac12\|b - A x\|_2^2 + \sum_j w_j |x_j|,\qquad w_j \in [0, \infty].

``A`` is Fortran-ordered so that a column is contiguous. The residual ``r = b - A x`` (or, in
the Gram form, the correlations ``q = A^T r``) is updated in place, as is ``x``. Arguments
travel in small tuples so that no kernel takes more than a handful of parameters:

- ``design = (A, b, L)``: design, response, squared column norms :math:`\|A_j\|^2`;
- ``gram = (G, c, b2)``: :math:`A^\top A`, :math:`A^\top b`, :math:`\|b\|^2`;
- ``state = (r, x)`` or ``(q, x)``: the iterate and its residual / correlations;
- ``control = (tol, max_epochs, n_anderson[, check_every])``: absolute gap target, epoch
  budget, Anderson memory (0: no extrapolation), and (working-set form) the period in epochs
  of the unconditional restricted-gap check; the values come from
  :class:`lasso.solver.CDSettings`.

The duality gap is computed in one place, :func:`duality_gap_terms`. All kernels are
compiled with ``cache=True``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def duality_gap_terms(rr, br, g, x, w, L):
    r"""``(primal, gap)`` of the weighted Lasso from the residual terms (the one place the gap
    is computed; every solver calls it).

    ``rr`` :math:`=\|r\|^2`, ``br`` :math:`=b^\top r`, ``g`` :math:`=A^\top r` and ``x``,
    ``w``, ``L`` on the same coordinates. Dual point: :math:`\theta = r/s`,
    :math:`s=\max(1,\max_j|g_j|/w_j)` over penalised coordinates (``0 < w_j < inf``); each
    unpenalised coordinate with :math:`L_j>0` adds :math:`g_j^2/(2L_j)`, the decrease one
    exact coordinate step would still achieve; coordinates with infinite weight are fixed at 0
    and ignored.
    """
    pen = 0.0
    scale = 1.0
    extra = 0.0
    for j in range(x.shape[0]):
        wj = w[j]
        if wj == np.inf:
            continue
        if wj > 0.0:
            pen += wj * abs(x[j])
            s = abs(g[j]) / wj
            if s > scale:
                scale = s
        elif L[j] > 0.0:
            extra += g[j] * g[j] / (2.0 * L[j])
    primal = 0.5 * rr + pen
    dual = br / scale - 0.5 * rr / (scale * scale)
    return primal, max(primal - dual, 0.0) + extra


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
def _restricted_gap(design, state, w, ws):
    """Duality gap of the problem restricted to ``ws`` (coordinates outside are zero)."""
    A, b, L = design
    r, x = state
    n = ws.shape[0]
    g = np.empty(n)
    for jj in range(n):
        g[jj] = _col_dot(A, ws[jj], r)
    return duality_gap_terms(np.dot(r, r), np.dot(b, r), g, x[ws], w[ws], L[ws])[1]


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
    reg = 1e-10 * np.trace(C) + 1e-300
    for k in range(K):
        C[k, k] += reg
    return _solve_pivoted(C, np.ones(K))


@njit(cache=True, nogil=True)
def _solve_pivoted(C, z):
    """Gaussian elimination with partial pivoting, in place; NaNs if ``C`` is singular."""
    K = z.shape[0]
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
            z[:] = np.nan
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
def _extrapolate(hist):
    """Anderson extrapolation of the stored iterates (rows of ``hist``); ``None``-like empty
    array when the coefficients are not usable."""
    z = _anderson_coefficients(hist)
    sz = z.sum()
    if not (np.isfinite(sz) and sz != 0.0):
        return np.empty(0)
    K = hist.shape[0] - 1
    out = np.zeros(hist.shape[1])
    for k in range(K):
        c = z[k] / sz
        for j in range(hist.shape[1]):
            out[j] += c * hist[k + 1, j]
    return out


@njit(cache=True, nogil=True)
def _soft_step(xj, gj, Lj, wj):
    """Exact coordinate minimiser: soft-thresholding of ``xj + gj / Lj`` at ``wj / Lj``."""
    z = xj + gj / Lj
    t = wj / Lj
    if z > t:
        return z - t
    if z < -t:
        return z + t
    return 0.0


@njit(cache=True, nogil=True)
def _ws_epoch(design, state, w, ws):
    """One cyclic epoch over ``ws``; returns the objective decrease bound
    ``sum_j L_j dx_j^2 / 2``."""
    A, b, L = design
    r, x = state
    decrease = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        Lj = L[j]
        if Lj == 0.0:
            continue
        new = _soft_step(x[j], _col_dot(A, j, r), Lj, w[j])
        if new != x[j]:
            d = new - x[j]
            _col_axpy(A, j, d, r)
            x[j] = new
            decrease += 0.5 * Lj * d * d
    return decrease


@njit(cache=True, nogil=True)
def _ws_objective(r, vals, w, ws):
    """Objective with ``vals[jj]`` the coefficient of coordinate ``ws[jj]`` (others zero)."""
    pen = 0.0
    for jj in range(ws.shape[0]):
        if vals[jj] != 0.0:
            pen += w[ws[jj]] * abs(vals[jj])
    return 0.5 * np.dot(r, r) + pen


@njit(cache=True, nogil=True)
def _ws_accept(design, state, w, ws, values, r_acc):
    """Replace the iterate by the extrapolated point if that lowers the objective.

    ``values = (x_acc, x_cur)``: extrapolated and current coefficients on ``ws``; ``r_acc``
    is scratch space of the residual's size."""
    A = design[0]
    r, x = state
    x_acc, x_cur = values
    r_acc[:] = r
    for jj in range(ws.shape[0]):
        d = x_acc[jj] - x[ws[jj]]
        if d != 0.0:
            _col_axpy(A, ws[jj], d, r_acc)
    if _ws_objective(r_acc, x_acc, w, ws) < _ws_objective(r, x_cur, w, ws):
        for jj in range(ws.shape[0]):
            x[ws[jj]] = x_acc[jj]
        r[:] = r_acc


@njit(cache=True, nogil=True)
def cd_working_set(design, state, w, ws, control):
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
    tol, max_epochs, K, check_every = control
    x = state[1]
    hist = np.empty((K + 1, ws.shape[0]))
    r_acc = np.empty_like(state[0])
    n_hist = 0
    prev = np.inf
    for epoch in range(max_epochs):
        decrease = _ws_epoch(design, state, w, ws)
        if not np.isfinite(decrease) or decrease == 0.0:
            return epoch + 1
        rho = min(decrease / prev, 0.999)
        prev = decrease
        # the estimate is unreliable when convergence is very slow: check periodically too
        if ((rho < 0.999 and decrease * (1.0 + rho / (1.0 - rho)) <= tol)
                or epoch % check_every == check_every - 1):
            if _restricted_gap(design, state, w, ws) <= tol:
                return epoch + 1
            prev = np.inf
        if K == 0:
            continue
        for jj in range(ws.shape[0]):
            hist[n_hist, jj] = x[ws[jj]]
        n_hist += 1
        if n_hist == K + 1:
            n_hist = 0
            x_acc = _extrapolate(hist)
            if x_acc.shape[0] > 0:
                _ws_accept(design, state, w, ws, (x_acc, hist[K]), r_acc)
    return max_epochs


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
def _gram_residual_terms(gram, q, x):
    """``(||r||^2, b.r)`` from Gram quantities: ``q = c - G x = A^T r``,
    ``||r||^2 = ||b||^2 - c.x - x.q``, ``b.r = ||b||^2 - c.x``."""
    G, c, b2 = gram
    cx = 0.0
    xq = 0.0
    for j in range(x.shape[0]):
        if x[j] != 0.0:
            cx += c[j] * x[j]
            xq += x[j] * q[j]
    return max(b2 - cx - xq, 0.0), b2 - cx


@njit(cache=True, nogil=True)
def gram_gap(gram, state, w, diag):
    """``(primal, gap)`` in the Gram form (via :func:`duality_gap_terms`)."""
    q, x = state
    rr, br = _gram_residual_terms(gram, q, x)
    return duality_gap_terms(rr, br, q, x, w, diag)


@njit(cache=True, nogil=True)
def _gram_objective(gram, q, x, w):
    rr = _gram_residual_terms(gram, q, x)[0]
    pen = 0.0
    for j in range(x.shape[0]):
        if x[j] != 0.0:
            pen += w[j] * abs(x[j])
    return 0.5 * rr + pen


@njit(cache=True, nogil=True)
def _gram_epoch(G, state, w, diag):
    """One cyclic epoch in the Gram form; ``q = c - G x`` kept current."""
    q, x = state
    for j in range(x.shape[0]):
        Gjj = diag[j]
        if Gjj == 0.0 or w[j] == np.inf:
            continue
        new = _soft_step(x[j], q[j], Gjj, w[j])
        if new != x[j]:
            d = new - x[j]
            for i in range(x.shape[0]):
                q[i] -= d * G[j, i]  # G symmetric: row j = column j, contiguous
            x[j] = new


@njit(cache=True, nogil=True)
def _gram_accept(gram, state, w, x_acc, q_acc):
    """Replace ``(q, x)`` by the extrapolated point if that lowers the objective (``q_acc``:
    scratch space of ``q``'s size)."""
    G = gram[0]
    q, x = state
    q_acc[:] = q
    for j in range(x.shape[0]):
        d = x_acc[j] - x[j]
        if d != 0.0:
            for i in range(x.shape[0]):
                q_acc[i] -= d * G[j, i]
    if _gram_objective(gram, q_acc, x_acc, w) < _gram_objective(gram, q, x, w):
        x[:] = x_acc
        q[:] = q_acc


@njit(cache=True, nogil=True)
def cd_gram(gram, state, w, control):
    """Cyclic coordinate descent on the Gram form ``1/2 x'Gx - c'x + sum w|x|`` (+ ``b2/2``).

    ``state = (q, x)`` with ``q = c - G x`` (the correlations ``A^T r``) kept current for
    every coordinate, so each coordinate costs O(1) unless it changes (then O(N)), and the
    duality gap is O(N). Every ``n_anderson`` epochs (0: never) the iterates are extrapolated
    by Anderson acceleration, kept only if the objective decreases. Stops when the gap is at
    most ``tol`` (absolute). Returns ``(epochs, primal, gap)``.
    """
    tol, max_epochs, K = control
    G = gram[0]
    x = state[1]
    diag = np.diag(G).copy()
    primal, gap = gram_gap(gram, state, w, diag)
    if gap <= tol:
        return 0, primal, gap
    hist = np.empty((K + 1, x.shape[0]))
    q_acc = np.empty_like(x)
    n_hist = 0
    for epoch in range(max_epochs):
        _gram_epoch(G, state, w, diag)
        if K > 0:
            hist[n_hist] = x
            n_hist += 1
            if n_hist == K + 1:
                n_hist = 0
                x_acc = _extrapolate(hist)
                if x_acc.shape[0] > 0:
                    _gram_accept(gram, state, w, x_acc, q_acc)
        primal, gap = gram_gap(gram, state, w, diag)
        if not np.isfinite(gap) or gap <= tol:
            return epoch + 1, primal, gap
    return max_epochs, primal, gap
