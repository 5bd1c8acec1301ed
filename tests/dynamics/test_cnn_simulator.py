"""Coefficient-space simulator vs brute-force GD, and vs the docs/cnn_theory.md iterations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from dynamics import (
    CNNTransferSetting,
    DivergenceError,
    cnn_output,
    iterate_coefficients,
    sample_task,
    simulate_cnn_gd,
    transfer_init,
)
from tests.dynamics._reference import brute_force_gd


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_cnn_output_matches_loop():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((2, 3, 7))
    X = rng.standard_normal((5, 2, 7))
    f = np.array([
        sum(max(0.0, W[0, r] @ X[i, p]) - max(0.0, W[1, r] @ X[i, p])
            for r in range(3) for p in range(2)) / 3
        for i in range(5)
    ])
    assert np.allclose(cnn_output(W, X), f, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("layout", ["A", "B"])
def test_simulator_equals_brute_force_gd(layout):
    st = CNNTransferSetting(d=60, m=4, layout=layout, u_norm=1.0, v2_norm=2.0, flip_prob2=0.2)
    rng = np.random.default_rng(3)
    s = sample_task(st, 2, 12, rng)
    W0 = 0.05 * rng.standard_normal((2, 4, 60))
    Ws, losses = brute_force_gd(s.patches, s.y, W0, 0.3, 60)
    tr = simulate_cnn_gd(s.patches, s.y, W0, 0.3, 60, record_every=7)
    for t in tr.steps[1:]:
        assert _rel(tr.weights(int(t)) - W0, Ws[t] - W0) < 1e-10
    assert np.array_equal(tr.weights(0), W0)
    assert np.allclose(tr.loss, losses, rtol=1e-12, atol=1e-14)
    assert list(tr.steps) == [0, 7, 14, 21, 28, 35, 42, 49, 56, 60]


@settings(max_examples=15, deadline=None)
@given(
    n=hst.integers(1, 6), P=hst.integers(1, 3), d=hst.integers(2, 9), m=hst.integers(1, 3),
    seed=hst.integers(0, 2**16), dup=hst.booleans(),
)
def test_simulator_generic_patches_property(n, P, d, m, seed, dup):
    """Arbitrary patches (non-orthogonal, duplicated up to sign, zero): still exact GD."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, P, d))
    if dup and n > 1:
        X[1, 0] = -X[0, 0]
        X[-1, -1] = 0.0
    y = rng.choice([-1.0, 1.0], n)
    W0 = rng.standard_normal((2, m, d))
    Ws, losses = brute_force_gd(X, y, W0, 0.2, 15)
    tr = simulate_cnn_gd(X, y, W0, 0.2, 15)
    assert np.allclose(tr.weights(15), Ws[-1], rtol=1e-10, atol=1e-12)
    assert np.allclose(tr.loss, losses, rtol=1e-10, atol=1e-13)


def _transfer_W0(st, rng):
    up = sample_task(st, 1, st.N1, rng)
    W_up0 = st.sigma_0 * rng.standard_normal((2, st.m, st.d))
    tr = simulate_cnn_gd(up.patches, up.y, W_up0, st.eta, st.T1, record_every=None)
    return transfer_init(tr.weights(), st.alpha, rng, sigma_0=st.sigma_0).weights


