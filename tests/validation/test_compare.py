"""validation.compare: observables, statistics, theory vs simulation, cache and Dask runs."""

import math

import numpy as np
import pandas as pd
import pytest

import replica
from validation import compare as C


@pytest.fixture(scope="module")
def small_case():
    prior = replica.support_prior(0.3, [0.1, 0.1], corr=0.8)
    sc = replica.TransferScenario((2.0, 3.0), (0.5, 0.5), prior)
    hy = replica.TransLassoHyper(lam1=0.8, lam2=0.3, kappa=0.5, dlam=0.5)
    return sc, hy


# ---------------------------------------------------------------- observables and statistics


def test_empirical_observables_match_definitions():
    x1 = np.array([1.0, 0.0, -2.0, 0.5])
    x2 = np.array([0.0, 0.3, 1.0, 0.0])
    r0 = np.array([1.0, 1.0, -1.0, 0.0])
    kappa = 0.5
    obs = C.empirical_observables(x1, x2, kappa, r0)
    xhat = kappa * x1 + x2
    assert obs["mse2"] == pytest.approx(np.sum((xhat - r0) ** 2) / 4)
    assert obs["mse1"] == pytest.approx(np.sum((x1 - r0) ** 2) / 4)
    assert obs["density1"] == 0.75 and obs["density2"] == 0.5
    assert obs["Q2"] == pytest.approx((0.09 + 1.0) / 4)
    assert obs["m2"] == pytest.approx((0.3 - 1.0) / 4)
    assert obs["R"] == pytest.approx(-2.0 / 4)
    assert obs["m1"] == pytest.approx((1.0 + 2.0) / 4)
    with pytest.raises(ValueError, match="shapes"):
        C.empirical_observables(x1, x2[:3], kappa, r0)


def test_fit_inverse_n_recovers_line_and_inflates_for_scatter():
    Ns = np.array([100, 200, 400, 800])
    y = 0.3 + 5.0 / Ns
    fit = C.fit_inverse_n(Ns, y, np.full(4, 1e-3))
    assert fit["a"] == pytest.approx(0.3, abs=1e-12)
    assert fit["b"] == pytest.approx(5.0, abs=1e-9)
    assert fit["chi2"] == pytest.approx(0.0, abs=1e-12)
    # unscaled covariance of the WLS fit: a_se from (X^T W X)^-1
    X = np.column_stack([np.ones(4), 1 / Ns])
    cov = np.linalg.inv(X.T @ X / 1e-6)
    assert fit["a_se"] == pytest.approx(math.sqrt(cov[0, 0]))
    # scatter far beyond the error bars inflates the uncertainty
    noisy = y + np.array([0.01, -0.01, 0.01, -0.01])
    fit2 = C.fit_inverse_n(Ns, noisy, np.full(4, 1e-3))
    assert fit2["a_se"] > 3 * fit["a_se"]
    with pytest.raises(ValueError, match="distinct N"):
        C.fit_inverse_n([100, 100], [1, 2], [0.1, 0.1])
    with pytest.raises(ValueError, match="positive"):
        C.fit_inverse_n([100, 200], [1, 2], [0.1, 0.0])


def test_summarize_runs_statistics_and_control_variate():
    rng = np.random.default_rng(0)
    n = 40
    noise0 = 0.25 + 0.02 * rng.standard_normal(n)
    obs = 1.0 + 3.0 * (noise0 - 0.25) + 1e-4 * rng.standard_normal(n)
    runs = pd.DataFrame({"mse2": obs, "noise0": noise0})
    tab = C.summarize_runs(runs, {"mse2": 1.0}, ("mse2",),
                           sensitivities={"mse2": {"noise0": 3.0}}, means={"noise0": 0.25})
    r = tab.iloc[0]
    assert r["empirical"] == pytest.approx(obs.mean())
    assert r["se"] == pytest.approx(obs.std(ddof=1) / math.sqrt(n))
    assert r["z"] == pytest.approx((obs.mean() - 1.0) / r["se"])
    assert r["rel_error"] == pytest.approx(obs.mean() - 1.0)
    # the control variate removes the noise-driven scatter: exact mean, tiny s.e.
    assert r["se_adj"] < 0.01 * r["se"]
    assert r["empirical_adj"] == pytest.approx(1.0, abs=1e-4)
    assert r["n_seeds"] == n


