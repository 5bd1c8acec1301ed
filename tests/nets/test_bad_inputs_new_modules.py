"""Bad-input table of the newer :mod:`nets` modules (issue 8): autoencoders, linear transfer,
ResNet9 and the PCA-projection protocol. Every row must raise ``ValueError`` naming the
argument (no torch/numpy traceback, no ZeroDivisionError, no silent NaN)."""

import numpy as np
import pytest
import torch

from nets import autoencoders as ae
from nets import linear_transfer as lt
from nets import pca_projection as pp
from nets.resnet9 import ResNet9, conv_block

NAN = float("nan")
X = np.random.default_rng(0).standard_normal((20, 16))
YS = np.random.default_rng(1).standard_normal((20, 2))
IMGS = np.random.default_rng(2).random((10, 1, 4, 4))
LAM = np.array([3.0, 2.0, 1.0])
RNG = np.random.default_rng(3)


XC = np.random.default_rng(4).standard_normal((40, 8))
YC = np.arange(40) % 3


def _clf(X=XC, y=YC, num_classes=3, **kw):
    return pp.train_classifier(pp.MLPClassifier(8, 3), X, y, XC, YC, num_classes,
                               **{"epochs": 1, **kw})


def _train(X=X, **kw):
    return ae.train_autoencoder(ae.LinearAutoencoder(16, 2), X, **kw)


