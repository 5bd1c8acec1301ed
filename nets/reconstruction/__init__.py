"""Transfer learning with a reconstruction loss (Cui & Yu, arXiv:2404.00505).

A source network gets a decoder from a chosen feature layer that reconstructs the "common
information" of source and target (loss ``L_S + alpha L_R``); the feature module is then
frozen, the decoder dropped and a fresh head trained on scarce target data. Tasks: binary
digits (:mod:`.digits`), D2D power control (:mod:`.d2d`, :mod:`.d2d_learning`) and MISO
beamforming -> localization (:mod:`.miso`, :mod:`.miso_learning`). See
``docs/reconstruction_transfer.md``.
"""

from nets.reconstruction.errors import ConvergenceError, ConvergenceWarning, NonFiniteLossError
from nets.reconstruction.fit import TrainConfig, TrainResult, init_parameters, resolve_device, train
from nets.reconstruction.methods import (
    METHODS,
    MethodRun,
    TransferData,
    TransferTask,
    build_net,
    run_methods,
)
from nets.reconstruction.model import (
    BlockNormalize,
    ReconstructionNet,
    ScaledSigmoid,
    deployed,
    freeze,
    mlp,
    transfer_features,
)

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "NonFiniteLossError",
    "TrainConfig",
    "TrainResult",
    "init_parameters",
    "resolve_device",
    "train",
    "METHODS",
    "MethodRun",
    "TransferData",
    "TransferTask",
    "build_net",
    "run_methods",
    "BlockNormalize",
    "ReconstructionNet",
    "ScaledSigmoid",
    "deployed",
    "freeze",
    "mlp",
    "transfer_features",
]