def test_control_variate_is_unbiased_but_can_add_scatter():
    """As documented: with a coefficient that is not the regression slope (e.g. a point-mass
    prior, whose signal power fluctuates through the support size, not the scale), the
    adjusted mean stays unbiased but its standard error can exceed the plain one."""
    rng = np.random.default_rng(1)
    n = 4000
    signal0 = 0.5 + 0.05 * rng.standard_normal(n)
    obs = 1.0 + 0.01 * rng.standard_normal(n)  # independent of the control
    runs = pd.DataFrame({"mse2": obs, "signal0": signal0})
    r = C.summarize_runs(runs, {"mse2": 1.0}, ("mse2",),
                         sensitivities={"mse2": {"signal0": 0.5}},
                         means={"signal0": 0.5}).iloc[0]
    assert r["se_adj"] > 2 * r["se"]
    assert abs(r["z_adj"]) < 4 and abs(r["empirical_adj"] - 1.0) < 5e-3


def test_theory_sensitivities_match_direct_differences(small_case):
    sc, hy = small_case
    sens = C.theory_sensitivities(sc, hy, ("mse2", "Q1"))
    assert set(sens["mse2"]) == {"noise0", "noise1", "signal0", "signal1"}
    # a noisier target can only hurt the target estimate
    assert sens["mse2"]["noise0"] > 0
    h = 1e-2
    up = C.theory_observables(sc.replace(sigmas=(math.sqrt(0.25 + h), 0.5)), hy)["mse2"]
    lo = C.theory_observables(sc.replace(sigmas=(math.sqrt(0.25 - h), 0.5)), hy)["mse2"]
    assert sens["mse2"]["noise0"] == pytest.approx((up - lo) / (2 * h), rel=1e-3)


# ---------------------------------------------------------------- theory vs simulation


def test_compare_trans_lasso_agrees_and_detects_a_wrong_theory(small_case):
    sc, hy = small_case
    df = C.compare_trans_lasso(sc, hy, N=300, seeds=range(6), n_jobs=1, progress=False)
    assert list(df["observable"]) == list(C.OBSERVABLES)
    for col in ("theory", "empirical", "se", "z", "rel_error", "empirical_adj", "se_adj",
                "z_adj", "rel_error_adj", "n_seeds", "N", "converged"):
        assert col in df.columns
    assert (df["converged"] == 1.0).all()
    assert (df["n_seeds"] == 6).all()
    # generous bounds at N = 300; a wrong theory is far outside them (checked below)
    assert df["z"].abs().max() < 4.5
    mse2 = df.set_index("observable").loc["mse2"]
    assert abs(mse2["rel_error"]) < 0.08
    # the same simulations against the theory of another lam2 are rejected
    wrong = C.theory_observables(sc, hy.replace(lam2=0.6))
    runs = df.attrs["runs"]
    bad = C.summarize_runs(runs, wrong, ("mse2", "Q2", "density2")).set_index("observable")
    assert bad["z"].abs().max() > 6
    # per-seed table
    assert len(runs) == 6 and {"seed", "mse2", "noise0", "signal1"} <= set(runs.columns)


def test_compare_cvxpy_solver_matches_fast(small_case):
    sc, hy = small_case
    kw = dict(N=40, seeds=(0, 1), n_jobs=1, progress=False, observables=("mse2", "Q2"),
              control_variates=False)
    fast = C.compare_trans_lasso(sc, hy, solver="fast", **kw)
    ref = C.compare_trans_lasso(sc, hy, solver="cvxpy", tol=1e-9, **kw)
    np.testing.assert_allclose(fast["empirical"], ref["empirical"], rtol=1e-4, atol=1e-6)


