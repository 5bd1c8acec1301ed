"""Bad-input table of the newer validation entry points (issue 8): ``select --design FILE``,
``reproduce cnn-phase``, ``reproduce reconstruction-perception`` through the CLI (one line on
stderr, non-zero exit, no traceback or leaked warning), and their config / loader functions
(``ValueError`` naming the field)."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from validation import datasets_images as di
from validation.cli import main
from validation.design_select import load_design_file, prepare_design, select_for_design
from validation.experiments import cnn_phase as cp
from validation.experiments.cnn_phase import CNNPhaseConfig, load_published_grid
from validation.experiments.reconstruction_perception import (
    ReconstructionPerceptionConfig as RPConfig,
)

NAN = float("nan")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.npy").write_bytes(b"")
    (d / "empty.csv").write_text("")
    np.save(d / "complex.npy", np.ones((5, 3)) + 1j)
    (d / "folder.npy").mkdir()
    (d / "text.csv").write_text("a,b\nc,d\n")
    np.save(d / "design.npy", np.random.default_rng(0).standard_normal((10, 20)))
    (d / "cifar").mkdir()
    for name in ("test_batch", *[f"data_batch_{i}" for i in range(1, 6)]):
        (d / "cifar" / name).write_bytes(b"junk")
    with open(d / "cifar" / "wrong_dict", "wb") as fh:
        pickle.dump({"x": 1}, fh)
    return d


CLI_CASES = [
    ("design empty .npy", ["select", "--design", "{d}/empty.npy"], "empty.npy"),
    ("design empty .csv", ["select", "--design", "{d}/empty.csv"], "empty.csv has shape"),
    ("design complex", ["select", "--design", "{d}/complex.npy"], "complex128"),
    ("design directory", ["select", "--design", "{d}/folder.npy"], "directory"),
    ("design text", ["select", "--design", "{d}/text.csv"], "cannot read text.csv"),
    ("kurtosis-max NaN", ["select", "--design", "{d}/design.npy", "--alphas", "0.5,4",
                          "--kurtosis-max", "nan"], "kurtosis_max = nan"),
    ("mc-replicates 0", ["select", "--design", "{d}/design.npy", "--alphas", "0.5,4",
                         "--mc-replicates", "0"], "mc_replicates = 0"),
    ("cnn-phase empty grid", ["reproduce", "cnn-phase", "--quick", "--grid-file",
                              "{d}/empty.csv"], "grid has shape (0, 1)"),
    ("recon-perception empty parts", ["reproduce", "reconstruction-perception", "--quick",
                                      "--parts", ""], "parts = ()"),
]


@pytest.mark.parametrize("argv, fragment", [c[1:] for c in CLI_CASES],
                         ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input_is_one_line(argv, fragment, files, tmp_path, capsys):
    argv = [a.replace("{d}", str(files)) for a in argv] + ["--out", str(tmp_path / "o")]
    with warnings.catch_warnings(record=True) as caught:  # would print extra stderr lines
        warnings.simplefilter("always")
        rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert not [str(w.message) for w in caught]
    assert rc != 0
    assert len(err.splitlines()) == 1, err
    assert fragment in err and "Traceback" not in err


API_CASES = [
    ("load_design_file empty npy", lambda d: load_design_file(d / "empty.npy"),
     "cannot read empty.npy"),
    ("load_design_file complex", lambda d: load_design_file(d / "complex.npy"),
     "expected real numbers"),
    ("prepare_design kurtosis str", lambda d: prepare_design(np.eye(3), "a"), "kurtosis_max"),
    ("prepare_design kurtosis inf", lambda d: prepare_design(np.eye(3), float("inf")),
     "kurtosis_max"),
    ("select_for_design lam1 str", lambda d: select_for_design(np.eye(3), None, "abc"),
     "lam1 = 'abc'"),
    ("select_for_design lam1 < 0", lambda d: select_for_design(np.eye(3), None, -1.0),
     "lam1 = -1.0"),
    ("select_for_design mc 2.5", lambda d: select_for_design(np.eye(3), None,
                                                             mc_replicates=2.5),
     "mc_replicates = 2.5"),
    ("select_for_design seed -1", lambda d: select_for_design(np.eye(3), None, seed=-1),
     "seed = -1"),
    ("cnn grid empty", lambda d: load_published_grid(d / "empty.csv"), "grid has shape"),
    ("cnn d_index float", lambda d: CNNPhaseConfig(d_index=(0, 2.5, 5)), "d_index"),
    ("cnn d_index repeated", lambda d: CNNPhaseConfig(d_index=(5, 5, 5)), "d_index"),
    ("cnn s_index decreasing", lambda d: CNNPhaseConfig(s_index=(3, 2, 1)), "s_index"),
    ("cnn d_index int", lambda d: CNNPhaseConfig(d_index=5), "d_index"),
    ("cnn yuan_d negative", lambda d: CNNPhaseConfig(yuan_d=(-1, 2, 3)), "yuan_d"),
    ("cnn yuan_d NaN", lambda d: CNNPhaseConfig(yuan_d=(NAN, 1, 2)), "yuan_d"),
    ("cnn yuan_d str", lambda d: CNNPhaseConfig(yuan_d=("a",)), "yuan_d"),
    ("cnn yuan_d one value", lambda d: CNNPhaseConfig(yuan_d=(250,)), "yuan_d"),
    ("cnn yuan_u negative", lambda d: CNNPhaseConfig(yuan_u=(-1.0, 0, 1)), "yuan_u"),
    ("cnn yuan_u NaN", lambda d: CNNPhaseConfig(yuan_u=(NAN, 1, 2)), "yuan_u"),
    ("cnn yuan_u scalar", lambda d: CNNPhaseConfig(yuan_u=5), "yuan_u"),
    ("cnn levels None", lambda d: CNNPhaseConfig(levels=None), "levels"),
    ("cnn seed -1", lambda d: CNNPhaseConfig(seed=-1), "seed = -1"),
    ("cnn seed str", lambda d: CNNPhaseConfig(seed="a"), "seed = 'a'"),
    ("cnn seed 2.5", lambda d: CNNPhaseConfig(seed=2.5), "seed = 2.5"),
    ("cnn n_jobs 0", lambda d: CNNPhaseConfig(n_jobs=0), "n_jobs = 0"),
    ("cnn n_jobs str", lambda d: CNNPhaseConfig(n_jobs="a"), "n_jobs = 'a'"),
    ("cnn gaussian_init str", lambda d: CNNPhaseConfig(gaussian_init="no"), "gaussian_init"),
    ("cnn preset unknown", lambda d: CNNPhaseConfig(preset="foo"), "preset = 'foo'"),
    ("cnn grid_file int", lambda d: CNNPhaseConfig(grid_file=123), "grid_file = 123"),
    ("cnn n_test absurd", lambda d: CNNPhaseConfig(n_test=10**12), "n_test"),
    ("cnn n_boot absurd", lambda d: CNNPhaseConfig(n_boot=10**9), "n_boot"),
    ("cnn yuan_N1 absurd", lambda d: CNNPhaseConfig(yuan_N1=10**12), "yuan_N1"),
    ("cnn n_seeds True", lambda d: CNNPhaseConfig(n_seeds=True), "n_seeds"),
    ("rp cf_lams NaN", lambda d: RPConfig(cf_lams=(NAN,)), "cf_lams"),
    ("rp cf_lams negative", lambda d: RPConfig(cf_lams=(-1.0,)), "cf_lams"),
    ("rp align_Ks zero", lambda d: RPConfig(align_Ks=(0, 1)), "align_Ks"),
    ("rp align_Ks empty", lambda d: RPConfig(align_Ks=()), "align_Ks"),
    ("rp mask_ratios 1", lambda d: RPConfig(mask_ratios=(0.0, 1.0)), "mask_ratios"),
    ("rp patch_sizes 2.5", lambda d: RPConfig(patch_sizes=(2.5,)), "patch_sizes"),
    ("rp sigmas str", lambda d: RPConfig(sigmas=("a",)), "sigmas"),
    ("rp bridge_alphas inf", lambda d: RPConfig(bridge_alphas=(float("inf"),)),
     "bridge_alphas"),
    ("rp digits_classes 10", lambda d: RPConfig(digits_classes=(0, 10)), "digits_classes"),
    ("rp cf_sigma NaN", lambda d: RPConfig(cf_sigma=NAN), "cf_sigma"),
    ("rp cf_mask_ratio 1", lambda d: RPConfig(cf_mask_ratio=1.0), "cf_mask_ratio"),
    ("rp dyn_init 0", lambda d: RPConfig(dyn_init=0.0), "dyn_init"),
    ("rp cf_patch 0", lambda d: RPConfig(cf_patch=0), "cf_patch"),
    ("rp source_digit 11", lambda d: RPConfig(source_digit=11), "source_digit"),
    ("rp synthetic_D 2", lambda d: RPConfig(synthetic_D=2), "synthetic_D"),
    ("rp seed -1", lambda d: RPConfig(seed=-1), "seed"),
    ("rp dyn_steps absurd", lambda d: RPConfig(dyn_steps=10**12), "dyn_steps"),
    ("rp bridge_reps absurd", lambda d: RPConfig(bridge_reps=10**12), "bridge_reps"),
    ("rp proj_image_size 0", lambda d: RPConfig(proj_image_size=0), "proj_image_size"),
    ("rp n_jobs 0", lambda d: RPConfig(n_jobs=0), "n_jobs = 0"),
    ("rp proj_augment str", lambda d: RPConfig(proj_augment="yes"), "proj_augment"),
    ("rp parts empty", lambda d: RPConfig(parts=()), "parts = ()"),
    ("kou_row_task empty mu", lambda d: cp.kou_row_task(100, [], "pytorch", 10, 0, 0), "mu = []"),
    ("yuan_row_task empty u", lambda d: cp.yuan_row_task(100, [], {}, 10, 0, 0), "u = []"),
    ("seed_grids no columns", lambda d: cp.seed_grids(pd.DataFrame({"a": [1]}), "err",
                                                      "mu_norm", [1], [1]), "runs: expected"),
    ("seed_grids unknown d", lambda d: cp.seed_grids(
        pd.DataFrame({"seed": [0], "d": [100], "err": [0.1], "mu_norm": [0.5]}), "err",
        "mu_norm", [200], [0.5]), "d_vals / s_vals"),
    ("fit_constants names mismatch", lambda d: cp.fit_constants(
        np.zeros((2, 3, 3)), [1, 2, 3], [1, 2, 3], (0.2, 0.3), "thm43", {}, ("a",), ""),
     "one name per level"),
    ("cifar corrupt batch", lambda d: di.load_cifar_python(d / "cifar"), "data_batch_1"),
    # the one CIFAR reader (nets.cifar) checks the whole dataset, train batches first: the
    # corrupt file named is the first one read
    ("cifar corrupt test batch", lambda d: di.load_cifar_python(d / "cifar", split="test"),
     "not a readable CIFAR python batch"),
    ("tinyimagenet size 0", lambda d: di.load_tinyimagenet(d, size=0), "size = 0"),
    ("tinyimagenet max_per_class -1", lambda d: di.load_tinyimagenet(d, max_per_class=-1),
     "max_per_class = -1"),
    ("tinyimagenet split", lambda d: di.load_tinyimagenet(d, split="x"), "split = 'x'"),
]


@pytest.mark.parametrize("call, fragment", [c[1:] for c in API_CASES],
                         ids=[c[0] for c in API_CASES])
def test_api_bad_input_is_a_named_value_error(call, fragment, files):
    with pytest.raises(ValueError) as info:
        call(files)
    assert fragment in str(info.value)


def test_good_configs_still_build():
    """The presets and defaults pass the new checks (fails if any check is too strict)."""
    CNNPhaseConfig()
    CNNPhaseConfig(setting="yuan")
    RPConfig()
    assert CNNPhaseConfig.quick().yuan_d == (250, 500, 1000, 2000, 4000, 8000)
    assert RPConfig.quick().mask_ratios == (0.0, 0.25, 0.5, 0.75)


def test_select_for_design_reports_unconverged_solves(monkeypatch):
    """ConvergenceWarnings of the theory solves are counted and re-emitted once, not
    swallowed (issue 8)."""
    import replica

    original = replica.recommend

    def warning_recommend(*args, **kwargs):
        warnings.warn("stage 2 did not converge", replica.ConvergenceWarning, stacklevel=2)
        warnings.warn("stage 1 did not converge", replica.ConvergenceWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(replica, "recommend", warning_recommend)
    sc = replica.TransferScenario((0.5, 4.0), (0.1, 0.1),
                                  replica.support_prior(0.10, [0.02, 0.02]))
    A = np.random.default_rng(0).standard_normal((10, 20))
    with pytest.warns(replica.ConvergenceWarning, match=r"[2-9]\d* theory solves did not converge"):
        select_for_design(A, sc, n_grid=3)
