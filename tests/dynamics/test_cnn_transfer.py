"""transfer_init (docs/cnn_theory.md)."""

import numpy as np
import pytest

from dynamics import n_inherited, transfer_init


@pytest.mark.parametrize("alpha, m", [(0.0, 10), (0.3, 10), (0.5, 40), (0.29, 100), (1.0, 7)])
def test_filter_mode_counts_and_values(alpha, m):
    rng = np.random.default_rng(0)
    W_up = rng.standard_normal((2, m, 8))
    fresh = rng.standard_normal((2, m, 8))
    ti = transfer_init(W_up, alpha, 1, fresh=fresh)
    k = int(np.floor(alpha * m + 1e-9))
    assert n_inherited(alpha, m) == k
    assert ti.mask.shape == (2, m)
    assert list(ti.mask.sum(axis=1)) == [k, k]
    assert np.array_equal(ti.weights[ti.mask], W_up[ti.mask])
    assert np.array_equal(ti.weights[~ti.mask], fresh[~ti.mask])


def test_fresh_draw_scale_and_selection_uniform():
    W_up = np.zeros((2, 10, 2000))
    ti = transfer_init(W_up, 0.0, 3, sigma_0=0.05)
    assert abs(ti.weights.std() - 0.05) < 0.002
    counts = np.zeros(10)
    for s in range(2000):
        counts += transfer_init(W_up[:, :, :1], 0.3, s).mask[0]
    # each filter is inherited with probability 3/10
    assert np.all(np.abs(counts / 2000 - 0.3) < 4 * np.sqrt(0.21 / 2000))


def test_entry_mode_fraction():
    W_up = np.ones((2, 20, 500))
    ti = transfer_init(W_up, 0.4, 0, mode="entry", fresh=np.zeros_like(W_up))
    assert ti.mask.shape == W_up.shape
    frac = ti.weights.mean()
    assert abs(frac - 0.4) < 4 * np.sqrt(0.24 / W_up.size)


def test_bad_arguments():
    W = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="alpha"):
        transfer_init(W, 1.2, 0)
    with pytest.raises(ValueError, match="mode"):
        transfer_init(W, 0.5, 0, mode="layer")
    with pytest.raises(ValueError, match="sigma_0"):
        transfer_init(W, 0.5, 0, sigma_0=0.0)
    with pytest.raises(ValueError, match="W_upstream"):
        transfer_init(np.zeros((3, 4)), 0.5, 0)
