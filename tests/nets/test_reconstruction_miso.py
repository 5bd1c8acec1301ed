"""MISO channel, pilots and metrics (Cui & Yu 2024, Sec. V-C)."""

import math

import numpy as np
import pytest

from nets.reconstruction import miso


def test_path_loss_hand_values():
    assert miso.miso_path_loss_db(1.0) == pytest.approx(32.6)
    assert miso.miso_path_loss_db(100.0) == pytest.approx(32.6 + 73.4)
    assert miso.miso_path_loss_db(50.0) == pytest.approx(32.6 + 36.7 * math.log10(50.0))


def test_steering_vector_hand_values():
    a = miso.steering(0.3, -0.2, 4)
    # k = 4 m + n: k = 6 -> (m, n) = (1, 2)
    assert a[6] == pytest.approx(np.exp(1j * (0.3 - 0.4)))
    assert a[0] == pytest.approx(1.0)
    assert a[15] == pytest.approx(np.exp(1j * (3 * 0.3 + 3 * -0.2)))


def test_geometry_of_factors():
    ue = np.array([[30.0, 40.0]])
    _, f = miso.channels(ue, seed=0)
    d0 = math.sqrt(30**2 + 40**2 + 50**2)
    assert f[0, :3] == pytest.approx([d0, 30 / d0, 40 / d0])
    d1 = math.sqrt(30**2 + 60**2 + 50**2)  # BS at (0, 100, 50)
    assert f[0, 3:6] == pytest.approx([d1, 30 / d1, -60 / d1])


def test_rician_average_power_and_los_share():
    ue = np.tile([[60.0, 20.0]], (40000, 1))
    h, f = miso.channels(ue, seed=1)
    pl = 10 ** (-miso.miso_path_loss_db(f[0, [0, 3, 6]]) / 10)
    power = (np.abs(h) ** 2).mean(axis=(0, 2))
    assert power == pytest.approx(pl, rel=0.01)  # E|h_k|^2 = 10^{-PL/10}
    # LOS part: the mean channel is sqrt(K/(1+K)) a(s, t) times the amplitude
    a = miso.steering(f[0, 1], f[0, 2])
    mean = h[:, 0].mean(axis=0) / np.sqrt(pl[0])
    assert mean == pytest.approx(np.sqrt(10 / 11) * a, abs=0.02)


def test_pilots_sensing_and_constant_modulus_noise():
    cfg = miso.MISOConfig()
    system = miso.make_system(cfg, seed=5)
    assert np.abs(system.pilots) == pytest.approx(np.ones(4))  # 30 dBm = 1 W
    assert np.linalg.norm(system.sensing, axis=-1) == pytest.approx(np.ones((3, 4)))
    s = miso.generate_samples(50, system, seed=2)
    clean = np.einsum("blm,nbm->nbl", system.sensing.conj(), s.h) * system.pilots
    noise = s.y - clean
    assert np.abs(noise) == pytest.approx(np.full(noise.shape, math.sqrt(5e-12)))


def test_mrt_is_optimal_gain():
    s = miso.generate_samples(20, miso.make_system(), seed=3)
    g = miso.beamforming_gain(s.h, miso.mrt(s.h))
    assert g == pytest.approx((np.abs(s.h) ** 2).sum(axis=-1), rel=1e-12)
    rng = np.random.default_rng(0)
    v = miso.mrt(rng.standard_normal(s.h.shape) + 1j * rng.standard_normal(s.h.shape))
    assert (miso.beamforming_gain(s.h, v) <= g * (1 + 1e-12)).all()
