r"""Training loop with the joint loss :math:`\mathcal L_S + \alpha\mathcal L_R` and early stopping.

Cui & Yu (arXiv:2404.00505, Sec. III): the source network minimises
:math:`\mathcal L = \mathcal L_S + \alpha\,\mathcal L_R` with
:math:`\mathcal L_R = \frac1{|\mathcal I|}\|r_\psi(f_\theta(\mathbf p)) - \mathcal I(\mathbf p)\|^2`
(mean-reduced MSE). Adam with default betas; minibatches drawn from a seeded
``torch.Generator`` so that runs with the same seed see identical batches ("lock-step").
Both the best-validation ("early-stopped") and the final-epoch parameters are kept.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nets.reconstruction.errors import ConvergenceError, ConvergenceWarning, NonFiniteLossError
from nets.reconstruction.model import ReconstructionNet

__all__ = ["TrainConfig", "TrainResult", "train", "init_parameters", "resolve_device"]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None``/``"auto"``: cuda when available, else cpu; ``"cuda"`` without a GPU raises."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device = {device!r}: not a torch device name") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device = {device!r}: CUDA is not available on this machine")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device = {device!r}: only {torch.cuda.device_count()} GPU(s)")
    return dev


def init_parameters(module: nn.Module, seed: int) -> nn.Module:
    """Re-draw every ``nn.Linear`` as torch's default init, from a seeded generator (in place)."""
    gen = torch.Generator().manual_seed(int(seed))
    for m in module.modules():
        if isinstance(m, nn.Linear):
            with torch.no_grad():
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=gen)
                bound = 1 / math.sqrt(m.in_features)
                m.bias.uniform_(-bound, bound, generator=gen)
    return module


