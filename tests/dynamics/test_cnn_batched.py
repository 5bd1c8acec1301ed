"""Batched CNN simulator vs the single-run simulator; Kou setting; exact-in-law test errors."""

import numpy as np
import pytest

from dynamics import (
    CNNTransferSetting,
    DivergenceError,
    KouSetting,
    cnn_output,
    gaussian_test_error,
    kou_init,
    pack_runs,
    pack_signal_noise,
    sample_kou,
    sample_task,
    simulate_cnn_gd,
    simulate_cnn_gd_batched,
    simulate_kou_runs,
    simulate_transfer_runs,
)


def _random_batch(seed, B=7, m=3, n=6):
    """Runs of random settings: layouts A/B, zero signals, different d, Kou data with bias."""
    rng = np.random.default_rng(seed)
    layout = "AB"[seed % 2]
    X, Y, W = [], [], []
    for b in range(B):
        d = int(rng.integers(4, 40))
        st = CNNTransferSetting(d=d, m=m, layout=layout,
                                u_norm=0.0 if b == 0 else float(rng.uniform(0, 3)),
                                v2_norm=0.0 if b == 1 else float(rng.uniform(0, 3)),
                                flip_prob2=0.2)
        s = sample_task(st, 2, n, rng)
        X.append(s.patches)
        Y.append(s.y)
        W.append(float(rng.uniform(0.01, 0.5)) * rng.standard_normal((2, m, d)))
    return X, Y, W, rng.uniform(0.05, 1.0, B)


@pytest.mark.parametrize("seed", range(6))
def test_batched_equals_single_run(seed):
    X, Y, W, eta = _random_batch(seed)
    steps = 150
    res = simulate_cnn_gd_batched(pack_runs(X, Y, W), eta, steps)
    for b in range(len(X)):
        tr = simulate_cnn_gd(X[b], Y[b], W[b], eta[b], steps, record_every=None)
        upd = np.linalg.norm(tr.weights() - W[b])
        assert upd > 1e-3  # the runs did move
        assert np.linalg.norm(res.weights(b) - tr.weights()) <= 1e-12 * upd
        assert np.max(np.abs(res.loss[b] - tr.loss)) <= 1e-12


def test_batched_runs_do_not_see_each_other():
    """The kernel reuses its per-run buffers: a run's result must not depend on the runs
    before it (batch reversed, one run alone), bit for bit."""
    X, Y, W, eta = _random_batch(3, B=5)
    fwd = simulate_cnn_gd_batched(pack_runs(X, Y, W), eta, 80)
    rev = simulate_cnn_gd_batched(pack_runs(X[::-1], Y[::-1], W[::-1]), eta[::-1], 80)
    alone = simulate_cnn_gd_batched(pack_runs(X[2:3], Y[2:3], W[2:3]), eta[2:3], 80)
    for b in range(5):
        assert np.array_equal(fwd.weights(b), rev.weights(4 - b))
        assert np.array_equal(fwd.loss[b], rev.loss[4 - b])
    assert np.array_equal(fwd.weights(2), alone.weights(0))
    assert np.ptp(fwd.final_loss) > 1e-3  # the runs differ


@pytest.mark.parametrize("bias", [False, True])
def test_pack_signal_noise_equals_generic_packing(bias):
    st = KouSetting(d=50, mu_norm=2.0, bias=bias)
    rng = np.random.default_rng(1)
    ss = [sample_kou(st.replace(mu_norm=v), 20, rng) for v in (0.0, 1.0, 3.0)]
    W0 = np.stack([kou_init(st, rng) for _ in ss])
    fast = pack_signal_noise(np.stack([s.u for s in ss]), np.stack([s.y_true for s in ss]),
                             np.stack([s.y for s in ss]), np.stack([s.xi for s in ss]), W0,
                             bias=bias)
    slow = pack_runs([s.patches for s in ss], [s.y for s in ss], list(W0))
    a = simulate_cnn_gd_batched(fast, 2.5, 60)
    b = simulate_cnn_gd_batched(slow, 2.5, 60)
    for k in range(3):
        assert np.allclose(a.weights(k), b.weights(k), rtol=0, atol=1e-12)


