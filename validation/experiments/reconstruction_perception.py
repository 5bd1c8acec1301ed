r"""Reconstruction vs perception (Balestriero & LeCun, ICML 2024) and the linear bridge to
transfer with a reconstruction loss (Cui & Yu, arXiv 2404.00505).

Parts (``parts`` in the config, ``--parts`` on the command line):

``closed_form``
    trained linear models (L-BFGS without noise, Adam with fresh noise) against the
    closed-form optimum of the lemma: reconstruction, supervised, joint (several
    ``lambda``), Gaussian DAE, masking DAE; relative loss gaps (``closed_form.csv``).
``alignment``
    alignment (percent) of the optimal ``K``-dim (denoising) encoder with the labels vs ``K``,
    and the relative change caused by masking (ratio x patch size) and by Gaussian noise
    (always 0) at ``align_K`` (``alignment.csv``, ``alignment_noise.csv``).
``dynamics``
    loss per eigen-direction of a linear AE trained by full-batch GD from a balanced aligned
    and from a random small initialisation vs the exact mode recursion; top (75% variance) vs
    bottom subspace loss over time (``dynamics.csv``).
``projection``
    classification accuracy when training and testing on the top or bottom PCA subspace over
    the protocol's grids of variance fractions (``projection.csv``).
``bridge``
    predicted vs trained target test error of joint training (source + ``alpha``
    reconstruction) -> frozen linear encoder -> OLS head on ``n_t`` target samples, for
    digits 1 -> 8 and a synthetic task whose target lives in low-variance directions
    (``bridge.csv`` with the prediction of every estimation and its agreement flag,
    ``bridge_best_alpha.csv``, ``bridge_theory.csv``). The digits prediction uses the
    leverage-resummed head error conditioned on the class composition of the sample
    (``bridge_estimation="stratified"``; the width scan ``bridge_theory.csv`` keeps the
    faster unconditioned ``"leverage"``); regular learning on the
    raw pixels (``bridge_scratch.csv``) uses the sandwich, since a pixel carried by one image
    makes the exact OLS excess infinite for every ``n_t`` below the pool size.

Data: scikit-learn's digits by default; ``data_dir`` with CIFAR-10/100 python batches or the
TinyImageNet folder layout replaces the digits in ``alignment`` and ``projection``.
Theory: ``docs/linear_reconstruction_theory.md``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import dynamics.linear_ae_dynamics as lad
import dynamics.linear_reconstruction as lr
import dynamics.reconstruction_alignment as ral
import dynamics.reconstruction_transfer as rt
from dynamics.errors import NotIdentifiableError
from validation.outputs import make_output_dir, save_results
from validation.runner import run_grid

__all__ = ["EXPERIMENT_NAME", "ReconstructionPerceptionConfig", "run"]

EXPERIMENT_NAME = "reconstruction-perception"
PARTS = ("closed_form", "alignment", "dynamics", "projection", "bridge")


@dataclass(frozen=True)
class ReconstructionPerceptionConfig:
    """Configuration (defaults: full preset on digits; paper protocol for real data)."""

    parts: tuple = PARTS
    data_dir: str | None = None
    device: str = "cpu"
    n_jobs: int = 1
    scheduler: str | None = None
    cache_dir: str | None = None
    seed: int = 0
    seeds: int | None = None  # repetitions of the bridge (overrides bridge_reps)
    # closed form vs trained
    cf_width: int = 6
    cf_lams: tuple = (0.1, 1.0, 10.0)
    cf_sigma: float = 0.5
    cf_mask_ratio: float = 0.5
    cf_patch: int = 2
    cf_epochs: int = 600
    cf_samples: int = 600
    # alignment
    align_Ks: tuple = (1, 2, 4, 8, 16, 24, 32, 48, 64)
    align_K: int = 16
    mask_ratios: tuple = (0.0, 0.11, 0.22, 0.33, 0.44, 0.55, 0.66, 0.77, 0.88, 0.99)
    patch_sizes: tuple = (1, 2, 4)
    sigmas: tuple = (0.1, 0.5, 1.0, 2.0)
    align_max_samples: int = 5000
    # GD dynamics of a linear AE
    dyn_steps: int = 20000
    dyn_init: float = 1e-6
    dyn_points: int = 40
    # projection (paper protocol)
    proj_model: str = "resnet9"
    proj_width: int = 64
    proj_epochs: int = 50
    proj_batch: int = 512
    proj_fractions: int = 8
    proj_augment: bool = False
    proj_image_size: int | None = None
    proj_max_per_class: int | None = None
    # bridge
    bridge_alphas: tuple = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
    bridge_K: int = 5
    bridge_n_ts: tuple = (30, 60, 92, 200, 400)
    bridge_reps: int = 400
    bridge_Ks_theory: tuple = (1, 2, 3, 5, 8, 12, 20)
    bridge_estimation: str = "stratified"  # digits; synthetic: the exact "gaussian"
    bridge_moment_samples: int = 100_000  # synthetic draws for the sample-based columns
    digits_classes: tuple = (0, 1, 8)
    source_digit: int = 1
    target_digit: int = 8
    synthetic_D: int = 30
    preset: str = field(default="full")

    def __post_init__(self) -> None:
        for name in ("data_dir", "cache_dir"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, str(v))
        object.__setattr__(self, "parts", tuple(self.parts))
        bad = set(self.parts) - set(PARTS)
        if bad:
            raise ValueError(f"parts = {self.parts!r}: unknown {sorted(bad)}; choose from {PARTS}")
        for name in ("cf_width", "align_K", "dyn_steps", "dyn_points", "proj_width",
                     "proj_epochs", "proj_batch", "proj_fractions", "bridge_K", "bridge_reps",
                     "cf_epochs", "cf_samples"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} = {v!r}: must be a positive integer")
        if self.seeds is not None and (not isinstance(self.seeds, int) or self.seeds < 2):
            raise ValueError(f"seeds = {self.seeds!r}: need at least 2 repetitions")
        for a in self.bridge_alphas:
            if not (isinstance(a, int | float) and a > 0):
                raise ValueError(f"bridge_alphas contains {a!r}: weights must be > 0")
        for n in self.bridge_n_ts:
            if not isinstance(n, int) or n < self.bridge_K + 3:
                raise ValueError(f"bridge_n_ts contains {n!r}: need integers >= bridge_K + 3")
        _check_numbers(self)
        if self.bridge_estimation not in rt.ESTIMATIONS:
            raise ValueError(f"bridge_estimation = {self.bridge_estimation!r}: choose from "
                             f"{rt.ESTIMATIONS}")
        if self.proj_model not in ("resnet9", "mlp"):
            raise ValueError(f"proj_model = {self.proj_model!r}: choose 'resnet9' or 'mlp'")
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ValueError(f"device = {self.device!r}: choose 'cpu' or 'cuda'")
        if str(self.device).startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise ValueError(f"device = {self.device!r}: CUDA is not available here")
        if self.data_dir is not None:
            from validation.datasets_images import find_image_dataset

            try:
                kind = find_image_dataset(self.data_dir)
            except FileNotFoundError:
                kind = "missing"
            if kind in (None, "missing"):
                raise ValueError(
                    f"data_dir = {self.data_dir!r}: "
                    + ("folder not found" if kind == "missing" else
                       "no CIFAR-10/100 python batches or TinyImageNet folder in it"))

    @classmethod
    def quick(cls) -> ReconstructionPerceptionConfig:
        """Small preset: a few minutes on 2 CPU cores."""
        return cls(cf_lams=(0.1, 10.0), cf_epochs=400, cf_samples=400,
                   align_Ks=(1, 4, 16, 32, 64), mask_ratios=(0.0, 0.25, 0.5, 0.75),
                   patch_sizes=(1, 2, 4), sigmas=(0.5, 2.0), dyn_steps=5000, dyn_points=25,
                   proj_width=12, proj_epochs=12, proj_batch=128, proj_fractions=4,
                   bridge_alphas=(0.01, 0.1, 1.0, 10.0, 100.0), bridge_n_ts=(60, 200),
                   bridge_reps=200, bridge_Ks_theory=(1, 3, 5, 8), preset="quick")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def reps(self) -> int:
        return self.seeds if self.seeds is not None else self.bridge_reps


MAX_STEPS = 10_000_000
"""Largest step/epoch/repetition count of a :class:`ReconstructionPerceptionConfig`."""


def _seq(name: str, v, kind: str, lo: float, hi: float = math.inf) -> None:
    """``v``: a non-empty tuple/list of finite numbers (``kind`` "int" or "real") in [lo, hi]."""
    ok = isinstance(v, tuple | list) and len(v) > 0 and all(
        not isinstance(x, bool) and isinstance(x, int | float | np.integer | np.floating)
        and math.isfinite(x) and lo <= x <= hi and (kind == "real" or float(x).is_integer())
        for x in v)
    if not ok:
        what = "integers" if kind == "int" else "finite numbers"
        raise ValueError(f"{name} = {v!r}: a non-empty sequence of {what} in [{lo}, {hi}]")


def _check_numbers(cfg) -> None:
    """Grids, rates, seeds and size caps of a :class:`ReconstructionPerceptionConfig`."""
    _seq("cf_lams", cfg.cf_lams, "real", 0.0)
    _seq("align_Ks", cfg.align_Ks, "int", 1)
    _seq("mask_ratios", cfg.mask_ratios, "real", 0.0, 0.999999)
    _seq("patch_sizes", cfg.patch_sizes, "int", 1)
    _seq("sigmas", cfg.sigmas, "real", 0.0)
    _seq("bridge_alphas", cfg.bridge_alphas, "real", 1e-300)
    _seq("bridge_Ks_theory", cfg.bridge_Ks_theory, "int", 1)
    _seq("digits_classes", cfg.digits_classes, "int", 0, 9)
    for name, lo, hi in (("cf_sigma", 0.0, math.inf), ("cf_mask_ratio", 0.0, 0.999999),
                         ("dyn_init", 1e-300, 0.999999)):
        _seq(name, (getattr(cfg, name),), "real", lo, hi)
    for name, lo, hi in (("cf_patch", 1, 1024), ("align_max_samples", 2, 10**7),
                         ("source_digit", 0, 9), ("target_digit", 0, 9), ("synthetic_D", 4, 10**4),
                         ("seed", 0, 2**63 - 1), ("dyn_steps", 1, MAX_STEPS),
                         ("bridge_reps", 1, MAX_STEPS), ("cf_epochs", 1, MAX_STEPS),
                         ("bridge_moment_samples", 100, 10**7),
                         ("proj_epochs", 1, MAX_STEPS)):
        _seq(name, (getattr(cfg, name),), "int", lo, hi)
    for name in ("proj_image_size", "proj_max_per_class"):
        if getattr(cfg, name) is not None:
            _seq(name, (getattr(cfg, name),), "int", 1, 10**7)
    if isinstance(cfg.n_jobs, bool) or not isinstance(cfg.n_jobs, int) or cfg.n_jobs == 0:
        raise ValueError(f"n_jobs = {cfg.n_jobs!r}: a non-zero integer (-1 = all cores)")
    if not isinstance(cfg.proj_augment, bool):
        raise ValueError(f"proj_augment = {cfg.proj_augment!r}: must be True or False")
    if not cfg.parts:
        raise ValueError(f"parts = {cfg.parts!r}: choose at least one of {PARTS}")


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
def _digits_linear(classes=None):
    """Digits (optionally some classes) with constant pixels dropped, each pixel z-scored."""
    from validation.datasets_images import load_digits_images

    X, y = load_digits_images()
    X = X.reshape(len(X), -1)
    if classes is not None:
        keep = np.isin(y, classes)
        X, y = X[keep], y[keep]
    X = X[:, X.std(0) > 0]
    return (X - X.mean(0)) / X.std(0), y


def _image_data(cfg):
    """(images (N, C, H, W) float, labels, name) of data_dir or the digits."""
    from validation.datasets_images import (
        find_image_dataset,
        load_cifar_python,
        load_digits_images,
        load_tinyimagenet,
    )

    if cfg.data_dir is None:
        X, y = load_digits_images()
        return X, y, "digits"
    kind = find_image_dataset(cfg.data_dir)
    if kind is None:
        raise FileNotFoundError(f"--data-dir {cfg.data_dir}: no CIFAR python batches or "
                                "TinyImageNet folder found")
    if kind == "tinyimagenet":
        X, y = load_tinyimagenet(cfg.data_dir, "train", cfg.proj_image_size,
                                 cfg.proj_max_per_class)
    else:
        X, y = load_cifar_python(cfg.data_dir, int(kind[5:]), "train")
    return X.astype(float), y, kind


# --------------------------------------------------------------------------------------------
# tasks
# --------------------------------------------------------------------------------------------
def _cf_objectives(cfg, X, Y):
    objs = [("reconstruction", None, lr.reconstruction_objective(X), None, {}),
            ("supervised", None, lr.supervised_objective(X, Y), Y, {})]
    for lam in cfg.cf_lams:
        objs.append(("joint", lam, lr.joint_objective(X, Y, lam),
                     np.hstack([Y, math.sqrt(lam) * X]), {}))
    objs.append(("gaussian_dae", cfg.cf_sigma, lr.gaussian_dae_objective(X, cfg.cf_sigma),
                 None, {"noise": "gaussian", "sigma": cfg.cf_sigma}))
    objs.append(("masking_dae", cfg.cf_mask_ratio,
                 lr.masking_dae_objective(X, cfg.cf_mask_ratio, (8, 8), cfg.cf_patch), None,
                 {"noise": "mask", "mask_ratio": cfg.cf_mask_ratio, "image_shape": (8, 8),
                  "patch_size": cfg.cf_patch}))
    return objs


def closed_form_task(objective: str, index: int, cfg: dict) -> dict:
    """Train one linear model and compare its exact expected loss with the closed form."""
    import torch

    from nets.autoencoders import LinearAutoencoder, train_autoencoder

    cfg = ReconstructionPerceptionConfig(**cfg)
    X, y = _cf_data(cfg)
    name, param, obj, targets, kw = _cf_objectives(cfg, X, ral.one_hot(y))[index]
    sol = lr.solve(obj, cfg.cf_width)
    with torch.random.fork_rng():
        model = LinearAutoencoder(X.shape[1], cfg.cf_width,
                                  None if targets is None else targets.shape[1], seed=cfg.seed)
    t0 = time.perf_counter()
    res = train_autoencoder(model, X, targets, epochs=cfg.cf_epochs, batch_size=100, lr=2e-2,
                            seed=cfg.seed, **kw)
    E = model.encoder.weight.detach().numpy()
    H = model.decoder.weight.detach().numpy()
    loss = lr.objective_loss(obj, E, H)
    return {"objective": name, "parameter": param, "closed_form_loss": sol.loss,
            "trained_loss": loss, "relative_gap": (loss - sol.loss) / sol.loss,
            "subspace_distance": lr.subspace_distance(E, sol.encoder),
            "eigengap": sol.eigengap, "converged": res.converged,
            "iterations": res.iterations, "seconds": time.perf_counter() - t0}


def _cf_data(cfg):
    from validation.datasets_images import load_digits_images

    X, y = load_digits_images()
    rng = np.random.default_rng(cfg.seed)
    idx = rng.permutation(len(X))[:cfg.cf_samples]
    # jitter 0.05 std keeps the constant border pixels well conditioned (documented)
    return ral.alignment_preprocess(X[idx], seed=cfg.seed, jitter=0.05), y[idx]


def alignment_task(noise: str, level: float, patch: int, cfg: dict) -> list[dict]:
    """Alignment vs K for one noise setting (data_dir or digits)."""
    cfg = ReconstructionPerceptionConfig(**cfg)
    imgs, y, name = _image_data(cfg)
    rng = np.random.default_rng(cfg.seed)
    idx = rng.permutation(len(imgs))[:cfg.align_max_samples]
    X = ral.alignment_preprocess(imgs[idx], seed=cfg.seed)
    D = X.shape[1]
    Ks = sorted({min(int(k), D) for k in (*cfg.align_Ks, cfg.align_K)})
    kw = {}
    if noise == "gaussian":
        kw = {"sigma": level}
    elif noise == "mask":
        kw = {"mask_ratio": level, "image_shape": imgs.shape[1:], "patch_size": patch}
    al = ral.alignment_curve(X, y[idx], Ks, noise, **kw)
    return [{"dataset": name, "noise": noise, "level": level, "patch_size": patch, "K": k,
             "K_percent": 100 * k / D, "alignment": a} for k, a in zip(Ks, al, strict=True)]


def projection_task(part: str, fraction: float, cfg: dict) -> dict:
    """Train and test a classifier on the top or bottom PCA subspace (paper protocol)."""
    import torch

    from nets.pca_projection import (
        MLPClassifier,
        normalise_images,
        pca_basis,
        project_images,
        subspace_basis,
        train_classifier,
    )
    from nets.resnet9 import ResNet9

    cfg = ReconstructionPerceptionConfig(**cfg)
    Xtr, ytr, Xte, yte, name = _projection_split(cfg)
    Xtr, Xte = normalise_images(Xtr, Xte)
    lam, U = pca_basis(Xtr)
    B = subspace_basis(lam, U, fraction, part)
    var = float(np.sum(lam[np.isin(np.arange(lam.size), _selected(lam, fraction, part))])
                / lam.sum())
    ptr, pte = normalise_images(project_images(Xtr, B), project_images(Xte, B))
    C = int(max(ytr.max(), yte.max()) + 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = (ResNet9(Xtr.shape[1], C, cfg.proj_width) if cfg.proj_model == "resnet9"
                 else MLPClassifier(int(np.prod(Xtr.shape[1:])), C))
    t0 = time.perf_counter()
    res = train_classifier(model, ptr, ytr, pte, yte, C, epochs=cfg.proj_epochs,
                           batch_size=cfg.proj_batch, augment=cfg.proj_augment,
                           seed=cfg.seed, device=cfg.device)
    return {"dataset": name, "part": part, "fraction": fraction, "dims": B.shape[1],
            "variance_fraction": var, "test_accuracy": res["test_accuracy"],
            "final_train_loss": res["final_train_loss"], "seconds": time.perf_counter() - t0}


def _selected(lam, fraction, part):
    D = lam.size
    if fraction == -1:
        top = np.arange(D) < D // 2
    else:
        top = np.cumsum(lam) / lam.sum() < fraction
        top[0], top[-1] = True, False
    return np.flatnonzero(top if part == "top" else ~top)


def _projection_split(cfg):
    imgs, y, name = _image_data(cfg)
    if name == "tinyimagenet":
        from validation.datasets_images import load_tinyimagenet

        Xte, yte = load_tinyimagenet(cfg.data_dir, "val", cfg.proj_image_size)
        return imgs, y, Xte.astype(float), yte, name
    if name.startswith("cifar"):
        from validation.datasets_images import load_cifar_python

        Xte, yte = load_cifar_python(cfg.data_dir, int(name[5:]), "test")
        return imgs, y, Xte.astype(float), yte, name
    rng = np.random.default_rng(cfg.seed)
    perm = rng.permutation(len(imgs))
    n_tr = int(0.8 * len(imgs))
    return imgs[perm[:n_tr]], y[perm[:n_tr]], imgs[perm[n_tr:]], y[perm[n_tr:]], name


def projection_fractions(cfg) -> list[tuple[str, float]]:
    from nets.pca_projection import fraction_grids, normalise_images, pca_basis

    Xtr, _, _, _, _ = _projection_split(cfg)
    lam, _ = pca_basis(normalise_images(Xtr)[0])
    top, bottom = fraction_grids(lam, cfg.proj_fractions)
    pts = [("top", float(f)) for f in top] + [("bottom", float(f)) for f in bottom]
    return pts + [("top", -1.0), ("bottom", -1.0)]


def dynamics_task(init: str, cfg: dict) -> list[dict]:
    """Per-direction loss of a linear AE (K = D) trained by full-batch GD vs the mode theory."""
    import torch

    from nets.autoencoders import LinearAutoencoder

    cfg = ReconstructionPerceptionConfig(**cfg)
    imgs, _ = _digits_images_only()
    X = ral.alignment_preprocess(imgs, seed=cfg.seed)
    N, D = X.shape
    S = X.T @ X / N
    lam, V = np.linalg.eigh(S)
    lam, V = lam[::-1], V[:, ::-1]
    eta = 0.25 / lam[0]
    steps = np.unique(np.r_[0, np.geomspace(1, cfg.dyn_steps, cfg.dyn_points).astype(int)])
    theory = lad.mode_losses(lam, lad.mode_strengths(lam, steps, init=cfg.dyn_init, lr=eta))
    model = LinearAutoencoder(D, D, seed=cfg.seed)
    u0 = math.sqrt(cfg.dyn_init)
    with torch.no_grad():
        if init == "aligned":
            model.encoder.weight.copy_(torch.as_tensor(u0 * V.T.copy()))
            model.decoder.weight.copy_(torch.as_tensor(u0 * V.copy()))
        else:
            model.encoder.weight.mul_(u0)
            model.decoder.weight.mul_(u0)
    # a D-row sample with exactly the data's second moments: the same loss, D x D matmuls
    x = torch.as_tensor(math.sqrt(D) * (V * np.sqrt(lam)) @ V.T)
    opt = torch.optim.SGD(model.parameters(), lr=eta)
    rows, k = [], 0
    for j, s in enumerate(steps):
        while k < s:
            opt.zero_grad()
            ((x - model(x)) ** 2).sum(1).mean().backward()
            opt.step()
            k += 1
        P = (model.decoder.weight @ model.encoder.weight).detach().numpy()
        trained = lad.per_direction_loss(S, V, P)
        rows += [{"init": init, "step": int(s), "direction": i, "eigenvalue": lam[i],
                  "loss_trained": trained[i], "loss_theory": theory[j, i]} for i in range(D)]
    return rows


def _dynamics_summary(dyn: pd.DataFrame, cfg) -> pd.DataFrame:
    """Half-learning step (theory) and label share of the top/bottom eigen-subspaces."""
    imgs, y = _digits_images_only()
    X = ral.alignment_preprocess(imgs, seed=cfg.seed)
    lam, V = np.linalg.eigh(X.T @ X / len(X))
    lam, V = lam[::-1], V[:, ::-1]
    top = np.cumsum(lam) / lam.sum() <= 0.75
    top[0] = True
    Yc = ral.one_hot(y) - ral.one_hot(y).mean(0)
    F = X @ V  # orthogonal columns: the probe energy splits over directions
    energy = np.sum((F.T @ Yc) ** 2, 1) / np.sum(F ** 2, 0)
    curves = _subspace_curves(dyn[dyn["init"] == "aligned"], "loss_theory")
    rows = []
    for name, sel in (("top", top), ("bottom", ~top)):
        c = curves[name].to_numpy()
        half = curves["step"].to_numpy()[np.argmax(c < 0.5)] if np.any(c < 0.5) else np.nan
        rows.append({"subspace": name, "dims": int(sel.sum()),
                     "variance_share": lam[sel].sum() / lam.sum(),
                     "label_share": energy[sel].sum() / energy.sum(),
                     "half_learned_step": half})
    return pd.DataFrame(rows)


def _digits_images_only():
    from validation.datasets_images import load_digits_images

    return load_digits_images()


def _bridge_setup(dataset: str, cfg):
    """(problem, source X, source Y, target sampler, estimation) of a bridge data set."""
    if dataset == "digits":
        X, y = _digits_linear(cfg.digits_classes)
        ys = (y == cfg.source_digit).astype(float)[:, None]
        yt = (y == cfg.target_digit).astype(float)
        pb = rt.LinearTransferProblem.from_data(X, ys, yt, groups=y)  # strata: the classes
        Xc, Yt = pb.samples

        def sampler(n, rng):
            i = rng.integers(0, len(Xc), n)
            return Xc[i], Yt[i]

        return pb, X, ys, sampler, cfg.bridge_estimation
    task = rt.GaussianTransferTask.low_variance_target(D=cfg.synthetic_D, seed=cfg.seed)
    pb = task.problem()
    # pseudo-sample with exactly the population second moments of (x, y_s): training on it
    # minimises the population source objective
    bs = task.beta_source
    M = np.block([[pb.cov, pb.source_cross.T],
                  [pb.source_cross, bs @ pb.cov @ bs.T + task.noise_source ** 2
                   * np.eye(len(bs))]])
    w, Q = np.linalg.eigh(M)
    R = math.sqrt(len(M)) * (Q * np.sqrt(w.clip(min=0))) @ Q.T
    R = np.vstack([R, -R])
    D = pb.dim

    def sampler(n, rng):
        Xt, _, Yt = task.sample(n, rng)
        return Xt, Yt

    return pb, R[:, :D], R[:, D:], sampler, "gaussian"


def _moment_problem(pb, cfg):
    """``pb`` with population samples for the sample-based estimations (the synthetic task:
    a seeded draw of ``bridge_moment_samples`` points; its exact moments are kept)."""
    if pb.samples is not None:
        return pb
    task = rt.GaussianTransferTask.low_variance_target(D=cfg.synthetic_D, seed=cfg.seed)
    X, _, Yt = task.sample(cfg.bridge_moment_samples, seed=[cfg.seed, 7])
    return dataclasses.replace(pb, samples=(X, Yt))


def _predict(pb, alpha, K, n, estimation) -> float:
    """Predicted target error, NaN where the estimation refuses (second order not controlled,
    or no finite leverage resummation)."""
    try:
        if alpha is None:
            return rt.scratch_target_error(pb, n, estimation=estimation).target_error
        return rt.predict_target_error(pb, alpha, K, n, estimation=estimation).target_error
    except NotIdentifiableError:  # a refusal; bad inputs (ValueError) still raise
        if estimation not in ("second_order", "leverage", "stratified"):
            raise
        return math.nan


SAMPLE_ESTIMATIONS = ("sandwich", "second_order", "leverage", "stratified")


def _target_errors(pb, E, sampler, n_ts, reps, seed) -> np.ndarray:
    from nets.linear_transfer import fit_ols_head

    out = np.empty((len(n_ts), reps))
    for a, n in enumerate(n_ts):
        for r in range(reps):
            Xt, Yt = sampler(n, np.random.default_rng([seed, n, r]))
            w, b = fit_ols_head(Xt @ E.T, Yt)
            out[a, r] = rt.population_risk(pb, w @ E, b)
    return out


def bridge_task(dataset: str, K: int, cfg: dict) -> list[dict]:
    """Trained (L-BFGS joint source stage, frozen encoder, OLS head) vs predicted target error
    for every alpha of the grid; target samples are shared across alpha (paired)."""
    from nets.linear_transfer import train_joint

    cfg = ReconstructionPerceptionConfig(**cfg)
    pb, Xs, Ys, sampler, est = _bridge_setup(dataset, cfg)
    pm = _moment_problem(pb, cfg)
    n_ts = list(cfg.bridge_n_ts)
    errs, rows = [], []
    for alpha in cfg.bridge_alphas:
        model, res = train_joint(Xs, Ys, K, alpha, seed=cfg.seed, max_iter=2000)
        E = model.encoder.weight.detach().numpy()
        Ec, _ = rt.source_encoder(pb, alpha, K)
        e = _target_errors(pb, E, sampler, n_ts, cfg.reps, cfg.seed)
        errs.append(e)
        for a, n in enumerate(n_ts):
            pred = rt.predict_target_error(pb, alpha, K, n, estimation="gaussian")
            other = {f"predicted_{m}": _predict(pm, alpha, K, n, m) for m in SAMPLE_ESTIMATIONS}
            main = (other[f"predicted_{est}"] if pm is pb and est in SAMPLE_ESTIMATIONS
                    else _predict(pb, alpha, K, n, est))  # not computed twice
            rows.append({"dataset": dataset, "K": K, "alpha": alpha, "n_t": n,
                         "trained_mean": e[a].mean(), "trained_se": e[a].std(ddof=1)
                         / math.sqrt(cfg.reps), "predicted": main,
                         "predicted_gaussian": pred.target_error, **other,
                         "population_error": pred.population_error,
                         "population_error_trained": rt.population_residual(pb, E),
                         "subspace_distance": lr.subspace_distance(E, Ec),
                         "converged": res.converged, "iterations": res.iterations,
                         "estimation": est})
    errs = np.array(errs)  # (alpha, n_t, rep)
    best = errs.mean(2).argmin(0)
    for row in rows:
        i, a = cfg.bridge_alphas.index(row["alpha"]), n_ts.index(row["n_t"])
        d = errs[i, a] - errs[best[a], a]
        row["paired_gap_to_best"] = d.mean()
        row["paired_gap_se"] = d.std(ddof=1) / math.sqrt(cfg.reps)
    return rows


def scratch_task(dataset: str, cfg: dict) -> list[dict]:
    """Regular learning (OLS on the raw inputs) vs its prediction, where n_t > D + 2."""
    cfg = ReconstructionPerceptionConfig(**cfg)
    pb, _, _, sampler, est = _bridge_setup(dataset, cfg)
    # no finite resummation on raw digits
    est = "sandwich" if est in ("leverage", "stratified") else est
    n_ts = [n for n in cfg.bridge_n_ts if n > pb.dim + 2]
    e = _target_errors(pb, np.eye(pb.dim), sampler, n_ts, cfg.reps, cfg.seed)
    return [{"dataset": dataset, "n_t": n, "trained_mean": e[a].mean(),
             "trained_se": e[a].std(ddof=1) / math.sqrt(cfg.reps),
             "predicted": _predict(pb, None, pb.dim, n, est), "estimation": est}
            for a, n in enumerate(n_ts)]


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------
def _grid(func, params, cfg, desc):
    df = run_grid(func, params, n_jobs=cfg.n_jobs, scheduler=cfg.scheduler,
                  cache_dir=cfg.cache_dir, desc=desc)
    return df.drop(columns=["cfg"], errors="ignore")


def _alignment_params(cfg, cd):
    ps = [{"noise": "none", "level": 0.0, "patch": 1, "cfg": cd}]
    ps += [{"noise": "gaussian", "level": float(s), "patch": 1, "cfg": cd} for s in cfg.sigmas]
    ps += [{"noise": "mask", "level": float(p), "patch": int(q), "cfg": cd}
           for q in cfg.patch_sizes for p in cfg.mask_ratios if p > 0]
    return ps


def _alignment_tables(df: pd.DataFrame, cfg) -> pd.DataFrame:
    base = df[df["noise"] == "none"].set_index("K")["alignment"]
    sel = df[df["K"] == min(cfg.align_K, df["K"].max())].copy()
    sel["impact_percent"] = ral.masking_impact(sel["alignment"].to_numpy(),
                                               np.full(len(sel), base.loc[sel["K"].iloc[0]]))
    return sel


def _bridge_best(df: pd.DataFrame, alphas) -> pd.DataFrame:
    rows = []
    for (ds, K, n), g in df.groupby(["dataset", "K", "n_t"]):
        g = g.sort_values("alpha")
        ie, ip = int(g["trained_mean"].to_numpy().argmin()), int(g["predicted"].to_numpy().argmin())
        at_pred = g.iloc[ip]
        rows.append({"dataset": ds, "K": K, "n_t": n, "best_alpha_trained": g["alpha"].iloc[ie],
                     "best_alpha_predicted": g["alpha"].iloc[ip], "grid_steps_apart": abs(ie - ip),
                     "gap_at_predicted_best": at_pred["paired_gap_to_best"],
                     "gap_se": at_pred["paired_gap_se"],
                     "statistical_tie": bool(at_pred["paired_gap_to_best"]
                                             <= 2 * at_pred["paired_gap_se"]),
                     "error_alpha_min": g["trained_mean"].iloc[0],
                     "error_best": g["trained_mean"].iloc[ie],
                     "reconstruction_helps": bool(g["trained_mean"].iloc[ie]
                                                  < g["trained_mean"].iloc[0] - 1e-12)})
    return pd.DataFrame(rows)


def _bridge_theory(cfg) -> pd.DataFrame:
    out = []
    for ds in ("digits", "synthetic"):
        pb, _, _, _, est = _bridge_setup(ds, cfg)
        est = "leverage" if est == "stratified" else est  # 350 points: the fast resummation
        Ks = [k for k in cfg.bridge_Ks_theory if k <= pb.dim]
        n_ts = [n for n in (*cfg.bridge_n_ts, 500, 2000) if n >= max(Ks) + 3]
        t = rt.transfer_error_table(pb, (1e-6, *cfg.bridge_alphas), Ks, n_ts, estimation=est)
        out.append(t.assign(dataset=ds))
    return pd.concat(out, ignore_index=True)


def _agreement(df: pd.DataFrame, column: str = "predicted") -> pd.Series:
    """Trained and predicted agree within 3 s.e. or 3 % (NaN predictions do not agree)."""
    tol = np.maximum(3 * df["trained_se"], 0.03 * df[column])
    return (df["trained_mean"] - df[column]).abs() <= tol


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------
def _fig_bridge(df: pd.DataFrame, scratch: pd.DataFrame):
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(df["dataset"]))
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4), squeeze=False)
    for ax, ds in zip(axes[0], names, strict=True):
        d = df[df["dataset"] == ds]
        for j, (n, g) in enumerate(d.groupby("n_t")):
            c = f"C{j}"
            g = g.sort_values("alpha")
            ax.plot(g["alpha"], g["predicted"], "-", color=c, label=f"theory, n_t = {n}")
            if ds == "digits" and "predicted_sandwich" in g:
                ax.plot(g["alpha"], g["predicted_sandwich"], "--", color=c, lw=0.8)
            ax.errorbar(g["alpha"], g["trained_mean"], yerr=3 * g["trained_se"], fmt="o",
                        color=c, ms=4, capsize=2)
            s = scratch[(scratch["dataset"] == ds) & (scratch["n_t"] == n)]
            if len(s):
                ax.axhline(s["predicted"].iloc[0], color=c, ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"reconstruction weight $\alpha$")
        ax.set_ylabel("target test error (MSE)")
        title = ("digits 1 -> 8" if ds == "digits" else "synthetic, target in low variance")
        ax.set_title(f"{title}, K = {int(d['K'].iloc[0])}")
        ax.legend(fontsize=7)
    fig.suptitle("joint source training -> frozen linear encoder -> OLS head: theory (lines; "
                 "digits: stratified resummation, dashed: sandwich) vs trained (dots, +-3 s.e.; "
                 "dotted: from scratch)",
                 fontsize=8)
    fig.tight_layout()
    return fig


def _fig_alignment(df: pd.DataFrame, noise_tab: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    base = df[df["noise"] == "none"]
    a1.plot(base["K"], base["alignment"], "o-")
    a1.set_xlabel("encoder width K")
    a1.set_ylabel("alignment (%)")
    a1.set_title(f"reconstruction vs labels ({base['dataset'].iloc[0]})")
    for q, g in noise_tab[noise_tab["noise"] == "mask"].groupby("patch_size"):
        a2.plot(g["level"], g["impact_percent"], "o-", label=f"mask, patch {q}x{q}")
    g = noise_tab[noise_tab["noise"] == "gaussian"]
    a2.plot(g["level"], g["impact_percent"], "k^--", label="Gaussian noise (x: sigma)")
    a2.axhline(0, color="grey", lw=0.5)
    a2.set_xlabel("mask ratio p (or sigma)")
    a2.set_ylabel("alignment change (%)")
    a2.set_title(f"denoising at K = {int(noise_tab['K'].iloc[0])}")
    a2.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _subspace_curves(dyn: pd.DataFrame, col: str) -> pd.DataFrame:
    out = []
    for (init, step), g in dyn.groupby(["init", "step"]):
        g = g.sort_values("eigenvalue", ascending=False)
        lam = g["eigenvalue"].to_numpy()
        top = np.cumsum(lam) / lam.sum() <= 0.75
        top[0] = True
        loss = g[col].to_numpy()
        out.append({"init": init, "step": step, "top": loss[top].sum() / lam[top].sum(),
                    "bottom": loss[~top].sum() / lam[~top].sum()})
    return pd.DataFrame(out)


def _fig_dynamics(dyn: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    th = _subspace_curves(dyn[dyn["init"] == "aligned"], "loss_theory")
    ax.plot(th["step"].clip(lower=1), th["top"], "r-", label="top 75% variance (theory)")
    ax.plot(th["step"].clip(lower=1), th["bottom"], "b-", label="bottom 25% (theory)")
    for init, mk in (("aligned", "o"), ("random", "x")):
        tr = _subspace_curves(dyn[dyn["init"] == init], "loss_trained")
        ax.plot(tr["step"].clip(lower=1), tr["top"], "r" + mk, ms=4, label=f"GD, {init} init")
        ax.plot(tr["step"].clip(lower=1), tr["bottom"], "b" + mk, ms=4)
    ax.set_xscale("log")
    ax.set_xlabel("GD step")
    ax.set_ylabel("subspace loss / initial")
    ax.set_title("linear AE on digits: low-variance directions are learned last")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _fig_projection(df: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for part, c in (("top", "r"), ("bottom", "b")):
        g = df[df["part"] == part].sort_values("variance_fraction")
        ax.plot(100 * g["variance_fraction"], 100 * g["test_accuracy"], c + "o-",
                label=f"{part} subspace")
    ax.set_xlabel("variance of the subspace (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"train and test on a PCA subspace ({df['dataset'].iloc[0]})")
    ax.legend()
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------
def _run_parts(cfg) -> tuple[dict, dict, dict]:
    cd = cfg.to_dict()
    tables, figs, timings = {}, {}, {}
    if "closed_form" in cfg.parts:
        t0 = time.perf_counter()
        n_obj = 4 + len(cfg.cf_lams)
        tables["closed_form"] = _grid(closed_form_task, [
            {"objective": o, "index": i, "cfg": cd} for i, o in enumerate(
                ["reconstruction", "supervised", *["joint"] * len(cfg.cf_lams),
                 "gaussian_dae", "masking_dae"])][:n_obj], cfg, "closed form vs trained")
        timings["closed_form_s"] = time.perf_counter() - t0
    if "alignment" in cfg.parts:
        t0 = time.perf_counter()
        al = _grid(alignment_task, _alignment_params(cfg, cd), cfg, "alignment")
        tables["alignment"] = al
        tables["alignment_noise"] = _alignment_tables(al, cfg)
        figs["alignment"] = _fig_alignment(al, tables["alignment_noise"])
        timings["alignment_s"] = time.perf_counter() - t0
    if "dynamics" in cfg.parts:
        t0 = time.perf_counter()
        dyn = _grid(dynamics_task, [{"init": i, "cfg": cd} for i in ("aligned", "random")],
                    cfg, "linear AE dynamics")
        tables["dynamics"] = dyn
        tables["dynamics_subspaces"] = _dynamics_summary(dyn, cfg)
        figs["dynamics"] = _fig_dynamics(dyn)
        timings["dynamics_s"] = time.perf_counter() - t0
    if "projection" in cfg.parts:
        t0 = time.perf_counter()
        pts = projection_fractions(cfg)
        proj = _grid(projection_task, [{"part": p, "fraction": f, "cfg": cd} for p, f in pts],
                     cfg, "projection")
        tables["projection"] = proj
        figs["projection"] = _fig_projection(proj)
        timings["projection_s"] = time.perf_counter() - t0
    if "bridge" in cfg.parts:
        t0 = time.perf_counter()
        br = _grid(bridge_task, [{"dataset": d, "K": cfg.bridge_K, "cfg": cd}
                                 for d in ("digits", "synthetic")], cfg, "bridge")
        br["agrees"] = _agreement(br)
        for m in ("gaussian", *SAMPLE_ESTIMATIONS):
            br[f"agrees_{m}"] = _agreement(br, f"predicted_{m}")
        sc = _grid(scratch_task, [{"dataset": d, "cfg": cd} for d in ("digits", "synthetic")],
                   cfg, "scratch")
        tables.update(bridge=br, bridge_scratch=sc,
                      bridge_best_alpha=_bridge_best(br, cfg.bridge_alphas),
                      bridge_theory=_bridge_theory(cfg))
        figs["bridge"] = _fig_bridge(br, sc)
        timings["bridge_s"] = time.perf_counter() - t0
    return tables, figs, timings


def run(cfg: ReconstructionPerceptionConfig | None = None, out_dir=None) -> dict:
    """Run the selected parts, write tables/figures/config into ``out_dir``, return tables."""
    cfg = ReconstructionPerceptionConfig() if cfg is None else cfg
    out = make_output_dir(out_dir, EXPERIMENT_NAME)
    t0 = time.perf_counter()
    tables, figs, timings = _run_parts(cfg)
    timings["total_s"] = time.perf_counter() - t0
    save_results(out, tables, cfg, figures=figs,
                 extra={"timings": timings, "experiment": EXPERIMENT_NAME})
    _print_summary(tables, timings)
    return tables


def _print_summary(tables: dict, timings: dict) -> None:
    if "closed_form" in tables:
        cf = tables["closed_form"]
        print("closed form vs trained linear models (relative loss gap):")
        for _, r in cf.iterrows():
            print(f"  {r['objective']:<15} {r['parameter']!s:>6}: {r['relative_gap']:.2e}")
    if "alignment_noise" in tables:
        t = tables["alignment_noise"]
        g = t[t["noise"] == "gaussian"]["impact_percent"].abs().max()
        m = t[t["noise"] == "mask"]
        best = m.loc[m["impact_percent"].idxmax()] if len(m) else None
        print(f"alignment: Gaussian noise changes it by at most {g:.1e} %; "
              + (f"best masking p = {best['level']:.2f}, patch {best['patch_size']}: "
                 f"{best['impact_percent']:+.1f} %" if best is not None else ""))
    if "dynamics_subspaces" in tables:
        for _, r in tables["dynamics_subspaces"].iterrows():
            print(f"dynamics: {r['subspace']:<6} subspace ({r['dims']} dims, "
                  f"{100 * r['variance_share']:.0f} % variance, {100 * r['label_share']:.0f} % "
                  f"of the label energy) half-learned at GD step {r['half_learned_step']}")
    if "projection" in tables:
        p = tables["projection"]
        print("projection: accuracy when training and testing on a PCA subspace")
        for _, r in p.sort_values(["part", "variance_fraction"]).iterrows():
            print(f"  {r['part']:<6} dims {r['dims']:>5}  variance "
                  f"{100 * r['variance_fraction']:5.1f} %  accuracy "
                  f"{100 * r['test_accuracy']:5.1f} %")
    if "bridge" in tables:
        b = tables["bridge"]
        print(f"bridge: predicted vs trained target error agree (3 s.e. or 3 %) at "
              f"{int(b['agrees'].sum())}/{len(b)} points")
        for ds, g in b.groupby("dataset"):
            print(f"  {ds:<9} " + ", ".join(
                f"{m} {int(g[f'agrees_{m}'].sum())}/{len(g)}"
                for m in ("gaussian", *SAMPLE_ESTIMATIONS) if f"agrees_{m}" in g))
        for _, r in tables["bridge_best_alpha"].iterrows():
            tie = r["statistical_tie"] and r["grid_steps_apart"] > 0
            print(f"  {r['dataset']:<9} n_t = {r['n_t']:>4}: best alpha trained "
                  f"{r['best_alpha_trained']:g}, predicted {r['best_alpha_predicted']:g} "
                  f"({r['grid_steps_apart']} grid steps"
                  f"{'; a statistical tie' if tie else ''})")
    print(f"total {timings['total_s']:.0f} s")


if __name__ == "__main__":  # pragma: no cover
    import sys

    run(ReconstructionPerceptionConfig.quick() if "--quick" in sys.argv
        else ReconstructionPerceptionConfig(), None)
