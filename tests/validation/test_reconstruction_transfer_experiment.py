"""The reconstruction-transfer experiment: tables, paired differences, CLI errors."""


import numpy as np
import pandas as pd
import pytest

from validation.cli import main
from validation.experiments import reconstruction_transfer as rt

TINY = {
    "digits": rt.Schedule(0, 0, 20, 0, 8, 50, 1e-3, 20, 32, 1e-3, 5.0, 5, True),
    "d2d": rt.Schedule(600, 100, 100, 100, 2, 200, 1e-3, 3, 50, 1e-3, 3.0, 1),
    "miso": rt.Schedule(600, 100, 100, 100, 2, 200, 1e-3, 3, 50, 1e-3, 4.0, 1),
}


@pytest.fixture
def tiny(monkeypatch):
    for task, s in TINY.items():
        monkeypatch.setitem(rt.SCHEDULES["quick"], task, s)


def test_digits_run_writes_tables_and_pairs_by_seed(tiny, tmp_path, capsys):
    cfg = rt.ReconstructionTransferConfig.quick(task="digits", seeds=2, alpha_grid=(1.0,),
                                                n_target_grid=(10,), n_jobs=1)
    tables = rt.run(cfg, tmp_path)
    for name in ("results", "summary", "paired", "baselines", "curves", "config"):
        assert (tmp_path / f"{name}.{'json' if name == 'config' else 'csv'}").exists()
    for fig in ("curves", "sweep_alpha", "sweep_n_target"):
        assert (tmp_path / f"{fig}.png").exists()
    runs = pd.read_csv(tmp_path / "results.csv")
    # main point: 3 methods x 2 seeds; alpha sweep: 1 x 2; n_target sweep: 3 x 2
    assert len(runs) == 6 + 2 + 6
    main_pt = runs[(runs.alpha == 5.0) & (runs.n_target == 20)]
    piv = main_pt.pivot(index="seed", columns="method", values="target_metric_final")
    diff = piv["reconstruction"] - piv["conventional"]
    row = tables["paired"].query("alpha == 5.0 and n_target == 20").iloc[0]
    assert row["diff_final"] == pytest.approx(diff.mean())
    assert row["diff_final_se"] == pytest.approx(diff.std(ddof=1) / np.sqrt(2))
    # the alpha-sweep point is paired with the conventional runs of the same seeds
    row = tables["paired"].query("alpha == 1.0").iloc[0]
    rec = runs.query("alpha == 1.0").set_index("seed")["target_metric_final"]
    assert row["diff_final"] == pytest.approx((rec - piv["conventional"]).mean())
    s = tables["summary"].query("alpha == 5.0 and n_target == 20 and method == 'regular'")
    vals = main_pt.query("method == 'regular'")["target_metric_early"]
    assert s["target_metric_early_se"].iloc[0] == pytest.approx(vals.std(ddof=1) / np.sqrt(2))
    assert ((runs["target_metric_early"] >= 0) & (runs["target_metric_early"] <= 100)).all()
    out = capsys.readouterr().out
    assert "paired reconstruction - conventional" in out and "always 'not an 8'" in out


@pytest.mark.parametrize("task", ["d2d", "miso"])
def test_transfer_run_rows_per_method(tiny, task):
    rows = rt.transfer_run(task, "quick", TINY[task].alpha, 100,
                           ["regular", "conventional", "reconstruction"], "cpu", None, seed=0)
    assert [r["method"] for r in rows] == ["regular", "conventional", "reconstruction"]
    for r in rows:
        assert np.isfinite(r["target_metric_early"]) and np.isfinite(r["target_metric_final"])
        assert len(r["curve_val"]) == 3
    if task == "d2d":  # below GP, above 0; source below FP
        assert all(0 < r["target_pct_final"] < 100.5 for r in rows)
        assert all(0 < r["source_pct"] < 100.5 for r in rows)
    else:
        assert all(0 < r["target_metric_final"] < 60 for r in rows)


def test_d2d_baselines_table():
    base = rt.baselines("d2d").set_index("baseline")
    assert base.loc["GP", "min_rate_mbps"] == pytest.approx(9.163, rel=5e-3)
    assert base.loc["GP", "min_rate_mbps"] == pytest.approx(
        base.loc["GP (authors' stored)", "min_rate_mbps"], rel=5e-3)
    assert base.loc["full power", "sum_rate_mbps"] == pytest.approx(140.12, rel=1e-3)
    assert base.loc["FP", "sum_rate_pct_fp"] == pytest.approx(100.0)


CONFIG_CASES = [
    ({"task": "cifar"}, "task"),
    ({"preset": "huge"}, "preset"),
    ({"seeds": 1}, "seeds"),
    ({"alpha": -1.0}, "alpha"),
    ({"alpha_grid": (1.0, -0.5)}, "alpha_grid[1]"),
    ({"n_target": 0}, "n_target"),
    ({"device": "tpu"}, "device"),
    ({"task": "digits", "data_dir": "/nonexistent/mnist"}, "data_dir"),
]


@pytest.mark.parametrize("kw, fragment", CONFIG_CASES)
def test_config_rejects_bad_values(kw, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        rt.ReconstructionTransferConfig(**kw)


def test_cli_missing_mnist_dir_is_one_line(tmp_path, capsys):
    code = main(["reproduce", "reconstruction-transfer", "--task", "digits", "--quick",
                 "--data-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "data_dir" in err[0]


def test_cli_task_option_rejected_by_other_experiments(tmp_path, capsys):
    assert main(["reproduce", "cnn-transfer", "--task", "d2d", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--task" in err and len(err.splitlines()) == 1


def test_quick_presets_are_quick():
    # the quick schedules are strictly smaller than the paper's (guards accidental edits)
    for task in rt.TASKS:
        q, f = rt.SCHEDULES["quick"][task], rt.SCHEDULES["full"][task]
        assert q.target_epochs * max(q.n_target_train, 1) < f.target_epochs * f.n_target_train
