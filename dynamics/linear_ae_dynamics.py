r"""Gradient-flow and gradient-descent dynamics of a linear autoencoder per eigen-direction.

Loss :math:`L(E,Z)=\mathbb E\|x-ZEx\|^2` with :math:`\Sigma=\sum_i\lambda_iv_iv_i^\top`.  With
the balanced initialisation aligned with the eigenvectors, :math:`E=\mathrm{diag}(u)V^\top`,
:math:`Z=V\mathrm{diag}(u)`, the modes decouple (Saxe, McClelland & Ganguli 2014 for deep
linear networks; derivation for this loss in ``docs/linear_reconstruction_theory.md``,
section 4):

.. math::

    \dot u_i = 2\lambda_iu_i(1-u_i^2),\qquad p_i=u_i^2:\quad \dot p_i=4\lambda_ip_i(1-p_i),
    \qquad p_i(t)=\frac{p_0e^{4\lambda_it}}{1-p_0+p_0e^{4\lambda_it}},

and the loss along direction :math:`i` is :math:`\lambda_i(1-p_i)^2`.  Gradient descent with
step :math:`\eta` is exactly :math:`u_i\leftarrow u_i+2\eta\lambda_iu_i(1-u_i^2)`.  The time
constant is :math:`1/(4\lambda_i)` and the time to learn half of direction ``i`` is
:math:`\ln((1-p_0)/p_0)/(4\lambda_i)`: low-variance directions, which can carry the labels,
are learned last (Balestriero & LeCun 2024, Fig. 1).
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from dynamics.checks import check_real
from dynamics.linear_reconstruction import check_data

MAX_GD_STEPS = 10_000_000

__all__ = [
    "mode_strengths",
    "mode_losses",
    "time_constants",
    "half_times",
    "subspace_loss_curves",
    "per_direction_loss",
]


def _eig(eigenvalues) -> np.ndarray:
    lam = check_data("eigenvalues", eigenvalues, 1)
    if np.any(lam <= 0):
        raise ValueError("eigenvalues must be positive (drop null directions first)")
    return lam


def _p0(init) -> float:
    if isinstance(init, bool) or not isinstance(init, Real) or not 0 < init < 1:
        raise ValueError(f"init = {init!r}: initial strength p0 = u0^2 must lie in (0, 1)")
    return float(init)


def mode_strengths(eigenvalues, times, init: float = 1e-4, lr: float | None = None) -> np.ndarray:
    r"""Strength :math:`p_i(t)=u_i(t)^2` of every eigen-direction, shape ``(T, D)``.

    Parameters
    ----------
    eigenvalues : array (D,)
        :math:`\lambda_i>0`.
    times : array (T,)
        Continuous times (``lr=None``: logistic gradient flow) or GD step counts (``lr``
        given: the exact GD recursion, integer steps).
    init : float
        :math:`p_0=u_0^2` of every mode.
    lr : float, optional
        GD step size :math:`\eta`; stable for :math:`\eta\lambda_{\max}<1/2`.
    """
    lam = _eig(eigenvalues)
    p0 = _p0(init)
    t = check_data("times", times, 1)
    if np.any(t < 0):
        raise ValueError("times must be >= 0")
    if lr is None:
        z = np.clip(4.0 * np.outer(t, lam) + math.log(p0 / (1 - p0)), -700, 700)
        return 1.0 / (1.0 + np.exp(-z))
    if isinstance(lr, bool) or not isinstance(lr, Real) or not 0 < lr * lam.max() < 0.5:
        raise ValueError(f"lr = {lr!r}: need 0 < lr * max eigenvalue < 1/2 for stable GD")
    if t.max() > MAX_GD_STEPS:
        raise ValueError(f"times has a step count {t.max():g}: the GD recursion is run step by "
                         f"step, at most {MAX_GD_STEPS} steps")
    steps = t.astype(int)
    if np.any(steps != t):
        raise ValueError("times must be integer step counts when lr is given")
    out = np.empty((t.size, lam.size))
    u = np.full(lam.size, math.sqrt(p0))
    k = 0
    order = np.argsort(steps)
    for j in order:
        while k < steps[j]:
            u = u + 2.0 * lr * lam * u * (1.0 - u * u)
            k += 1
        out[j] = u * u
    return out


def mode_losses(eigenvalues, strengths) -> np.ndarray:
    r"""Loss per direction :math:`\lambda_i(1-p_i)^2` (broadcast over leading axes)."""
    lam = _eig(eigenvalues)
    p = check_data("strengths", strengths, max(np.ndim(strengths), 1))
    if p.shape[-1] != lam.size:
        raise ValueError(f"strengths has shape {p.shape}: the last axis must have one entry per "
                         f"eigenvalue ({lam.size})")
    return lam * (1.0 - p) ** 2


def time_constants(eigenvalues) -> np.ndarray:
    r""":math:`\tau_i=1/(4\lambda_i)` of the logistic gradient flow."""
    return 1.0 / (4.0 * _eig(eigenvalues))


def half_times(eigenvalues, init: float = 1e-4) -> np.ndarray:
    r"""Time at which :math:`p_i=1/2`: :math:`\ln((1-p_0)/p_0)/(4\lambda_i)`."""
    p0 = _p0(init)
    return math.log((1 - p0) / p0) * time_constants(eigenvalues)


def per_direction_loss(cov, directions, product) -> np.ndarray:
    r"""Loss of a trained linear AE along given unit directions.

    :math:`\ell_i=v_i^\top(I-P)\Sigma(I-P)^\top v_i` for the end-to-end map :math:`P=ZE`
    (``D x D``); for the eigenvectors of :math:`\Sigma` these sum to the total loss.
    """
    s = check_data("cov", cov)
    v = check_data("directions", directions)
    P = check_data("product", product)
    D = s.shape[0]
    if s.shape != (D, D) or P.shape != (D, D) or v.shape[0] != D:
        raise ValueError(f"cov {s.shape}, product {P.shape} and directions {v.shape} must "
                         f"share the dimension D")
    R = (np.eye(D) - P) @ s @ (np.eye(D) - P).T
    return np.einsum("di,de,ei->i", v, R, v)


def subspace_loss_curves(eigenvalues, strengths, variance_fraction: float = 0.75):
    r"""Normalised loss of the top and bottom eigen-subspaces over time.

    The top subspace holds the leading directions whose cumulative variance is at most
    ``variance_fraction``; the bottom subspace the rest.  Returns ``(top, bottom)`` arrays of
    shape ``(T,)``, each the subspace loss divided by its value at :math:`p=0`.
    """
    lam = _eig(eigenvalues)
    f = check_real("variance_fraction", variance_fraction)
    if not 0 < f < 1:
        raise ValueError(f"variance_fraction = {variance_fraction!r}: must lie in (0, 1)")
    order = np.argsort(lam)[::-1]
    cum = np.cumsum(lam[order]) / lam.sum()
    top = np.zeros(lam.size, bool)
    top[order[cum <= f]] = True
    top[order[0]] = True
    loss = mode_losses(lam, strengths)
    return (loss[..., top].sum(-1) / lam[top].sum(),
            loss[..., ~top].sum(-1) / max(lam[~top].sum(), 1e-300))
