"""Partial parameter transfer for :class:`nets.TwoLayerReLUCNN` (Yuan et al. 2025, Algorithm 1).

``mode="filter"``: for each class, ``floor(alpha m)`` uniformly chosen filters keep their
upstream weights, the rest are fresh ``N(0, sigma_0^2 I)``.  ``mode="entry"``: each weight
entry is inherited independently with probability ``alpha``.
"""

from __future__ import annotations

import math

import torch

from nets.checks import as_generator, check_finite_tensor, check_positive

__all__ = ["transfer_filters"]


def transfer_filters(
    upstream_weight,
    alpha: float,
    *,
    sigma_0: float = 0.01,
    generator: torch.Generator | None = None,
    mode: str = "filter",
    fresh=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Downstream initial filters and the mask of inherited filters (or entries).

    Parameters
    ----------
    upstream_weight : tensor, shape (2, m, d)
    alpha : float
        Inheritance ratio in [0, 1].
    sigma_0 : float
        Scale of fresh filters.
    generator : torch.Generator or int, optional
        Source of the draws, or an integer seed; ``None`` uses a generator seeded with
        :data:`nets.checks.DEFAULT_SEED`, so the same call gives the same result.
    mode : {"filter", "entry"}
    fresh : tensor, shape (2, m, d), optional
        Fresh filters to use instead of a new draw.

    Returns
    -------
    weight : tensor, shape (2, m, d)
    mask : bool tensor, shape (2, m) for ``"filter"``, (2, m, d) for ``"entry"``
    """
    W = torch.as_tensor(upstream_weight).detach()
    if W.ndim != 3 or W.shape[0] != 2 or 0 in W.shape:
        raise ValueError(f"upstream_weight has shape {tuple(W.shape)}: expected (2, m, d)")
    if not W.is_floating_point():
        W = W.to(torch.float64)
    check_finite_tensor("upstream_weight", W)
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        a = math.nan
    if isinstance(alpha, bool) or not 0 <= a <= 1:
        raise ValueError(f"alpha = {alpha!r}: inheritance ratio must lie in [0, 1]")
    alpha = a
    check_positive("sigma_0", sigma_0, "scale of fresh filters must be a positive finite number")
    if mode not in ("filter", "entry"):
        raise ValueError(f"mode = {mode!r}: must be 'filter' or 'entry'")
    generator = as_generator(generator)
    _, m, d = W.shape
    if fresh is None:
        fresh = torch.randn(W.shape, generator=generator, dtype=W.dtype) * sigma_0
    fresh = torch.as_tensor(fresh, dtype=W.dtype).to(W.device)
    if fresh.shape != W.shape:
        raise ValueError(f"fresh has shape {tuple(fresh.shape)}: expected {tuple(W.shape)}")
    check_finite_tensor("fresh", fresh)
    if mode == "filter":
        k = int(math.floor(alpha * m + 1e-9))
        mask = torch.zeros((2, m), dtype=torch.bool)
        for j in range(2):
            mask[j, torch.randperm(m, generator=generator)[:k]] = True
        mask = mask.to(W.device)
        out = torch.where(mask[..., None], W, fresh)
    else:
        mask = (torch.rand(W.shape, generator=generator, dtype=W.dtype) < alpha).to(W.device)
        out = torch.where(mask, W, fresh)
    return out.clone(), mask
