r"""Linear transfer with a reconstruction loss (Cui & Yu 2024, linear version).

Source stage: a linear encoder :math:`E` (``K x D``), a source head :math:`(W,b)` and a decoder
:math:`Z` are trained jointly on

.. math::  \frac1N\sum_i\Big[\frac1{c_s}\|y_{s,i}-b-WEx_i\|^2+\frac{\alpha}{D}\|x_i-ZEx_i\|^2\Big]

(mean-reduced squared errors, as ``MSELoss`` in the authors' code).  Target stage: ``E`` is
frozen and a head :math:`\hat y=\hat b+\hat wEx` is fitted by ordinary least squares on the
target samples.  Knows nothing of the theory (that lives in ``dynamics``).
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch
from torch import nn

from nets.autoencoders import TrainResult, as_data, train_lbfgs
from nets.checks import check_count

__all__ = ["JointLinearModel", "joint_loss", "profiled_joint_loss", "train_joint", "fit_ols_head",
           "predict_head"]


class JointLinearModel(nn.Module):
    """Encoder ``E`` (no bias), source head ``W`` (with bias) and decoder ``Z`` (no bias)."""

    def __init__(self, dim: int, width: int, n_source: int, seed: int = 0,
                 dtype=torch.float64):
        super().__init__()
        for name, v in (("dim", dim), ("width", width), ("n_source", n_source)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} = {v!r}: must be a positive integer")
        if width > dim:
            raise ValueError(f"width = K = {width}: must be <= the input dimension D = {dim}")
        seed = check_count("seed", seed, 0)
        self.encoder = nn.Linear(dim, width, bias=False, dtype=dtype)
        self.head = nn.Linear(width, n_source, bias=True, dtype=dtype)
        self.decoder = nn.Linear(width, dim, bias=False, dtype=dtype)
        g = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for lin in (self.encoder, self.head, self.decoder):
                lin.weight.copy_(torch.randn(lin.weight.shape, generator=g, dtype=dtype)
                                 / math.sqrt(lin.weight.shape[1]))
            self.head.bias.zero_()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return self.head(z), self.decoder(z)


def joint_loss(model: JointLinearModel, x: torch.Tensor, ys: torch.Tensor,
               alpha: float) -> torch.Tensor:
    """Source loss plus ``alpha`` times the reconstruction loss (both mean-reduced)."""
    pred, rec = model(x)
    return ((ys - pred) ** 2).mean() + alpha * ((x - rec) ** 2).mean()


def _tensor(name: str, a, dtype, device) -> torch.Tensor:
    if np.ndim(a) == 1:
        a = np.asarray(a)[:, None] if not isinstance(a, torch.Tensor) else a[:, None]
    return as_data(name, a, dtype, device)


def profiled_joint_loss(encoder: torch.Tensor, x: torch.Tensor, ys: torch.Tensor,
                        alpha: float) -> torch.Tensor:
    r"""Joint loss with the source head (and bias) and the decoder at their least-squares optimum.

    With features :math:`F=XE^\top` (``x`` centred), the optimal heads give
    :math:`\frac1N[\frac1{c_s}(\|Y_c\|^2-\mathrm{tr}\,G^{-1}F^\top Y_cY_c^\top F)
    +\frac{\alpha}{D}(\|X\|^2-\mathrm{tr}\,G^{-1}F^\top XX^\top F)]`, :math:`G=F^\top F`
    (variable projection).
    """
    F = x @ encoder.T
    G = F.T @ F
    yc = ys - ys.mean(0)
    a = F.T @ yc
    r = F.T @ x
    n, d = x.shape
    src = ((yc ** 2).sum() - (a * torch.linalg.solve(G, a)).sum()) / (n * ys.shape[1])
    rec = ((x ** 2).sum() - (r * torch.linalg.solve(G, r)).sum()) / (n * d)
    return src + alpha * rec


def train_joint(X, Y_source, width: int, alpha: float, *, method: str = "varpro", seed: int = 0,
                max_iter: int = 4000, tol: float = 1e-11, strict: bool = False,
                device: str | torch.device = "cpu") -> tuple[JointLinearModel, TrainResult]:
    """Train the joint linear model by full-batch L-BFGS (float64) on the source data.

    ``method="full"`` optimises encoder, heads and decoder together; ``method="varpro"``
    (default, much faster on ill-conditioned data) optimises the encoder with the heads at
    their least-squares optimum (:func:`profiled_joint_loss`, ``X`` must be centred) and sets
    the heads to that optimum at the end.  Both minimise the same objective.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not (
            math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha = {alpha!r}: reconstruction weight must be a finite number >= 0")
    if method not in ("full", "varpro"):
        raise ValueError(f"method = {method!r}: choose 'full' or 'varpro'")
    x = _tensor("X", X, torch.float64, device)
    ys = _tensor("Y_source", Y_source, torch.float64, device)
    if ys.shape[0] != x.shape[0]:
        raise ValueError(f"X has {x.shape[0]} rows but Y_source has {ys.shape[0]}: shapes "
                         "mismatch")
    if x.shape[0] < 2:
        raise ValueError(f"X has {x.shape[0]} rows: need at least 2 samples")
    model = JointLinearModel(x.shape[1], width, ys.shape[1],
                             seed=check_count("seed", seed, 0)).to(device)
    if method == "full":
        res = train_lbfgs(model.parameters(), lambda: joint_loss(model, x, ys, float(alpha)),
                          max_iter=max_iter, tol=tol, strict=strict)
        return model, res
    E = model.encoder.weight
    res = train_lbfgs([E], lambda: profiled_joint_loss(E, x, ys, float(alpha)),
                      max_iter=max_iter, tol=tol, strict=strict)
    with torch.no_grad():
        F = x @ E.T
        A = torch.cat([torch.ones(len(F), 1, dtype=F.dtype, device=F.device), F], 1)
        coef = torch.linalg.lstsq(A, ys).solution
        model.head.bias.copy_(coef[0])
        model.head.weight.copy_(coef[1:].T)
        model.decoder.weight.copy_(torch.linalg.lstsq(F, x).solution.T)
    return model, res


def fit_ols_head(features, y, intercept: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares head ``y ~ b + w z``; returns ``w`` (``c_t x K``) and ``b`` (``c_t``)."""
    Z = _finite_array("features", features)
    Y = _finite_array("y", y)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if not isinstance(intercept, bool | np.bool_):
        raise ValueError(f"intercept = {intercept!r}: must be True or False")
    if Z.ndim != 2 or Y.ndim != 2 or Z.shape[0] != Y.shape[0]:
        raise ValueError(f"features have shape {Z.shape} and y {Y.shape}: need (n, K) and "
                         "(n, c) with the same n")
    A = np.hstack([np.ones((Z.shape[0], 1)), Z]) if intercept else Z
    if A.shape[0] < A.shape[1]:
        raise ValueError(f"n_t = {A.shape[0]} samples for {A.shape[1]} head parameters: the OLS "
                         "head is not determined")
    coef, *_ = np.linalg.lstsq(A, Y, rcond=None)
    if intercept:
        return coef[1:].T, coef[0]
    return coef.T, np.zeros(Y.shape[1])


def predict_head(w: np.ndarray, b: np.ndarray, features) -> np.ndarray:
    """``b + features @ w.T``."""
    w, b, Z = _finite_array("w", w), _finite_array("b", b), _finite_array("features", features)
    if w.ndim != 2 or Z.ndim != 2 or Z.shape[1] != w.shape[1] or b.shape not in (
            (w.shape[0],), ()):
        raise ValueError(f"w {w.shape}, b {b.shape} and features {Z.shape}: need (c, K), (c,) "
                         "and (n, K)")
    return b + Z @ w.T


def _finite_array(name: str, a) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected real numbers, got {arr.dtype} entries")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr
