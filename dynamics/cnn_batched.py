r"""Many coefficient-space GD runs of the two-layer ReLU CNN advanced in one compiled loop.

Same model, loss and gradient descent as :func:`dynamics.simulate_cnn_gd`
(``docs/cnn_theory.md`` sections 2 and 4; Kou et al. 2023, §3):
:math:`w^{(t)}_{j,r} = w^{(0)}_{j,r} + \sum_q C^{(t)}_{j,r,q} b_q` over the distinct
patch vectors :math:`b_q` of a run, with inner products :math:`H = \langle W^{(0)},b\rangle + CG`,
:math:`G = (\langle b_q, b_{q'}\rangle)`.  Here every run of a batch (grid cells x seeds with
the same ``n``, ``m``, ``P``) is advanced by one numba kernel, and ``H`` is updated
incrementally, :math:`H^{(t+1)} = H^{(t)} + \Delta C^{(t)} G`, skipping the zero entries of
:math:`\Delta C^{(t)}` (a filter-patch pair contributes only while the ReLU is active), so a
step costs :math:`O(\mathrm{nnz}(\Delta C)\,k)` instead of :math:`O(mk^2)`.  The result equals the
single-run simulator up to floating-point rounding (tested to 1e-12).

Runs with fewer distinct patches than the batch maximum are padded with zero Gram rows that no
patch refers to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from dynamics.cnn_simulator import DivergenceError

__all__ = ["BatchedRuns", "BatchedResult", "pack_runs", "pack_signal_noise",
           "simulate_cnn_gd_batched"]


@dataclass(frozen=True, eq=False)
class BatchedRuns:
    r"""Coefficient-space inputs of ``B`` runs (see :func:`pack_runs`).

    Attributes
    ----------
    H0 : ndarray, shape (B, 2m, k)
        :math:`\langle w^{(0)}_{j,r}, b_q\rangle` (rows ``0..m-1``: class ``j = +1``).
    G : ndarray, shape (B, k, k)
        Gram matrices of the distinct patches (zero-padded).
    q_idx : ndarray of int, shape (B, n, P)
        Patch ``(i, p)`` of run ``b`` is ``q_sign * basis[q_idx]`` (``-1``: zero patch).
    q_sign : ndarray, shape (B, n, P)
    y : ndarray, shape (B, n)
        Labels in {-1, +1}.
    basis : list of ndarray, shape (k_b, d_b)
        Distinct patch vectors of each run (to rebuild the weights).
    W0 : list of ndarray, shape (2, m, d_b)
    """

    H0: np.ndarray
    G: np.ndarray
    q_idx: np.ndarray
    q_sign: np.ndarray
    y: np.ndarray
    basis: list
    W0: list

    @property
    def n_runs(self) -> int:
        return self.H0.shape[0]


@dataclass(frozen=True, eq=False)
class BatchedResult:
    """Final state of ``B`` GD runs (:func:`simulate_cnn_gd_batched`).

    Attributes
    ----------
    coef : ndarray, shape (B, 2, m, k)
        Coefficients of :math:`W^{(T)} - W^{(0)}` on each run's distinct patches.
    loss : ndarray, shape (B, steps + 1)
        Training loss at every step.
    steps : int
    runs : BatchedRuns
    """

    coef: np.ndarray
    loss: np.ndarray
    steps: int
    runs: BatchedRuns

    @property
    def final_loss(self) -> np.ndarray:
        return self.loss[:, -1]

    def weights(self, b: int) -> np.ndarray:
        """Final filters :math:`W^{(T)}` of run ``b``, shape (2, m, d)."""
        basis = self.runs.basis[b]
        W0 = self.runs.W0[b]
        two, m, _ = W0.shape
        C = self.coef[b, :, :, : basis.shape[0]].reshape(2 * m, -1)
        return W0 + (C @ basis).reshape(W0.shape)

    def to_dict(self) -> dict:
        return {"n_runs": int(self.coef.shape[0]), "steps": self.steps,
                "final_loss": self.final_loss}


# ------------------------------------------------------------------------------------------
# packing
# ------------------------------------------------------------------------------------------


def _check_run(b: int, patches: np.ndarray, y: np.ndarray, W0: np.ndarray) -> None:
    if patches.ndim != 3:
        raise ValueError(f"patches[{b}] has shape {patches.shape}: expected (n, P, d)")
    n, _, d = patches.shape
    if y.shape != (n,) or not np.all(np.abs(y) == 1.0):
        raise ValueError(f"y[{b}] has shape {y.shape}: expected ({n},) labels in {{-1, +1}}")
    if W0.ndim != 3 or W0.shape[0] != 2 or W0.shape[2] != d:
        raise ValueError(f"W0[{b}] has shape {W0.shape}: expected (2, m, {d})")
    if not (np.all(np.isfinite(patches)) and np.all(np.isfinite(W0))):
        raise ValueError(f"run {b}: patches and W0 must be finite (NaN or inf found)")


def _canonical_patches(patches: np.ndarray):
    """Distinct non-zero patches up to sign (first non-zero entry positive): basis, index, sign."""
    n, P, d = patches.shape
    q_idx = np.full((n, P), -1, dtype=np.int64)
    q_sign = np.zeros((n, P))
    first = np.argmax(patches != 0, axis=2)
    lead = np.take_along_axis(patches, first[..., None], axis=2)[..., 0]
    seen: dict[bytes, int] = {}
    rows = []
    for i in range(n):
        for p in range(P):
            if lead[i, p] == 0:
                continue  # zero patch
            sgn = 1.0 if lead[i, p] > 0 else -1.0
            canon = patches[i, p] * sgn
            q = seen.setdefault(canon.tobytes(), len(rows))
            if q == len(rows):
                rows.append(canon)
            q_idx[i, p], q_sign[i, p] = q, sgn
    basis = np.array(rows) if rows else np.zeros((1, d))
    return basis, q_idx, q_sign


def _assemble(bases, q_idx, q_sign, ys, W0s) -> BatchedRuns:
    B = len(bases)
    m = W0s[0].shape[1]
    k = max(b.shape[0] for b in bases)
    H0 = np.zeros((B, 2 * m, k))
    G = np.zeros((B, k, k))
    for b, (basis, W0) in enumerate(zip(bases, W0s, strict=True)):
        kb = basis.shape[0]
        with np.errstate(over="ignore", invalid="ignore"):  # overflow: DivergenceError later
            G[b, :kb, :kb] = basis @ basis.T
            H0[b, :, :kb] = W0.reshape(2 * m, -1) @ basis.T
    return BatchedRuns(H0=H0, G=G, q_idx=np.ascontiguousarray(q_idx, dtype=np.int64),
                       q_sign=np.ascontiguousarray(q_sign, dtype=np.float64),
                       y=np.ascontiguousarray(ys, dtype=np.float64), basis=list(bases),
                       W0=list(W0s))


def _check_batch(patches, ys, W0s):
    if not (len(patches) == len(ys) == len(W0s)) or len(patches) == 0:
        raise ValueError(
            f"patches, y and W0 hold {len(patches)}, {len(ys)} and {len(W0s)} runs: expected "
            "the same positive number"
        )
    shape0 = (np.shape(patches[0])[:2], np.shape(W0s[0])[:2])
    for b in range(len(patches)):
        if (np.shape(patches[b])[:2], np.shape(W0s[b])[:2]) != shape0:
            raise ValueError(
                f"run {b}: (n, P) = {np.shape(patches[b])[:2]} and (2, m) = "
                f"{np.shape(W0s[b])[:2]} differ from run 0's {shape0}; a batch shares n, P, m"
            )


def pack_runs(patches, y, W0) -> BatchedRuns:
    """Pack ``B`` runs given by their patches, labels and initial filters.

    Parameters
    ----------
    patches : sequence of ndarray, shape (n, P, d_b)
        Training inputs of each run (``n`` and ``P`` shared, ``d_b`` may differ).
    y : sequence of ndarray, shape (n,)
    W0 : sequence of ndarray, shape (2, m, d_b)

    Returns
    -------
    BatchedRuns
    """
    _check_batch(patches, y, W0)
    bases, qi, qs, ys, ws = [], [], [], [], []
    for b, (X, yb, Wb) in enumerate(zip(patches, y, W0, strict=True)):
        X = np.asarray(X, dtype=float)
        yb = np.asarray(yb, dtype=float)
        Wb = np.asarray(Wb, dtype=float)
        _check_run(b, X, yb, Wb)
        basis, q, s = _canonical_patches(X)
        bases.append(basis)
        qi.append(q)
        qs.append(s)
        ys.append(yb)
        ws.append(Wb)
    return _assemble(bases, np.stack(qi), np.stack(qs), np.stack(ys), ws)


def pack_signal_noise(signals, y_true, y, xi, W0, *, bias: bool = False) -> BatchedRuns:
    r"""Pack runs whose inputs are ``[yhat_i s, xi_i]`` (layout A, Kou's two patches).

    Faster than :func:`pack_runs` (no search for duplicates): the basis of run ``b`` is
    :math:`[s_b, \xi_{b,1}, \dots, \xi_{b,n}]` (without :math:`s_b` when it is zero).  With
    ``bias`` every patch carries a trailing coordinate 1 (a trained bias, see
    :class:`dynamics.KouSetting`) and ``W0`` has ``d + 1`` columns: the basis is
    :math:`[(s,1), (-s,1), (\xi_{b,1},1), \dots]` (one signal row when :math:`s = 0`).

    Parameters
    ----------
    signals : sequence of ndarray, shape (d_b,)
    y_true, y : sequence of ndarray, shape (n,)
        True labels (the sign of the signal patch) and observed labels.
    xi : sequence of ndarray, shape (n, d_b)
    W0 : sequence of ndarray, shape (2, m, d_b) (``d_b + 1`` with ``bias``)
    """
    if not (len(signals) == len(y_true) == len(y) == len(xi) == len(W0)) or len(xi) == 0:
        raise ValueError(f"signals, y_true, y, xi and W0 hold {len(signals)}, {len(y_true)}, "
                         f"{len(y)}, {len(xi)} and {len(W0)} runs: expected the same positive "
                         "number")
    shape0 = (np.shape(xi[0])[0], np.shape(W0[0])[:2])
    for b in range(len(xi)):
        if (np.shape(xi[b])[0], np.shape(W0[b])[:2]) != shape0:
            raise ValueError(f"run {b}: n = {np.shape(xi[b])[0]} and (2, m) = "
                             f"{np.shape(W0[b])[:2]} differ from run 0's {shape0}; a batch "
                             "shares n and m")
    bases, qi, qs, ys, ws = [], [], [], [], []
    for b in range(len(xi)):
        x = np.asarray(xi[b], dtype=float)
        s = np.asarray(signals[b], dtype=float)
        yt = np.asarray(y_true[b], dtype=float)
        w = np.asarray(W0[b], dtype=float)
        n, d = x.shape
        if s.shape != (d,) or yt.shape != (n,) or np.shape(y[b]) != (n,) or w.ndim != 3 \
                or w.shape[2] != d + int(bias):
            raise ValueError(f"run {b}: signal {s.shape}, y_true {yt.shape}, W0 {w.shape}: "
                             f"expected ({d},), ({n},), (2, m, {d + int(bias)})")
        basis, q, sg = _signal_noise_basis(s, yt, x, bias)
        bases.append(basis)
        qi.append(q)
        qs.append(sg)
        ys.append(np.asarray(y[b], dtype=float))
        ws.append(w)
    return _assemble(bases, np.stack(qi), np.stack(qs), np.stack(ys), ws)


def _signal_noise_basis(s, y_true, xi, bias):
    """Basis, patch index and sign of one run with patches ``[yhat s, xi]`` (+ bias 1)."""
    n, d = xi.shape
    live = bool(np.any(s != 0))
    q_idx = np.empty((n, 2), dtype=np.int64)
    q_sign = np.ones((n, 2))
    if bias:
        ns = 1 + int(live)
        basis = np.empty((ns + n, d + 1))  # filled in place: one copy of the noise
        basis[:, d] = 1.0
        basis[0, :d] = s
        if live:
            np.negative(s, out=basis[1, :d])
        basis[ns:, :d] = xi
        q_idx[:, 0] = np.where(y_true > 0, 0, 1) if live else 0
        q_idx[:, 1] = np.arange(n) + ns
        return basis, q_idx, q_sign
    basis = np.concatenate([s[None], xi]) if live else xi
    q_idx[:, 0] = 0 if live else -1
    q_sign[:, 0] = y_true if live else 0.0
    q_idx[:, 1] = np.arange(n) + int(live)
    return basis, q_idx, q_sign


# ------------------------------------------------------------------------------------------
# kernel
# ------------------------------------------------------------------------------------------


# Layout of one run's state.  The forward pass and the gradient read ``HT = H^T`` and write
# ``dCT = (Delta C)^T`` (k, 2m): their inner loops run over the 2m filters of one patch,
# contiguous and branch-free (ReLU gates as selects), so LLVM vectorises them.  The update
# ``H += Delta C G`` runs row-wise on ``H`` (2m, k) over the non-zero entries of ``Delta C``
# only, and ``HT`` is copied from it.  Every entry sees the operations of the straightforward
# row-wise loops in the same order (no fastmath, no FMA contraction), so the results do not
# depend on this layout (bit-identical to it).


@njit(cache=True)
def _forward(HT, run, f, lp, A):
    r"""f_i, l'_i and the training loss from :math:`H^\top` (k, 2m); returns (loss, finite).

    ``A[i, jr]`` holds :math:`j\sum_p\sigma(\langle w_{j,r}, x_i^{(p)}\rangle)/m`; the sums over
    ``jr`` then run for all ``i`` at once (independent chains, same order as one at a time).
    """
    q_idx, q_sign, y, jsgn = run
    two_m = HT.shape[1]
    m = two_m // 2
    n, P = q_idx.shape
    A[:, :] = 0.0
    for i in range(n):
        a = A[i]
        for p in range(P):
            q = q_idx[i, p]
            if q >= 0:
                s = q_sign[i, p]
                for jr in range(two_m):
                    z = s * HT[q, jr]
                    a[jr] += z if z > 0.0 else 0.0 * z  # 0 * z: NaN for NaN or -inf
        for jr in range(two_m):
            a[jr] = jsgn[jr] * a[jr] / m
    f[:] = 0.0
    for jr in range(two_m):
        for i in range(n):
            f[i] += A[i, jr]
    tot = 0.0
    for i in range(n):
        z = y[i] * f[i]
        if z > 0:
            tot += np.log1p(np.exp(-z))
            lp[i] = -1.0 / (1.0 + np.exp(z))
        else:
            e = np.exp(z)
            tot += -z + np.log1p(e)
            lp[i] = -1.0 / (1.0 + e)
    loss = tot / n
    return loss, np.isfinite(loss)


@njit(cache=True)
def _gradient(HT, dCT, live, run, lp, scale, g):
    r""":math:`\Delta C^\top` from the active filter-patch pairs; ``live[q]``: row q non-zero."""
    q_idx, q_sign, y, jsgn = run
    two_m = HT.shape[1]
    n, P = q_idx.shape
    dCT[:, :] = 0.0
    live[:] = False
    for i in range(n):
        for jr in range(two_m):
            g[jr] = scale * lp[i] * jsgn[jr] * y[i]
        for p in range(P):
            q = q_idx[i, p]
            if q >= 0:
                s = q_sign[i, p]
                live[q] = True
                for jr in range(two_m):
                    dCT[q, jr] += g[jr] * s if s * HT[q, jr] > 0.0 else 0.0


@njit(cache=True)
def _apply(HT, H, CT, dCT, G, live, kb, nz):
    r""":math:`C \mathrel{+}= \Delta C` and :math:`H \mathrel{+}= \Delta C\,G` over the non-zero
    entries of :math:`\Delta C` only (about a third during training: a filter-patch pair moves
    while its ReLU is active, listed in ``nz`` without branching); ``H`` (2m, k) row-wise,
    then copied into ``HT``."""
    two_m = HT.shape[1]
    for q in range(kb):
        if not live[q]:
            continue
        cnt = 0
        for jr in range(two_m):  # branch-free list of the non-zero entries of row q
            c = dCT[q, jr]
            CT[q, jr] += c
            nz[cnt] = jr
            cnt += c != 0.0
        for a in range(cnt):
            jr = nz[a]
            c = dCT[q, jr]
            for q2 in range(kb):
                H[jr, q2] += c * G[q, q2]
    for q2 in range(kb):
        for jr in range(two_m):
            HT[q2, jr] = H[jr, q2]


@njit(cache=True)
def _batched_gd(data, eta, steps, coef, loss):
    """Advance every run of the batch ``steps`` GD steps; returns the finite flags."""
    H0, G, q_idx, q_sign, y = data
    B, two_m, k = H0.shape
    n = q_idx.shape[1]
    m = two_m // 2
    ok = np.ones(B, dtype=np.bool_)
    f, lp, A, g = np.zeros(n), np.zeros(n), np.zeros((n, two_m)), np.zeros(two_m)
    jsgn = np.ones(two_m)
    jsgn[m:] = -1.0
    HT, CT, dCT = np.empty((k, two_m)), np.empty((k, two_m)), np.empty((k, two_m))
    H = np.empty((two_m, k))
    nz = np.empty(two_m, dtype=np.int64)
    live = np.zeros(k, dtype=np.bool_)
    for b in range(B):
        H[:, :] = H0[b]
        HT[:, :] = H0[b].T
        CT[:, :] = 0.0
        run = (q_idx[b], q_sign[b], y[b], jsgn)
        kb = max(1, q_idx[b].max() + 1)  # rows beyond: zero padding, never read
        scale = -eta[b] / (n * m)
        for t in range(steps + 1):
            loss[b, t], fin = _forward(HT, run, f, lp, A)
            if not fin:
                ok[b] = False
                break
            if t < steps:
                _gradient(HT, dCT, live, run, lp, scale, g)
                _apply(HT, H, CT, dCT, G[b], live, kb, nz)
        coef[b] = CT.T
    return ok


def simulate_cnn_gd_batched(runs: BatchedRuns, eta, steps: int) -> BatchedResult:
    r"""Run full-batch GD of every run in ``runs`` for ``steps`` steps (``docs/cnn_theory.md`` §4).

    Parameters
    ----------
    runs : BatchedRuns
        From :func:`pack_runs` or :func:`pack_signal_noise`.
    eta : float or ndarray, shape (B,)
        Learning rate(s), positive.
    steps : int
        Number of GD steps (>= 0).

    Returns
    -------
    BatchedResult

    Raises
    ------
    DivergenceError
        If a run's inner products or training loss become NaN or infinite (names the run).
    """
    if not isinstance(runs, BatchedRuns):
        raise ValueError(f"runs = {type(runs).__name__}: expected a BatchedRuns (pack_runs)")
    B = runs.n_runs
    eta = np.broadcast_to(np.asarray(eta, dtype=float), (B,)).copy()
    if not np.all(np.isfinite(eta) & (eta > 0)):
        raise ValueError(f"eta = {eta[~(np.isfinite(eta) & (eta > 0))][0]}: learning rate "
                         "must be positive and finite")
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps = {steps}: must be a non-negative integer")
    steps = int(steps)
    two_m, k = runs.H0.shape[1:]
    coef = np.zeros((B, two_m, k))
    loss = np.full((B, steps + 1), np.nan)
    data = (runs.H0, runs.G, runs.q_idx, runs.q_sign, runs.y)
    ok = _batched_gd(data, eta, steps, coef, loss)
    if not ok.all():
        b = int(np.flatnonzero(~ok)[0])
        t = int(np.flatnonzero(~np.isfinite(loss[b]))[0]) if np.any(~np.isfinite(loss[b])) \
            else 0
        raise DivergenceError(f"run {b}: non-finite inner products or training loss at step "
                              f"{t}; reduce eta")
    return BatchedResult(coef=coef.reshape(B, 2, two_m // 2, k), loss=loss, steps=steps,
                         runs=runs)
