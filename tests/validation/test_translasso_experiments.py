"""The Trans-Lasso experiments: configs, presets and tiny end-to-end runs."""

import json

import numpy as np
import pandas as pd
import pytest

from validation.experiments import translasso as T
from validation.experiments import translasso_validate as V


def test_acceptance_settings_cover_the_required_cases():
    settings = V.acceptance_settings()
    assert len(settings) >= 10
    tags = pd.DataFrame([s.tags for s in settings])
    assert set(tags["K"]) == {2, 3}
    assert {"bg0", "gm+", "pm+-", "pm+"} <= set(tags["prior"])
    assert {"trans_lasso", "pretraining_lasso", "kappa0", "dlam0", "target_lasso",
            "general"} <= set(tags["case"])
    for s in settings:
        h = s.hyper
        case = s.tags["case"]
        if case == "trans_lasso":
            assert (h.kappa, h.dlam) == (1.0, 0.0)
        elif case == "pretraining_lasso":
            a = 1.0 - h.kappa
            assert 0 < a < 1 and h.dlam == pytest.approx(h.lam2 * (1 / a - 1))
        elif case == "kappa0":
            assert h.kappa == 0.0 and h.dlam > 0
        elif case == "dlam0":
            assert h.dlam == 0.0 and 0 < h.kappa != 1
        elif case == "target_lasso":
            assert (h.kappa, h.dlam) == (0.0, 0.0)
        if s.tags["prior"].startswith("pm"):
            assert np.all(s.scenario.prior.covs == 0)
        if s.tags["prior"] == "bg0":
            assert np.all(s.scenario.prior.means == 0)
        else:
            assert np.any(s.scenario.prior.means != 0)


def test_validate_config_checks_and_presets():
    with pytest.raises(ValueError, match="N = "):
        V.TransLassoValidateConfig(N=5)
    with pytest.raises(ValueError, match="seeds"):
        V.TransLassoValidateConfig(seeds=(1,))
    with pytest.raises(ValueError, match="settings"):
        V.TransLassoValidateConfig(settings=("nope",))
    with pytest.raises(ValueError, match="solver"):
        V.TransLassoValidateConfig(solver="slow")
    full = V.TransLassoValidateConfig()
    assert (full.N, len(full.seeds), full.z_max, full.rel_max) == (2000, 10, 3.0, 0.03)
    assert V.TransLassoValidateConfig(seeds=3).seeds == (0, 1, 2)  # a count, as from a CLI
    assert V.TransLassoValidateConfig(seeds=[4, 7]).seeds == (4, 7)
    q = V.TransLassoValidateConfig.quick()
    assert q.N < full.N and len(q.seeds) < 10 and q.preset == "quick"
    assert V.EXPERIMENT_NAME == "translasso-validate"


def test_validate_tiny_run(tmp_path):
    cfg = V.TransLassoValidateConfig(N=300, seeds=(0, 1, 2, 3, 4),
                                     settings=("K2-bg0-trans", "K2-gm+-general",
                                               "K3-pm+--dlam0"), n_jobs=1)
    tables = V.run(cfg, tmp_path / "out")
    out = tmp_path / "out"
    for f in ("acceptance.csv", "summary.csv", "settings.csv", "runs.csv", "config.json",
              "parity.png"):
        assert (out / f).exists(), f
    acc = pd.read_csv(out / "acceptance.csv")
    assert len(acc) == 3 * 9
    assert {"setting", "K", "prior", "case", "N", "observable", "theory", "empirical", "se",
            "z", "rel_error", "z_adj", "rel_error_adj"} <= set(acc.columns)
    summ = tables["summary"]
    assert list(summ["setting"]) == list(cfg.settings)
    assert {"passed", "passed_adj", "max_abs_z_all"} <= set(summ.columns)
    # theory vs simulation at N = 300, 5 seeds: generous bounds that a wrong theory misses
    assert acc["z"].abs().max() < 6
    assert summ["rel_error"].abs().max() < 0.15
    meta = json.loads((out / "config.json").read_text())
    assert meta["config"]["N"] == 300 and meta["extra"]["n_settings"] == 3
    assert len(tables["runs"]) == 3 * 5