def test_paired_and_independent_streams(small_case):
    sc, hy = small_case
    s = [C.Setting("a", sc, hy), C.Setting("b", sc, hy.replace(kappa=1.0))]
    kw = dict(n_jobs=1, progress=False, observables=("mse2",), control_variates=False)
    paired = C.compare_settings(s, 60, (0, 1), paired=True, **kw).attrs["runs"]
    indep = C.compare_settings(s, 60, (0, 1), paired=False, **kw).attrs["runs"]
    pa = paired.set_index(["setting", "seed"])["noise0"]
    ia = indep.set_index(["setting", "seed"])["noise0"]
    assert pa.loc[("a", 0)] == pa.loc[("b", 0)]
    assert ia.loc[("a", 0)] != ia.loc[("b", 0)]
    # as documented: with paired=True, settings with *different* scenarios share the stream
    # too (here only sigma_0 differs: the same standard-normal noise, scaled)
    other = C.Setting("c", sc.replace(sigmas=(0.4, 0.5)), hy)
    pc = C.compare_settings([s[0], other], 60, (0, 1), paired=True, **kw).attrs["runs"]
    pc = pc.set_index(["setting", "seed"])["noise0"]
    assert pc.loc[("c", 0)] == pytest.approx(pc.loc[("a", 0)] * (0.4 / 0.5) ** 2, rel=1e-12)
    with pytest.raises(ValueError, match="unique"):
        C.compare_settings([s[0], s[0]], 60, (0, 1), **kw)
    with pytest.raises(ValueError, match="two seeds"):
        C.compare_settings(s, 60, (0,), **kw)
    with pytest.raises(ValueError, match="unknown"):
        C.compare_settings(s, 60, (0, 1), n_jobs=1, progress=False, observables=("eps9",))


def test_warm_cache_rerun_computes_nothing(small_case, tmp_path):
    sc, hy = small_case
    kw = dict(N=80, seeds=range(3), n_jobs=1, progress=False, cache_dir=tmp_path / "cache")
    first = C.compare_trans_lasso(sc, hy, **kw)
    assert first.attrs["n_computed"] == 3 and first.attrs["n_cached"] == 0
    second = C.compare_trans_lasso(sc, hy, **kw)
    assert second.attrs["n_computed"] == 0 and second.attrs["n_cached"] == 3
    pd.testing.assert_frame_equal(first, second)
    # one more seed: only that one is computed
    third = C.compare_trans_lasso(sc, hy, **{**kw, "seeds": range(4)})
    assert third.attrs["n_computed"] == 1 and third.attrs["n_cached"] == 3


def test_dask_local_cluster_gives_the_local_table(small_case):
    distributed = pytest.importorskip("distributed")
    sc, hy = small_case
    kw = dict(N=60, seeds=range(3), progress=False)
    local = C.compare_trans_lasso(sc, hy, n_jobs=1, **kw)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = C.compare_trans_lasso(sc, hy, scheduler=client, **kw)
    pd.testing.assert_frame_equal(local, remote)


def test_finite_size_scaling_table(small_case):
    sc, hy = small_case
    fss = C.finite_size_scaling(sc, hy, Ns=(60, 120, 240), seeds=range(4), n_jobs=1,
                                progress=False, observables=("mse2", "Q2"))
    assert list(fss["observable"]) == ["mse2", "Q2"]
    for col in ("theory", "extrapolated", "extrapolated_se", "slope", "z", "chi2", "dof"):
        assert col in fss.columns
    assert (fss["extrapolated_se"] > 0).all() and (fss["dof"] == 1).all()
    pts = fss.attrs["points"]
    assert sorted(pts["N"].unique()) == [60, 120, 240]
    # the extrapolation lands near the theory (generous: tiny sizes, 4 seeds)
    assert (fss["z"].abs() < 5).all()
    with pytest.raises(ValueError, match="distinct sizes"):
        C.finite_size_scaling(sc, hy, Ns=(60, 60), seeds=range(2), n_jobs=1, progress=False)
