r"""Mini-batch training of the deep classifiers, with checkpoints and exact resumption.

Empirical risk minimisation with cross-entropy,
:math:`\min_\theta \frac1N\sum_i \ell_{CE}(f_\theta(x_i), y_i)`, by SGD with momentum (or
AdamW) and a per-step cosine (or constant) learning-rate schedule; ``cuda`` when available,
otherwise CPU; bfloat16 autocast and channels-last memory layout on GPU only.

Reproducibility: every random draw of epoch ``e`` (mini-batch order, crop/flip augmentation,
dropout through the global torch RNG, forked and restored) comes from the seed
``(seed, e)``.  A checkpoint written after epoch ``e`` holds the model, optimizer and scheduler
states, so a run resumed from it continues exactly as an uninterrupted one would (bitwise on
CPU with the same thread count; on GPU up to non-deterministic kernels).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nets.errors import ConvergenceError, ConvergenceWarning
from nets.train import NonFiniteLossError

__all__ = ["ConvergenceError", "ConvergenceWarning", "DeepTrainResult", "TrainConfig",
           "evaluate", "resolve_device", "train_classifier"]


def resolve_device(device: str | None) -> torch.device:
    """``None`` -> ``cuda`` when available, else ``cpu``; ``"cuda"`` without a GPU raises."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"device = {device!r}: must be 'cpu', 'cuda' or 'cuda:<index>'")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device = {device!r}: no CUDA device is available on this machine")
    return torch.device(device)


@dataclass(frozen=True)
class TrainConfig:
    """Training hyper-parameters (defaults: a standard CIFAR ResNet recipe).

    ``amp``/``channels_last``: ``None`` = on for CUDA, off on CPU (forced off on CPU).
    ``augment``: random crop (padding ``H // 8``) and, with ``flip``, horizontal flips.
    ``checkpoint_every``: epochs between checkpoints (when a path is given).
    """

    epochs: int = 30
    batch_size: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    optimizer: str = "sgd"
    schedule: str = "cosine"
    augment: bool = False
    flip: bool = True
    label_smoothing: float = 0.0
    seed: int = 0
    device: str | None = None
    amp: bool | None = None
    channels_last: bool | None = None
    checkpoint_every: int = 1
    eval_batch_size: int = 1024
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "checkpoint_every", "eval_batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} = {v!r}: must be a positive integer")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed = {self.seed!r}: must be a non-negative integer")
        for name in ("lr", "momentum", "weight_decay", "label_smoothing"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} = {v!r}: must be finite and >= 0")
        if not self.lr > 0:
            raise ValueError(f"lr = {self.lr}: learning rate must be positive")
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(f"optimizer = {self.optimizer!r}: must be 'sgd' or 'adamw'")
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"schedule = {self.schedule!r}: must be 'cosine' or 'constant'")
        dev = self.device
        if dev is not None and dev not in ("cpu", "cuda") and not str(dev).startswith("cuda:"):
            raise ValueError(f"device = {dev!r}: must be 'cpu', 'cuda' or 'cuda:<index>'")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def numerics(self) -> dict:
        """The fields that change the numbers (compared when resuming)."""
        d = self.to_dict()
        for k in ("progress", "checkpoint_every", "eval_batch_size", "device"):
            d.pop(k)
        return d


@dataclass(frozen=True, eq=False)
class DeepTrainResult:
    """Outcome of :func:`train_classifier`.

    ``losses``/``accuracies``: per-epoch mean training loss and accuracy; ``converged``: the
    final loss is finite and below the first epoch's; ``residual``: final training loss;
    ``iterations``: optimizer steps in total; ``resumed_from``: epoch of the checkpoint the run
    started from (0: fresh); ``images_per_s``: training throughput of this call.
    """

    losses: tuple
    accuracies: tuple
    converged: bool
    iterations: int
    residual: float
    epochs: int
    resumed_from: int
    seconds: float
    images_per_s: float
    device: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(np.random.SeedSequence((seed, epoch)).generate_state(
        1, np.uint64)[0] >> np.uint64(1)))