CASES = [
    # autoencoders
    ("LAE seed -1", lambda: ae.LinearAutoencoder(4, 2, seed=-1), "seed = -1"),
    ("LAE seed str", lambda: ae.LinearAutoencoder(4, 2, seed="a"), "seed = 'a'"),
    ("LAE init_scale NaN", lambda: ae.LinearAutoencoder(4, 2, init_scale=NAN), "init_scale"),
    ("LAE init_scale str", lambda: ae.LinearAutoencoder(4, 2, init_scale="a"), "init_scale"),
    ("LAE absurd size", lambda: ae.LinearAutoencoder(10**6, 10**5), "width = 100000"),
    ("masks n 0", lambda: ae.patch_masks(0, (1, 4, 4), 2, 0.5), "n = 0"),
    ("masks n -1", lambda: ae.patch_masks(-1, (1, 4, 4), 2, 0.5), "n = -1"),
    ("masks n 2.5", lambda: ae.patch_masks(2.5, (1, 4, 4), 2, 0.5), "n = 2.5"),
    ("masks generator str", lambda: ae.patch_masks(2, (1, 4, 4), 2, 0.5, generator="a"),
     "generator"),
    ("masks image_shape int", lambda: ae.patch_masks(2, 16, 2, 0.5), "image_shape"),
    ("noisy_view NaN x", lambda: ae.noisy_view(torch.full((2, 4), NAN), "gaussian", sigma=0.1),
     "x contains NaN"),
    ("noisy_view numpy x", lambda: ae.noisy_view(np.ones((2, 4)), "gaussian", sigma=0.1),
     "x: expected a torch.Tensor"),
    ("train batch_size 0", lambda: _train(optimizer="adam", batch_size=0), "batch_size = 0"),
    ("train batch_size -1", lambda: _train(optimizer="adam", batch_size=-1), "batch_size = -1"),
    ("train epochs 0", lambda: _train(optimizer="adam", epochs=0), "epochs = 0"),
    ("train epochs 2.5", lambda: _train(optimizer="adam", epochs=2.5), "epochs = 2.5"),
    ("train lr str", lambda: _train(optimizer="adam", lr="a"), "lr = 'a'"),
    ("train lr NaN", lambda: _train(optimizer="adam", lr=NAN), "lr = nan"),
    ("train seed str", lambda: _train(optimizer="adam", seed="a", epochs=1), "seed = 'a'"),
    ("train max_iter 0", lambda: _train(max_iter=0), "max_iter = 0"),
    ("train max_iter -1", lambda: _train(max_iter=-1), "max_iter = -1"),
    ("train max_iter 2.5", lambda: _train(max_iter=2.5), "max_iter = 2.5"),
    ("train max_iter str", lambda: _train(max_iter="a"), "max_iter = 'a'"),
    ("train strict str", lambda: _train(strict="yes", max_iter=20), "strict = 'yes'"),
    ("train X empty", lambda: _train(X=np.ones((0, 16))), "X has shape"),
    ("train X inf", lambda: _train(X=X * np.inf), "X contains infinite"),
    ("train X complex", lambda: _train(X=X + 1j), "X: expected real"),
    ("train X str", lambda: _train(X="abc"), "X: expected real"),
    ("train X wrong width", lambda: _train(X=np.ones((5, 7))), "X has shape (5, 7)"),
    ("train model None", lambda: ae.train_autoencoder(None, X), "model: expected"),
    # linear_transfer
    ("joint max_iter 0", lambda: lt.train_joint(X, YS, 2, 0.5, max_iter=0), "max_iter = 0"),
    ("joint max_iter 2.5", lambda: lt.train_joint(X, YS, 2, 0.5, max_iter=2.5), "max_iter"),
    ("joint tol NaN", lambda: lt.train_joint(X, YS, 2, 0.5, tol=NAN), "tol = nan"),
    ("joint tol < 0", lambda: lt.train_joint(X, YS, 2, 0.5, tol=-1), "tol = -1"),
    ("joint strict str", lambda: lt.train_joint(X, YS, 2, 0.5, strict="x"), "strict = 'x'"),
    ("joint seed str", lambda: lt.train_joint(X, YS, 2, 0.5, seed="a"), "seed = 'a'"),
    ("joint X inf", lambda: lt.train_joint(X * np.inf, YS, 2, 0.5), "X contains infinite"),
    ("joint X empty", lambda: lt.train_joint(np.ones((0, 16)), np.ones((0, 2)), 2, 0.5),
     "X has shape"),
    ("joint X str", lambda: lt.train_joint("abc", YS, 2, 0.5), "X: expected real"),
    ("JointLinearModel seed str", lambda: lt.JointLinearModel(4, 2, 1, seed="a"), "seed"),
    ("ols y NaN", lambda: lt.fit_ols_head(RNG.random((10, 2)), np.full(10, NAN)),
     "y contains NaN"),
    ("ols features NaN", lambda: lt.fit_ols_head(np.full((10, 2), NAN), np.ones(10)),
     "features contains NaN"),
    ("ols features str", lambda: lt.fit_ols_head("a", np.ones(10)), "features"),
    ("ols intercept str", lambda: lt.fit_ols_head(RNG.random((10, 2)), np.ones(10), "no"),
     "intercept = 'no'"),
    ("predict_head mismatch", lambda: lt.predict_head(np.ones((1, 3)), np.ones(1),
                                                      np.ones((5, 2))), "features (5, 2)"),
    ("predict_head NaN", lambda: lt.predict_head(np.ones((1, 2)), np.ones(1),
                                                 np.full((5, 2), NAN)), "features contains NaN"),
    ("predict_head str", lambda: lt.predict_head("a", np.ones(1), np.ones((5, 2))), "w:"),
    # resnet9
    ("ResNet9 width absurd", lambda: ResNet9(3, 10, 10**5), "width = 100000"),
    ("conv_block cin 0", lambda: conv_block(0, 3), "cin = 0"),
    ("conv_block cin str", lambda: conv_block("a", 3), "cin = 'a'"),
    # pca_projection
    ("normalise NaN", lambda: pp.normalise_images(IMGS * NAN), "train contains NaN"),
    ("normalise test NaN", lambda: pp.normalise_images(IMGS, IMGS * NAN), "test contains NaN"),
    ("normalise str", lambda: pp.normalise_images("abc"), "train: expected"),
    ("pca NaN", lambda: pp.pca_basis(IMGS * NAN), "train contains NaN"),
    ("pca 0-d", lambda: pp.pca_basis(3.0), "train has shape"),
    ("pca empty", lambda: pp.pca_basis(np.ones((0, 3))), "train has shape"),
    ("grids n 0", lambda: pp.fraction_grids(LAM, 0), "n = 0"),
    ("grids n 2.5", lambda: pp.fraction_grids(LAM, 2.5), "n = 2.5"),
    ("grids n str", lambda: pp.fraction_grids(LAM, "a"), "n = 'a'"),
    ("grids eigenvalues NaN", lambda: pp.fraction_grids(np.array([3.0, NAN, 1.0])),
     "eigenvalues contains NaN"),
    ("grids eigenvalues zero", lambda: pp.fraction_grids(np.zeros(3)), "eigenvalues"),
    ("grids eigenvalues < 0", lambda: pp.fraction_grids(-np.ones(3)), "eigenvalues"),
    ("grids eigenvalues increasing", lambda: pp.fraction_grids(LAM[::-1]), "non-increasing"),
    ("basis fraction str", lambda: pp.subspace_basis(LAM, np.eye(3), "a", "top"), "fraction"),
    ("basis fraction None", lambda: pp.subspace_basis(LAM, np.eye(3), None, "top"), "fraction"),
    ("basis vectors mismatch", lambda: pp.subspace_basis(LAM, np.eye(5), 0.5, "top"),
     "vectors has shape"),
    ("basis vectors 1-d", lambda: pp.subspace_basis(LAM, np.ones(3), 0.5, "top"),
     "vectors has shape"),
    ("basis eigenvalues 2-d", lambda: pp.subspace_basis(np.ones((3, 3)), np.eye(3), 0.5, "top"),
     "eigenvalues"),
    ("basis one eigenvalue", lambda: pp.subspace_basis(np.ones(1), np.eye(1), 0.5, "bottom"),
     "at least 2"),
    ("project NaN", lambda: pp.project_images(IMGS * NAN, np.eye(16)), "images contains NaN"),
    ("project basis NaN", lambda: pp.project_images(IMGS, np.eye(16) * NAN),
     "basis contains NaN"),
    ("project basis 3-d", lambda: pp.project_images(IMGS, np.ones((16, 2, 2))),
     "basis has shape"),
    ("project 0-d", lambda: pp.project_images(3.0, np.eye(1)), "images has shape"),
    ("MLP depth 0", lambda: pp.MLPClassifier(10, 3, 0), "depth = 0"),
    ("MLP dim 0", lambda: pp.MLPClassifier(0, 3), "dim = 0"),
    ("MLP classes 0", lambda: pp.MLPClassifier(10, 0), "num_classes = 0"),
    ("MLP depth 2.5", lambda: pp.MLPClassifier(10, 3, 2.5), "depth = 2.5"),
    ("train_classifier epochs 0", lambda: _clf(epochs=0), "epochs = 0"),
    ("train_classifier batch_size 0", lambda: _clf(batch_size=0), "batch_size = 0"),
    ("train_classifier lr str", lambda: _clf(lr="a"), "lr = 'a'"),
    ("train_classifier weight_decay < 0", lambda: _clf(weight_decay=-1), "weight_decay = -1"),
    ("train_classifier seed str", lambda: _clf(seed="a"), "seed = 'a'"),
    ("train_classifier one class", lambda: _clf(num_classes=1), "num_classes = 1"),
    ("train_classifier label out of range", lambda: _clf(y=YC + 5), "y_train: expected"),
    ("train_classifier float labels", lambda: _clf(y=YC.astype(float)), "y_train: expected"),
    ("train_classifier X NaN", lambda: _clf(X=XC * NAN), "X_train contains NaN"),
    ("train_classifier X empty", lambda: _clf(X=XC[:0], y=YC[:0]), "X_train has shape"),
    ("macro_accuracy mismatch", lambda: pp.macro_accuracy(np.zeros(3), np.zeros(4), 2),
     "pred has shape"),
    ("macro_accuracy classes 0", lambda: pp.macro_accuracy(np.zeros(3), np.zeros(3), 0),
     "num_classes = 0"),
    ("macro_accuracy label out of range",
     lambda: pp.macro_accuracy(np.zeros(3), np.full(3, 5), 2), "y: labels"),
    ("macro_accuracy empty", lambda: pp.macro_accuracy(np.zeros(0), np.zeros(0), 2),
     "pred has shape"),
]


@pytest.mark.parametrize("call, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_named_value_error(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


def test_good_inputs_still_work():
    """Hand-checked values: macro accuracy of a 2-class toy, a half split of 4 directions."""
    assert pp.macro_accuracy(np.array([0, 1, 1, 1]), np.array([0, 0, 1, 1]), 2) == 0.75
    top = pp.subspace_basis(np.array([4.0, 3.0, 2.0, 1.0]), np.eye(4), -1, "top")
    np.testing.assert_array_equal(top, np.eye(4)[:, :2])
    w, b = lt.fit_ols_head(np.arange(6.0)[:, None], 2.0 * np.arange(6.0) + 1.0)
    np.testing.assert_allclose([w[0, 0], b[0]], [2.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(lt.predict_head(w, b, np.array([[10.0]])), [[21.0]], atol=1e-9)
