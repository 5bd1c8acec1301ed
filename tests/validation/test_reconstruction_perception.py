"""Trained models (nets) against the closed forms of dynamics; loaders; a tiny experiment run."""

import math
import pickle

import numpy as np
import pytest
import torch

import dynamics.denoising_moments as dm
import dynamics.linear_ae_dynamics as lad
import dynamics.linear_reconstruction as lr
import dynamics.reconstruction_transfer as rt
from nets.autoencoders import LinearAutoencoder, patch_masks, train_autoencoder
from nets.linear_transfer import fit_ols_head, train_joint
from tests.linear_data import anisotropic_regression_data as _data

_X, _Y = _data()
CASES = [
    ("reconstruction", lr.reconstruction_objective(_X), None, {}),
    ("supervised", lr.supervised_objective(_X, _Y), _Y, {}),
    *[(f"joint-{lam}", lr.joint_objective(_X, _Y, lam), np.hstack([_Y, math.sqrt(lam) * _X]), {})
      for lam in (0.1, 1.0, 10.0)],
    ("gaussian_dae", lr.gaussian_dae_objective(_X, 0.5), None,
     {"noise": "gaussian", "sigma": 0.5, "epochs": 800, "lr": 2e-2, "batch_size": 100}),
    ("masking_dae", lr.masking_dae_objective(_X, 0.5, (4, 4), 2), None,
     {"noise": "mask", "mask_ratio": 0.5, "image_shape": (4, 4), "patch_size": 2,
      "epochs": 800, "lr": 2e-2, "batch_size": 100}),
]


@pytest.mark.parametrize("name,obj,targets,kw", CASES, ids=[c[0] for c in CASES])
def test_trained_linear_model_reaches_closed_form(name, obj, targets, kw):
    torch.set_num_threads(1)
    K = 3
    sol = lr.solve(obj, K)
    model = LinearAutoencoder(16, K, None if targets is None else targets.shape[1], seed=1)
    train_autoencoder(model, _X, targets, seed=0, **kw)
    E = model.encoder.weight.detach().numpy()
    H = model.decoder.weight.detach().numpy()
    loss = lr.objective_loss(obj, E, H)
    assert loss >= sol.loss * (1 - 1e-9)  # the closed form is a lower bound
    assert (loss - sol.loss) / sol.loss < 1e-3


def test_torch_mask_sampler_matches_masking_moment():
    g = torch.Generator().manual_seed(0)
    m = patch_masks(30000, (2, 4, 4), 2, 0.4, generator=g).numpy()
    same = dm.same_patch_matrix((2, 4, 4), 2)
    expected = np.where(same, 0.6, 0.36)
    np.testing.assert_allclose(m.T @ m / len(m), expected, atol=0.015)


def test_linear_ae_gd_matches_mode_recursion():
    rng = np.random.default_rng(1)
    D = 8
    V, _ = np.linalg.qr(rng.standard_normal((D, D)))
    lam = np.geomspace(2.0, 0.05, D)
    X = math.sqrt(D) * (V * np.sqrt(lam)) @ V.T  # D-row sample with second moment V diag V^T
    S = X.T @ X / D
    model = LinearAutoencoder(D, D, seed=0)
    with torch.no_grad():
        model.encoder.weight.copy_(torch.as_tensor(1e-2 * V.T))
        model.decoder.weight.copy_(torch.as_tensor(1e-2 * V))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.as_tensor(X)
    for _ in range(400):
        opt.zero_grad()
        ((x - model(x)) ** 2).sum(1).mean().backward()
        opt.step()
    P = (model.decoder.weight @ model.encoder.weight).detach().numpy()
    got = lad.per_direction_loss(S, V, P)
    want = lad.mode_losses(lam, lad.mode_strengths(lam, [400], init=1e-4, lr=0.1))[0]
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-12)


