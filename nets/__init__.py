"""Torch models of the CNN part.

The two-layer ReLU CNN of Kou et al. (2023) / Yuan et al. (arXiv:2509.22056) with a fixed
second layer, full-batch GD, alpha-proportion parameter transfer, and least-squares extraction
of the signal/noise coefficients from trained weights.  Knows nothing of the theory packages.
"""

from nets.cnn import TwoLayerReLUCNN, default_device, logistic_risk
from nets.coefficients import ExtractedCoefficients, extract_coefficients
from nets.train import NonFiniteLossError, TorchTrainResult, train_gd
from nets.transfer import transfer_filters

__all__ = [
    "TwoLayerReLUCNN",
    "default_device",
    "logistic_risk",
    "train_gd",
    "TorchTrainResult",
    "NonFiniteLossError",
    "transfer_filters",
    "extract_coefficients",
    "ExtractedCoefficients",
]
