r"""MISO as a transfer task: beamforming toward MRT (source) -> UE localization (target).

Cui & Yu (arXiv:2404.00505, Sec. V-C). Input: the ``n_bs x L`` received pilots standardised
entrywise (complex mean, real std of the source training set), real and imaginary parts
stacked (24 reals). Source: supervised MSE toward :math:`(\Re,\Im)\,\mathbf h_b/\|\mathbf h_b\|`
with per-BS unit-norm outputs; target: MSE of :math:`(\hat x,\hat y)=10+80\,\sigma(\cdot)`;
common information: the standardised factors :math:`(d_b,s_b,t_b)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nets.reconstruction import miso
from nets.reconstruction.methods import TransferData, TransferTask
from nets.reconstruction.model import BlockNormalize, ScaledSigmoid

__all__ = ["MISONormalizer", "miso_task", "miso_transfer_data", "beamformers_from_output",
           "evaluate_miso"]


@dataclass(frozen=True, eq=False)
class MISONormalizer:
    """Standardisation of pilots and factors with source-training statistics."""

    y_mean: np.ndarray
    y_std: np.ndarray
    f_mean: np.ndarray
    f_std: np.ndarray

    @classmethod
    def fit(cls, s: miso.MISOSamples) -> MISONormalizer:
        ym = s.y.mean(axis=0)
        ys = np.sqrt(np.mean(np.abs(s.y - ym) ** 2, axis=0))
        return cls(ym, ys, s.factors.mean(axis=0), s.factors.std(axis=0))

    def inputs(self, s: miso.MISOSamples) -> np.ndarray:
        z = ((s.y - self.y_mean) / self.y_std).reshape(len(s.y), -1)
        return np.concatenate([z.real, z.imag], axis=1).astype(np.float32)

    def factors(self, s: miso.MISOSamples) -> np.ndarray:
        return ((s.factors - self.f_mean) / self.f_std).astype(np.float32)


def _mrt_target(h: np.ndarray) -> np.ndarray:
    v = miso.mrt(h)
    return np.concatenate([v.real, v.imag], axis=-1).reshape(len(h), -1).astype(np.float32)


def beamformers_from_output(out, n_bs: int) -> np.ndarray:
    """Complex beamformers (n, n_bs, M) from the head's (n, 2 n_bs M) real output."""
    o = np.asarray(out, dtype=np.float64).reshape(len(out), n_bs, 2, -1)
    return o[:, :, 0] + 1j * o[:, :, 1]


def _mse(out, y):
    return torch.mean((out - y) ** 2)


def miso_task(config: miso.MISOConfig | None = None) -> TransferTask:
    """The paper's MISO networks (feature 24-150-150-150-100, decoder 100-50-50-9)."""
    cfg = config or miso.MISOConfig()
    d_in = 2 * cfg.n_bs * cfg.n_pilots
    d_out = 2 * cfg.n_bs * cfg.n_antennas

    def bf_act():
        return BlockNormalize(cfg.n_bs)

    def loc_act():
        return ScaledSigmoid(cfg.ue_low, cfg.ue_high)

    return TransferTask(
        name="miso",
        feature_sizes=(d_in, 150, 150, 150, 100),
        source_head_sizes=(100, 100, 100, d_out),
        target_head_sizes=(100, 125, 100, 75, 50, 2),
        decoder_sizes=(100, 50, 50, 3 * cfg.n_bs),
        source_activation=bf_act,
        target_activation=loc_act,
        source_loss=_mse,
        target_loss=_mse,
    )


def miso_transfer_data(system: miso.MISOSystem, n_source_train: int, n_source_val: int,
                       n_target_train: int, n_target_val: int, *, seed=0):
    """Fresh samples; returns ``(TransferData, normalizer)``."""
    rng = np.random.default_rng(seed)
    sets = [miso.generate_samples(n, system, seed=rng)
            for n in (n_source_train, n_source_val, n_target_train, n_target_val)]
    norm = MISONormalizer.fit(sets[0])
    src = [(norm.inputs(s), _mrt_target(s.h), norm.factors(s)) for s in sets[:2]]
    tgt = [(norm.inputs(s), s.ue.astype(np.float32)) for s in sets[2:]]
    return TransferData(src[0], src[1], tgt[0], tgt[1]), norm


def evaluate_miso(model: nn.Module, samples: miso.MISOSamples, norm: MISONormalizer,
                  kind: str, config: miso.MISOConfig | None = None) -> dict:
    r"""Metrics of a deployed model on test samples.

    ``kind="target"``: ``loc_error_m`` (mean Euclidean error in m). ``kind="source"``:
    ``gain_pct_mrt`` (mean over samples of :math:`\sum_b G_b / \sum_b\|h_b\|^2`, in %) and
    ``snr_db`` (SNR :math:`P_{BS}\sum_b G_b/\sigma^2` averaged in linear scale, in dB).
    """
    if kind not in ("source", "target"):
        raise ValueError(f"kind = {kind!r}: must be 'source' or 'target'")
    cfg = config or miso.MISOConfig()
    model = model.cpu().eval()
    with torch.no_grad():
        out = model(torch.as_tensor(norm.inputs(samples))).double().numpy()
    if kind == "target":
        return {"loc_error_m": float(np.linalg.norm(out - samples.ue, axis=1).mean())}
    h = samples.h
    g = miso.beamforming_gain(h, beamformers_from_output(out, h.shape[1])).sum(axis=1)
    return {"gain_pct_mrt": float(100 * np.mean(g / (np.abs(h) ** 2).sum(axis=(1, 2)))),
            "snr_db": float(10 * np.log10(np.mean(snr_linear(g, cfg))))}


def snr_linear(gain_sum, config: miso.MISOConfig) -> np.ndarray:
    """``P_BS * sum_b G_b / sigma^2`` (linear)."""
    return 10 ** ((config.bs_power_dbm - 30) / 10) * np.asarray(gain_sum) / config.noise_power
