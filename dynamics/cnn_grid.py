r"""Grids of CNN training runs through the batched simulator, with exact-in-law test errors.

Two drivers, both built on :func:`dynamics.simulate_cnn_gd_batched`:

* :func:`simulate_kou_runs`: the single-task setting of Kou et al. 2023
  (:class:`dynamics.KouSetting`), one GD run per (cell, seed);
* :func:`simulate_transfer_runs`: the two-task setting of Yuan et al. 2025
  (:class:`dynamics.CNNTransferSetting`): upstream run, Algorithm 1 (transfer) and Algorithm 2
  (scratch) on the same Task-2 sample and fresh filters, with the random streams of
  ``validation.experiments.cnn_transfer.run_point`` (so the trained filters are the same).

Test error (derived).  A test input is :math:`x = [\hat y s, \xi]` with
:math:`\xi\sim N(0,\sigma^2\Pi)` independent of the trained filters, so the noise-patch inner
products :math:`z = W\xi` are exactly :math:`N(0, \sigma^2 W\Pi W^\top)` (``2m`` numbers per
test point instead of ``d``).  With :math:`F(\hat y, z)` the network output, the error against
the observed label, averaged over label flips, is

.. math:: \mathrm{err} = p + (1-2p)\,\tfrac12\big[P(F(+1,z)\le 0) + P(F(-1,z) > 0)\big],

estimated with ``n_test`` draws of :math:`z` (both signs of :math:`\hat y` per draw).
"""

from __future__ import annotations

import math

import numpy as np

from dynamics.cnn_batched import pack_signal_noise, simulate_cnn_gd_batched
from dynamics.cnn_setting import CNNTransferSetting, sample_task, signal_vectors
from dynamics.cnn_transfer import transfer_init
from dynamics.kou_setting import KouSetting, draw_kou, kou_init

__all__ = ["gaussian_test_error", "simulate_kou_runs", "simulate_transfer_runs"]

_CHUNK_BYTES = 64e6  # memory of the d-dimensional data held per batch


def gaussian_test_error(W, signal_patches, sigma_p, flip_prob, rng, n_test=1000,
                        remove=None, bias=False) -> tuple[float, float]:
    r"""Test error of filters ``W`` on ``[yhat s_1, ..., yhat s_S, xi]`` inputs (exact in law).

    Parameters
    ----------
    W : ndarray, shape (2, m, d)
    signal_patches : ndarray, shape (S, d)
        Signal patches for :math:`\hat y = +1` (layout A: one, ``u + v``; Kou: ``mu``).
    sigma_p : float
        Noise standard deviation.
    flip_prob : float
        Label-flip probability ``p``.
    rng : numpy Generator or seed
    n_test : int
        Number of test draws.
    remove : ndarray, shape (K, d), optional
        Orthonormal directions projected out of the noise (:math:`\Pi = I - R^\top R`).
    bias : bool
        ``W`` has shape (2, m, d + 1), its last coordinate a bias added to every patch's
        pre-activation (:class:`dynamics.KouSetting` with ``bias=True``).

    Returns
    -------
    err, err_clean : float
        Expected error against the observed (flipped) labels, and against the true labels.
    """
    rng = np.random.default_rng(rng)
    cov, a, b = _test_moments(W, signal_patches, sigma_p, remove, bias)
    g = rng.standard_normal((n_test, cov.shape[0]), dtype=np.float32)
    err, clean = _mc_errors(cov[None], a[None], b[None], g[None], flip_prob)
    return float(err[0]), float(clean[0])


def _test_moments(W, signal_patches, sigma_p, remove=None, bias=False):
    r"""Covariance :math:`\sigma^2 W\Pi W^\top` of the noise-patch pre-activations, the signal
    pre-activations :math:`\langle w, s_k\rangle` (2m, S) and the biases (2m,)."""
    two, m, d = W.shape
    b = np.zeros(2 * m)
    if bias:
        b = W[..., -1].reshape(2 * m)
        W = W[..., :-1]
        d -= 1
    Wf = W.reshape(2 * m, d)
    cov = Wf @ Wf.T
    if remove is not None and len(remove):
        WR = Wf @ np.asarray(remove).T
        cov = cov - WR @ WR.T
    return sigma_p**2 * cov, Wf @ np.atleast_2d(signal_patches).T, b


