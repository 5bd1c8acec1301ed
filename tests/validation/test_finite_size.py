"""Replication factor of the real-data experiment (r independent pixel blocks) and the
finite-size study (validation.experiments.translasso_finite_size)."""

import math

import numpy as np
import pandas as pd
import pytest

from validation.experiments import translasso_finite_size as FS
from validation.experiments import translasso_realdata as RD


@pytest.mark.parametrize("value", [0, 65, 2.5, True, "2", None])
def test_replicate_field_checked(value):
    with pytest.raises(ValueError, match="replicate = "):
        RD.TransLassoRealDataConfig(replicate=value)


def test_image_rows_concatenate_independent_blocks():
    rng = np.random.default_rng(0)
    pool = rng.standard_normal((50, 4))
    lookup = {tuple(np.round(row, 12)): i for i, row in enumerate(pool)}
    rows_idx = rng.permutation(50)
    Ms = (5, 15)
    # r = 1: the single-block design of the real-data experiment (sorted disjoint rows)
    one = RD.image_rows(pool, Ms, rows_idx)
    assert np.array_equal(one[0], pool[np.sort(rows_idx[:5])])
    assert np.array_equal(one[1], pool[np.sort(rows_idx[5:20])])
    three = RD.image_rows(pool, Ms, rows_idx, 3, np.random.default_rng(1))
    assert [a.shape for a in three] == [(5, 12), (15, 12)]
    ids = [np.array([[lookup[tuple(np.round(row[4 * j:4 * j + 4] * math.sqrt(3), 12))]
                      for j in range(3)] for row in a]) for a in three]  # KeyError: not a pool row
    np.testing.assert_allclose(three[0][:, :4] * math.sqrt(3), one[0], rtol=1e-12)  # block 0
    for j in range(3):  # within a block, target and source images are disjoint and distinct
        used = np.r_[ids[0][:, j], ids[1][:, j]]
        assert np.unique(used).size == 20
    # blocks are drawn independently: another split of the pool in blocks 1 and 2
    assert not np.array_equal(np.sort(ids[0][:, 1]), np.sort(ids[0][:, 0]))
    assert not np.array_equal(np.sort(ids[0][:, 2]), np.sort(ids[0][:, 1]))
    with pytest.raises(ValueError, match="pool has 50"):
        RD.image_rows(pool, (30, 30), rows_idx)


def test_replicated_designs_of_one_seed():
    """Filtered digits (N = 44), r = 2: every design has 88 columns of variance ~1/88; the
    Gaussian-Sigma rows have uncorrelated blocks."""
    pool = RD._pool("digits", None, None, 10.0)[0]
    n = pool.shape[1]
    rows_idx = np.random.default_rng(0).permutation(pool.shape[0])
    mats = RD._real_designs(pool, (800, 900), rows_idx, ("images", "gaussian_sigma"),
                            ("digits", None, None, 10.0, 0, 2))
    for name in ("images", "gaussian_sigma"):
        A = np.vstack(mats[name])
        assert A.shape == (1700, 2 * n)
        var = A.var(0) * 2 * n
        assert abs(var.mean() - 1) < 0.05, (name, var.mean())
        C = np.corrcoef(A, rowvar=False)
        assert np.max(np.abs(C[:n, n:])) < 0.15, name  # independent blocks
        assert np.max(np.abs(C[:n, :n] - np.eye(n))) > 0.5, name  # correlated within


def test_replicate_too_large_for_the_image_pool():
    cfg = RD.TransLassoRealDataConfig(parts=("mnist",), mnist_source="digits", alphas=(2.0, 6.0),
                                      seeds=(0, 1), n_jobs=1, replicate=8,
                                      mnist_designs=("images", "gaussian"))
    with pytest.raises(ValueError, match="replicate = 8"):
        RD._run_mnist(cfg)


def test_fit_inverse_n_hand_cases():
    # exact a + b/N
    f = FS.fit_inverse_n([10, 20, 40], [1.2, 1.1, 1.05], [0.01, 0.01, 0.01])
    assert f["a"] == pytest.approx(1.0) and f["b"] == pytest.approx(2.0)
    assert f["chi2"] == pytest.approx(0.0, abs=1e-18) and f["dof"] == 1
    # two points: a = (N2 m2 - N1 m1) / (N2 - N1), se by error propagation
    f = FS.fit_inverse_n([10, 30], [2.0, 1.5], [0.1, 0.2])
    assert f["a"] == pytest.approx((30 * 1.5 - 10 * 2.0) / 20)
    assert f["a_se"] == pytest.approx(math.hypot(30 * 0.2, 10 * 0.1) / 20)


