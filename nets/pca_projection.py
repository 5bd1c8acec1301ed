r"""Top/bottom PCA-subspace projection and classifier training (Balestriero & LeCun 2024).

Protocol of the authors' ``classification_pca.py`` (TinyImageNet, Fig. 1 of the paper):

1. normalise each image by its own pixel std (:math:`+10^{-6}`), subtract the training mean image;
2. PCA of the flattened ``(C, H, W)`` training images, eigenvalues sorted decreasingly,
   :math:`e_k=\sum_{j\le k}\hat\lambda_j` the variance explained by the ``k`` largest components;
3. "top" subspace of a fraction :math:`\pi`: the components with :math:`e_k<\pi`; "bottom":
   the complement; :math:`\pi=-1` splits the dimensions in half;
4. grids: top, 8 fractions linearly spaced in ``[e_2, 1 - smallest fraction]``; bottom, the same
   interval with :math:`\mathrm{linspace}(0,1,8)^{1/4}` spacing;
5. project train and test images, normalise again as in 1, train a classifier (MSE between
   logits and one-hot labels, AdamW lr 1e-3, weight decay 1e-3, OneCycle, batch 512,
   drop_last), report the macro-averaged test accuracy.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from nets.checks import check_count, check_positive


def _images(name: str, a, min_rows: int = 1) -> np.ndarray:
    """Finite float64 array ``(N, ...)`` with ``N >= min_rows``; ValueError naming ``name``."""
    if np.iscomplexobj(a):
        raise ValueError(f"{name} is complex: expected real images")
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a numeric array, got {type(a).__name__}") from None
    if arr.ndim < 2 or arr.shape[0] < min_rows or arr[0].size == 0:
        raise ValueError(f"{name} has shape {arr.shape}: need (N, ...) with N >= {min_rows} "
                         "non-empty images")
    if not np.all(np.isfinite(arr)):
        kind = "NaN" if np.isnan(arr).any() else "infinite"
        raise ValueError(f"{name} contains {kind} entries: inputs must be finite")
    return arr


def _spectrum(eigenvalues, min_size: int = 1) -> np.ndarray:
    lam = _images("eigenvalues", np.reshape(eigenvalues, (1, -1)) if np.ndim(eigenvalues) == 1
                  else eigenvalues)
    if lam.shape[0] != 1 or lam.size < min_size:
        raise ValueError(f"eigenvalues has shape {np.shape(eigenvalues)}: expected a 1-d array "
                         f"of at least {min_size} values")
    lam = lam[0]
    if np.any(lam < 0) or not lam.sum() > 0 or np.any(np.diff(lam) > 0):
        raise ValueError("eigenvalues must be non-negative, not all zero and non-increasing "
                         "(as pca_basis returns them)")
    return lam

__all__ = [
    "normalise_images",
    "pca_basis",
    "fraction_grids",
    "subspace_basis",
    "project_images",
    "MLPClassifier",
    "macro_accuracy",
    "train_classifier",
]


def normalise_images(train, test=None):
    """Per-image std normalisation, then subtraction of the training mean image.

    ``train``/``test``: arrays ``(N, ...)``.  Returns ``(train, test)`` (``test`` None if not
    given), float64, same shapes.
    """
    tr = _images("train", train, 2)

    def scale(a):
        s = a.reshape(a.shape[0], -1).std(1) + 1e-6
        return a / s.reshape((-1,) + (1,) * (a.ndim - 1))

    tr = scale(tr)
    mean = tr.mean(0)
    tr = tr - mean
    if test is None:
        return tr, None
    te = _images("test", test)
    if te.shape[1:] != tr.shape[1:]:
        raise ValueError(f"test images have shape {te.shape[1:]} but train {tr.shape[1:]}")
    return tr, scale(te) - mean


def pca_basis(train) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (decreasing) and eigenvectors (columns) of ``X^T X`` of flattened images."""
    X = _images("train", train)
    X = X.reshape(len(X), -1)
    lam, U = np.linalg.eigh(X.T @ X)
    return lam[::-1].clip(min=0.0), U[:, ::-1]


