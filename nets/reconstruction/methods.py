r"""The three methods of Cui & Yu (arXiv:2404.00505, Sec. V): regular learning, conventional
transfer, transfer with reconstruction.

* **regular**: the target network (feature module + head) trained from scratch on target data.
* **conventional**: source network trained on :math:`\mathcal L_S` alone (no decoder), feature
  module frozen, fresh target head trained on target data.
* **reconstruction**: source network trained on :math:`\mathcal L_S + \alpha\mathcal L_R`
  (decoder from the feature layer to the common information), feature module frozen, decoder
  dropped, fresh target head trained on target data.

All target trainings use the same seed, hence identical minibatches (lock-step).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nets.reconstruction.errors import ConvergenceWarning
from nets.reconstruction.fit import TrainConfig, TrainResult, init_parameters, train
from nets.reconstruction.model import ReconstructionNet, mlp, transfer_features

__all__ = ["METHODS", "TransferTask", "TransferData", "MethodRun", "build_net", "run_methods"]

METHODS = ("regular", "conventional", "reconstruction")


@dataclass(frozen=True)
class TransferTask:
    """Architecture and losses of a source/target pair.

    Attributes
    ----------
    name : str
    feature_sizes : tuple of int
        Widths of the feature module, input first, feature layer ``d_z`` last (ReLU after each).
    source_head_sizes, target_head_sizes : tuple of int
        Widths of the heads, ``d_z`` first (ReLU between, no ReLU after the last).
    decoder_sizes : tuple of int
        Widths of the decoder, ``d_z`` first, ``|I|`` last (linear output).
    source_activation, target_activation : callable
        Factories of the output modules of the heads (e.g. a sigmoid).
    source_loss, target_loss : callable
        ``loss(output, y) -> scalar tensor``.
    source_criterion, target_criterion : callable or None
        Early-stopping criteria ``(output, y) -> float`` (lower is better); ``None``: the loss.
    """

    name: str
    feature_sizes: tuple
    source_head_sizes: tuple
    target_head_sizes: tuple
    decoder_sizes: tuple
    source_activation: Callable
    target_activation: Callable
    source_loss: Callable
    target_loss: Callable
    source_criterion: Callable | None = None
    target_criterion: Callable | None = None

    def __post_init__(self) -> None:
        dz = self.feature_sizes[-1]
        for name in ("source_head_sizes", "target_head_sizes", "decoder_sizes"):
            sizes = getattr(self, name)
            if sizes[0] != dz:
                raise ValueError(f"{name}[0] = {sizes[0]}: must equal the feature width {dz}")


@dataclass(frozen=True, eq=False)
class TransferData:
    """Arrays of one run: ``source_*`` are ``(x, y, common_info)``, ``target_*`` ``(x, y)``."""

    source_train: tuple
    source_val: tuple
    target_train: tuple
    target_val: tuple

    def __post_init__(self) -> None:
        for name in ("source_train", "source_val"):
            if len(getattr(self, name)) != 3:
                raise ValueError(f"{name}: expected (x, y, common_info)")
        for name in ("target_train", "target_val"):
            if len(getattr(self, name)) != 2:
                raise ValueError(f"{name}: expected (x, y)")
        d = np.shape(self.source_train[0])[1:]
        for name in ("source_val", "target_train", "target_val"):
            if np.shape(getattr(self, name)[0])[1:] != d:
                raise ValueError(f"{name}[0] has feature shape "
                                 f"{np.shape(getattr(self, name)[0])[1:]}, expected {d}")


@dataclass(frozen=True, eq=False)
class MethodRun:
    """Trained networks of one method: ``source`` (source-task training) and ``target``."""

    method: str
    source: TrainResult | None
    target: TrainResult
    extra: dict = field(default_factory=dict)


def build_net(task: TransferTask, kind: str, *, decoder: bool = False, seed: int = 0
              ) -> ReconstructionNet:
    """A fresh network for ``kind`` = ``"source"`` or ``"target"``, initialised from ``seed``."""
    if kind not in ("source", "target"):
        raise ValueError(f"kind = {kind!r}: must be 'source' or 'target'")
    sizes = task.source_head_sizes if kind == "source" else task.target_head_sizes
    act = task.source_activation if kind == "source" else task.target_activation
    import torch.nn as nn

    net = ReconstructionNet(mlp(task.feature_sizes, final_relu=True),
                            nn.Sequential(mlp(sizes), act()),
                            mlp(task.decoder_sizes) if decoder else None)
    return init_parameters(net, seed)


def _head_factory(task: TransferTask, seed: int):
    def make():
        return build_net(task, "target", seed=seed).head
    return make


def run_methods(task: TransferTask, data: TransferData, source_config: TrainConfig,
                target_config: TrainConfig, *, seed: int = 0,
                methods: tuple = METHODS) -> dict[str, MethodRun]:
    """Train the requested methods; return ``{method: MethodRun}``.

    ``source_config.alpha`` is the reconstruction weight of the ``"reconstruction"`` method
    (conventional transfer uses 0). Both transfer methods start their target head from the same
    initialisation, and all target trainings see the same minibatches.
    """
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"methods = {methods!r}: unknown {sorted(unknown)}; use {METHODS}")
    if "reconstruction" in methods and source_config.alpha <= 0:
        raise ValueError(f"alpha = {source_config.alpha}: the reconstruction method needs > 0")
    out: dict[str, MethodRun] = {}
    conv_cfg = _replace(source_config, alpha=0.0)
    sources = {}
    if "conventional" in methods or "regular" in methods:
        sources["conventional"] = train(build_net(task, "source", seed=seed), task.source_loss,
                                        data.source_train, data.source_val, conv_cfg,
                                        seed=seed, criterion=task.source_criterion)
    if "reconstruction" in methods:
        rec_net = build_net(task, "source", decoder=True, seed=seed)
        sources["reconstruction"] = train(rec_net, task.source_loss, data.source_train,
                                          data.source_val, source_config, seed=seed)
    for m in methods:
        if m == "regular":
            start = build_net(task, "target", seed=seed + 7919)
            source = sources["conventional"]
        else:
            source = sources[m]
            start = transfer_features(source.early, _head_factory(task, seed + 7919))
        tgt = train(start, task.target_loss, data.target_train, data.target_val, target_config,
                    seed=seed + 104729, criterion=task.target_criterion)
        out[m] = MethodRun(m, source, tgt)
    return out


def _replace(cfg: TrainConfig, **kw) -> TrainConfig:
    import dataclasses

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return dataclasses.replace(cfg, **kw)
