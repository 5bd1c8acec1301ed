"""deep-transfer experiment end to end on a tiny CIFAR fixture, the CLI, and bad inputs."""

import numpy as np
import pandas as pd
import pytest
import torch

from nets.cifar import add_gaussian_noise, class_split, load_cifar, write_cifar_batches
from nets.deep_models import build_model
from nets.deep_train import TrainConfig, resolve_device
from nets.deep_transfer import transfer_parameters, vit_blocks
from validation.cli import main
from validation.experiments.deep_transfer import DeepTransferConfig, run, summarise


def _fixture(folder, per_class=6):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), per_class)
    yt = np.repeat(np.arange(10), 2)
    x = rng.integers(0, 256, (len(y), 3, 32, 32), dtype=np.uint8)
    xt = rng.integers(0, 256, (len(yt), 3, 32, 32), dtype=np.uint8)
    return write_cifar_batches(folder, x, y, xt, yt)


def _tiny_cfg(data_dir, cache_dir, **kw):
    base = dict(data_dir=str(data_dir), dataset="cifar10", width=4, up_epochs=1, down_epochs=1,
                batch_size=4, ratios=(2,), noise_levels=(5.0,), noise_ratio=2, seeds=2,
                vit_arch="deit_tiny", vit_width=16, vit_patch_size=8, vit_epochs=1,
                augment=False, n_jobs=1, cache_dir=str(cache_dir))
    base.update(kw)
    return DeepTransferConfig(**base)


def test_tiny_run_tables_and_cache(tmp_path, capsys):
    data = _fixture(tmp_path / "data")
    cfg = _tiny_cfg(data, tmp_path / "cache")
    tables = run(cfg, tmp_path / "out")
    t1 = tables["table1"]
    assert list(t1["ratio"]) == [2] and int(t1["n_seeds"].iloc[0]) == 2
    assert int(t1["N1"].iloc[0]) == 2 * int(t1["N2"].iloc[0]) == 24
    runs = tables["runs"]
    assert set(runs["part"]) == {"ratio", "noise", "vit"} and len(runs) == 6
    assert runs[["acc_transfer", "acc_scratch"]].apply(lambda c: c.between(0, 1)).all().all()
    rep = tables["transfer_report"]
    vit = rep[rep["pair"].str.startswith("deit")]
    blocks = vit["name"].str.split(".").str[2]
    assert set(blocks[vit["transferred"]]) == {"encoder_layer_9", "encoder_layer_10",
                                               "encoder_layer_11"}
    assert int(vit["transferred"].sum()) == 36
    for f in ("table1.csv", "noise.csv", "vit.csv", "runs.csv", "config.json",
              "table1.png", "fig3_noise.png", "fig4_vit.png"):
        assert (tmp_path / "out" / f).is_file(), f
    out = capsys.readouterr().out
    assert "Table 1 analogue" in out and "resnet101->resnet34" in out
    again = run(cfg, tmp_path / "out2")  # every task now comes from the cache
    pd.testing.assert_frame_equal(again["table1"], t1)


def test_summarise_by_hand():
    runs = pd.DataFrame({"pair": ["a"] * 3, "ratio": [2] * 3, "N1": [8] * 3, "N2": [4] * 3,
                         "acc_transfer": [0.8, 0.9, 1.0], "acc_scratch": [0.7, 0.7, 0.7]})
    s = summarise(runs, ["pair", "ratio"]).iloc[0]
    assert s["acc_transfer"] == pytest.approx(90.0)
    assert s["acc_transfer_se"] == pytest.approx(10.0 / np.sqrt(3))
    assert s["gain"] == pytest.approx(20.0) and s["gain_se"] == pytest.approx(10 / np.sqrt(3))
    assert s["gain_rel_pct"] == pytest.approx(100 * 20 / 70)


def test_cli_reports_bad_data_dir_in_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    rc = main(["reproduce", "deep-transfer", "--quick", "--data-dir", str(empty),
               "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "data_dir" in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cli_device_cuda_without_gpu(tmp_path, capsys):
    rc = main(["reproduce", "deep-transfer", "--quick", "--device", "cuda",
               "--out", str(tmp_path / "o")])
    assert rc == 2 and "device" in capsys.readouterr().err


def _task2(tmp_path):
    return class_split(load_cifar(_fixture(tmp_path / "d")), 2, 2).task2


def _r34():
    return build_model("resnet34", 2, width=4)


BAD = [
    ("alpha < 0", lambda p: transfer_parameters(_r34(), _r34(), -0.1), "alpha"),
    ("alpha > 1", lambda p: transfer_parameters(_r34(), _r34(), 1.5), "alpha"),
    ("alpha nan", lambda p: transfer_parameters(_r34(), _r34(), float("nan")), "alpha"),
    ("mode", lambda p: transfer_parameters(_r34(), _r34(), 0.5, mode="row"), "mode"),
    ("align", lambda p: transfer_parameters(_r34(), _r34(), 0.5, align="mid"), "align"),
    ("no shared tensor", lambda p: transfer_parameters(
        build_model("vgg11", 2, width=8), _r34(), 1.0), "share no tensor"),
    ("no shared tensor (include)", lambda p: transfer_parameters(
        _r34(), _r34(), 1.0, include=("blocks.9.",)), "share no tensor"),
    ("unknown architecture", lambda p: build_model("resnet18", 2), "arch"),
    ("unknown stem", lambda p: build_model("resnet34", 2, stem="tiny"), "stem"),
    ("vit block", lambda p: vit_blocks((12,), 12), "blocks"),
    ("data dir without batches", lambda p: load_cifar(p), "data_dir"),
    ("missing data dir", lambda p: load_cifar(p / "nope"), "data_dir"),
    ("dataset", lambda p: load_cifar(p, "svhn"), "dataset"),
    ("noise < 0", lambda p: add_gaussian_noise(_task2(p), -1.0), "sigma_p"),
    ("ratio too large", lambda p: class_split(load_cifar(_fixture(p / "d")), 5, 2), "ratio"),
    ("epochs 0", lambda p: TrainConfig(epochs=0), "epochs"),
    ("device", lambda p: resolve_device("tpu"), "device"),
    ("weights file", lambda p: __import__("nets.deep_models").deep_models.load_state_dict_file(
        p / "w.pt"), "upstream_weights"),
    ("config alpha", lambda p: DeepTransferConfig(alpha=2.0), "alpha"),
    ("config arch", lambda p: DeepTransferConfig(pairs=(("resnet18", "resnet34"),)),
     "unknown architecture"),
    ("config noise", lambda p: DeepTransferConfig(noise_levels=(1.0, -5.0)), "noise_levels"),
    ("config parts", lambda p: DeepTransferConfig(parts=("table9",)), "parts"),
]


@pytest.mark.parametrize("label, call, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_value_error_naming_it(tmp_path, label, call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call(tmp_path)