def _their_network_gd(patches, y, W0_theirs, lr, steps):
    """Kou et al.'s network in their units, straight from its definition (numpy, float64):
    F_j = sum_r mean_p relu(<w_jr, x_p> + b_jr), logistic loss, full-batch GD on (w, b)."""
    n, P, d1 = patches.shape
    W = W0_theirs.copy()  # last coordinate = bias; patches carry a trailing 1
    for _ in range(steps):
        Z = np.einsum("jrd,ipd->ijrp", W, patches)
        F = np.maximum(Z, 0).mean(axis=3).sum(axis=2)  # (n, 2)
        f = F[:, 0] - F[:, 1]
        lp = -1.0 / (1.0 + np.exp(y * f))
        sgn = np.array([1.0, -1.0])
        grad = np.einsum("i,j,ijrp,ipd->jrd", lp * y, sgn, (Z > 0) / P, patches) / n
        W = W - lr * grad
    return W


def test_kou_published_mapping_is_their_gradient_descent():
    """Their network (mean over patches, sum over filters, bias) with lr 0.1 == ours with
    eta = (m/2)^2 lr on weights scaled by m/2 (docs/cnn_phase.md)."""
    st = KouSetting.published(40, 2.0)
    assert st.eta == pytest.approx(2.5) and st.bias and st.init_scale == 5.0
    rng = np.random.default_rng(2)
    s = sample_kou(st, 20, rng)
    V0 = kou_init(st, rng)
    assert V0.shape == (2, 10, 41) and np.abs(V0).max() <= 5 / np.sqrt(40)
    W_theirs = _their_network_gd(s.patches, s.y, V0 / 5.0, 0.1, 40)
    tr = simulate_cnn_gd(s.patches, s.y, V0, st.eta, 40, record_every=None)
    assert np.linalg.norm(tr.weights() - 5.0 * W_theirs) <= 1e-10 * np.linalg.norm(
        tr.weights() - V0)


@pytest.mark.parametrize("bias", [False, True])
def test_gaussian_test_error_matches_explicit_test_set(bias):
    st = KouSetting.published(60, 1.5, bias=bias)
    rng = np.random.default_rng(3)
    s = sample_kou(st, 20, rng)
    W = simulate_cnn_gd(s.patches, s.y, kou_init(st, rng), st.eta, 30,
                        record_every=None).weights()
    test = sample_kou(st, 40000, rng)
    f = cnn_output(W, test.patches)
    explicit = np.mean(np.where(f > 0, 1.0, -1.0) != test.y)
    explicit_clean = np.mean(np.where(f > 0, 1.0, -1.0) != test.y_true)
    err, clean = gaussian_test_error(W, st.signal, st.sigma_p, st.flip_prob, 4, 40000,
                                     bias=bias)
    se = np.sqrt(2 * 0.25 / 40000)
    assert 0.15 < clean < 0.45  # a non-trivial classifier
    assert abs(err - explicit) < 4 * se and abs(clean - explicit_clean) < 4 * se


def test_gaussian_test_error_with_projected_noise():
    st = CNNTransferSetting(d=50, m=4, u_norm=0.6, v2_norm=0.4)
    rng = np.random.default_rng(5)
    W = 0.3 * rng.standard_normal((2, 4, 50))
    test = sample_task(st, 2, 40000, rng)
    f = cnn_output(W, test.patches)
    explicit = np.mean(np.where(f > 0, 1.0, -1.0) != test.y)
    rem = np.zeros((2, 50))
    rem[0, 0] = rem[1, 2] = 1.0
    err, _ = gaussian_test_error(W, test.u + test.v, 1.0, 0.1, 6, 40000, rem)
    assert abs(err - explicit) < 4 * np.sqrt(2 * 0.25 / 40000)