def _bridge_check(pb, Xs, Ys, sampler, alphas, n_ts, K, reps, est):
    """Return (agreement flags, empirical best index, predicted best index) per n_t."""
    emp, pred = np.zeros((len(alphas), len(n_ts))), np.zeros((len(alphas), len(n_ts)))
    ok = []
    for i, a in enumerate(alphas):
        model, _ = train_joint(Xs, Ys, K, a, seed=0, max_iter=2000)
        E = model.encoder.weight.detach().numpy()
        for j, n in enumerate(n_ts):
            errs = []
            for r in range(reps):
                Xt, Yt = sampler(n, np.random.default_rng([3, n, r]))
                w, b = fit_ols_head(Xt @ E.T, Yt)
                errs.append(rt.population_risk(pb, w @ E, b))
            errs = np.array(errs)
            emp[i, j] = errs.mean()
            pred[i, j] = rt.predict_target_error(pb, a, K, n, estimation=est).target_error
            se = errs.std(ddof=1) / math.sqrt(reps)
            ok.append(abs(emp[i, j] - pred[i, j]) <= max(3 * se, 0.03 * pred[i, j]))
    return np.array(ok), emp.argmin(0), pred.argmin(0)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_bridge_digits_prediction_matches_trained_pipeline():
    from validation.experiments.reconstruction_perception import (
        ReconstructionPerceptionConfig,
        _bridge_setup,
    )

    pb, Xs, Ys, sampler, est = _bridge_setup("digits", ReconstructionPerceptionConfig())
    alphas = (0.03, 0.1, 0.3, 3.0)
    ok, ie, ip = _bridge_check(pb, Xs, Ys, sampler, alphas, (92, 200), 5, 150, est)
    assert ok.all()
    assert np.all(np.abs(ie - ip) <= 1)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_bridge_synthetic_low_variance_target():
    from validation.experiments.reconstruction_perception import (
        ReconstructionPerceptionConfig,
        _bridge_setup,
    )

    pb, Xs, Ys, sampler, est = _bridge_setup("synthetic", ReconstructionPerceptionConfig())
    alphas = (1.0, 3.0, 10.0, 100.0)
    ok, ie, ip = _bridge_check(pb, Xs, Ys, sampler, alphas, (30, 92), 5, 150, est)
    assert ok.all()
    assert np.all(np.abs(ie - ip) <= 1)
    # reconstruction hurts here: the largest alpha is much worse than the smallest
    assert rt.predict_target_error(pb, 100.0, 5, 92).target_error > \
        3 * rt.predict_target_error(pb, 1.0, 5, 92).target_error


# ---- loaders on small files written here ---------------------------------------------------
def test_cifar10_and_100_loaders(tmp_path):
    from validation.datasets_images import find_image_dataset, load_cifar_python

    rng = np.random.default_rng(0)
    c10 = tmp_path / "cifar-10-batches-py"
    c10.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(c10 / name, "wb") as fh:
            pickle.dump({b"data": rng.integers(0, 255, (3, 3072), dtype=np.uint8),
                         b"labels": [1, 2, 3]}, fh)
    X, y = load_cifar_python(tmp_path, 10, "train")
    assert X.shape == (15, 3, 32, 32) and list(y[:3]) == [1, 2, 3]
    assert find_image_dataset(tmp_path) == "cifar10"
    c100 = tmp_path / "c100"
    c100.mkdir()
    for name in ("train", "test"):
        with open(c100 / name, "wb") as fh:
            pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [7, 99]}, fh)
    X, y = load_cifar_python(c100, 100, "test")
    assert X.shape == (2, 3, 32, 32) and list(y) == [7, 99]


def test_tinyimagenet_loader(tmp_path):
    from PIL import Image

    from validation.datasets_images import find_image_dataset, load_tinyimagenet

    root = tmp_path / "tiny-imagenet-200"
    wnids = ["n01", "n02"]
    (root / "val" / "images").mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(wnids))
    ann = []
    for k, w in enumerate(wnids):
        d = root / "train" / w / "images"
        d.mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((8, 8, 3), 40 * k + i, np.uint8)).save(d / f"{w}_{i}.png")
        Image.fromarray(np.full((8, 8, 3), 9, np.uint8)).save(root / "val" / "images" / f"v{k}.png")
        ann.append(f"v{k}.png\t{w}\t0\t0\t8\t8")
    (root / "val" / "val_annotations.txt").write_text("\n".join(ann))
    X, y = load_tinyimagenet(tmp_path, "train", max_per_class=2)
    assert X.shape == (4, 3, 8, 8) and list(y) == [0, 0, 1, 1]
    assert X[2, 0, 0, 0] == 40
    Xv, yv = load_tinyimagenet(root, "val", size=4)
    assert Xv.shape == (2, 3, 4, 4) and list(yv) == [0, 1]
    assert find_image_dataset(tmp_path) == "tinyimagenet"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_tiny_experiment_run_writes_outputs(tmp_path):
    from validation.experiments.reconstruction_perception import (
        ReconstructionPerceptionConfig,
        run,
    )

    cfg = ReconstructionPerceptionConfig(
        parts=("alignment", "dynamics", "projection", "bridge"), align_Ks=(1, 8, 64),
        mask_ratios=(0.0, 0.5), patch_sizes=(2,), sigmas=(1.0,), dyn_steps=50, dyn_points=5,
        proj_model="mlp", proj_epochs=1, proj_fractions=2, bridge_alphas=(0.1, 10.0),
        bridge_n_ts=(60,), bridge_reps=5, bridge_Ks_theory=(2, 5), preset="test")
    tables = run(cfg, tmp_path)
    assert (tmp_path / "bridge.png").exists() and (tmp_path / "projection.csv").exists()
    noise = tables["alignment_noise"]
    assert noise.loc[noise["noise"] == "gaussian", "impact_percent"].abs().max() < 1e-8
    assert set(tables["projection"]["part"]) == {"top", "bottom"}