def _cumfrac(lam: np.ndarray) -> np.ndarray:
    return np.cumsum(lam) / lam.sum()


def fraction_grids(eigenvalues, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Top and bottom grids of variance fractions (protocol step 4)."""
    lam = _spectrum(eigenvalues, 3)
    n = check_count("n", n, 1)
    frac = lam / lam.sum()
    lo, hi = _cumfrac(lam)[1], 1.0 - frac[-1]
    return np.linspace(lo, hi, n), lo + (hi - lo) * np.linspace(0, 1, n) ** 0.25


def subspace_basis(eigenvalues, vectors, fraction: float, part: str) -> np.ndarray:
    """Columns spanning the top (``e_k < fraction``) or bottom (complement) subspace.

    ``fraction = -1`` splits the dimensions in half.  Never returns an empty basis: the top
    subspace keeps at least the first component and the bottom at least the last.
    """
    lam = _spectrum(eigenvalues, 2)
    D = lam.size
    if part not in ("top", "bottom"):
        raise ValueError(f"part = {part!r}: choose 'top' or 'bottom'")
    vec = _images("vectors", vectors)
    if vec.ndim != 2 or vec.shape[1] != D:
        raise ValueError(f"vectors has shape {vec.shape}: expected (dim, {D}), one column per "
                         "eigenvalue")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.number)):
        raise ValueError(f"fraction = {fraction!r}: must be a number in (0, 1] or -1")
    if fraction == -1:
        top = np.arange(D) < D // 2
    else:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction = {fraction!r}: must lie in (0, 1] or be -1")
        top = _cumfrac(lam) < fraction
        top[0] = True
        top[-1] = False
    sel = top if part == "top" else ~top
    return vec[:, sel]


def project_images(images, basis) -> np.ndarray:
    """``X B B^T`` reshaped to the image shape (normalise again afterwards)."""
    X = _images("images", images)
    flat = X.reshape(len(X), -1)
    B = _images("basis", basis)
    if B.ndim != 2 or B.shape[0] != flat.shape[1]:
        raise ValueError(f"basis has shape {B.shape}: expected ({flat.shape[1]}, k), one row "
                         "per pixel")
    return ((flat @ B) @ B.T).reshape(X.shape)


class MLPClassifier(nn.Module):
    """Depth-4 MLP, widths linearly spaced from the input size to ``C``; Linear (no bias) +
    BatchNorm1d + ReLU, as the authors' MLP."""

    def __init__(self, dim: int, num_classes: int, depth: int = 4):
        super().__init__()
        dim, num_classes = check_count("dim", dim), check_count("num_classes", num_classes)
        depth = check_count("depth", depth)
        widths = np.linspace(dim, num_classes, depth + 1).round().astype(int)
        layers = []
        for a, b in zip(widths[:-2], widths[1:-1], strict=True):
            layers += [nn.Linear(int(a), int(b), bias=False), nn.BatchNorm1d(int(b)),
                       nn.ReLU(inplace=True)]
        layers.append(nn.Linear(int(widths[-2]), num_classes))
        self.net = nn.Sequential(nn.Flatten(), *layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def macro_accuracy(pred: np.ndarray, y: np.ndarray, num_classes: int) -> float:
    """Mean over classes present in ``y`` of the per-class recall."""
    pred, y = np.asarray(pred), np.asarray(y)
    num_classes = check_count("num_classes", num_classes)
    if pred.shape != y.shape or y.ndim != 1 or y.size == 0:
        raise ValueError(f"pred has shape {pred.shape} and y {y.shape}: expected equal non-empty "
                         "1-d label arrays")
    if not np.all(np.isin(y, np.arange(num_classes))):
        raise ValueError(f"y: labels must be integers in [0, num_classes = {num_classes})")
    accs = [np.mean(pred[y == c] == c) for c in range(num_classes) if np.any(y == c)]
    return float(np.mean(accs))


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random crop (reflect padding of size/8) and horizontal flip, per image."""
    n, _, h, w = x.shape
    pad = max(1, h // 8)
    xp = nn.functional.pad(x, (pad, pad, pad, pad), mode="reflect")
    i = torch.randint(0, 2 * pad + 1, (n,), generator=g)
    j = torch.randint(0, 2 * pad + 1, (n,), generator=g)
    rows = (i[:, None] + torch.arange(h)[None]).to(x.device)
    cols = (j[:, None] + torch.arange(w)[None]).to(x.device)
    out = xp[torch.arange(n, device=x.device)[:, None, None, None],
             torch.arange(x.shape[1], device=x.device)[None, :, None, None],
             rows[:, None, :, None], cols[:, None, None, :]]
    flip = (torch.rand(n, generator=g) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], out.flip(3), out)


def _labels(name: str, y, num_classes: int) -> np.ndarray:
    """Integer labels in ``[0, num_classes)`` as a 1-d array, or a ValueError naming ``y``."""
    a = np.asarray(y)
    if a.ndim != 1 or a.size == 0 or a.dtype.kind not in "iu" or a.min() < 0 \
            or a.max() >= num_classes:
        raise ValueError(f"{name}: expected a non-empty 1-d array of integer labels in "
                         f"[0, num_classes = {num_classes})")
    return a


def train_classifier(model: nn.Module, X_train, y_train, X_test, y_test, num_classes: int, *,
                     epochs: int = 50, batch_size: int = 512, lr: float = 1e-3,
                     weight_decay: float = 1e-3, augment: bool = False, seed: int = 0,
                     device: str | torch.device = "cpu") -> dict:
    """Train with MSE(logits, one-hot), AdamW + OneCycle; return accuracies and final loss.

    Images are ``(N, C, H, W)`` arrays (flat inputs for an MLP are fine when ``augment`` is
    False).  Mixed precision (fp16 autocast) is used on CUDA, as in the authors' runs.
    """
    num_classes = check_count("num_classes", num_classes, 2)
    epochs, batch_size = check_count("epochs", epochs), check_count("batch_size", batch_size)
    lr, seed = check_positive("lr", lr), check_count("seed", seed, 0)
    if isinstance(weight_decay, bool) or not (isinstance(weight_decay, int | float)
                                              and 0 <= weight_decay < math.inf):
        raise ValueError(f"weight_decay = {weight_decay!r}: must be a finite number >= 0")
    xtr = torch.as_tensor(_images("X_train", X_train), dtype=torch.float32)
    xte = torch.as_tensor(_images("X_test", X_test), dtype=torch.float32)
    ytr = torch.as_tensor(_labels("y_train", y_train, num_classes), dtype=torch.long)
    _labels("y_test", y_test, num_classes)
    if len(xtr) != len(ytr):
        raise ValueError(f"X_train has {len(xtr)} rows but y_train {len(ytr)}")
    dev = torch.device(device)
    if augment and xtr.ndim != 4:
        raise ValueError("augment=True needs images of shape (N, C, H, W)")
    g = torch.Generator().manual_seed(int(seed))
    model = model.to(dev)
    bs = min(batch_size, len(xtr))
    steps_per_epoch = len(xtr) // bs
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs,
                                                steps_per_epoch=steps_per_epoch)
    use_amp = dev.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if use_amp else None
    eye = torch.eye(num_classes, device=dev)
    last = math.nan
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=g)
        for s in range(steps_per_epoch):
            idx = perm[s * bs:(s + 1) * bs]
            xb, yb = xtr[idx].to(dev), ytr[idx].to(dev)
            if augment:
                xb = _augment(xb, g)
            with torch.autocast(dev.type, dtype=torch.float16, enabled=use_amp):
                loss = ((model(xb).float() - eye[yb]) ** 2).mean()
            if not torch.isfinite(loss):
                raise FloatingPointError(f"training loss became {loss.item()}")
            opt.zero_grad()
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
            sched.step()
            last = float(loss.detach())
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(xte[s:s + 1024].to(dev)).argmax(1).cpu()
                          for s in range(0, len(xte), 1024)]).numpy()
    return {"test_accuracy": macro_accuracy(pred, np.asarray(y_test), num_classes),
            "final_train_loss": last}
