"""D2D channel model, objectives and baselines (Cui & Yu 2024, setting A).

Uses the authors' 2000 released test layouts and GP powers shipped as package data
(``nets/reconstruction/data``, provenance in its README).
"""

import math

import numpy as np
import pytest

from nets.reconstruction import d2d


def _hand_path_loss(d):
    lam = 2.998e8 / 50e9
    r_bp = 4 * 1.5 * 1.5 / lam
    l_bp = abs(20 * math.log10(lam**2 / (8 * math.pi * 1.5 * 1.5)))
    pl = l_bp + 6 + 20 * math.log10(d / r_bp)
    return pl + (20 * math.log10(d / r_bp) if d > r_bp else 0.0)


@pytest.mark.parametrize("d", [5.0, 12.5, 25.0, 150.0, 1501.0007, 3000.0])
def test_path_loss_hand_computed(d):
    assert d2d.path_loss_db(d) == pytest.approx(_hand_path_loss(d), abs=1e-9)


def test_path_loss_literal_values_and_breakpoint_slope():
    # -74.4 dB at 5 m and -88.4 dB at 25 m on direct links (+6 dB antenna gain)
    assert 6 - d2d.path_loss_db(5.0) == pytest.approx(-74.39, abs=0.01)
    assert 6 - d2d.path_loss_db(25.0) == pytest.approx(-88.37, abs=0.01)
    # 20 dB/decade below the breakpoint (~1501 m), 40 dB/decade beyond
    assert d2d.path_loss_db(100.0) - d2d.path_loss_db(10.0) == pytest.approx(20.0)
    assert d2d.path_loss_db(30000.0) - d2d.path_loss_db(3000.0) == pytest.approx(40.0)


def test_released_gains_match_the_path_loss_range():
    g, _ = d2d.load_test_set()
    direct = 10 * np.log10(np.diagonal(g, axis1=1, axis2=2))
    lo, hi = 6 - d2d.path_loss_db(25.0), 6 - d2d.path_loss_db(5.0)
    assert direct.min() >= lo - 1e-6 and direct.max() <= hi + 1e-6
    assert direct.min() < lo + 0.05 and direct.max() > hi - 0.05


def test_generated_layouts_respect_geometry():
    tx, rx, dist = d2d.generate_layouts(300, seed=1)
    direct = np.diagonal(dist, axis1=1, axis2=2)
    assert direct.min() >= 5.0 and direct.max() <= 25.0
    assert ((rx >= 0) & (rx <= 150)).all() and ((tx >= 0) & (tx <= 150)).all()
    off = ~np.eye(10, dtype=bool)
    assert dist[:, off].min() >= 5.0
    # dist[s, i, j] is from transmitter j to receiver i
    assert dist[7, 2, 5] == pytest.approx(np.linalg.norm(rx[7, 2] - tx[7, 5]))
    g = d2d.channel_gains(dist)
    assert g[7, 2, 5] == pytest.approx(10 ** (-_hand_path_loss(dist[7, 2, 5]) / 10))
    assert g[7, 3, 3] == pytest.approx(10 ** ((6 - _hand_path_loss(dist[7, 3, 3])) / 10))


def test_fading_option_keeps_mean_power():
    dist = np.full((4000, 10, 10), 40.0)
    cfg = d2d.D2DConfig(fading=True, shadowing_db=0.0)
    g = d2d.channel_gains(dist, cfg, seed=0)
    base = d2d.channel_gains(dist)
    ratio = g / base
    assert ratio.mean() == pytest.approx(1.0, abs=0.02)  # E|h|^2 = 1
    assert ratio.var() == pytest.approx(1.0, abs=0.06)   # exponential: variance 1


def test_rates_against_direct_formula():
    rng = np.random.default_rng(3)
    g = rng.uniform(1e-10, 1e-8, size=(4, 10, 10))
    p = rng.uniform(0, 1, size=(4, 10))
    s2, P, B = 5e-12, 1.0, 5e6
    for s in range(4):
        for i in range(10):
            interf = sum(g[s, i, j] * p[s, j] * P for j in range(10) if j != i)
            sinr = g[s, i, i] * p[s, i] * P / (interf + s2)
            assert d2d.rates(g, p)[s, i] == pytest.approx(B * math.log2(1 + sinr), rel=1e-12)
    assert d2d.sum_rate(g, p) == pytest.approx(d2d.rates(g, p).sum(axis=1))
    assert d2d.min_rate(g, p) == pytest.approx(d2d.rates(g, p).min(axis=1))


def test_full_power_reproduces_released_numbers():
    g, _ = d2d.load_test_set()
    ones = d2d.full_power(g)
    assert d2d.min_rate(g, ones).mean() / 1e6 == pytest.approx(4.833, rel=1e-3)
    assert d2d.sum_rate(g, ones).mean() / 1e6 == pytest.approx(140.12, rel=1e-3)


def test_gp_reproduces_stored_solutions_on_all_layouts():
    g, gp_stored = d2d.load_test_set()
    p = d2d.gp_power(g)
    ours = d2d.min_rate(g, p).mean()
    stored = d2d.min_rate(g, gp_stored).mean()
    assert ours == pytest.approx(stored, rel=5e-3)
    assert stored / 1e6 == pytest.approx(9.163, rel=1e-3)
    s = d2d.sinr(g, p)
    assert (s.max(axis=1) / s.min(axis=1) - 1).max() < 1e-6  # equal SINRs
    assert np.allclose(p.max(axis=1), 1.0)                   # some link at full power


def test_gp_fast_path_matches_cvxpy_oracle():
    g, gp_stored = d2d.load_test_set()
    for s in (17, 1234):
        pc = d2d.gp_power_cvxpy(g[s])
        pf = d2d.gp_power(g[s])
        assert d2d.min_rate(g[s], pf) == pytest.approx(d2d.min_rate(g[s], pc), rel=1e-4)
        assert pf == pytest.approx(gp_stored[s], abs=1e-5)


def test_fp_sum_rate_monotone_and_beats_baselines():
    g, _ = d2d.load_test_set()
    x, hist = d2d.fp_power(g[:500], return_history=True)
    assert (np.diff(hist, axis=0) >= -1e-6 * hist[1:]).all()
    assert (x >= 0).all() and (x <= 1).all()
    x_all = d2d.fp_power(g)
    assert d2d.sum_rate(g, x_all).mean() / 1e6 == pytest.approx(157.45, rel=2e-3)
    rand = d2d.sum_rate(g, d2d.random_power(g, seed=0)).mean()
    assert d2d.sum_rate(g, x_all).mean() > d2d.sum_rate(g, 1.0).mean() > rand
    # FP from a random start also climbs monotonically
    _, h2 = d2d.fp_power(g[:50], init=d2d.random_power(g[:50], seed=1), return_history=True)
    assert (np.diff(h2, axis=0) >= -1e-6 * h2[1:]).all()


@pytest.mark.slow
def test_gp_cvxpy_oracle_on_a_subset_of_the_released_layouts():
    # every 40th of the 2000 layouts (50 layouts, ~1 s each with cvxpy's DGP)
    g, gp_stored = d2d.load_test_set()
    idx = np.arange(0, 2000, 40)
    rates = np.array([d2d.min_rate(g[s], d2d.gp_power_cvxpy(g[s])) for s in idx])
    stored = d2d.min_rate(g[idx], gp_stored[idx])
    assert rates == pytest.approx(stored, rel=1e-3)
    assert rates.mean() == pytest.approx(d2d.min_rate(g[idx], d2d.gp_power(g[idx])).mean(),
                                         rel=1e-4)
