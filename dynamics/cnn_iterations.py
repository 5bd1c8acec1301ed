r"""The gamma / rho-bar / rho-underbar coefficient iterations of the two-task CNN.

Kou et al. 2023 (Lemma 5.3 form) adapted to the two-task data of Yuan et al. 2025
(structure inferred, equations derived in ``docs/cnn_theory.md``, section 4).  For task ``k`` with
signals ``u, v`` and noises :math:`\xi_i`,

.. math::

    w^{(t)}_{j,r} = w^{(0)}_{j,r} + j\gamma^{u,(t)}_{j,r}\frac{u}{\|u\|^2}
      + j\gamma^{v,(t)}_{j,r}\frac{v}{\|v\|^2}
      + \sum_i \big(\overline\rho^{(t)}_{j,r,i} + \underline\rho^{(t)}_{j,r,i}\big)
        \frac{\xi_i}{\|\xi_i\|^2},

and, with :math:`\ell'^{(t)}_i = \ell'(y_i f(W^{(t)}, x_i))`,

.. math::

    \gamma^{s,(t+1)}_{j,r} &= \gamma^{s,(t)}_{j,r} - \frac{\eta}{nm}\sum_i \ell'^{(t)}_i
        \sigma'(\langle w^{(t)}_{j,r}, \text{signal patch}\rangle)\hat y_i y_i\|s\|^2,\\
    \overline\rho^{(t+1)}_{j,r,i} &= \overline\rho^{(t)}_{j,r,i} - \frac{\eta}{nm}\ell'^{(t)}_i
        \sigma'(\langle w^{(t)}_{j,r},\xi_i\rangle)\|\xi_i\|^2\mathbb 1(y_i=j),\\
    \underline\rho^{(t+1)}_{j,r,i} &= \underline\rho^{(t)}_{j,r,i} + \frac{\eta}{nm}\ell'^{(t)}_i
        \sigma'(\langle w^{(t)}_{j,r},\xi_i\rangle)\|\xi_i\|^2\mathbb 1(y_i=-j).

The signal patch is :math:`\hat y_i(u+v)` (layout A, one indicator for both signals) or
:math:`\hat y_i u` and :math:`\hat y_i v` (layout B).  The inner products are evaluated from
the coefficients with the Gram quantities of ``docs/cnn_theory.md``, section 4.  This module is a
direct,
unoptimised transcription of those equations; it is the reference against which the
generic simulator :func:`dynamics.simulate_cnn_gd` is tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynamics.checks import check_count, check_finite, check_real, float_array
from dynamics.cnn_setting import TaskSample

__all__ = ["iterate_coefficients", "CoefficientPath"]


@dataclass(frozen=True, eq=False)
class CoefficientPath:
    r"""Output of :func:`iterate_coefficients` at every step ``t = 0..steps``.

    Attributes
    ----------
    gamma : ndarray, shape (steps + 1, 2, m, 2)
        :math:`\gamma^u` (last index 0) and :math:`\gamma^v` (last index 1).
    rho_bar, rho_under : ndarray, shape (steps + 1, 2, m, n)
    loss : ndarray, shape (steps + 1,)
    loss_derivative : ndarray, shape (steps, n)
        :math:`\ell'^{(t)}_i` used in update ``t -> t + 1``.
    """

    gamma: np.ndarray
    rho_bar: np.ndarray
    rho_under: np.ndarray
    loss: np.ndarray
    loss_derivative: np.ndarray

    @property
    def steps(self) -> np.ndarray:
        return np.arange(self.loss.shape[0])

    def to_dict(self) -> dict:
        return {
            "gamma": self.gamma,
            "rho_bar": self.rho_bar,
            "rho_under": self.rho_under,
            "loss": self.loss,
        }


def iterate_coefficients(
    sample: TaskSample, W0: np.ndarray, eta: float, steps: int
) -> CoefficientPath:
    r"""Iterate the coefficient recursions (Kou et al. 2023, Lemma 5.3 form) on one task sample.

    Parameters
    ----------
    sample : TaskSample
        Training data (layout A or B) with its signals and noise vectors.
    W0 : ndarray, shape (2, m, d)
        Initial filters (fresh or transferred; they enter only through
        :math:`\langle w^{(0)}, u\rangle`, :math:`\langle w^{(0)}, v\rangle`,
        :math:`\langle w^{(0)}, \xi_i\rangle`).
    eta : float
    steps : int

    Returns
    -------
    CoefficientPath
    """
    W0 = float_array("W0", W0)
    if W0.ndim != 3 or W0.shape[0] != 2 or W0.shape[2] != sample.xi.shape[1] \
            or W0.shape[1] < 1:
        raise ValueError(f"W0 has shape {W0.shape}: expected (2, m, {sample.xi.shape[1]}), "
                         "m >= 1")
    check_finite("W0", W0)
    eta = check_real("eta", eta, positive=True)
    steps = check_count("steps", steps, 0)
    m = W0.shape[1]
    n = sample.n
    s = sample.signals  # (2, d)
    xi = sample.xi
    y, yh = sample.y, sample.y_true
    s2 = np.einsum("kd,kd->k", s, s)
    inv_s2 = np.divide(1.0, s2, out=np.zeros(2), where=s2 > 0)
    xi2 = np.einsum("id,id->i", xi, xi)
    S = s @ s.T  # (2, 2)
    c = s @ xi.T  # (2, n)
    G = xi @ xi.T  # (n, n)
    a = W0 @ s.T  # (2, m, 2)
    b = W0 @ xi.T  # (2, m, n)
    j = np.array([1.0, -1.0])[:, None, None]
    is_j = (y[None, :] == np.array([1.0, -1.0])[:, None])[:, None, :]  # (2, 1, n)

    gamma = np.zeros((steps + 1, 2, m, 2))
    rho_bar = np.zeros((steps + 1, 2, m, n))
    rho_under = np.zeros((steps + 1, 2, m, n))
    loss = np.zeros(steps + 1)
    lprime = np.zeros((steps, n))
    scale = eta / (n * m)
    for t in range(steps + 1):
        g = gamma[t]
        rho = rho_bar[t] + rho_under[t]
        w_s = a + j * (g * inv_s2) @ S + (rho / xi2) @ c.T  # <w, s_k>, (2, m, 2)
        w_xi = b + j * (g * inv_s2) @ c + (rho / xi2) @ G  # <w, xi_i>, (2, m, n)
        if sample.layout == "A":
            z_sig = [yh[None, None, :] * (w_s[..., 0] + w_s[..., 1])[..., None]]
        else:
            z_sig = [yh[None, None, :] * w_s[..., k][..., None] for k in range(2)]
        act = sum(np.maximum(z, 0.0) for z in z_sig) + np.maximum(w_xi, 0.0)
        F = act.sum(axis=1) / m  # (2, n)
        f = F[0] - F[1]
        loss[t] = float(np.mean(np.logaddexp(0.0, -y * f)))
        if t == steps:
            break
        lp = -1.0 / (1.0 + np.exp(y * f))
        lprime[t] = lp
        if sample.layout == "A":
            ind = (z_sig[0] > 0).astype(float)  # (2, m, n)
            base = -scale * (ind * (lp * yh * y)).sum(axis=2)  # (2, m)
            gamma[t + 1] = g + base[..., None] * s2
        else:
            new = g.copy()
            for k in range(2):
                ind = (z_sig[k] > 0).astype(float)
                new[..., k] += -scale * (ind * (lp * yh * y)).sum(axis=2) * s2[k]
            gamma[t + 1] = new
        step = -scale * lp * (w_xi > 0) * xi2  # (2, m, n), >= 0
        rho_bar[t + 1] = rho_bar[t] + step * is_j
        rho_under[t + 1] = rho_under[t] - step * (~is_j)
    return CoefficientPath(
        gamma=gamma, rho_bar=rho_bar, rho_under=rho_under, loss=loss, loss_derivative=lprime
    )
