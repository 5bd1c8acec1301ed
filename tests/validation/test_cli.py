"""The transfer-theory command line: demo, curve, select, errors."""

import json

import numpy as np
import pandas as pd
import pytest

import replica as rp
from validation.cli import main


def test_demo_writes_table_grid_and_figure(tmp_path, capsys):
    assert main(["demo", "--grid", "5", "--n-grid", "4", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "recommendation: use strategy" in out
    for name in ("strategy_table.csv", "kappa_dlam_grid.csv", "kappa_dlam.png", "config.json"):
        assert (tmp_path / name).exists(), name
    tab = pd.read_csv(tmp_path / "strategy_table.csv")
    assert set(tab["strategy"]) == set(rp.STRATEGIES)
    # the full-search optimum is a real point: re-solving at its hyperparameters gives its eps2,
    # and no point of an independent brute-force grid (finer than --n-grid 4) beats it
    full = tab.set_index("strategy").loc["full"]
    sc = rp.TransferScenario((0.5, 4.0), (0.1, 0.1), rp.support_prior(0.1, [0.02, 0.02]))
    again = rp.solve_trans_lasso(sc, rp.TransLassoHyper(full["lam1"], full["lam2"],
                                                        full["kappa"], full["dlam"]))
    assert again.eps2 == pytest.approx(full["eps2"], rel=1e-6)
    grid = rp.sweep(sc, rp.TransLassoHyper(full["lam1"], 0.1, 0.0, 0.0),
                    vary={"lam2": np.geomspace(0.02, 0.5, 7), "kappa": np.linspace(0, 1.5, 7),
                          "dlam": [0.0, 0.01, 0.03, 0.1, 0.3]})
    best = grid.loc[grid["status"] == "ok", "eps2"].min()
    assert full["eps2"] <= best * (1 + 1e-6)
    meta = json.loads((tmp_path / "config.json").read_text())
    assert meta["config"]["scenario"]["alphas"] == [0.5, 4.0]
    assert "environment" in meta


def test_curve_1d_matches_solver(tmp_path):
    rc = main(["curve", "--lam1", "0.3", "--lam2", "0.1", "--kappa", "0.5",
               "--vary", "dlam=0:1:5", "--out", str(tmp_path)])
    assert rc == 0
    df = pd.read_csv(tmp_path / "curve.csv")
    assert len(df) == 5 and (tmp_path / "curve.png").exists()
    sc = rp.TransferScenario((0.5, 4.0), (0.1, 0.1), rp.support_prior(0.1, [0.02, 0.02]))
    ref = rp.solve_trans_lasso(sc, rp.TransLassoHyper(0.3, 0.1, 0.5, 0.75))
    assert df.loc[3, "eps2"] == pytest.approx(ref.eps2, rel=1e-8)


def test_curve_2d_and_select_from_json(tmp_path, capsys):
    spec = {"alphas": [0.5, 4], "sigmas": [0.1, 0.1],
            "support": {"pi_common": 0.06, "pi_unique": [0.06, 0.06], "corr": 1.0}}
    f = tmp_path / "scen.json"
    f.write_text(json.dumps(spec))
    rc = main(["curve", "--scenario", str(f), "--lam1", "0.5", "--vary", "kappa=0,1",
               "--vary", "lam2=0.01:1:3:log", "--out", str(tmp_path / "grid")])
    assert rc == 0
    assert len(pd.read_csv(tmp_path / "grid" / "curve.csv")) == 6
    assert main(["select", "--scenario", str(f), "--out", str(tmp_path / "sel")]) == 0
    out = capsys.readouterr().out
    assert "use strategy kappa0" in out  # scenario B of docs/translasso_theory.md


def test_bad_input_is_reported_without_traceback(capsys):
    assert main(["curve", "--alphas", "0.5,-4", "--lam1", "0.3", "--vary", "kappa=0,1"]) == 2
    assert "alphas[1] = -4.0" in capsys.readouterr().err
    assert main(["curve", "--lam1", "0.3", "--vary", "kappa=0:1"]) == 2
    assert "--vary 'kappa=0:1'" in capsys.readouterr().err


def test_cli_errors_are_clear(tmp_path, capsys):
    # every point ill-posed (lam2 = dlam = 0 with alpha_0 < 1): exit code 2, no traceback
    with pytest.warns(rp.ConvergenceWarning):
        rc = main(["curve", "--vary", "lam2=0:0:2", "--lam1", "0.3", "--out", str(tmp_path)])
    assert rc == 2 and "no point converged" in capsys.readouterr().err
    assert main(["curve", "--lam1", "abc", "--vary", "kappa=0,1"]) == 2
    assert "--lam1 = 'abc'" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"alphas": [1], "sigmas": [0.1], "support": {"pi_unik": 0.1}}))
    assert main(["select", "--scenario", str(bad)]) == 2
    assert "unknown keys ['pi_unik']" in capsys.readouterr().err
    bad.write_text("{not json")
    assert main(["select", "--scenario", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_scenario_file_with_scalar_pi_unique(tmp_path):
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"alphas": [0.5, 4], "sigmas": [0.1, 0.1],
                             "support": {"pi_common": 0.06, "pi_unique": 0.06}}))
    assert main(["curve", "--scenario", str(f), "--lam1", "0.5", "--vary", "kappa=0,1",
                 "--out", str(tmp_path / "o")]) == 0
    df = pd.read_csv(tmp_path / "o" / "curve.csv")
    sc = rp.TransferScenario((0.5, 4), (0.1, 0.1), rp.support_prior(0.06, [0.06, 0.06]))
    ref = rp.solve_trans_lasso(sc, rp.TransLassoHyper(0.5, 0.1, 1.0, 0.0))
    assert df.loc[1, "eps2"] == pytest.approx(ref.eps2, rel=1e-8)
