"""Networks, joint loss, freezing, deployment and a tiny end-to-end run per task."""

import gzip
import warnings

import numpy as np
import pytest
import torch

from nets.reconstruction import (
    ConvergenceError,
    ConvergenceWarning,
    NonFiniteLossError,
    TrainConfig,
    TransferData,
    build_net,
    deployed,
    miso,
    run_methods,
    train,
    transfer_features,
)
from nets.reconstruction import d2d_learning as DL
from nets.reconstruction import digits as D
from nets.reconstruction import miso_learning as ML


def _tiny_digits():
    x, y = D.load_sklearn_digits()
    return D.digits_transfer_data(x, y, n_target_train=20, seed=0)


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def test_architecture_parameter_counts_match_the_paper():
    def count(m):
        return sum(p.numel() for p in m.parameters())

    t = D.digits_task(100)
    net = build_net(t, "source", decoder=True)
    assert (count(net.feature), count(net.head), count(net.decoder)) == (6325, 271, 6400)
    net = build_net(DL.d2d_task(), "source", decoder=True)
    assert (count(net.feature), count(net.head), count(net.decoder)) == (52900, 5070, 40300)
    t = ML.miso_task()
    src, tgt = build_net(t, "source", decoder=True), build_net(t, "target")
    assert (count(src.feature), count(src.head), count(tgt.head), count(src.decoder)) == (
        64150, 29896, 36702, 8059)


def test_joint_loss_is_task_loss_plus_alpha_times_mse():
    data, _ = _tiny_digits()
    task = D.digits_task(64)
    net = build_net(task, "source", decoder=True, seed=3)
    x, y, r = (torch.as_tensor(a) for a in data.source_val)
    with torch.no_grad():
        z = net.feature(x)
        l_s = float(torch.nn.functional.binary_cross_entropy(net.head(z)[:, 0], y))
        l_r = float(((net.decoder(z) - r) ** 2).mean())
    alpha = 2.5
    cfg = TrainConfig(epochs=1, batch_size=10_000, lr=1e-12, alpha=alpha, warn=False)
    res = train(net, task.source_loss, data.source_val, data.source_val, cfg)
    # with lr ~ 0, the validation criterion is the joint loss at the initial parameters
    assert res.val_criterion[0] == pytest.approx(l_s + alpha * l_r, rel=1e-4)
    cfg0 = TrainConfig(epochs=1, batch_size=10_000, lr=1e-12, alpha=0.0, warn=False)
    res0 = train(net, task.source_loss, data.source_val, data.source_val, cfg0)
    assert res0.val_criterion[0] == pytest.approx(l_s, rel=1e-4)


def test_frozen_features_bit_identical_and_decoder_dropped():
    data, _ = _tiny_digits()
    task = D.digits_task(64)
    src = train(build_net(task, "source", decoder=True, seed=1), task.source_loss,
                data.source_train, data.source_val,
                TrainConfig(epochs=5, batch_size=50, lr=1e-3, alpha=5.0, warn=False))
    tgt_net = transfer_features(src.early, lambda: build_net(task, "target", seed=2).head)
    before = _params(tgt_net.feature)
    head_before = _params(tgt_net.head)
    res = train(tgt_net, task.target_loss, data.target_train, data.target_val,
                TrainConfig(epochs=30, batch_size=32, lr=1e-2, warn=False))
    for out in (res.early, res.final):
        for a, b in zip(before, _params(out.feature), strict=True):
            assert torch.equal(a, b)
        assert out.decoder is None
    assert any(not torch.equal(a, b) for a, b in zip(head_before, _params(res.final.head),
                                                     strict=True))
    for a, b in zip(_params(src.early.feature), before, strict=True):
        assert torch.equal(a, b)
    model = deployed(src.early)
    names = [n for n, _ in model.named_parameters()]
    assert len(names) == len(list(src.early.feature.parameters())) + len(
        list(src.early.head.parameters()))
    n_decoder = sum(p.numel() for p in src.early.decoder.parameters())
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in src.early.parameters()) - n_decoder


def test_early_and_final_models_differ_and_best_epoch_is_the_minimum():
    data, _ = _tiny_digits()
    task = D.digits_task(64)
    net = build_net(task, "target", seed=0)
    cfg = TrainConfig(epochs=60, batch_size=8, lr=3e-2, warn=False)
    res = train(net, task.target_loss, data.target_train, data.target_val, cfg,
                criterion=lambda out, y: float(torch.nn.functional.binary_cross_entropy(
                    out[:, 0], y)))
    k = int(np.argmin(res.val_criterion))
    assert res.best_epoch == res.eval_epochs[k]
    x, y = (torch.as_tensor(a) for a in data.target_val)
    with torch.no_grad():
        best = float(torch.nn.functional.binary_cross_entropy(res.early(x)[:, 0], y))
        final = float(torch.nn.functional.binary_cross_entropy(res.final(x)[:, 0], y))
    assert best == pytest.approx(res.val_criterion.min(), rel=1e-5)
    assert final == pytest.approx(res.val_criterion[-1], rel=1e-5)
    assert res.iterations == 60 * 3


def test_seeded_runs_are_reproducible():
    data, _ = _tiny_digits()
    task = D.digits_task(64)
    cfg = TrainConfig(epochs=5, batch_size=16, lr=1e-3, warn=False)
    a = train(build_net(task, "target", seed=4), task.target_loss, data.target_train,
              data.target_val, cfg, seed=9)
    b = train(build_net(task, "target", seed=4), task.target_loss, data.target_train,
              data.target_val, cfg, seed=9)
    assert np.array_equal(a.train_loss, b.train_loss)
    c = train(build_net(task, "target", seed=5), task.target_loss, data.target_train,
              data.target_val, cfg, seed=9)
    assert not np.array_equal(a.train_loss, c.train_loss)