def _mc_errors(cov, a, b, g, flip_prob):
    """Monte Carlo test errors of ``B`` runs at once: cov (B, 2m, 2m), a (B, 2m, S),
    b (B, 2m), standard normal draws g (B, n_test, 2m)."""
    m = cov.shape[1] // 2
    lam, V = np.linalg.eigh(cov)
    L = V * np.sqrt(np.maximum(lam, 0.0))[:, None, :]
    LT = np.ascontiguousarray(np.swapaxes(L, 1, 2))  # contiguous: BLAS, not numpy's loop
    jsign = np.repeat([1.0, -1.0], m)
    noise = np.empty(g.shape[:2])  # (B, n_test)
    for s in range(0, g.shape[0], 16):  # blocks of runs: the temporaries stay in cache
        z = g[s:s + 16].astype(float) @ LT[s:s + 16] + b[s:s + 16, None, :]  # (16, n_test, 2m)
        noise[s:s + 16] = np.maximum(z, 0.0) @ jsign / m
    sig_plus = np.einsum("bjs,j->b", np.maximum(a + b[..., None], 0.0), jsign) / m
    sig_minus = np.einsum("bjs,j->b", np.maximum(-a + b[..., None], 0.0), jsign) / m
    clean = 0.5 * (np.mean(sig_plus[:, None] + noise <= 0.0, axis=1)
                   + np.mean(sig_minus[:, None] + noise > 0.0, axis=1))
    return flip_prob + (1 - 2 * flip_prob) * clean, clean


def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(seed)


