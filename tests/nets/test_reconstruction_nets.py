"""nets side of reconstruction vs perception: MLP AE, ResNet9, PCA projection protocol."""

import numpy as np
import pytest
import torch

from nets.autoencoders import MLPAutoencoder, train_autoencoder
from nets.pca_projection import (
    MLPClassifier,
    fraction_grids,
    macro_accuracy,
    normalise_images,
    pca_basis,
    project_images,
    subspace_basis,
)
from nets.resnet9 import ResNet9


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_mlp_autoencoder_learns_low_rank_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3)) @ rng.standard_normal((3, 12))  # rank 3
    model = MLPAutoencoder(12, 3, hidden=(32,), seed=0).double()
    res = train_autoencoder(model, X, optimizer="adam", epochs=150, batch_size=50, lr=5e-3)
    total = np.mean(np.sum(X ** 2, 1))
    assert res.final_loss < 0.1 * total


def test_resnet9_shapes_small_and_cifar_images():
    torch.manual_seed(0)
    assert ResNet9(1, 10, width=4)(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    assert ResNet9(3, 7, width=4)(torch.randn(2, 3, 32, 32)).shape == (2, 7)
    assert ResNet9(3, 7, width=64).conv5[0].out_channels == 1028  # sic, as the authors


def test_pca_projection_protocol_hand_case():
    lam = np.array([4.0, 3.0, 2.0, 1.0])
    U = np.eye(4)
    top = subspace_basis(lam, U, 0.75, "top")  # cumulative 0.4, 0.7, 0.9, 1.0 -> first two
    bottom = subspace_basis(lam, U, 0.75, "bottom")
    np.testing.assert_array_equal(top, U[:, :2])
    np.testing.assert_array_equal(bottom, U[:, 2:])
    np.testing.assert_array_equal(subspace_basis(lam, U, -1, "top"), U[:, :2])
    tg, bg = fraction_grids(lam, 3)
    np.testing.assert_allclose(tg, [0.7, 0.8, 0.9])
    np.testing.assert_allclose(bg, 0.7 + 0.2 * np.array([0, 0.5, 1]) ** 0.25)


def test_projection_is_orthogonal_and_normalisation():
    rng = np.random.default_rng(1)
    imgs = rng.random((40, 1, 4, 4))
    tr, te = normalise_images(imgs[:30], imgs[30:])
    np.testing.assert_allclose(tr.mean(0), 0, atol=1e-12)
    lam, U = pca_basis(tr)
    B_top = subspace_basis(lam, U, 0.5, "top")
    B_bot = subspace_basis(lam, U, 0.5, "bottom")
    both = project_images(tr, B_top) + project_images(tr, B_bot)
    np.testing.assert_allclose(both, tr, atol=1e-10)
    assert te.shape == (10, 1, 4, 4)


def test_macro_accuracy_and_mlp_classifier():
    assert macro_accuracy([0, 0, 1, 1], [0, 1, 1, 1], 2) == (1.0 + 2 / 3) / 2
    assert MLPClassifier(16, 3)(torch.randn(5, 1, 4, 4)).shape == (5, 3)