def test_nonconvergence_warns_or_raises_and_nan_stops():
    data, _ = _tiny_digits()
    task = D.digits_task(64)
    net = build_net(task, "target", seed=0)
    cfg = TrainConfig(epochs=3, batch_size=16, lr=1e-4, tol=0.0)
    with pytest.warns(ConvergenceWarning):
        train(net, task.target_loss, data.target_train, data.target_val, cfg)
    with pytest.raises(ConvergenceError):
        train(net, task.target_loss, data.target_train, data.target_val,
              TrainConfig(epochs=3, batch_size=16, lr=1e-4, tol=0.0, strict=True))
    with pytest.raises(NonFiniteLossError):
        train(net, lambda out, y: (out * float("nan")).mean(), data.target_train,
              data.target_val, TrainConfig(epochs=1, batch_size=16, lr=1e-3))


def test_end_to_end_digits_reconstruction_learns():
    data, test = _tiny_digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        runs = run_methods(D.digits_task(64), data,
                           TrainConfig(epochs=40, batch_size=50, lr=1e-3, alpha=5.0),
                           TrainConfig(epochs=100, batch_size=32, lr=1e-3, eval_every=5))
    x = torch.as_tensor(test[0])
    acc = {m: D.accuracy(deployed(r.target.early)(x).detach(), test[2])
           for m, r in runs.items()}
    assert acc["reconstruction"] > 0.8, acc  # majority class ("not an 8") gives ~0.67
    assert min(acc.values()) > 0.5, acc
    for m, r in runs.items():
        src_acc = D.accuracy(deployed(r.source.early)(x).detach(), test[1])
        assert src_acc > 0.9, m


def test_end_to_end_d2d_beats_random_power():
    from nets.reconstruction import d2d

    data, norm = DL.d2d_transfer_data(2000, 300, 300, 300, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        runs = run_methods(DL.d2d_task(), data,
                           TrainConfig(epochs=4, batch_size=200, lr=1e-3, alpha=3.0),
                           TrainConfig(epochs=10, batch_size=100, lr=1e-3), seed=0)
    g, _ = d2d.load_test_set()
    g = g[:300]
    rand = d2d.sum_rate(g, d2d.random_power(g, seed=0)).mean()
    for m, r in runs.items():
        p = DL.evaluate_power(deployed(r.source.early), g, norm)
        assert d2d.sum_rate(g, p).mean() > rand, m
        p = DL.evaluate_power(deployed(r.target.final), g, norm)
        assert ((p >= 0) & (p <= 1)).all()


def test_end_to_end_miso_beats_centre_guess():
    system = miso.make_system(seed=123)
    data, norm = ML.miso_transfer_data(system, 2000, 300, 200, 300, seed=0)
    test = miso.generate_samples(300, system, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        runs = run_methods(ML.miso_task(), data,
                           TrainConfig(epochs=8, batch_size=200, lr=1e-3, alpha=4.0),
                           TrainConfig(epochs=30, batch_size=100, lr=1e-3), seed=0)
    centre = np.linalg.norm(test.ue - 50.0, axis=1).mean()
    for m, r in runs.items():
        err = ML.evaluate_miso(deployed(r.target.early), test, norm, "target")["loc_error_m"]
        assert err < centre, m
        gain = ML.evaluate_miso(deployed(r.source.early), test, norm, "source")
        assert gain["gain_pct_mrt"] > 20.0, m  # random unit-norm beamformers give ~6%


def _write_idx(path, array, code):
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def test_mnist_idx_loader_resizes_to_10x10(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(6, 28, 28)).astype(np.uint8)
    imgs[0] = 255  # a constant image stays constant after resizing
    labels = np.array([1, 8, 0, 3, 8, 1], dtype=np.uint8)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", imgs, 0x08)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", labels, 0x08)
    x, y = D.load_mnist_idx(tmp_path, "train")
    assert x.shape == (5, 100) and list(y) == [1, 8, 0, 8, 1]
    assert x[0] == pytest.approx(np.ones(100), abs=1e-6)
    assert x[1].mean() == pytest.approx(imgs[1].mean() / 255, abs=0.02)
    assert D.read_idx(tmp_path / "train-labels-idx1-ubyte").tolist() == labels.tolist()


def test_transfer_data_rejects_mismatched_feature_shapes():
    x = np.zeros((5, 4), np.float32)
    with pytest.raises(ValueError, match="target_train"):
        TransferData((x, x, x), (x, x, x), (np.zeros((5, 3)), x), (x, x))


def test_checkpoint_holds_early_and_final_states(tmp_path):
    data, _ = _tiny_digits()
    task = D.digits_task(64)
    path = tmp_path / "ckpt" / "target.pt"
    res = train(build_net(task, "target", seed=0), task.target_loss, data.target_train,
                data.target_val, TrainConfig(epochs=20, batch_size=8, lr=3e-2, warn=False,
                                             checkpoint=str(path)))
    saved = torch.load(path)
    assert saved["best_epoch"] == res.best_epoch
    for key, net in (("early", res.early), ("final", res.final)):
        for name, t in net.state_dict().items():
            assert torch.equal(saved[key][name], t)
