"""Real-data experiments: semi-artificial MNIST (digits / IDX files) and an aclImdb fixture."""

import json
import struct

import numpy as np
import pandas as pd
import pytest

from validation.experiments import translasso_realdata as RD

_POS = ["great", "wonderful", "excellent", "loved", "brilliant", "superb"]
_NEG = ["awful", "boring", "terrible", "worst", "waste", "dull"]
_HORROR_POS = ["creepy", "chilling", "scary"]
_FILLER = ["movie", "film", "story", "actor", "scene", "plot", "music", "ending", "cast"]


def _review(rng, rating, horror):
    good = (rating - 5.5) / 4.5  # in [-1, 1]
    words = list(rng.choice(_FILLER, 6))
    n_sent = 1 + int(3 * abs(good))
    words += list(rng.choice(_POS if good > 0 else _NEG, n_sent))
    if horror:
        words += ["horror", "zombie"] if rng.random() < 0.5 else ["horror"]
        if good > 0:
            words += list(rng.choice(_HORROR_POS, 2))
    rng.shuffle(words)
    return " ".join(words) + " <br /><br /> the end."


def write_acl_imdb(root, n_per_folder=40, seed=0):
    """Tiny aclImdb layout: {train,test}/{pos,neg}/<id>_<rating>.txt, 30% horror reviews."""
    rng = np.random.default_rng(seed)
    for split in ("train", "test"):
        for label, ratings in (("pos", (7, 8, 9, 10)), ("neg", (1, 2, 3, 4))):
            folder = root / "aclImdb" / split / label
            folder.mkdir(parents=True)
            for i in range(n_per_folder):
                r = int(rng.choice(ratings))
                (folder / f"{i}_{r}.txt").write_text(_review(rng, r, rng.random() < 0.3))
    return root


def _write_idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", n) for n in arr.shape)
    path.write_bytes(header + arr.tobytes())


def test_config_checks():
    with pytest.raises(ValueError, match="parts"):
        RD.TransLassoRealDataConfig(parts=("cifar",))
    with pytest.raises(ValueError, match="mnist_source"):
        RD.TransLassoRealDataConfig(mnist_source="emnist")
    with pytest.raises(ValueError, match="seeds"):
        RD.TransLassoRealDataConfig(seeds=(3,))
    with pytest.raises(ValueError, match="mnist_scenarios"):
        RD.TransLassoRealDataConfig(mnist_scenarios=(("A", 0.1, 0.02),))
    with pytest.raises(ValueError, match="cv"):
        RD.TransLassoRealDataConfig(cv=1)
    q = RD.TransLassoRealDataConfig.quick()
    assert q.preset == "quick" and len(q.seeds) < len(RD.TransLassoRealDataConfig().seeds)
    assert RD.EXPERIMENT_NAME == "translasso-realdata"


