"""CNNTransferSetting validation and the two-task sampler (docs/cnn_theory.md)."""

import numpy as np
import pytest

from dynamics import CNNTransferSetting, sample_task, signal_vectors


@pytest.mark.parametrize(
    "field, value",
    [
        ("alpha", -0.1), ("alpha", 1.5), ("d", 0), ("d", -5), ("m", 0), ("N1", 0), ("N2", -1),
        ("eta", 0.0), ("eta", -0.01), ("sigma_p1", 0.0), ("sigma_p2", -1.0), ("sigma_0", 0.0),
        ("flip_prob1", 0.5), ("flip_prob2", 0.7), ("flip_prob1", -0.1), ("u_norm", -1.0),
        ("v2_norm", float("nan")), ("T1", -1), ("layout", "C"), ("transfer_mode", "layer"),
        ("d", 2.5), ("m", True), ("v_cos", 1.5),
    ],
)
def test_bad_setting_raises_naming_field(field, value):
    with pytest.raises(ValueError, match=rf"^{field} = "):
        CNNTransferSetting(**{field: value})


def test_replace_revalidates():
    st = CNNTransferSetting()
    assert st.replace(alpha=1.0).alpha == 1.0
    with pytest.raises(ValueError, match="alpha"):
        st.replace(alpha=2.0)


def test_signals_orthogonal_and_norms():
    st = CNNTransferSetting(d=10, u_norm=2.0, v1_norm=3.0, v2_norm=0.5)
    u, v1, v2 = signal_vectors(st)
    assert np.allclose([np.linalg.norm(u), np.linalg.norm(v1), np.linalg.norm(v2)], [2, 3, 0.5])
    assert u @ v1 == 0 and u @ v2 == 0 and v1 @ v2 == 0
    st = st.replace(v_cos=0.6)
    _, v1, v2 = signal_vectors(st)
    assert np.isclose(v1 @ v2 / (3 * 0.5), 0.6)


@pytest.mark.parametrize("layout", ["A", "B"])
@pytest.mark.parametrize("task", [1, 2])
def test_sample_layout_and_projection(layout, task):
    st = CNNTransferSetting(d=50, layout=layout, u_norm=1.2, v1_norm=0.7, v2_norm=2.0)
    s = sample_task(st, task, 40, np.random.default_rng(1))
    P = 2 if layout == "A" else 3
    assert s.patches.shape == (40, P, 50)
    assert np.array_equal(s.patches[:, -1], s.xi)
    v = s.v
    if layout == "A":
        assert np.allclose(s.patches[:, 0], s.y_true[:, None] * (s.u + v))
    else:
        assert np.allclose(s.patches[:, 0], s.y_true[:, None] * s.u)
        assert np.allclose(s.patches[:, 1], s.y_true[:, None] * v)
    # xi is orthogonal to u and v_k (projector Pi_k)
    assert np.max(np.abs(s.xi @ s.u)) < 1e-12
    assert np.max(np.abs(s.xi @ v)) < 1e-12


def test_noise_and_label_statistics_monte_carlo():
    """E|xi|^2 = sigma^2 (d - 2), P(y != yhat) = p, yhat balanced (Monte Carlo)."""
    st = CNNTransferSetting(d=30, sigma_p2=1.7, flip_prob2=0.2)
    n = 40000
    s = sample_task(st, 2, n, np.random.default_rng(7))
    sq = np.einsum("id,id->i", s.xi, s.xi)
    mean, se = sq.mean(), sq.std() / np.sqrt(n)
    assert abs(mean - 1.7**2 * 28) < 4 * se
    flips = np.mean(s.y != s.y_true)
    assert abs(flips - 0.2) < 4 * np.sqrt(0.2 * 0.8 / n)
    assert abs(np.mean(s.y_true)) < 4 / np.sqrt(n)
    # isotropy inside the projected subspace: coordinate variances are sigma^2
    var = s.xi[:, 5:].var(axis=0)
    assert np.all(np.abs(var - 1.7**2) < 6 * 1.7**2 * np.sqrt(2 / n))


def test_sample_is_seeded():
    st = CNNTransferSetting(d=20)
    a = sample_task(st, 1, 5, 3)
    b = sample_task(st, 1, 5, 3)
    assert np.array_equal(a.patches, b.patches) and np.array_equal(a.y, b.y)
    with pytest.raises(ValueError, match="task"):
        sample_task(st, 3, 5, 0)
    with pytest.raises(ValueError, match="n = 0"):
        sample_task(st, 1, 0, 0)
