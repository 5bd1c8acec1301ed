"""Full-batch gradient descent of :class:`nets.TwoLayerReLUCNN` (SGD, no momentum, no decay)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nets.checks import check_count, check_finite_tensor, check_labels, check_positive
from nets.cnn import TwoLayerReLUCNN, logistic_risk

__all__ = ["train_gd", "TorchTrainResult", "NonFiniteLossError"]


class NonFiniteLossError(ArithmeticError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True, eq=False)
class TorchTrainResult:
    """Recorded GD trajectory.

    Attributes
    ----------
    steps : ndarray of int, shape (T,)
    weights : ndarray, shape (T, 2, m, d)
        Filters at the recorded steps (float64 numpy copies).
    loss : ndarray, shape (steps + 1,)
        Training loss at every step.
    """

    steps: np.ndarray
    weights: np.ndarray
    loss: np.ndarray

    def to_dict(self) -> dict:
        return {"steps": self.steps, "loss": self.loss}


def train_gd(
    model: TwoLayerReLUCNN,
    x: torch.Tensor,
    y: torch.Tensor,
    eta: float,
    steps: int,
    *,
    record_every: int | None = None,
) -> TorchTrainResult:
    r"""Train ``model`` in place by full-batch GD on the logistic risk.

    :math:`W^{(t+1)} = W^{(t)} - \eta\nabla L_S(W^{(t)})` (Kou et al. 2023, §3;
    ``docs/cnn_theory.md``, section 2), with
    ``torch.optim.SGD(lr=eta, momentum=0, weight_decay=0)``.

    Parameters
    ----------
    model : TwoLayerReLUCNN
    x : tensor, shape (n, P, d)
    y : tensor, shape (n,)
        Labels in {-1, +1}.
    eta : float
        Learning rate, positive and finite.
    steps : int
        Number of GD steps (>= 0).
    record_every : int, optional
        Record the weights every this many steps (the first and last step always);
        ``None``: only the first and the last.

    Returns
    -------
    TorchTrainResult

    Raises
    ------
    ValueError
        For a bad argument (named), NaN or infinite inputs, labels other than +-1.
    NonFiniteLossError
        If GD diverges (the loss becomes NaN or infinite from finite inputs).
    """
    eta = check_positive("eta", eta, "learning rate must be a positive finite number")
    steps = check_count("steps", steps, 0)
    every = max(steps, 1) if record_every is None else check_count("record_every", record_every)
    if not isinstance(model, TwoLayerReLUCNN):
        raise ValueError(f"model: expected a TwoLayerReLUCNN, got {type(model).__name__}")
    w = model.weight
    try:
        x = torch.as_tensor(x, dtype=w.dtype, device=w.device)
        y = torch.as_tensor(y, dtype=w.dtype, device=w.device)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"x, y: expected numeric arrays or tensors ({err})") from None
    if x.ndim != 3 or x.shape[2] != model.d:
        raise ValueError(f"x has shape {tuple(x.shape)}: expected (n, P, {model.d})")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x has shape {tuple(x.shape)}: needs at least one sample and patch")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y has shape {tuple(y.shape)}: expected ({x.shape[0]},)")
    check_finite_tensor("x", x)
    check_finite_tensor("y", y)
    check_labels("y", y)
    opt = torch.optim.SGD(model.parameters(), lr=eta, momentum=0.0, weight_decay=0.0)
    losses = np.zeros(steps + 1)
    rec_steps, rec_w = [], []
    for t in range(steps + 1):
        opt.zero_grad(set_to_none=True)
        loss = logistic_risk(model(x), y)
        val = float(loss.detach())
        if not np.isfinite(val):
            raise NonFiniteLossError(f"training loss is not finite at step {t} (inputs are "
                                     f"finite): GD diverged; reduce eta = {eta:g}")
        losses[t] = val
        if t % every == 0 or t == steps:
            rec_steps.append(t)
            rec_w.append(w.detach().to("cpu", torch.float64).numpy().copy())
        if t == steps:
            break
        loss.backward()
        opt.step()
    return TorchTrainResult(steps=np.array(rec_steps), weights=np.stack(rec_w), loss=losses)
