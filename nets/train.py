"""Full-batch gradient descent of :class:`nets.TwoLayerReLUCNN` (SGD, no momentum, no decay)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

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

    :math:`W^{(t+1)} = W^{(t)} - \eta\nabla L_S(W^{(t)})` (spec §3), with
    ``torch.optim.SGD(lr=eta, momentum=0, weight_decay=0)``.

    Parameters
    ----------
    model : TwoLayerReLUCNN
    x : tensor, shape (n, P, d)
    y : tensor, shape (n,)
        Labels in {-1, +1}.
    eta : float
    steps : int
    record_every : int, optional
        Record the weights every this many steps (the first and last step always);
        ``None``: only the first and the last.

    Returns
    -------
    TorchTrainResult
    """
    if not eta > 0:
        raise ValueError(f"eta = {eta}: learning rate must be positive")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps = {steps}: must be a non-negative integer")
    steps = int(steps)
    every = max(steps, 1) if record_every is None else int(record_every)
    if every < 1:
        raise ValueError(f"record_every = {record_every}: must be a positive integer")
    w = model.weight
    x = torch.as_tensor(x, dtype=w.dtype, device=w.device)
    y = torch.as_tensor(y, dtype=w.dtype, device=w.device)
    if y.shape != (x.shape[0],):
        raise ValueError(f"y has shape {tuple(y.shape)}: expected ({x.shape[0]},)")
    opt = torch.optim.SGD(model.parameters(), lr=eta, momentum=0.0, weight_decay=0.0)
    losses = np.zeros(steps + 1)
    rec_steps, rec_w = [], []
    for t in range(steps + 1):
        opt.zero_grad(set_to_none=True)
        loss = logistic_risk(model(x), y)
        val = float(loss.detach())
        if not np.isfinite(val):
            raise NonFiniteLossError(f"training loss is not finite at step {t}; reduce eta")
        losses[t] = val
        if t % every == 0 or t == steps:
            rec_steps.append(t)
            rec_w.append(w.detach().to("cpu", torch.float64).numpy().copy())
        if t == steps:
            break
        loss.backward()
        opt.step()
    return TorchTrainResult(steps=np.array(rec_steps), weights=np.stack(rec_w), loss=losses)