@pytest.mark.parametrize("bias", [False, True])
def test_kou_runs_do_not_depend_on_the_batch(bias):
    """Runs of different d batched together (zero padding) equal the runs alone, which
    equal the single-run simulator."""
    sts = [KouSetting(d=30 + 10 * k, mu_norm=2.0, steps=20, bias=bias) for k in range(3)]
    seeds = [(0, k) for k in range(3)]
    together = simulate_kou_runs(sts, seeds, n_test=200)
    alone = [simulate_kou_runs([st], [sd], n_test=200)[0]
             for st, sd in zip(sts, seeds, strict=True)]
    for a, b in zip(together, alone, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-12)
        assert a["err"] == b["err"]
    rng = np.random.default_rng(np.random.SeedSequence(seeds[2]))
    s = sample_kou(sts[2], 20, rng)
    tr = simulate_cnn_gd(s.patches, s.y, kou_init(sts[2], rng), sts[2].eta, 20)
    assert together[2]["train_loss"] == pytest.approx(tr.loss[-1], rel=1e-12)


def test_divergence_names_the_run():
    X, Y, W, _ = _random_batch(0, B=3)
    X[2] = X[2] * 1e155  # finite inputs whose inner products overflow during GD
    with pytest.raises(DivergenceError, match="run 2"):
        simulate_cnn_gd_batched(pack_runs(X, Y, W), 0.5, 5)


def _bad(kind):
    X, Y, W, _ = _random_batch(1, B=2)
    if kind == "eta":
        return lambda: simulate_cnn_gd_batched(pack_runs(X, Y, W), -1.0, 5)
    if kind == "steps":
        return lambda: simulate_cnn_gd_batched(pack_runs(X, Y, W), 0.1, 2.5)
    if kind == "runs":
        return lambda: simulate_cnn_gd_batched((X, Y, W), 0.1, 5)
    if kind == "count":
        return lambda: pack_runs(X, Y[:1], W)
    if kind == "n":
        return lambda: pack_runs([X[0], X[1][:3]], [Y[0], Y[1][:3]], W)
    if kind == "labels":
        return lambda: pack_runs(X, [Y[0], 2 * Y[1]], W)
    if kind == "nan":
        W[0][0, 0, 0] = np.nan
        return lambda: pack_runs(X, Y, W)
    if kind == "mixed":
        return lambda: simulate_kou_runs([KouSetting(), KouSetting(n=10)], [0, 1])
    if kind == "seeds":
        return lambda: simulate_kou_runs([KouSetting()], [0, 1])
    if kind == "layout":
        return lambda: simulate_transfer_runs([CNNTransferSetting(layout="B")], [0])
    raise AssertionError(kind)


@pytest.mark.parametrize("kind, fragment", [
    ("eta", "eta"), ("steps", "steps"), ("runs", "BatchedRuns"), ("count", "same positive"),
    ("n", "run 1"), ("labels", r"y\[1\]"), ("nan", "NaN"), ("mixed", r"settings\[1\]\.n"),
    ("seeds", "seeds"), ("layout", "layout"),
])
def test_batched_bad_inputs(kind, fragment):
    with pytest.raises(ValueError, match=fragment):
        _bad(kind)()


@pytest.mark.parametrize("kw, fragment", [
    ({"flip_prob": 0.5}, "flip_prob"), ({"init": "xavier"}, "init"), ({"d": 1}, "d = 1"),
    ({"mu_norm": -1.0}, "mu_norm"), ({"eta": 0.0}, "eta"), ({"steps": -1}, "steps"),
    ({"bias": "yes"}, "bias"), ({"sigma_0": float("nan")}, "sigma_0"),
])
def test_kou_setting_bad_inputs(kw, fragment):
    with pytest.raises(ValueError, match=fragment):
        KouSetting(**kw)