def _chunks(n_runs: int, per_run_floats: int):
    size = max(1, int(_CHUNK_BYTES // (8 * max(per_run_floats, 1))))
    for start in range(0, n_runs, size):
        yield range(start, min(n_runs, start + size))


def _check_batchable(settings, keys: tuple[str, ...], kind) -> None:
    if len(settings) == 0:
        raise ValueError("settings is empty: give at least one setting")
    for k, st in enumerate(settings):
        if not isinstance(st, kind):
            raise ValueError(f"settings[{k}] = {type(st).__name__}: expected {kind.__name__}")
        for key in keys:
            if getattr(st, key) != getattr(settings[0], key):
                raise ValueError(f"settings[{k}].{key} = {getattr(st, key)!r} differs from "
                                 f"settings[0].{key} = {getattr(settings[0], key)!r}; one "
                                 "batch shares " + ", ".join(keys))


def simulate_kou_runs(settings, seeds, *, n_test: int = 1000) -> list[dict]:
    """Train one CNN per ``(settings[b], seeds[b])`` in the Kou setting; test errors.

    Parameters
    ----------
    settings : sequence of KouSetting
        Same ``n``, ``m``, ``steps`` and ``bias`` (``d``, ``mu_norm``, ``eta``, init may differ).
    seeds : sequence of int, tuple of int or SeedSequence
        One per setting; the run draws its training data, initial filters and test draws from
        one generator seeded by it, so a run does not depend on the other runs of the batch.
    n_test : int
        Test draws per run.

    Returns
    -------
    list of dict
        Per run: ``err`` (vs observed labels), ``err_clean`` (vs true labels), ``train_loss``.
    """
    settings = list(settings)
    _check_batchable(settings, ("n", "m", "steps", "bias"), KouSetting)
    if len(seeds) != len(settings):
        raise ValueError(f"seeds has {len(seeds)} entries: expected one per setting "
                         f"({len(settings)})")
    st0 = settings[0]
    out: list[dict] = []
    dmax = max(st.d for st in settings)
    for idx in _chunks(len(settings), (st0.n + 2 * st0.m) * dmax):
        draws, W0, rngs = [], [], []
        for b in idx:
            rng = np.random.default_rng(_seed_sequence(seeds[b]))
            draws.append(draw_kou(settings[b], settings[b].n, rng))  # as sample_kou
            W0.append(kou_init(settings[b], rng))
            rngs.append(rng)
        runs = pack_signal_noise([settings[b].signal for b in idx], [t[0] for t in draws],
                                 [t[1] for t in draws], [t[2] for t in draws], W0,
                                 bias=st0.bias)
        res = simulate_cnn_gd_batched(runs, [settings[b].eta for b in idx], st0.steps)
        mom = [_test_moments(res.weights(a), settings[b].signal, settings[b].sigma_p,
                             bias=st0.bias) for a, b in enumerate(idx)]
        g = np.empty((len(idx), n_test, 2 * st0.m), dtype=np.float32)
        for a, r in enumerate(rngs):
            r.standard_normal(dtype=np.float32, out=g[a])  # the draws of size=g[a].shape
        err, clean = _mc_errors(np.stack([c for c, _, _ in mom]), np.stack([a for _, a, _ in mom]),
                                np.stack([b for _, _, b in mom]), g,
                                np.array([settings[b].flip_prob for b in idx]))
        out.extend({"err": float(err[a]), "err_clean": float(clean[a]),
                    "train_loss": float(res.loss[a, -1])} for a in range(len(idx)))
    return out


def _pack(samples, W0, bias=False):
    """Pack runs (their ``d`` may differ) whose patches are ``[yhat (u + v), xi]``."""
    return pack_signal_noise([s.u + s.v for s in samples], [s.y_true for s in samples],
                             [s.y for s in samples], [s.xi for s in samples], W0, bias=bias)


def _task2_remove(st: CNNTransferSetting) -> np.ndarray:
    """Unit directions of u and v2 (Task-2 noise is orthogonal to both; docs/cnn_theory.md §1)."""
    e = np.zeros((2, st.d))
    e[0, 0] = 1.0
    e[1, 1] = st.v_cos
    e[1, 2] = math.sqrt(max(0.0, 1.0 - st.v_cos**2))
    return e


def simulate_transfer_runs(settings, seeds, *, n_test: int = 1000) -> list[dict]:
    """Upstream, transfer and scratch runs of Yuan et al.'s two-task setting, batched.

    Parameters
    ----------
    settings : sequence of CNNTransferSetting
        Layout A; same ``m``, ``N1``, ``N2``, ``T1``, ``T2`` (``d``, norms, noise, ``alpha``,
        ``eta`` may differ).
    seeds : sequence of int, tuple of int or SeedSequence
        One per setting, spawned as in ``cnn_transfer.run_point``.
    n_test : int
        Test draws per run.

    Returns
    -------
    list of dict
        ``err_transfer``, ``err_scratch`` (vs observed labels), ``err_transfer_clean``,
        ``err_scratch_clean``, ``loss_transfer``, ``loss_scratch``, ``loss_upstream``.
    """
    settings = list(settings)
    _check_batchable(settings, ("m", "N1", "N2", "T1", "T2", "layout"), CNNTransferSetting)
    if settings[0].layout != "A":
        raise ValueError(f"layout = {settings[0].layout!r}: the batched driver supports 'A'")
    if len(seeds) != len(settings):
        raise ValueError(f"seeds has {len(seeds)} entries: expected one per setting "
                         f"({len(settings)})")
    st0 = settings[0]
    dmax = max(st.d for st in settings)
    out: list[dict] = []
    for idx in _chunks(len(settings), (st0.N1 + st0.N2 + 8 * st0.m) * dmax):
        out.extend(_transfer_chunk([settings[b] for b in idx], [seeds[b] for b in idx], n_test))
    return out


def _transfer_chunk(settings, seeds, n_test):
    st0 = settings[0]
    streams = [[np.random.default_rng(c) for c in _seed_sequence(s).spawn(6)] for s in seeds]
    down, up, fresh, up0 = [], [], [], []
    for st, (r_task2, _, r_up, r_upinit, _, r_fresh) in zip(settings, streams, strict=True):
        down.append(sample_task(st, 2, st.N2, r_task2))
        fresh.append(st.sigma_0 * r_fresh.standard_normal((2, st.m, st.d)))
        up.append(sample_task(st, 1, st.N1, r_up))
        up0.append(st.sigma_0 * r_upinit.standard_normal((2, st.m, st.d)))
    eta = [st.eta for st in settings]
    res_up = simulate_cnn_gd_batched(_pack(up, up0), eta, st0.T1)
    inits = [transfer_init(res_up.weights(a), st.alpha, streams[a][4], mode=st.transfer_mode,
                           sigma_0=st.sigma_0, fresh=fresh[a]).weights
             for a, st in enumerate(settings)]
    res_s = simulate_cnn_gd_batched(_pack(down, fresh), eta, st0.T2)
    res_t = simulate_cnn_gd_batched(_pack(down, inits), eta, st0.T2)
    rows = []
    for a, st in enumerate(settings):
        u, _, v2 = signal_vectors(st)
        rem = _task2_remove(st)
        test_seed = int(streams[a][1].integers(2**63))  # same test draws for both methods
        e_t, c_t = gaussian_test_error(res_t.weights(a), u + v2, st.sigma_p2, st.flip_prob2,
                                       test_seed, n_test, rem)
        e_s, c_s = gaussian_test_error(res_s.weights(a), u + v2, st.sigma_p2, st.flip_prob2,
                                       test_seed, n_test, rem)
        rows.append({"err_transfer": e_t, "err_scratch": e_s, "err_transfer_clean": c_t,
                     "err_scratch_clean": c_s, "loss_transfer": float(res_t.loss[a, -1]),
                     "loss_scratch": float(res_s.loss[a, -1]),
                     "loss_upstream": float(res_up.loss[a, -1])})
    return rows
