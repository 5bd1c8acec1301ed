r"""Two-layer ReLU CNN with a fixed second layer (Kou et al. 2023; Yuan et al. 2025, §3).

.. math::

    f(W,x) = F_{+1}(W_{+1},x) - F_{-1}(W_{-1},x),\qquad
    F_j(W_j,x) = \frac1m\sum_{r=1}^m\sum_{p=1}^P \mathrm{ReLU}(\langle w_{j,r}, x^{(p)}\rangle).

The filters are shared across the ``P`` patches (a bias-free Conv1d with kernel = stride =
``d``); only the first layer is trained, the output weight of filter ``(j, r)`` is ``j/m``.
"""

from __future__ import annotations

import torch
from torch import nn

from nets.checks import as_generator, check_count, check_finite_tensor, check_positive

__all__ = ["TwoLayerReLUCNN", "logistic_risk", "default_device"]


def default_device() -> torch.device:
    """``cuda`` when available, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TwoLayerReLUCNN(nn.Module):
    """Bias-free two-layer ReLU CNN; ``weight[0]``: filters of j = +1, ``weight[1]``: j = -1.

    Parameters
    ----------
    d : int
        Patch dimension.
    m : int
        Filters per class.
    sigma_0 : float
        Initialisation scale, ``w ~ N(0, sigma_0^2 I)`` (ignored when ``weight`` is given);
        positive and finite.
    weight : tensor or array, shape (2, m, d), optional
        Initial filters (copied); must be finite.
    generator : torch.Generator or int, optional
        Source of the initial draw, or an integer seed. ``None`` uses a generator seeded with
        :data:`nets.checks.DEFAULT_SEED` (0): the same call builds the same model (the global
        torch seed is neither read nor changed). Pass distinct generators or seeds for
        independent models.
    dtype, device
        Default float64 on CPU.
    """

    def __init__(
        self,
        d: int,
        m: int,
        *,
        sigma_0: float = 0.01,
        weight=None,
        generator: torch.Generator | int | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        d = check_count("d", d)
        m = check_count("m", m)
        sigma_0 = check_positive("sigma_0", sigma_0, "initialisation scale must be a positive "
                                 "finite number")
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ValueError(f"dtype = {dtype!r}: must be a torch floating-point dtype")
        device = torch.device("cpu") if device is None else torch.device(device)
        if weight is None:
            w = torch.randn((2, m, d), generator=as_generator(generator), dtype=dtype,
                            device="cpu") * sigma_0
            w = w.to(device)
        else:
            w = torch.as_tensor(weight).detach().clone().to(dtype=dtype, device=device)
            if w.shape != (2, m, d):
                raise ValueError(f"weight has shape {tuple(w.shape)}: expected (2, {m}, {d})")
            check_finite_tensor("weight", w)
        self.d, self.m = int(d), int(m)
        self.weight = nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` of shape (n, P, d) -> ``f(W, x)`` of shape (n,)."""
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 3 or x.shape[2] != self.d:
            raise ValueError(f"x has shape {tuple(x.shape)}: expected (n, P, {self.d})")
        n, P, d = x.shape
        z = x.reshape(n * P, d) @ self.weight.reshape(2 * self.m, d).T  # (nP, 2m)
        F = torch.relu(z).reshape(n, P, 2, self.m).sum(dim=(1, 3)) / self.m
        return F[:, 0] - F[:, 1]


def logistic_risk(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r""":math:`L_S = \frac1n\sum_i \log(1+e^{-y_i f_i})` (softplus form)."""
    return torch.nn.functional.softplus(-y * f).mean()
