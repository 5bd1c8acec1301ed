r"""D2D power control as a transfer task: sum-rate (source) -> min-rate (target).

Cui & Yu (arXiv:2404.00505, Sec. V-B). Unsupervised losses, with rates in nats and no
bandwidth factor "for better scaled gradients":

.. math::

    \mathcal L_S = -\frac1{|\mathcal B|}\sum_{\mathbf g\in\mathcal B}\sum_i\ln(1+\mathrm{SINR}_i),
    \qquad
    \mathcal L_T = -\frac1{|\mathcal B|}\sum_{\mathbf g\in\mathcal B}\min_i\ln(1+\mathrm{SINR}_i).

Input: the ``N x N`` linear gains, flattened and standardised entrywise with the source-training
mean and std; common information: that normalised input (input reconstruction). Evaluation in
Mbps with :math:`B\log_2`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nets.reconstruction import d2d
from nets.reconstruction.methods import TransferData, TransferTask
from nets.reconstruction.model import ScaledSigmoid

__all__ = ["D2DNormalizer", "d2d_task", "d2d_transfer_data", "torch_sinr", "evaluate_power"]


@dataclass(frozen=True, eq=False)
class D2DNormalizer:
    """Entrywise standardisation of flattened gains and the SNR scale ``P / sigma^2``."""

    mean: np.ndarray
    std: np.ndarray
    snr_scale: float

    @classmethod
    def fit(cls, gains: np.ndarray, config: d2d.D2DConfig) -> D2DNormalizer:
        flat = gains.reshape(len(gains), -1)
        std = flat.std(axis=0)
        return cls(flat.mean(axis=0), np.where(std > 0, std, 1.0),
                   config.tx_power / config.noise_power)

    def inputs(self, gains: np.ndarray) -> np.ndarray:
        """Standardised flattened gains (network input and common information)."""
        return ((gains.reshape(len(gains), -1) - self.mean) / self.std).astype(np.float32)

    def targets(self, gains: np.ndarray) -> np.ndarray:
        """Gains scaled by ``P / sigma^2`` (so that the noise term is 1), float32."""
        return (gains * self.snr_scale).astype(np.float32)


def torch_sinr(p: torch.Tensor, g_snr: torch.Tensor) -> torch.Tensor:
    """SINR of each link for powers ``p`` (batch, N) and gains scaled by ``P/sigma^2``."""
    rx = g_snr * p[:, None, :]
    direct = torch.diagonal(rx, dim1=-2, dim2=-1)
    return direct / (rx.sum(dim=-1) - direct + 1.0)


def _sum_rate_loss(p, g):
    return -torch.log1p(torch_sinr(p, g)).sum(dim=-1).mean()


def _min_rate_loss(p, g):
    return -torch.log1p(torch_sinr(p, g)).min(dim=-1).values.mean()


def d2d_task(n_links: int = 10) -> TransferTask:
    """The paper's D2D networks: feature 100-150-150-100, heads 100-40-20-N, decoder 100-200-100."""
    n2 = n_links * n_links
    return TransferTask(
        name="d2d",
        feature_sizes=(n2, 150, 150, n2),
        source_head_sizes=(n2, 40, 20, n_links),
        target_head_sizes=(n2, 40, 20, n_links),
        decoder_sizes=(n2, 200, n2),
        source_activation=ScaledSigmoid,
        target_activation=ScaledSigmoid,
        source_loss=_sum_rate_loss,
        target_loss=_min_rate_loss,
    )


def d2d_transfer_data(n_source_train: int, n_source_val: int, n_target_train: int,
                      n_target_val: int, config: d2d.D2DConfig | None = None, *, seed=0):
    """Fresh layouts for source and target training; returns ``(TransferData, normalizer)``."""
    cfg = config or d2d.D2DConfig()
    sizes = {"n_source_train": n_source_train, "n_source_val": n_source_val,
             "n_target_train": n_target_train, "n_target_val": n_target_val}
    for k, v in sizes.items():
        d2d._positive_int(v, k)
    rng = np.random.default_rng(seed)
    total = sum(sizes.values())
    _, _, dist = d2d.generate_layouts(total, cfg, seed=rng)
    g = d2d.channel_gains(dist, cfg, seed=rng)
    cuts = np.cumsum(list(sizes.values()))[:-1]
    gs, gsv, gt, gtv = np.split(g, cuts)
    norm = D2DNormalizer.fit(gs, cfg)
    xs = norm.inputs(gs)
    xsv = norm.inputs(gsv)
    data = TransferData(
        source_train=(xs, norm.targets(gs), xs),
        source_val=(xsv, norm.targets(gsv), xsv),
        target_train=(norm.inputs(gt), norm.targets(gt)),
        target_val=(norm.inputs(gtv), norm.targets(gtv)),
    )
    return data, norm


def evaluate_power(model: nn.Module, gains: np.ndarray, norm: D2DNormalizer) -> np.ndarray:
    """Powers chosen by ``model`` for layouts ``gains`` (numpy, float64, in [0, 1])."""
    model = model.cpu().eval()
    with torch.no_grad():
        p = model(torch.as_tensor(norm.inputs(gains)))
    return np.clip(p.double().numpy(), 0.0, 1.0)
