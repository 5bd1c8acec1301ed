"""The cnn-transfer experiment: config checks, a tiny end-to-end run, cache and Dask runs."""

import json

import numpy as np
import pandas as pd
import pytest

from validation.experiments import cnn_transfer as m

TINY = dict(
    d=150, m=6, T1=60, T2=60, eta=0.1, n_test=200, N1=40, N2=10,
    N1_grid=(10, 40), sigma_p1_grid=(0.5, 2.0), u_norm_grid=(0.0, 2.0),
    heatmap_d_grid=(100, 200, 400), heatmap_u_grid=(0.0, 1.0, 2.0, 3.0), heatmap_N1=20,
    n_seeds=2, heatmap_seeds=2, n_jobs=1, record_every=20, n_boot=20,
)


@pytest.mark.parametrize("kw, fragment", [
    ({"alpha": 1.5}, "alpha"),
    ({"N1_grid": (10, 0)}, r"N1_grid\[1\]"),
    ({"u_norm_grid": (1.0, 2.0)}, "u_norm_grid"),
    ({"n_seeds": 0}, "n_seeds"),
    ({"flip_prob": 0.5}, "flip_prob"),
    ({"heatmap_seeds": 1}, "heatmap_seeds"),
    ({"levels": (0.2, 0.5)}, "levels"),
    ({"heatmap_N1": 0}, "heatmap_N1"),
    ({"C4": -1.0}, "C4"),
])
def test_config_validation_names_field(kw, fragment):
    with pytest.raises(ValueError, match=fragment):
        m.CNNTransferConfig(**kw)


def test_presets():
    q = m.CNNTransferConfig.quick()
    assert (q.d, q.m, q.eta, q.sigma_0, q.T1, q.T2) == (2000, 40, 0.01, 0.01, 800, 400)
    full = m.CNNTransferConfig()
    # issue 14: the Fig. 2 full preset is at least 30 x 30 cells with at least 5 seeds
    assert len(full.heatmap_d_grid) >= 30 and len(full.heatmap_u_grid) >= 30
    assert full.heatmap_seeds >= 5
    assert m.EXPERIMENT_NAME == "cnn-transfer"


def test_tiny_run_writes_outputs(tmp_path):
    cfg = m.CNNTransferConfig(**TINY)
    tables = m.run(cfg, tmp_path / "out")
    out = tmp_path / "out"
    for f in ("results.csv", "runs.csv", "findings.csv", "torch_check.csv", "trajectories.csv",
              "constants.csv", "config.json", "fig1_transfer.png", "fig2_heatmap.png",
              "fig3_trajectories.png"):
        assert (out / f).exists(), f
    res = pd.read_csv(out / "results.csv")
    assert len(res) == 2 + 2 + 2 + 3 * 4
    assert {"acc_transfer", "acc_scratch", "gain", "gain_se", "T_thm42", "Gamma",
            "pred_negative_transfer"} <= set(res.columns)
    assert len(tables["runs"]) == 6 * 2 + 12 * 2
    assert tables["findings"]["claim"].str.contains("negative transfer").any()
    assert (tables["torch_check"]["max_rel"] < 1e-8).all()
    const = tables["constants"]
    assert list(const["constant"]) == ["C1'", "C3'", "C1", "C3"]
    meta = json.loads((out / "config.json").read_text())
    assert meta["config"]["N1_grid"] == [10, 40] and "timings" in meta["extra"]


def test_figure2_cache_rerun_computes_nothing(tmp_path):
    cfg = m.CNNTransferConfig(**{**TINY, "cache_dir": str(tmp_path / "cache")})
    first = m._figure2_runs(cfg)
    assert first.attrs["n_computed"] == 3 * 2 and first.attrs["n_cached"] == 0
    second = m._figure2_runs(cfg)
    assert second.attrs["n_computed"] == 0 and second.attrs["n_cached"] == 3 * 2
    pd.testing.assert_frame_equal(first, second)
    f1 = m._figure1_runs(cfg)
    f1b = m._figure1_runs(cfg)
    assert f1b.attrs["n_computed"] == 0
    pd.testing.assert_frame_equal(f1, f1b)


def test_figure2_on_dask_equals_local():
    distributed = pytest.importorskip("distributed")
    cfg = m.CNNTransferConfig(**{**TINY, "heatmap_d_grid": (100, 200)})
    local = m._figure2_runs(cfg)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        import dataclasses

        remote = m._figure2_runs(dataclasses.replace(cfg, scheduler=client))
    pd.testing.assert_frame_equal(local.drop(columns="cpu_s"), remote.drop(columns="cpu_s"))
    assert np.all((local["err_transfer"] >= 0) & (local["err_transfer"] <= 1))