@pytest.mark.parametrize("layout", ["A", "B"])
@pytest.mark.parametrize("init", ["scratch", "transfer"])
def test_iterations_reproduce_simulator_step_by_step(layout, init):
    """Acceptance 2: gamma / rho-bar / rho-underbar recursions (docs/cnn_theory.md) == simulator."""
    st = CNNTransferSetting(d=400, m=10, N1=40, N2=30, T1=150, eta=0.2, layout=layout,
                            u_norm=1.5, v1_norm=1.0, v2_norm=2.0, flip_prob2=0.15)
    rng = np.random.default_rng(11)
    W0 = (st.sigma_0 * rng.standard_normal((2, st.m, st.d)) if init == "scratch"
          else _transfer_W0(st, rng))
    s = sample_task(st, 2, st.N2, rng)
    steps = 120
    path = iterate_coefficients(s, W0, st.eta, steps)
    tr = simulate_cnn_gd(s.patches, s.y, W0, st.eta, steps, record_every=1)
    co = tr.coefficients(s.signals)
    scale = {k: np.abs(getattr(path, k)).max() for k in ("gamma", "rho_bar", "rho_under")}
    assert scale["gamma"] > 0.01 and scale["rho_bar"] > 0.1  # something happened
    for t in range(steps + 1):
        for k in ("gamma", "rho_bar", "rho_under"):
            diff = np.abs(getattr(co, k)[t] - getattr(path, k)[t]).max()
            assert diff <= 1e-10 * scale[k], (k, t, diff)
    assert np.allclose(path.loss, tr.loss, rtol=1e-12)
    # explicit noise basis gives the same coefficients
    co2 = tr.coefficients(s.signals, s.xi)
    assert np.allclose(co2.rho_bar, co.rho_bar, atol=1e-12 * scale["rho_bar"])


def test_coefficient_signs_and_monotonicity():
    """rho-bar >= 0 non-decreasing, rho-underbar <= 0 non-increasing (docs/cnn_theory.md)."""
    st = CNNTransferSetting(d=300, m=6, N2=20, eta=0.3, flip_prob2=0.2)
    rng = np.random.default_rng(5)
    s = sample_task(st, 2, st.N2, rng)
    W0 = 0.01 * rng.standard_normal((2, st.m, st.d))
    co = simulate_cnn_gd(s.patches, s.y, W0, st.eta, 80).coefficients(s.signals)
    tol = 1e-12
    assert np.all(co.rho_bar >= -tol) and np.all(co.rho_under <= tol)
    assert np.all(np.diff(co.rho_bar, axis=0) >= -tol)
    assert np.all(np.diff(co.rho_under, axis=0) <= tol)
    # layout A: gamma^v / gamma^u = |v|^2 / |u|^2 (docs/cnn_theory.md)
    ratio = co.gamma[-1, ..., 1] / co.gamma[-1, ..., 0]
    assert np.allclose(ratio[np.abs(co.gamma[-1, ..., 0]) > 1e-12], st.v2_norm**2 / st.u_norm**2)


def test_zero_shared_signal():
    st = CNNTransferSetting(d=100, m=4, N2=10, u_norm=0.0, eta=0.2)
    rng = np.random.default_rng(2)
    s = sample_task(st, 2, 10, rng)
    W0 = 0.01 * rng.standard_normal((2, 4, 100))
    tr = simulate_cnn_gd(s.patches, s.y, W0, st.eta, 30)
    co = tr.coefficients(s.signals)
    path = iterate_coefficients(s, W0, st.eta, 30)
    assert np.all(co.gamma[..., 0] == 0) and np.all(path.gamma[..., 0] == 0)
    assert np.allclose(co.gamma, path.gamma, atol=1e-13)


def test_input_checks_and_divergence():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 2, 5))
    y = np.array([1.0, -1, 1, -1])
    W0 = rng.standard_normal((2, 3, 5))
    with pytest.raises(ValueError, match="eta"):
        simulate_cnn_gd(X, y, W0, 0.0, 3)
    with pytest.raises(ValueError, match="W0"):
        simulate_cnn_gd(X, y, W0[:, :, :4], 0.1, 3)
    with pytest.raises(ValueError, match="y"):
        simulate_cnn_gd(X, np.array([1.0, 0, 1, 1]), W0, 0.1, 3)
    with pytest.raises(ValueError, match="steps"):
        simulate_cnn_gd(X, y, W0, 0.1, -1)
    with pytest.raises(DivergenceError):
        simulate_cnn_gd(1e200 * X, y, W0, 1e200, 3)
