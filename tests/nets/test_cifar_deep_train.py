"""CIFAR pickle loader, class-split protocol, noise, and the deep training loop (tiny, CPU).

The CIFAR fixtures are written by the tests themselves (:func:`nets.cifar.write_cifar_batches`,
random uint8 images with hand-set pixels), so no data file is stored.
"""

import numpy as np
import pytest
import torch

from nets.cifar import (
    add_gaussian_noise,
    class_split,
    load_cifar,
    load_digits_images,
    write_cifar_batches,
)
from nets.deep_models import build_model
from nets.deep_train import ConvergenceWarning, TrainConfig, evaluate, train_classifier


def tiny_cifar(folder, n_classes=10, per_class=6, per_class_test=2, dataset="cifar10", seed=0):
    """Write a tiny CIFAR-format dataset; returns the raw arrays for hand checks."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), per_class)
    yt = np.repeat(np.arange(n_classes), per_class_test)
    x = rng.integers(0, 256, (len(y), 3, 32, 32), dtype=np.uint8)
    xt = rng.integers(0, 256, (len(yt), 3, 32, 32), dtype=np.uint8)
    x[0, 0, 0, 1] = 200  # red channel, row 0, column 1 of the first image
    x[0, 2, 31, 31] = 7  # blue channel, last pixel
    write_cifar_batches(folder, x, y, xt, yt, dataset=dataset)
    return x, y, xt, yt


def test_cifar10_pickles_round_trip_pixels_and_labels(tmp_path):
    x, y, xt, yt = tiny_cifar(tmp_path / "cifar-10-batches-py")
    data = load_cifar(tmp_path, "cifar10")  # finds the standard sub-folder
    assert data.x_train.shape == (60, 3, 32, 32) and data.x_test.shape == (20, 3, 32, 32)
    assert data.x_train[0, 0, 0, 1] == pytest.approx(200 / 255)
    assert data.x_train[0, 2, 31, 31] == pytest.approx(7 / 255)
    assert np.array_equal(data.y_train, y) and np.array_equal(data.y_test, yt)
    assert np.allclose(data.x_test * 255, xt, atol=1e-4)


def test_cifar100_fine_labels(tmp_path):
    _, y, _, _ = tiny_cifar(tmp_path, n_classes=100, per_class=1, per_class_test=1,
                            dataset="cifar100")
    data = load_cifar(tmp_path, "cifar100")
    assert data.n_classes == 100 and np.array_equal(data.y_train, y)


@pytest.mark.parametrize("ratio", [2, 3, 4])
def test_class_split_ratio_and_disjoint_classes(tmp_path, ratio):
    tiny_cifar(tmp_path)
    data = load_cifar(tmp_path)
    tp = class_split(data, ratio, 2, seed=1)
    assert tp.task1.n_train == ratio * tp.task2.n_train == ratio * 12
    assert len(tp.task1.classes) == 2 * ratio
    assert not set(tp.task1.classes) & set(tp.task2.classes)
    assert set(tp.task2.y_train) == {0, 1} and set(tp.task1.y_train) == set(range(2 * ratio))
    # Task-2 images are the images of its classes (checked against the raw labels)
    orig = data.y_train[[int(np.flatnonzero((data.x_train == im).all(axis=(1, 2, 3)))[0])
                         for im in tp.task2.x_train]]
    assert np.array_equal(orig, np.array(tp.task2.classes)[tp.task2.y_train])
    # nested Task-1 class sets across ratios for one seed
    if ratio > 2:
        assert class_split(data, 2, 2, seed=1).task1.classes == tp.task1.classes[:4]


def test_class_split_subsample_mode_and_fixed_order(tmp_path):
    tiny_cifar(tmp_path)
    data = load_cifar(tmp_path)
    tp = class_split(data, 3, 2, seed=0, n1_mode="subsample", class_order="fixed",
                     n_per_class=4)
    assert tp.task2.classes == (0, 1) and tp.task1.classes == tuple(range(2, 10))
    assert tp.task1.n_train == 3 * tp.task2.n_train == 24


def test_gaussian_noise_level_in_grey_levels(tmp_path):
    tiny_cifar(tmp_path)
    t2 = class_split(load_cifar(tmp_path), 2, 2, seed=0).task2
    noisy = add_gaussian_noise(t2, 20.0, seed=3)
    d = (noisy.x_train - t2.x_train) * 255
    assert abs(d.std() - 20.0) < 0.5 and abs(d.mean()) < 0.5
    assert not np.array_equal(noisy.x_test, t2.x_test)
    assert np.array_equal(add_gaussian_noise(t2, 20.0, seed=3, on_test=False).x_test, t2.x_test)
    assert add_gaussian_noise(t2, 0.0) is t2


def test_bundled_digits_as_images():
    d = load_digits_images()
    assert d.x_train.shape[1:] == (3, 8, 8) and len(d.y_train) + len(d.y_test) == 1797
    assert d.x_train.min() >= 0 and d.x_train.max() <= 1
    assert np.array_equal(d.x_train[:, 0], d.x_train[:, 2])


def _toy(n=48, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 1, (n, 3, 8, 8)).astype(np.float32)
    x[:, 0, 2:6, 2:6] += 3.0 * (2 * y[:, None, None] - 1)  # an easy class-dependent patch
    return x, y


def test_resume_from_checkpoint_is_bitwise_identical(tmp_path):
    x, y = _toy()
    cfg = TrainConfig(epochs=3, batch_size=8, lr=0.05, augment=True, progress=False, seed=4)
    ref = build_model("resnet34", 2, width=4, seed=0)
    full = train_classifier(ref, x, y, cfg)
    ck = tmp_path / "run.pt"
    part = build_model("resnet34", 2, width=4, seed=0)
    first = train_classifier(part, x, y, cfg, checkpoint=ck, stop_after=1)
    assert first.epochs == 1 and ck.is_file()
    resumed = build_model("resnet34", 2, width=4, seed=0)  # a new process would start here
    res = train_classifier(resumed, x, y, cfg, checkpoint=ck)
    assert res.resumed_from == 1 and res.losses == full.losses
    for (k, a), b in zip(ref.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    # a finished checkpoint is not trained again
    again = build_model("resnet34", 2, width=4, seed=9)
    assert train_classifier(again, x, y, cfg, checkpoint=ck).resumed_from == 3
    assert torch.equal(again.conv1.weight, ref.conv1.weight)
    with pytest.raises(ValueError, match="checkpoint"):
        train_classifier(build_model("resnet34", 2, width=4), x, y,
                         TrainConfig(epochs=3, batch_size=8, lr=0.1, progress=False),
                         checkpoint=ck)


def test_training_learns_an_easy_task():
    x, y = _toy(96)
    xt, yt = _toy(64, seed=1)
    m = build_model("resnet34", 2, width=4, seed=0)
    res = train_classifier(m, x, y, TrainConfig(epochs=6, batch_size=16, lr=0.05,
                                                progress=False))
    assert res.converged and res.losses[-1] < res.losses[0]
    assert evaluate(m, xt, yt) > 0.9


def test_no_decrease_warns_and_nan_input_raises():
    x, y = _toy(16)
    with pytest.warns(ConvergenceWarning):
        train_classifier(build_model("resnet34", 2, width=4), x, y,
                         TrainConfig(epochs=2, batch_size=16, lr=1e-12, progress=False))
    x[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train_classifier(build_model("resnet34", 2, width=4), x, y,
                         TrainConfig(epochs=1, progress=False))
