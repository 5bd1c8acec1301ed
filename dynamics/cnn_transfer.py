r"""Downstream initialisation by partial parameter transfer (Yuan et al. 2025, Algorithm 1).

Spec §4.4.  Filter-level reading (default, the seed's Algorithm 1): for each class ``j`` a
uniformly random set :math:`S_j\subset[m]` of :math:`\lfloor\alpha m\rfloor` filters keeps
the upstream weights, the others are fresh :math:`N(0,\sigma_0^2 I)`.  Entry-level reading
(alternative): :math:`\tilde w = M\odot w^{up} + (1-M)\odot w^{fresh}` with
:math:`M_{j,r,l}\sim\mathrm{Bernoulli}(\alpha)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dynamics.checks import check_finite, check_real, float_array
from dynamics.cnn_setting import TRANSFER_MODES

__all__ = ["transfer_init", "TransferInit", "n_inherited"]


def n_inherited(alpha: float, m: int) -> int:
    r""":math:`\lfloor \alpha m\rfloor`, robust to the rounding of ``alpha * m``."""
    return int(math.floor(alpha * m + 1e-9))


@dataclass(frozen=True, eq=False)
class TransferInit:
    """Downstream initial filters.

    Attributes
    ----------
    weights : ndarray, shape (2, m, d)
    mask : ndarray of bool
        Inherited filters, shape (2, m) (``mode="filter"``) or entries, shape (2, m, d).
    mode : str
    alpha : float
    """

    weights: np.ndarray
    mask: np.ndarray
    mode: str
    alpha: float

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "alpha": self.alpha,
            "inherited_fraction": float(self.mask.mean()) if self.mask.size else 0.0,
        }


def transfer_init(
    W_upstream: np.ndarray,
    alpha: float,
    rng: np.random.Generator | int | None,
    mode: str = "filter",
    sigma_0: float = 0.01,
    *,
    fresh: np.ndarray | None = None,
) -> TransferInit:
    r"""Inherit an :math:`\alpha`-proportion of the upstream filters (Yuan et al. 2025, Alg. 1).

    Parameters
    ----------
    W_upstream : ndarray, shape (2, m, d)
        Trained upstream filters.
    alpha : float
        Inheritance ratio in [0, 1].
    rng : numpy Generator or seed
        Draws the inherited set (and the fresh filters if ``fresh`` is not given).
    mode : {"filter", "entry"}
    sigma_0 : float
        Scale of the fresh filters.
    fresh : ndarray, shape (2, m, d), optional
        Fresh filters to use instead of a new draw (for paired comparisons with scratch runs).

    Returns
    -------
    TransferInit
    """
    W_up = float_array("W_upstream", W_upstream)
    if W_up.ndim != 3 or W_up.shape[0] != 2 or 0 in W_up.shape:
        raise ValueError(f"W_upstream has shape {W_up.shape}: expected (2, m, d), m, d >= 1")
    check_finite("W_upstream", W_up)
    alpha = check_real("alpha", alpha)
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha = {alpha}: inheritance ratio must lie in [0, 1]")
    if mode not in TRANSFER_MODES:
        raise ValueError(f"mode = {mode!r}: must be one of {TRANSFER_MODES}")
    sigma_0 = check_real("sigma_0", sigma_0, positive=True)
    rng = np.random.default_rng(rng)
    _, m, d = W_up.shape
    if fresh is None:
        fresh = sigma_0 * rng.standard_normal(W_up.shape)
    else:
        fresh = float_array("fresh", fresh)
        if fresh.shape != W_up.shape:
            raise ValueError(f"fresh has shape {fresh.shape}: expected {W_up.shape}")
        check_finite("fresh", fresh)
    if mode == "filter":
        k = n_inherited(alpha, m)
        mask = np.zeros((2, m), dtype=bool)
        for j in range(2):
            mask[j, rng.choice(m, size=k, replace=False)] = True
        W = np.where(mask[..., None], W_up, fresh)
    else:
        mask = rng.random(W_up.shape) < alpha
        W = np.where(mask, W_up, fresh)
    return TransferInit(weights=W, mask=mask, mode=mode, alpha=float(alpha))
