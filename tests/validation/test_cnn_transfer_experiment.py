"""The cnn-transfer experiment: config checks and a tiny end-to-end run."""

import json

import pandas as pd
import pytest

from validation.experiments import cnn_transfer as m


def test_config_validation_names_field():
    with pytest.raises(ValueError, match="alpha"):
        m.CNNTransferConfig(alpha=1.5)
    with pytest.raises(ValueError, match=r"N1_grid\[1\]"):
        m.CNNTransferConfig(N1_grid=(10, 0))
    with pytest.raises(ValueError, match="u_norm_grid"):
        m.CNNTransferConfig(u_norm_grid=(1.0, 2.0))
    with pytest.raises(ValueError, match="n_seeds"):
        m.CNNTransferConfig(n_seeds=0)
    with pytest.raises(ValueError, match="flip_prob"):
        m.CNNTransferConfig(flip_prob=0.5)
    q = m.CNNTransferConfig.quick()
    assert (q.d, q.m, q.eta, q.sigma_0, q.T1, q.T2) == (2000, 40, 0.01, 0.01, 800, 400)
    assert m.EXPERIMENT_NAME == "cnn-transfer"


def test_tiny_run_writes_outputs(tmp_path):
    cfg = m.CNNTransferConfig(
        d=150, m=6, T1=60, T2=60, eta=0.1, n_test=200, N1=40, N2=10,
        N1_grid=(10, 40), sigma_p1_grid=(0.5, 2.0), u_norm_grid=(0.0, 2.0),
        heatmap_d_grid=(100, 200), heatmap_u_grid=(0.0, 2.0), n_seeds=2, heatmap_seeds=1,
        n_jobs=1, record_every=20,
    )
    tables = m.run(cfg, tmp_path / "out")
    out = tmp_path / "out"
    for f in ("results.csv", "runs.csv", "findings.csv", "torch_check.csv", "trajectories.csv",
              "config.json", "fig1_transfer.png", "fig2_heatmap.png", "fig3_trajectories.png"):
        assert (out / f).exists(), f
    res = pd.read_csv(out / "results.csv")
    assert len(res) == 2 + 2 + 2 + 4
    assert {"acc_transfer", "acc_scratch", "gain", "gain_se", "T_thm42", "Gamma",
            "pred_negative_transfer"} <= set(res.columns)
    assert len(tables["runs"]) == 6 * 2 + 4
    assert tables["findings"]["claim"].str.contains("negative transfer").any()
    assert (tables["torch_check"]["max_rel"] < 1e-8).all()
    meta = json.loads((out / "config.json").read_text())
    assert meta["config"]["N1_grid"] == [10, 40] and "timings" in meta["extra"]