def test_translasso_config_checks_and_presets():
    with pytest.raises(ValueError, match="dlam_grid"):
        T.TransLassoConfig(dlam_grid=(0.1, 0.2))
    with pytest.raises(ValueError, match="kappa_grid"):
        T.TransLassoConfig(kappa_grid=(1.0, 0.5))
    with pytest.raises(ValueError, match="marker_alpha0"):
        T.TransLassoConfig(marker_alpha0=(0.33,))
    with pytest.raises(ValueError, match="alphas"):
        T.TransLassoConfig(alphas=(0.5, 4.0, 1.0))
    with pytest.raises(ValueError, match="lam1_rule"):
        T.TransLassoConfig(lam1_rule="best")
    with pytest.raises(ValueError, match="pi_common"):
        T.TransLassoConfig(pi_common=0.99)
    full = T.TransLassoConfig()
    q = T.TransLassoConfig.quick()
    assert q.preset == "quick" and q.N < full.N and len(q.seeds) < len(full.seeds)
    assert full.fss_Ns == (500, 1000, 2000, 4000)
    assert T.EXPERIMENT_NAME == "translasso"
    sc = full.fraction_scenario(0.5)
    assert sc.prior.second_moments[0] == pytest.approx(full.support)


@pytest.fixture(scope="module")
def tiny_translasso(tmp_path_factory):
    out = tmp_path_factory.mktemp("translasso")
    cfg = T.TransLassoConfig(
        N=300, seeds=(0, 1, 2, 3), parity_settings=("K2-bg0-dlam0", "K3-bg0-general"),
        kappa_grid=(0.0, 0.5, 1.0), dlam_grid=(0.0, 0.05, 0.5), alpha0_grid=(0.5, 1.0),
        fraction_grid=(0.4, 1.0), marker_alpha0=(1.0,), marker_fraction=(), support=0.12,
        regret_fraction_grid=(0.4, 1.0), regret_corr_grid=(1.0,), fss_Ns=(60, 120, 240),
        fss_seeds=(0, 1, 2), n_grid=3, n_jobs=1,
    )
    return cfg, T.run(cfg, out), out


def test_translasso_tiny_run_writes_everything(tiny_translasso):
    cfg, tables, out = tiny_translasso
    for f in ("parity.csv", "landscape.csv", "landscape_strategies.csv", "strategies.csv",
              "markers.csv", "finite_size.csv", "finite_size_points.csv", "regret.csv",
              "runs.csv", "config.json", "fig1_parity.png", "fig2_landscape.png",
              "fig3_strategies.png", "fig4_finite_size.png", "fig5_regret.png"):
        assert (out / f).exists(), f
    land = tables["landscape"]
    assert len(land) == 2 * 3 * 3 and set(land["panel"]) == {"A", "B"}
    st = tables["strategies"]
    assert set(st["strategy"]) == {"full", "dlam0", "kappa0", "trans_lasso",
                                   "pretraining_lasso", "target_lasso"}
    assert len(st) == 6 * (2 + 2)
    reg = tables["regret"]
    assert len(reg) == 2 and {"regret_best", "best_restricted", "regret_kappa0"} <= set(reg)
    assert (reg["regret_best"] >= -1e-9).all()
    mk = tables["markers"]
    assert len(mk) == 6 and set(mk["strategy"]) == set(st["strategy"])
    meta = json.loads((out / "config.json").read_text())
    assert "timings" in meta["extra"] and meta["config"]["preset"] == "full"


def test_translasso_tiny_run_theory_is_consistent(tiny_translasso):
    cfg, tables, out = tiny_translasso
    st = tables["strategies"]
    # the full search is never worse than a restricted one (same lam1), up to optimiser noise
    for (panel, x), g in st.groupby(["panel", "x"]):
        g = g.set_index("strategy")
        for s in ("dlam0", "kappa0", "trans_lasso", "target_lasso"):
            assert g.loc["full", "eps2"] <= g.loc[s, "eps2"] * (1 + 1e-6), (panel, x, s)
    # the landscape minimum is close to the full-search optimum (coarse optimiser: 2%)
    land, lst = tables["landscape"], tables["landscape_strategies"]
    for panel in ("A", "B"):
        full = lst[(lst["panel"] == panel) & (lst["strategy"] == "full")]["eps2"].iloc[0]
        assert land[land["panel"] == panel]["eps2"].min() >= full * (1 - 0.02)
    # simulations vs theory: generous bounds at N = 300 with 4 seeds
    par = tables["parity"]
    assert par["z"].abs().max() < 6
    assert par["rel_error"].abs().max() < 0.25
    mk = tables["markers"]
    assert mk["rel_error"].abs().max() < 0.5
    fss = tables["finite_size"]
    assert (fss["z"].abs() < 5).all()
