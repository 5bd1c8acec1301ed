r"""Networks with a feature module, a task head and an optional reconstruction decoder.

Cui & Yu (arXiv:2404.00505, Sec. III): :math:`\mathbf p \xrightarrow{f_\theta} \mathbf z
\xrightarrow{g_\phi} \hat{\mathbf x}` and, during source training only,
:math:`\mathbf z \xrightarrow{r_\psi} \hat{\mathcal I}(\mathbf p)`. The feature layer
:math:`\mathbf z` is the ReLU output of the last layer of :math:`f_\theta`. For the target task
:math:`\theta` is frozen, :math:`r_\psi` dropped and a fresh head :math:`g_{\phi_T}` trained.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

__all__ = [
    "mlp",
    "ReconstructionNet",
    "ScaledSigmoid",
    "BlockNormalize",
    "freeze",
    "transfer_features",
    "deployed",
]


def mlp(sizes: Sequence[int], *, final_relu: bool = False) -> nn.Sequential:
    """Dense layers ``sizes[0] -> ... -> sizes[-1]`` with ReLU between (and after, if asked)."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes = {sizes}: need >= 2 positive layer widths")
    layers: list[nn.Module] = []
    for k in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2 or final_relu:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ScaledSigmoid(nn.Module):
    """``low + (high - low) * sigmoid(x)`` (``0, 1``: the plain sigmoid)."""

    def __init__(self, low: float = 0.0, high: float = 1.0):
        super().__init__()
        self.low, self.high = float(low), float(high)

    def forward(self, x):
        return self.low + (self.high - self.low) * torch.sigmoid(x)


class BlockNormalize(nn.Module):
    """Split the last axis into ``n_blocks`` equal blocks, each scaled to unit norm.

    Used for beamformers: ``(Re v_1, Im v_1, ..., Re v_B, Im v_B)`` with ``||v_b|| = 1``.
    """

    def __init__(self, n_blocks: int):
        super().__init__()
        self.n_blocks = int(n_blocks)

    def forward(self, x):
        y = x.reshape(*x.shape[:-1], self.n_blocks, -1)
        y = y / y.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return y.reshape(x.shape)


class ReconstructionNet(nn.Module):
    """Feature module + task head (+ decoder during source training).

    Parameters
    ----------
    feature : nn.Module
        :math:`f_\\theta`, ending in a ReLU (the feature layer).
    head : nn.Module
        :math:`g_\\phi`, including its output activation.
    decoder : nn.Module, optional
        :math:`r_\\psi`; ``None`` for conventional transfer, regular learning and deployment.
    """

    def __init__(self, feature: nn.Module, head: nn.Module, decoder: nn.Module | None = None):
        super().__init__()
        self.feature = feature
        self.head = head
        self.decoder = decoder

    def forward(self, x):
        return self.head(self.feature(x))

    def forward_with_reconstruction(self, x):
        """``(task output, reconstruction)``; the reconstruction is ``None`` without decoder."""
        z = self.feature(x)
        rec = self.decoder(z) if self.decoder is not None else None
        return self.head(z), rec


def freeze(module: nn.Module) -> nn.Module:
    """Set ``requires_grad = False`` on every parameter (in place) and return the module."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def transfer_features(source: ReconstructionNet, head_factory: Callable[[], nn.Module]
                      ) -> ReconstructionNet:
    """Target network: a frozen copy of the source feature module and a fresh head.

    The decoder is not carried over. ``head_factory()`` builds the new head (seed the torch
    RNG or pass a generator-aware factory for reproducible initialisation).
    """
    feature = freeze(copy.deepcopy(source.feature))
    return ReconstructionNet(feature, head_factory(), decoder=None)


def deployed(net: ReconstructionNet) -> nn.Sequential:
    """Inference model ``head o feature`` (no decoder), on copies of the parameters."""
    return nn.Sequential(copy.deepcopy(net.feature), copy.deepcopy(net.head)).eval()
