"""Bad input to nets.reconstruction raises ValueError naming the offending field."""

import re

import numpy as np
import pytest

from nets.reconstruction import TrainConfig, TransferData, build_net, d2d, miso, train
from nets.reconstruction import digits as D
from nets.reconstruction import miso_learning as ML

G_OK = np.full((2, 10, 10), 1e-9) + np.eye(10) * 1e-7
G_NEG = G_OK.copy()
G_NEG[0, 1, 2] = -1e-9
G_NAN = G_OK.copy()
G_NAN[1, 0, 0] = np.nan


def _train_bad_shapes():
    task = D.digits_task(64)
    x = np.zeros((10, 64), np.float32)
    y = np.zeros(9, np.float32)
    train(build_net(task, "target"), task.target_loss, (x, y), (x, np.zeros(10, np.float32)),
          TrainConfig(epochs=1, batch_size=4, lr=1e-3))


def _train_nan():
    task = D.digits_task(64)
    x = np.zeros((10, 64), np.float32)
    x[3, 3] = np.nan
    y = np.zeros(10, np.float32)
    train(build_net(task, "target"), task.target_loss, (x, y), (x, y),
          TrainConfig(epochs=1, batch_size=4, lr=1e-3))


CASES = [
    ("negative power", lambda: d2d.sinr(G_OK, -0.1 * np.ones((2, 10))), "powers p"),
    ("power above 1", lambda: d2d.rates(G_OK, 1.5 * np.ones((2, 10))), "powers p"),
    ("NaN power", lambda: d2d.sum_rate(G_OK, np.full((2, 10), np.nan)), "NaN"),
    ("power shape", lambda: d2d.min_rate(G_OK, np.ones((2, 7))), "powers p have shape"),
    ("negative gain", lambda: d2d.sinr(G_NEG, 1.0), "channel gains g"),
    ("NaN gain", lambda: d2d.fp_power(G_NAN), "NaN"),
    ("gain shape", lambda: d2d.gp_power(np.ones((3, 9, 9))), "channel gains g have shape"),
    ("gain not square", lambda: d2d.sum_rate(np.ones((10, 4)), 1.0), "channel gains g"),
    ("cvxpy gain shape", lambda: d2d.gp_power_cvxpy(G_OK), "expected (10, 10)"),
    ("negative distance", lambda: d2d.path_loss_db([-3.0, 5.0]), "distance"),
    ("zero distance", lambda: d2d.path_loss_db(0.0), "distance"),
    ("dist shape", lambda: d2d.channel_gains(np.ones((5, 5))), "dist has shape"),
    ("negative d_min", lambda: d2d.D2DConfig(d_min=-1.0), "d_min"),
    ("negative field", lambda: d2d.D2DConfig(field=-150.0), "field"),
    ("n_links", lambda: d2d.D2DConfig(n_links=1), "n_links"),
    ("n_layouts", lambda: d2d.generate_layouts(0), "n_layouts"),
    ("fp n_iter", lambda: d2d.fp_power(G_OK, n_iter=0), "n_iter"),
    ("miso negative distance", lambda: miso.miso_path_loss_db(-1.0), "distance"),
    ("miso ue shape", lambda: miso.channels(np.ones((4, 3))), "ue positions"),
    ("miso rician", lambda: miso.MISOConfig(rician_k=-1.0), "rician_k"),
    ("miso bs shape", lambda: miso.MISOConfig(bs_positions=((0, 0),)), "bs_positions"),
    ("miso beamformer shape",
     lambda: miso.beamforming_gain(np.ones((2, 3, 16)), np.ones((2, 3, 8))), "beamformers v"),
    ("miso n", lambda: miso.generate_samples(0, miso.make_system()), "n = 0"),
    ("miso kind", lambda: ML.evaluate_miso(None, None, None, "both"), "kind"),
    ("alpha < 0", lambda: TrainConfig(epochs=1, batch_size=1, lr=1e-3, alpha=-0.5), "alpha"),
    ("alpha NaN", lambda: TrainConfig(epochs=1, batch_size=1, lr=1e-3, alpha=float("nan")),
     "alpha"),
    ("lr", lambda: TrainConfig(epochs=1, batch_size=1, lr=0.0), "lr"),
    ("epochs", lambda: TrainConfig(epochs=0, batch_size=1, lr=1e-3), "epochs"),
    ("batch", lambda: TrainConfig(epochs=1, batch_size=2.5, lr=1e-3), "batch_size"),
    ("train shapes", _train_bad_shapes, "train_data[1]"),
    ("train NaN", _train_nan, "NaN"),
    ("missing MNIST dir", lambda: D.load_mnist_idx("/nonexistent/mnist"), "mnist_dir"),
    ("MNIST split", lambda: D.load_mnist_idx(".", split="valid"), "split"),
    ("digits labels", lambda: D.digits_transfer_data(np.ones((5, 4)), np.ones(4),
                                                     n_target_train=1), "labels"),
    ("digits n_target", lambda: D.digits_transfer_data(*D.load_sklearn_digits(),
                                                       n_target_train=10_000), "n_target_train"),
    ("digits fraction", lambda: D.digits_transfer_data(*D.load_sklearn_digits(),
                                                       n_target_train=5, test_fraction=1.5),
     "test_fraction"),
    ("build kind", lambda: build_net(D.digits_task(64), "middle"), "kind"),
    ("transfer data", lambda: TransferData((1, 2), (1, 2, 3), (1, 2), (1, 2)), "source_train"),
    ("device", lambda: train(build_net(D.digits_task(64), "target"), None, (1, 2), (1, 2),
                             TrainConfig(epochs=1, batch_size=1, lr=1e-3, device="cuda:99")),
     "device"),
]


@pytest.mark.parametrize("call, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_value_error(call, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        call()


def test_missing_mnist_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="train-images-idx3-ubyte"):
        D.load_mnist_idx(tmp_path)
