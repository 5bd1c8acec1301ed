r"""Linear and MLP (denoising) autoencoders trained by gradient methods.

Objects of Balestriero & LeCun (ICML 2024): an encoder :math:`E` and a head :math:`H`
(decoder or probe) minimising the per-sample loss :math:`\frac1N\sum_i\|t_i-HE\tilde x_i\|^2`,
where :math:`\tilde x` is the clean input, the input with additive Gaussian noise, or the input
with non-overlapping ``ph x pw`` patches of each channel zeroed independently with probability
``p`` (zero fill, no rescaling; flattening order ``(C, H, W)``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch
from torch import nn

from nets.checks import check_count, check_finite_tensor, check_positive
from nets.errors import ConvergenceError, ConvergenceWarning, NonFiniteLossError

__all__ = [
    "LinearAutoencoder",
    "MLPAutoencoder",
    "patch_masks",
    "noisy_view",
    "TrainResult",
    "train_lbfgs",
    "train_adam",
    "train_autoencoder",
]


MAX_PARAMETERS = 500_000_000
"""Largest weight matrix (entries) a model of :mod:`nets` agrees to allocate."""


def check_tol(tol) -> float:
    """``tol`` as a finite float >= 0, or a ValueError naming it."""
    try:
        v = float(tol)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(tol, bool) or not (math.isfinite(v) and v >= 0):
        raise ValueError(f"tol = {tol!r}: must be a finite number >= 0")
    return v


def check_strict(strict) -> bool:
    if not isinstance(strict, bool | np.bool_):
        raise ValueError(f"strict = {strict!r}: must be True or False")
    return bool(strict)


def as_data(name: str, a, dtype, device) -> torch.Tensor:
    """``a`` as a finite 2-d tensor ``(N >= 1, D >= 1)``; ValueError naming ``name``."""
    if isinstance(a, torch.Tensor):
        if a.is_complex():
            raise ValueError(f"{name} is complex: expected real data")
        t = a.to(dtype=dtype, device=device)
    else:
        arr = np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{name}: expected real numbers, got {arr.dtype} entries")
        t = torch.as_tensor(arr, dtype=dtype, device=device)
    if t.ndim != 2 or t.numel() == 0:
        raise ValueError(f"{name} has shape {tuple(t.shape)}: expected a non-empty (N, D) array")
    check_finite_tensor(name, t)
    return t


def _pos_int(name: str, v, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, Integral) or v < minimum:
        raise ValueError(f"{name} = {v!r}: must be an integer >= {minimum}")
    return int(v)


class LinearAutoencoder(nn.Module):
    """``x -> H E x`` with bias-free linear encoder ``E`` (``K x D``) and head ``H`` (``C x K``).

    ``C = D`` (default) is an autoencoder; any other ``C`` a linear probe through a bottleneck.
    """

    def __init__(self, dim: int, width: int, out_dim: int | None = None,
                 dtype=torch.float64, seed: int | None = 0, init_scale: float = 1.0):
        super().__init__()
        dim = _pos_int("dim", dim)
        width = _pos_int("width", width)
        if width > dim:
            raise ValueError(f"width = K = {width}: must be <= the input dimension D = {dim}")
        out = dim if out_dim is None else _pos_int("out_dim", out_dim)
        if max(dim, out) * width > MAX_PARAMETERS:
            raise ValueError(f"dim = {dim}, width = {width}: a {max(dim, out)} x {width} weight "
                             f"matrix is over the {MAX_PARAMETERS:.0e} entries allowed")
        seed = 0 if seed is None else check_count("seed", seed, 0)
        init_scale = check_positive("init_scale", init_scale)
        self.encoder = nn.Linear(dim, width, bias=False, dtype=dtype)
        self.decoder = nn.Linear(width, out, bias=False, dtype=dtype)
        g = torch.Generator().manual_seed(0 if seed is None else int(seed))
        with torch.no_grad():
            self.encoder.weight.copy_(torch.randn(width, dim, generator=g, dtype=dtype)
                                      * init_scale / math.sqrt(dim))
            self.decoder.weight.copy_(torch.randn(out, width, generator=g, dtype=dtype)
                                      * init_scale / math.sqrt(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class MLPAutoencoder(nn.Module):
    """BN-ReLU MLP autoencoder (Balestriero & LeCun's ``MLPAE``): ``D -> hidden -> K -> D``.

    ``sigmoid=True`` squashes the output to (0, 1) as in the authors' code.
    """

    def __init__(self, dim: int, width: int, hidden: tuple[int, ...] = (256,),
                 sigmoid: bool = False, seed: int = 0):
        super().__init__()
        dim = _pos_int("dim", dim)
        width = _pos_int("width", width)
        g = torch.Generator().manual_seed(int(seed))
        enc, d = [], dim
        for h in hidden:
            enc += [nn.Linear(d, _pos_int("hidden", h)), nn.BatchNorm1d(h), nn.ReLU()]
            d = h
        enc.append(nn.Linear(d, width))
        dec, d = [], width
        for h in reversed(hidden):
            dec += [nn.Linear(d, h), nn.BatchNorm1d(h), nn.ReLU()]
            d = h
        dec.append(nn.Linear(d, dim))
        if sigmoid:
            dec.append(nn.Sigmoid())
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)
        with torch.no_grad():
            for p in self.parameters():
                if p.ndim == 2:
                    p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def _image_shape(image_shape, dim: int) -> tuple[int, int, int]:
    shape = tuple(image_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or any(not isinstance(s, Integral) or s < 1 for s in shape):
        raise ValueError(f"image_shape = {image_shape!r}: must be (H, W) or (C, H, W)")
    if math.prod(shape) != dim:
        raise ValueError(f"image_shape = {image_shape!r} has {math.prod(shape)} pixels but the "
                         f"data have dimension {dim}")
    return tuple(int(s) for s in shape)


def patch_masks(n: int, image_shape, patch_size, mask_ratio: float,
                generator: torch.Generator | None = None, dtype=torch.float64,
                device=None) -> torch.Tensor:
    """``n`` flattened masks (1 kept, 0 dropped); each ``ph x pw`` patch of each channel is
    dropped independently with probability ``mask_ratio``."""
    n = check_count("n", n, 1)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator = {generator!r}: give a torch.Generator or None")
    try:
        pixels = math.prod(tuple(image_shape))
    except TypeError:
        raise ValueError(f"image_shape = {image_shape!r}: must be (H, W) or (C, H, W)") from None
    c, h, w = _image_shape(image_shape, pixels)
    ph, pw = (patch_size, patch_size) if isinstance(patch_size, Integral) else tuple(patch_size)
    if ph < 1 or pw < 1 or h % ph or w % pw:
        raise ValueError(f"patch_size = {patch_size!r} does not divide the image size {h}x{w}")
    if isinstance(mask_ratio, bool) or not isinstance(mask_ratio, Real) \
            or not 0 <= mask_ratio < 1:
        raise ValueError(f"mask_ratio = {mask_ratio!r}: must lie in [0, 1)")
    u = torch.rand((n, c, h // ph, w // pw), generator=generator, dtype=dtype)
    keep = (u >= mask_ratio).to(dtype)
    keep = keep.repeat_interleave(ph, dim=2).repeat_interleave(pw, dim=3)
    return keep.reshape(n, -1).to(device)


def noisy_view(x: torch.Tensor, noise: str = "none", *, sigma: float = 0.0,
               mask_ratio: float = 0.0, image_shape=None, patch_size=1,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Clean, Gaussian-noised (``x + sigma * xi``) or patch-masked copy of the batch ``x``."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x: expected a torch.Tensor batch, got {type(x).__name__}")
    check_finite_tensor("x", x)
    if noise == "none":
        return x
    if noise == "gaussian":
        if not (isinstance(sigma, Real) and math.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"sigma = {sigma!r}: noise std must be a finite number >= 0")
        xi = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        return x + sigma * xi
    if noise == "mask":
        if image_shape is None:
            raise ValueError("image_shape is None: masking needs the image shape (C, H, W)")
        _image_shape(image_shape, x.shape[1])
        m = patch_masks(x.shape[0], image_shape, patch_size, mask_ratio, generator, x.dtype)
        return x * m.to(x.device)
    raise ValueError(f"noise = {noise!r}: choose 'none', 'gaussian' or 'mask'")


@dataclass(frozen=True)
class TrainResult:
    """Training record: per-iteration (or per-epoch) loss, convergence flag and residual."""

    losses: np.ndarray
    converged: bool
    iterations: int
    residual: float

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    def to_dict(self) -> dict:
        return {"final_loss": self.final_loss, "converged": self.converged,
                "iterations": self.iterations, "residual": self.residual}


def _finish(losses, converged, residual, strict, what) -> TrainResult:
    if not converged:
        msg = f"{what} did not converge (relative change {residual:.3g})"
        if strict:
            raise ConvergenceError(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    return TrainResult(np.asarray(losses), bool(converged), len(losses), float(residual))


def train_lbfgs(params, loss_fn: Callable[[], torch.Tensor], *, max_iter: int = 3000,
                tol: float = 1e-11, strict: bool = False) -> TrainResult:
    """Full-batch L-BFGS (strong Wolfe line search) on a deterministic loss.

    Converged when the relative loss change over 20 inner iterations falls below ``tol``.
    """
    max_iter, tol = check_count("max_iter", max_iter, 1), check_tol(tol)
    strict = check_strict(strict)
    params = list(params)
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=20, history_size=100,
                            tolerance_grad=1e-14, tolerance_change=1e-16,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        if not torch.isfinite(loss):
            raise NonFiniteLossError(f"training loss became {loss.item()}")
        loss.backward()
        return loss

    losses, resid = [], math.inf
    for _ in range(max(1, max_iter // 20)):
        opt.step(closure)
        with torch.no_grad():
            losses.append(float(loss_fn()))
        if len(losses) > 1:
            resid = abs(losses[-2] - losses[-1]) / max(abs(losses[-1]), 1e-300)
            if resid < tol:
                break
    return _finish(losses, resid < tol, resid, strict, "L-BFGS")


def train_adam(params, batch_loss: Callable[[torch.Tensor], torch.Tensor], n: int, *,
               epochs: int = 200, batch_size: int = 256, lr: float = 1e-2,
               seed: int = 0, tol: float = 1e-3, strict: bool = False) -> TrainResult:
    """Minibatch Adam with cosine decay to 0; ``batch_loss(idx)`` may draw fresh noise.

    Converged when the mean epoch loss of the last 10% of epochs differs from the previous 10%
    by less than ``tol`` (relative).
    """
    n, epochs = check_count("n", n, 1), check_count("epochs", epochs, 1)
    batch_size, lr = check_count("batch_size", batch_size, 1), check_positive("lr", lr)
    seed, tol, strict = check_count("seed", seed, 0), check_tol(tol), check_strict(strict)
    params = list(params)
    _pos_int("epochs", epochs)
    opt = torch.optim.Adam(params, lr=lr)
    steps = epochs * math.ceil(n / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    g = torch.Generator().manual_seed(int(seed))
    losses = []
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for s in range(0, n, batch_size):
            idx = perm[s:s + batch_size]
            opt.zero_grad()
            loss = batch_loss(idx)
            if not torch.isfinite(loss):
                raise NonFiniteLossError(f"training loss became {loss.item()}")
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(idx)
        losses.append(tot / n)
    w = max(1, epochs // 10)
    a, b = np.mean(losses[-w:]), np.mean(losses[-2 * w:-w]) if epochs >= 2 * w else np.inf
    resid = abs(a - b) / max(abs(a), 1e-300)
    return _finish(losses, resid < tol, resid, strict, "Adam")


def _check_fits(model: nn.Module, x: torch.Tensor, t: torch.Tensor) -> None:
    """ValueError naming the shapes if ``model`` cannot map rows of ``x`` to rows of ``t``."""
    was_training = model.training
    try:
        model.eval()  # one row through BatchNorm/Dropout without touching their state
        with torch.no_grad():
            out = model(x[:1])
    except RuntimeError:
        raise ValueError(f"X has shape {tuple(x.shape)}: its rows do not fit the model's "
                         "input layer") from None
    finally:
        model.train(was_training)
    if tuple(out.shape[1:]) != tuple(t.shape[1:]):
        raise ValueError(f"targets have shape {tuple(t.shape)} but the model outputs "
                         f"{tuple(out.shape[1:])} per row")


def train_autoencoder(model: nn.Module, X, targets=None, *, noise: str = "none",
                      sigma: float = 0.0, mask_ratio: float = 0.0, image_shape=None,
                      patch_size=1, optimizer: str = "auto", epochs: int = 200,
                      batch_size: int = 256, lr: float = 1e-2, seed: int = 0,
                      max_iter: int = 3000, strict: bool = False) -> TrainResult:
    r"""Fit ``model`` to :math:`\frac1N\sum_i\|t_i-f(\tilde x_i)\|^2` (``targets`` default ``X``).

    ``optimizer="auto"`` uses full-batch L-BFGS without noise and Adam with fresh noise per
    minibatch otherwise.  ``X`` and ``targets`` are arrays or tensors of shape ``(N, D)`` and
    ``(N, C)``.
    """
    if not isinstance(model, nn.Module) or not any(True for _ in model.parameters()):
        raise ValueError(f"model: expected a torch.nn.Module with parameters, got "
                         f"{type(model).__name__}")
    dtype = next(model.parameters()).dtype
    dev = next(model.parameters()).device
    x = as_data("X", X, dtype, dev)
    t = x if targets is None else as_data("targets", targets, dtype, dev)
    _check_fits(model, x, t)
    if x.ndim != 2 or t.ndim != 2 or t.shape[0] != x.shape[0]:
        raise ValueError(f"X has shape {tuple(x.shape)} and targets {tuple(t.shape)}: need "
                         "(N, D) and (N, C) with the same N")
    if torch.isnan(x).any() or torch.isnan(t).any():
        raise ValueError("X or targets contain NaN")
    kw = dict(sigma=sigma, mask_ratio=mask_ratio, image_shape=image_shape,
              patch_size=patch_size)
    noisy_view(x[:1], noise, **kw)  # validates the noise arguments
    opt = ("lbfgs" if noise == "none" else "adam") if optimizer == "auto" else optimizer
    if opt == "lbfgs":
        if noise != "none":
            raise ValueError("optimizer = 'lbfgs' needs noise = 'none' (a deterministic loss)")
        return train_lbfgs(model.parameters(),
                           lambda: ((t - model(x)) ** 2).sum(1).mean(),
                           max_iter=max_iter, strict=strict)
    if opt != "adam":
        raise ValueError(f"optimizer = {optimizer!r}: choose 'auto', 'lbfgs' or 'adam'")
    g = torch.Generator().manual_seed(check_count("seed", seed, 0) + 1)

    def batch_loss(idx):
        xb = noisy_view(x[idx], noise, generator=g, **kw)
        return ((t[idx] - model(xb)) ** 2).sum(1).mean()

    return train_adam(model.parameters(), batch_loss, x.shape[0], epochs=epochs,
                      batch_size=batch_size, lr=lr, seed=seed, strict=strict)