def _augment(xb: torch.Tensor, gen: torch.Generator, flip: bool) -> torch.Tensor:
    b, _, h, w = xb.shape
    pad = max(1, h // 8)
    xp = nn.functional.pad(xb, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(xb.device)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(xb.device)
    rows = (torch.arange(h, device=xb.device)[None, :] + dy[:, None])[:, :, None]
    cols = (torch.arange(w, device=xb.device)[None, :] + dx[:, None])[:, None, :]
    out = xp[torch.arange(b, device=xb.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)
    if flip:
        f = (torch.rand(b, generator=gen) < 0.5).to(xb.device)
        out = torch.where(f[:, None, None, None], out.flip(3), out)
    return out.contiguous()


def _setup(model, cfg: TrainConfig, steps_total: int, device: torch.device):
    params = model.parameters()
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                              weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps_total) / steps_total)))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    return opt, sched


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")  # concurrent writers: own file
    torch.save(state, tmp)
    os.replace(tmp, path)


def _resume(path, model, opt, sched, cfg, n) -> tuple[int, list, list]:
    if path is None or not Path(path).is_file():
        return 0, [], []
    st = torch.load(path, map_location="cpu", weights_only=True)
    if st.get("config") != cfg.numerics() or st.get("n_train") != n:
        raise ValueError(f"checkpoint = {str(path)!r}: written by a run with another training "
                         "configuration or data size; remove it or use another path")
    model.load_state_dict(st["model"])
    opt.load_state_dict(st["optimizer"])
    sched.load_state_dict(st["scheduler"])
    return int(st["epoch"]), list(st["losses"]), list(st["accuracies"])


def _run_epoch(model, x, y, cfg, epoch, opt, sched, loss_fn, amp, device) -> tuple[float, float]:
    n = len(y)
    gen = _epoch_generator(cfg.seed, epoch)
    perm = torch.randperm(n, generator=gen).to(device)
    bs = min(cfg.batch_size, n)
    tot_loss, tot_ok, seen = 0.0, 0, 0
    cuda_devs = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devs):
        torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen)))
        for k in range(n // bs):  # drop the last incomplete batch (BatchNorm needs > 1 image)
            idx = perm[k * bs:(k + 1) * bs]
            xb, yb = x[idx], y[idx]
            if cfg.augment:
                xb = _augment(xb, gen, cfg.flip)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
                out = model(xb)
                loss = loss_fn(out.float(), yb)
            val = float(loss.detach())
            if not math.isfinite(val):
                raise NonFiniteLossError(f"training loss is {val} at epoch {epoch + 1}, batch "
                                         f"{k + 1}; reduce lr")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot_loss += val * len(idx)
            tot_ok += int((out.argmax(1) == yb).sum())
            seen += len(idx)
    return tot_loss / seen, tot_ok / seen


def _prepare(model, x, y, cfg):
    device = resolve_device(cfg.device)
    cuda = device.type == "cuda"
    amp = bool(cuda if cfg.amp is None else cfg.amp and cuda)
    cl = bool(cuda if cfg.channels_last is None else cfg.channels_last and cuda)
    x = torch.as_tensor(np.asarray(x, np.float32) if not torch.is_tensor(x) else x)
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y).long()
    if x.ndim != 4 or y.shape != (x.shape[0],):
        raise ValueError(f"x has shape {tuple(x.shape)}, y {tuple(y.shape)}: expected "
                         "(n, C, H, W) and (n,)")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or inf")
    fmt = torch.channels_last if cl else torch.contiguous_format
    model.to(device)
    if cl:
        model.to(memory_format=torch.channels_last)
    return device, amp, x.to(device).contiguous(memory_format=fmt), y.to(device)