def test_missing_imdb_data_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="aclImdb") as err:
        RD.run(RD.TransLassoRealDataConfig(parts=("imdb",)), tmp_path / "out")
    assert "--data-dir" in str(err.value)
    with pytest.raises(FileNotFoundError, match="aclImdb_v1.tar.gz"):
        RD.run(RD.TransLassoRealDataConfig(parts=("mnist", "imdb"), data_dir=str(tmp_path)),
               tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing computed before the check


def test_design_spectrum_limits():
    rng = np.random.default_rng(0)
    M, N = 2000, 100
    G = rng.standard_normal((M, N)) / np.sqrt(N)
    s = RD.design_spectrum(G)
    assert s["top"] == pytest.approx(s["mp_edge"], rel=0.1)
    assert s["participation_ratio"] > 0.9
    u = rng.standard_normal(M)
    R1 = np.outer(u, np.ones(N)) / np.sqrt(N) + 1e-6 * G
    assert RD.design_spectrum(R1)["participation_ratio"] < 0.02


def test_mnist_part_with_digits(tmp_path):
    cfg = RD.TransLassoRealDataConfig(parts=("mnist",), seeds=tuple(range(6)), n_jobs=1,
                                      mnist_scenarios=(("A", 0.15, 0.05, 1.0),))
    tables = RD.run(cfg, tmp_path / "out")
    out = tmp_path / "out"
    for f in ("mnist.csv", "mnist_choice.csv", "mnist_runs.csv", "mnist_spectrum.csv",
              "config.json",
              "mnist_strategies.png", "mnist_spectrum.png"):
        assert (out / f).exists(), f
    t = tables["mnist"]
    assert set(t["design"]) == {"digits images", "i.i.d. Gaussian"}
    assert len(t) == 6 * 2 and (t["N"] == 61).all() and (t["n_seeds"] == 6).all()
    assert {"theory_mse2", "mse2", "se", "z", "rel_error", "kappa", "dlam"} <= set(t.columns)
    ch = tables["mnist_choice"]
    assert len(ch) == 2 and set(ch["theory_pick"]) <= {"dlam0", "kappa0"}
    assert {"diff_dlam0_minus_kappa0", "diff_se", "agrees"} <= set(ch.columns)
    # the pixel columns are strongly correlated: far from white (i.i.d.) columns
    meta = json.loads((out / "config.json").read_text())
    assert meta["extra"]["mnist_design"]["participation_ratio"] < 0.5
    assert meta["extra"]["mnist_design"]["source"] == "digits"
    # Gaussian control: same truths and noise, i.i.d. design. At N = 61 finite-size effects are
    # large (errors 30-50% below the N -> infinity theory here), so the check is relative: the
    # i.i.d. control is clearly closer to the theory than the correlated image design.
    g = t[t["design"] == "i.i.d. Gaussian"]
    im = t[t["design"] == "digits images"]
    assert (g["mse2"] > 0).all() and g["rel_error"].abs().max() < 0.8
    assert g["rel_error"].abs().mean() < 0.75 * im["rel_error"].abs().mean()


def test_mnist_part_reads_idx_files(tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, size=(400, 6, 6))
    imgs[:, 0, :] = 0  # a constant row of pixels, dropped by the design
    _write_idx(tmp_path / "train-images-idx3-ubyte", imgs.reshape(400, 6, 6))
    _write_idx(tmp_path / "train-labels-idx1-ubyte", rng.integers(0, 10, size=400))
    cfg = RD.TransLassoRealDataConfig(parts=("mnist",), data_dir=str(tmp_path),
                                      seeds=(0, 1, 2), n_jobs=1,
                                      mnist_scenarios=(("A", 0.15, 0.05, 1.0),))
    tables = RD.run(cfg, tmp_path / "out")
    t = tables["mnist"]
    assert set(t["design"]) == {"mnist images", "i.i.d. Gaussian"}
    assert (t["N"] == 30).all()


def test_imdb_fixture_cross_validated_strategies(tmp_path):
    write_acl_imdb(tmp_path)
    cfg = RD.TransLassoRealDataConfig(parts=("imdb",), data_dir=str(tmp_path), cv=3,
                                      imdb_max_features=40, imdb_min_df=1, imdb_n_source=None,
                                      cv_n_lam2=5, n_jobs=1)
    tables = RD.run(cfg, tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "imdb.csv").exists() and (out / "imdb.png").exists()
    t = tables["imdb"]
    assert list(t["strategy"]) == ["full", "dlam0", "kappa0", "trans_lasso",
                                   "pretraining_lasso", "target_lasso", "mean"]
    assert {"cv_mse", "test_mse", "test_se", "diff_vs_target", "lam2", "kappa", "dlam",
            "nnz"} <= set(t.columns)
    assert np.all(np.isfinite(t["test_mse"])) and (t["test_se"] > 0).all()
    r = t.set_index("strategy")
    assert r.loc["target_lasso", "diff_vs_target"] == 0.0
    # the restricted strategies are read off the full grid
    assert r.loc["dlam0", "dlam"] == 0.0 and r.loc["kappa0", "kappa"] == 0.0
    assert r.loc["full", "cv_mse"] <= r.loc[["dlam0", "kappa0", "trans_lasso", "target_lasso"],
                                            "cv_mse"].min()
    # the words carry the rating: a fitted model beats predicting the mean rating
    assert r.loc["full", "test_mse"] < r.loc["mean", "test_mse"]
    meta = json.loads((out / "config.json").read_text())
    info = meta["extra"]["imdb"]
    assert info["n_target_train"] + info["n_source"] == 80
    assert isinstance(pd.read_csv(out / "imdb.csv"), pd.DataFrame)