@dataclass(frozen=True)
class TrainConfig:
    """Schedule of one training stage.

    Attributes
    ----------
    epochs, batch_size : int
    lr : float
        Adam learning rate.
    alpha : float
        Weight of the reconstruction loss (used only when the net has a decoder), >= 0.
    drop_last : bool
        Drop the last incomplete minibatch of each epoch.
    eval_every : int
        Evaluate on the validation set every this many epochs (and at the last).
    tol : float
        ``converged`` when the best validation value improved by at most ``tol`` (relative)
        over the last 10% of evaluations.
    strict : bool
        Raise :class:`ConvergenceError` instead of warning.
    warn : bool
        Emit :class:`ConvergenceWarning` when not converged.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    progress : bool
        tqdm bar over epochs.
    checkpoint : str, optional
        File to ``torch.save`` the early-stopped and final state dicts to.
    """

    epochs: int
    batch_size: int
    lr: float
    alpha: float = 0.0
    drop_last: bool = False
    eval_every: int = 1
    tol: float = 1e-3
    strict: bool = False
    warn: bool = True
    device: str = "cpu"
    progress: bool = False
    checkpoint: str | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} = {v!r}: must be a positive integer")
        if not (isinstance(self.lr, int | float) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr = {self.lr!r}: learning rate must be positive and finite")
        if not (isinstance(self.alpha, int | float) and math.isfinite(self.alpha)) \
                or self.alpha < 0:
            raise ValueError(f"alpha = {self.alpha!r}: loss weight must be >= 0")
        if not self.tol >= 0:
            raise ValueError(f"tol = {self.tol!r}: must be >= 0")


@dataclass(frozen=True, eq=False)
class TrainResult:
    """Outcome of :func:`train`.

    Attributes
    ----------
    early, final : ReconstructionNet
        Networks with the best-validation and the final-epoch parameters (independent copies).
    best_epoch : int
        Epoch (1-based) of the best validation value.
    eval_epochs, train_loss, val_criterion : ndarray
        Training curve: epochs at which it was evaluated, mean training loss over that epoch,
        and the validation criterion (lower is better).
    converged : bool
    iterations : int
        Number of gradient steps.
    residual : float
        Relative improvement of the best validation value over the last 10% of evaluations.
    """

    early: ReconstructionNet
    final: ReconstructionNet
    best_epoch: int
    eval_epochs: np.ndarray
    train_loss: np.ndarray
    val_criterion: np.ndarray
    converged: bool
    iterations: int
    residual: float

    def to_dict(self) -> dict:
        return {
            "best_epoch": self.best_epoch,
            "converged": self.converged,
            "iterations": self.iterations,
            "residual": self.residual,
            "best_val": float(np.min(self.val_criterion)),
            "final_val": float(self.val_criterion[-1]),
        }


def _as_tensors(data, device, name: str):
    if not isinstance(data, tuple | list) or len(data) not in (2, 3):
        raise ValueError(f"{name}: expected a tuple (x, y) or (x, y, common_info)")
    out = []
    for k, a in enumerate(data):
        if a is None:
            out.append(None)
            continue
        t = torch.as_tensor(a, dtype=torch.float32).to(device)
        if torch.isnan(t).any():
            raise ValueError(f"{name}[{k}] contains NaN")
        if t.shape[0] != torch.as_tensor(data[0]).shape[0]:
            raise ValueError(f"{name}[{k}] has {t.shape[0]} rows, expected "
                             f"{torch.as_tensor(data[0]).shape[0]}")
        out.append(t)
    return out + [None] * (3 - len(out))


def _loss(net, loss_fn, x, y, r, alpha, frozen):
    out, rec = (net.head(x), None) if frozen else net.forward_with_reconstruction(x)
    loss = loss_fn(out, y)
    if alpha > 0 and rec is not None:
        if r is None:
            raise ValueError("alpha > 0 with a decoder needs the common information")
        loss = loss + alpha * torch.mean((rec - r) ** 2)
    return loss, out


def train(net: ReconstructionNet, loss_fn: Callable, train_data, val_data, config: TrainConfig,
          *, seed: int = 0, criterion: Callable | None = None) -> TrainResult:
    r"""Train the trainable parameters of ``net`` (a copy) with Adam; keep early and final.

    Parameters
    ----------
    net : ReconstructionNet
        Not modified; parameters with ``requires_grad = False`` stay fixed. If the whole
        feature module is frozen, features are computed once and only the head is trained.
    loss_fn : callable
        ``loss_fn(output, y) -> scalar tensor`` (the task loss :math:`\mathcal L_S`).
    train_data, val_data : tuple
        ``(x, y)`` or ``(x, y, common_info)`` arrays or tensors with equal first dimensions.
    config : TrainConfig
    seed : int
        Seed of the minibatch order.
    criterion : callable, optional
        ``criterion(output, y) -> float``, lower is better, for early stopping. Default: the
        training loss (the joint loss when the net has a decoder and ``alpha > 0``).
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config: expected a TrainConfig, got {type(config).__name__}")
    device = resolve_device(config.device)
    net = copy.deepcopy(net).to(device)
    frozen = not any(p.requires_grad for p in net.feature.parameters())
    xt, yt, rt = _as_tensors(train_data, device, "train_data")
    xv, yv, rv = _as_tensors(val_data, device, "val_data")
    if frozen:
        with torch.no_grad():
            xt, xv = net.feature(xt), net.feature(xv)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=config.lr)
    gen = torch.Generator().manual_seed(int(seed))
    n, bs = xt.shape[0], config.batch_size
    n_batches = n // bs if config.drop_last and n >= bs else math.ceil(n / bs)
    best, best_state, best_epoch = math.inf, None, 0
    ep_hist, tr_hist, va_hist, steps = [], [], [], 0
    from tqdm.auto import tqdm

    for epoch in tqdm(range(1, config.epochs + 1), disable=not config.progress, leave=False):
        net.train()
        perm = torch.randperm(n, generator=gen).to(device)
        total = 0.0
        for b in range(n_batches):
            idx = perm[b * bs:(b + 1) * bs]
            loss, _ = _loss(net, loss_fn, xt[idx], yt[idx], None if rt is None else rt[idx],
                            config.alpha, frozen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
            total += float(loss.detach())
        if not math.isfinite(total):
            raise NonFiniteLossError(f"training loss is not finite at epoch {epoch}; "
                                     "reduce the learning rate")
        if epoch % config.eval_every and epoch != config.epochs:
            continue
        val = _validate(net, loss_fn, criterion, (xv, yv, rv), config.alpha, frozen)
        ep_hist.append(epoch)
        tr_hist.append(total / n_batches)
        va_hist.append(val)
        if val < best:
            best, best_epoch = val, epoch
            best_state = copy.deepcopy(net.state_dict())
    return _finish(net, best_state, best_epoch, ep_hist, tr_hist, va_hist, steps, config)


def _validate(net, loss_fn, criterion, val, alpha, frozen) -> float:
    xv, yv, rv = val
    net.eval()
    with torch.no_grad():
        loss, out = _loss(net, loss_fn, xv, yv, rv, alpha, frozen)
        value = float(loss) if criterion is None else float(criterion(out, yv))
    if not math.isfinite(value):
        raise NonFiniteLossError("validation criterion is not finite")
    return value


def _finish(net, best_state, best_epoch, ep, tr, va, steps, config) -> TrainResult:
    final = copy.deepcopy(net).cpu()
    early = copy.deepcopy(net)
    if best_state is not None:
        early.load_state_dict(best_state)
    early = early.cpu()
    va_arr = np.asarray(va)
    cut = max(1, len(va_arr) - max(1, len(va_arr) // 10))
    before = float(np.min(va_arr[:cut]))
    best = float(np.min(va_arr))
    residual = (before - best) / max(abs(best), 1e-12)
    converged = residual <= config.tol
    if not converged:
        msg = (f"validation criterion still improving at the end of training (relative "
               f"improvement {residual:.3g} over the last 10% of {config.epochs} epochs)")
        if config.strict:
            raise ConvergenceError(msg)
        if config.warn:
            warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    if config.checkpoint is not None:
        Path(config.checkpoint).parent.mkdir(parents=True, exist_ok=True)
        torch.save({"early": early.state_dict(), "final": final.state_dict(),
                    "best_epoch": best_epoch}, config.checkpoint)
    return TrainResult(early=early, final=final, best_epoch=best_epoch,
                       eval_epochs=np.asarray(ep), train_loss=np.asarray(tr), val_criterion=va_arr,
                       converged=bool(converged), iterations=steps, residual=float(residual))