BAD_FS = [
    (lambda: FS.FiniteSizeConfig(replicates=(1,)), "replicates"),
    (lambda: FS.FiniteSizeConfig(replicates=(1, 0)), "replicates"),
    (lambda: FS.FiniteSizeConfig(replicates=(1, 2.5)), "replicates"),
    (lambda: FS.FiniteSizeConfig(base_seeds=10), "base_seeds"),
    (lambda: FS.FiniteSizeConfig(base_seeds=True), "base_seeds"),
    (lambda: FS.FiniteSizeConfig(designs=("rotated",)), "designs"),
    (lambda: FS.FiniteSizeConfig(sigma_replicates=1), "sigma_replicates"),
    (lambda: FS.FiniteSizeConfig(kurtosis_max=1.0), "kurtosis_max"),
    (lambda: FS.fit_inverse_n([10, 10], [1.0, 1.0], [0.1, 0.1]), "distinct"),
    (lambda: FS.fit_inverse_n([10, 20], [1.0, 1.0], [0.1, 0.0]), "standard errors"),
    (lambda: FS.fit_inverse_n([10], [1.0], [0.1]), ">= 2 points"),
]


@pytest.mark.parametrize("call, fragment", BAD_FS)
def test_finite_size_bad_input(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


def test_presets_map_to_realdata_configs():
    q, im = FS.FiniteSizeConfig.quick(), FS.FiniteSizeConfig.images()
    assert q.preset == "quick" and q.replicates == (1, 4)
    rd = im.realdata_config(4)
    assert rd.replicate == 4 and rd.kurtosis_max == 10.0 and len(rd.seeds) == 200
    assert rd.mnist_designs == ("images", "gaussian_sigma", "gaussian")
    assert FS.FiniteSizeConfig(replicates=(8, 1, 2, 2)).replicates == (1, 2, 8)


def test_finite_size_study_runs(tmp_path):
    """Two factors, a few seeds, i.i.d. control only: the output files and the tables."""
    cfg = FS.FiniteSizeConfig(replicates=(1, 2), base_seeds=8, designs=("gaussian",),
                              mnist_scenarios=(("A", 0.10, 0.02, 1.0),), sigma_replicates=2)
    tables = FS.run(cfg, tmp_path / "out")
    for f in ("points.csv", "extrapolation.csv", "choice.csv", "config.json",
              "finite_size.png"):
        assert (tmp_path / "out" / f).exists(), f
    p, e = tables["points"], tables["extrapolation"]
    assert sorted(set(p["N"])) == [61, 122] and len(p) == 12 and len(e) == 6
    assert (p[p["N"] == 122]["n_seeds"] == 4).all() and (p[p["N"] == 61]["n_seeds"] == 8).all()
    # the i.i.d. control is compared with the i.i.d. theory (no Monte Carlo error)
    assert (p["theory"] == p["theory_mse2"]).all() and (p["theory_se"] == 0).all()
    written = pd.read_csv(tmp_path / "out" / "extrapolation.csv")
    assert np.allclose(written["a"], e["a"])


@pytest.mark.slow
def test_finite_size_study_gaussian_designs(tmp_path):
    """The default study (six strategies, priors A and B, alphas (0.5, 4), r = 1, 2, 4, 8,
    1200 base seeds; ~6 min on 2 cores): the offsets at N = 61 are resolved (> 2 s.e. for
    every strategy, Gaussian-Sigma rows against the Sigma theory and i.i.d. rows against the
    i.i.d. theory) and gone at N = 488 (< 2 s.e.); the a + b/N intercept of r >= 2 agrees
    with the theory; the theory's dlam0/kappa0 pick matches the paired simulation."""
    tables = FS.run(FS.FiniteSizeConfig(), tmp_path / "out")
    e = tables["extrapolation"]
    assert len(e) == 24 and set(e["N_values"]) == {"61,122,244,488"}
    assert (e["z_smallest_N"] > 2.0).all(), e[["design", "strategy", "z_smallest_N"]]
    assert (e["z_largest_N"].abs() < 2.0).all(), e[["design", "strategy", "z_largest_N"]]
    assert (e["z_extrapolated_drop_smallest"].abs() < 2.0).all()
    ch = tables["choice"]
    assert ch["agrees_sigma"][ch["design"] != "i.i.d. Gaussian"].all()
    assert ch["agrees"][ch["design"] == "i.i.d. Gaussian"].all()


@pytest.mark.slow
def test_finite_size_study_filtered_images(tmp_path):
    """Filtered digits (N = 44), alphas (2, 6), r = 1, 2, 4 (800 base seeds; ~4 min): at
    N = 176 the concatenated-image errors are within 2 s.e. of the Sigma theory for all six
    strategies and both priors, and the Sigma theory's dlam0/kappa0 pick matches the paired
    simulation on the image and Gaussian-Sigma designs at every r."""
    tables = FS.run(FS.FiniteSizeConfig.images(), tmp_path / "out")
    p = tables["points"]
    img = p[(p["design"] == "digits images") & (p["N"] == 176)]
    assert len(img) == 12 and (img["z_theory"].abs() < 2.0).all(), img[["strategy", "z_theory"]]
    ch = tables["choice"]
    assert ch["agrees_sigma"][ch["design"] != "i.i.d. Gaussian"].all()
