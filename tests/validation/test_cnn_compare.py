"""Acceptance 1: torch GD and the coefficient-space simulator agree (float64)."""

import pytest

from dynamics import CNNTransferSetting
from validation.cnn_compare import compare_torch_simulator


@pytest.mark.parametrize("init", ["scratch", "transfer"])
def test_torch_matches_simulator_small(init):
    st = CNNTransferSetting(d=300, m=8, N1=30, N2=20, T1=200, T2=150, eta=0.2, u_norm=1.0,
                            v2_norm=1.5)
    r = compare_torch_simulator(st, init=init, seed=1)
    assert r.final_loss < 0.6  # training moved
    assert r.max_rel < 1e-8, r.to_dict()
    assert r.max_loss_diff < 1e-12


@pytest.mark.parametrize("init", ["scratch", "transfer"])
def test_torch_matches_simulator_full_size(init):
    """d = 2000, m = 40, N = 100, 400 steps (the issue's acceptance size), ~5 s each."""
    st = CNNTransferSetting(d=2000, m=40, N1=100, N2=100, T1=800, T2=400)
    r = compare_torch_simulator(st, init=init, n=100, steps=400, seed=0)
    assert r.max_rel < 1e-8, r.to_dict()
    assert r.max_loss_diff < 1e-12