def train_classifier(
    model: nn.Module,
    x,
    y,
    cfg: TrainConfig,
    *,
    checkpoint: str | os.PathLike | None = None,
    stop_after: int | None = None,
    strict: bool = False,
) -> DeepTrainResult:
    """Train ``model`` in place; resume from ``checkpoint`` when that file exists.

    Parameters
    ----------
    model : nn.Module
    x : array or tensor, shape (n, C, H, W)
    y : array or tensor of int, shape (n,)
    cfg : TrainConfig
    checkpoint : path, optional
        Written every ``cfg.checkpoint_every`` epochs and at the end (atomically); if it
        exists it is loaded first (a finished run is not trained again).
    stop_after : int, optional
        Stop after this epoch (simulates an interruption; the checkpoint is written).
    strict : bool
        Raise :class:`ConvergenceError` instead of warning when the loss did not decrease.

    Raises
    ------
    NonFiniteLossError
        NaN/inf training loss.
    ValueError
        Bad shapes, NaN inputs, a checkpoint of another configuration.
    """
    device, amp, x, y = _prepare(model, x, y, cfg)
    n = len(y)
    steps_per_epoch = max(n // cfg.batch_size, 1)
    opt, sched = _setup(model, cfg, cfg.epochs * steps_per_epoch, device)
    path = Path(checkpoint) if checkpoint is not None else None
    start, losses, accs = _resume(path, model, opt, sched, cfg, n)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    last = cfg.epochs if stop_after is None else min(stop_after, cfg.epochs)
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    model.train()
    bar = tqdm(range(start, last), desc="train", leave=False, unit="epoch",
               disable=None if cfg.progress else True)
    for epoch in bar:
        loss, acc = _run_epoch(model, x, y, cfg, epoch, opt, sched, loss_fn, amp, device)
        losses.append(loss)
        accs.append(acc)
        bar.set_postfix(loss=f"{loss:.3f}", acc=f"{acc:.3f}")
        done = epoch + 1
        if path is not None and (done % cfg.checkpoint_every == 0 or done == last):
            _save(path, {"epoch": done, "model": model.state_dict(),
                         "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                         "losses": losses, "accuracies": accs, "config": cfg.numerics(),
                         "n_train": n})
    seconds = time.perf_counter() - t0
    converged = bool(losses) and math.isfinite(losses[-1]) and (
        len(losses) == 1 or losses[-1] < losses[0])
    if losses and not converged and last == cfg.epochs:
        msg = (f"training loss did not decrease over {len(losses)} epochs "
               f"({losses[0]:.4g} -> {losses[-1]:.4g}); raise epochs or change lr")
        if strict:
            raise ConvergenceError(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    n_imgs = (last - start) * steps_per_epoch * min(cfg.batch_size, n)
    return DeepTrainResult(tuple(losses), tuple(accs), converged, len(losses) * steps_per_epoch,
                           float(losses[-1]) if losses else float("nan"), len(losses), start,
                           seconds, n_imgs / seconds if seconds > 0 and n_imgs else 0.0,
                           str(device))


@torch.no_grad()
def evaluate(model: nn.Module, x, y, *, batch_size: int = 1024, device: str | None = None,
             amp: bool | None = None) -> float:
    """Classification accuracy of ``model`` on ``(x, y)`` (eval mode)."""
    dev = resolve_device(device) if device is not None else next(model.parameters()).device
    use_amp = bool(dev.type == "cuda" if amp is None else amp and dev.type == "cuda")
    model.to(dev).eval()
    x = torch.as_tensor(np.asarray(x, np.float32) if not torch.is_tensor(x) else x)
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y).long()
    ok = 0
    for k in range(0, len(y), batch_size):
        xb = x[k:k + batch_size].to(dev)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_amp):
            ok += int((model(xb).argmax(1).cpu() == y[k:k + batch_size]).sum())
    model.train()
    return ok / max(len(y), 1)
