r"""Optimal linear encoders: the generalised-eigenvector lemma and its special cases.

Balestriero & LeCun, *Learning by Reconstruction Produces Uninformative Features For
Perception* (ICML 2024), linear model; derivation in ``docs/linear_reconstruction_theory.md``.

General lemma.  For a per-sample target :math:`t\in\mathbb R^C`, a (possibly noisy) input
:math:`\tilde x\in\mathbb R^D`, an encoder :math:`E\in\mathbb R^{K\times D}` and a head
:math:`H\in\mathbb R^{C\times K}`,

.. math::

    L(E,H)=\mathbb E\|t-HE\tilde x\|^2
          =\mathbb E\|t\|^2-2\operatorname{tr}(HEB^\top)+\operatorname{tr}(HEM_2E^\top H^\top),
    \qquad B=\mathbb E[t\tilde x^\top],\ M_2=\mathbb E[\tilde x\tilde x^\top].

The optimal head is :math:`H^\star=BE^\top(EM_2E^\top)^{-1}`, the profiled loss is
:math:`\mathbb E\|t\|^2-\operatorname{tr}[(EM_2E^\top)^{-1}EAE^\top]` with :math:`A=B^\top B`,
and it is minimised by the top-``K`` generalised eigenvectors of :math:`Av=\mu M_2v`, with
minimum :math:`\mathbb E\|t\|^2-\sum_{k\le K}\mu_k`.

Data convention: ``X`` has one sample per **row** (``N x D``); moments are per-sample averages
(:math:`\Sigma=X^\top X/N`), so losses are per-sample.  ``X`` is used as given (centre it
first if you want covariances).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.linalg as sla

from dynamics.checks import float_array
from dynamics.denoising_moments import (
    check_image_shape,
    gaussian_second_moment,
    masking_second_moment,
)

__all__ = [
    "LinearObjective",
    "LinearSolution",
    "reconstruction_objective",
    "supervised_objective",
    "joint_objective",
    "gaussian_dae_objective",
    "masking_dae_objective",
    "denoising_objective",
    "solve",
    "optimal_encoder",
    "optimal_head",
    "objective_loss",
    "subspace_distance",
    "check_data",
]


def check_data(name: str, X, ndim: int = 2) -> np.ndarray:
    """Float64 array of ``ndim`` dimensions, finite; ValueError naming ``name`` otherwise."""
    if np.iscomplexobj(X):
        raise ValueError(f"{name} is complex: expected a real numeric array")
    a = float_array(name, X)
    if a.ndim != ndim:
        raise ValueError(f"{name} has shape {a.shape}: expected a {ndim}-d array")
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape})")
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains inf")
    return a


def _labels_matrix(X: np.ndarray, Y) -> np.ndarray:
    y = check_data("Y", Y, np.ndim(Y))
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"Y has shape {np.shape(Y)} but X has shape {X.shape}: need one row of Y per row of X"
        )
    return y


def _check_weight(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, Real) or not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} = {v!r}: loss weight must be a finite number >= 0")
    return float(v)


@dataclass(frozen=True, eq=False)
class LinearObjective:
    r"""A linear least-squares objective :math:`\mathbb E\|t-HE\tilde x\|^2` by its moments.

    Attributes
    ----------
    cross : ndarray, shape (C, D)
        :math:`B=\mathbb E[t\tilde x^\top]`.
    second_moment : ndarray, shape (D, D)
        :math:`M_2=\mathbb E[\tilde x\tilde x^\top]` (symmetric positive definite).
    target_energy : float
        :math:`\mathbb E\|t\|^2`.
    name : str
        Label (``"reconstruction"``, ``"supervised"``, ...).
    """

    cross: np.ndarray
    second_moment: np.ndarray
    target_energy: float
    name: str = "custom"

    def __post_init__(self) -> None:
        b = check_data("cross", self.cross)
        m = check_data("second_moment", self.second_moment)
        if m.shape != (b.shape[1], b.shape[1]):
            raise ValueError(
                f"second_moment has shape {m.shape} but cross has shape {b.shape}: need "
                f"({b.shape[1]}, {b.shape[1]})"
            )
        if not np.allclose(m, m.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(m).max())):
            raise ValueError("second_moment is not symmetric")
        e = self.target_energy
        if isinstance(e, bool) or not isinstance(e, Real) or not (math.isfinite(e) and e >= 0):
            raise ValueError(f"target_energy = {e!r}: must be a finite number >= 0")
        object.__setattr__(self, "cross", b)
        object.__setattr__(self, "second_moment", 0.5 * (m + m.T))
        object.__setattr__(self, "target_energy", float(e))

    @property
    def dim(self) -> int:
        """Input dimension ``D``."""
        return self.cross.shape[1]

    @property
    def A(self) -> np.ndarray:
        r""":math:`A=B^\top B` (``D x D``)."""
        return self.cross.T @ self.cross


@dataclass(frozen=True, eq=False)
class LinearSolution:
    r"""Closed-form optimum of a :class:`LinearObjective` at width ``K``.

    Attributes
    ----------
    encoder : ndarray (K, D)
        Rows are the top-``K`` generalised eigenvectors, normalised so that
        :math:`EM_2E^\top=I`.
    head : ndarray (C, K)
        :math:`H^\star=BE^\top`.
    eigenvalues : ndarray (K,)
        :math:`\mu_1\ge\dots\ge\mu_K`.
    loss : float
        :math:`\mathbb E\|t\|^2-\sum_k\mu_k`.
    eigengap : float
        :math:`\mu_K-\mu_{K+1}` (``inf`` when ``K = D``); a zero gap means the optimal
        subspace is not unique (the loss still is).
    """

    encoder: np.ndarray
    head: np.ndarray
    eigenvalues: np.ndarray
    loss: float
    eigengap: float
    name: str = "custom"

    def to_dict(self) -> dict:
        return {"name": self.name, "K": int(self.encoder.shape[0]), "loss": self.loss,
                "eigenvalues": self.eigenvalues.tolist(), "eigengap": self.eigengap}


def _check_K(K, D: int) -> int:
    if isinstance(K, bool) or not isinstance(K, Integral) or not 1 <= K <= D:
        raise ValueError(f"K = {K!r}: encoder width must be an integer in [1, D = {D}]")
    return int(K)


def generalised_eigh(obj: LinearObjective, lo: int) -> tuple[np.ndarray, np.ndarray]:
    m = obj.second_moment
    w = np.linalg.eigvalsh(m)
    if not w[0] > 1e-12 * max(w[-1], 1e-300):
        raise ValueError(
            f"second_moment is singular or not positive definite (smallest eigenvalue "
            f"{w[0]:.3g}, largest {w[-1]:.3g}): use more samples than dimensions, add noise "
            "or jitter, or remove constant features"
        )
    D = obj.dim
    mu, V = sla.eigh(obj.A, m, subset_by_index=[lo, D - 1])
    return mu[::-1], V[:, ::-1]


def solve(obj: LinearObjective, K: int) -> LinearSolution:
    """Closed-form optimal encoder, head and loss of ``obj`` at width ``K`` (the lemma)."""
    if not isinstance(obj, LinearObjective):
        raise ValueError(f"obj: expected a LinearObjective, got {type(obj).__name__}")
    D = obj.dim
    K = _check_K(K, D)
    mu, V = generalised_eigh(obj, max(D - K - 1, 0))
    gap = math.inf if K == D else float(mu[K - 1] - mu[K])
    E = V[:, :K].T
    H = obj.cross @ E.T
    loss = obj.target_energy - float(np.sum(mu[:K]))
    return LinearSolution(E, H, mu[:K].copy(), loss, gap, obj.name)


def optimal_encoder(obj: LinearObjective, K: int) -> np.ndarray:
    """Top-``K`` generalised eigenvectors of ``(A, M2)`` as rows, ``E M2 E^T = I``."""
    return solve(obj, K).encoder


def _check_encoder(obj: LinearObjective, E) -> np.ndarray:
    if not isinstance(obj, LinearObjective):
        raise ValueError(f"obj: expected a LinearObjective, got {type(obj).__name__}")
    e = check_data("encoder", E)
    if e.shape[1] != obj.dim:
        raise ValueError(
            f"encoder has shape {e.shape}: needs {obj.dim} columns (the input dimension)"
        )
    return e


def optimal_head(obj: LinearObjective, E) -> np.ndarray:
    r""":math:`H^\star=BE^\top(EM_2E^\top)^{-1}` for a fixed encoder ``E`` (``K x D``)."""
    e = _check_encoder(obj, E)
    if np.linalg.matrix_rank(e) < e.shape[0]:
        raise ValueError(f"encoder ({e.shape[0]} x {e.shape[1]}) has linearly dependent rows: "
                         "the optimal head is not determined")
    G = e @ obj.second_moment @ e.T
    return np.linalg.solve(G, e @ obj.cross.T).T


def objective_loss(obj: LinearObjective, E, H=None) -> float:
    r"""Exact expected loss :math:`L(E,H)`; with ``H=None`` the optimal head is used."""
    e = _check_encoder(obj, E)
    h = optimal_head(obj, e) if H is None else check_data("head", H)
    if h.shape != (obj.cross.shape[0], e.shape[0]):
        raise ValueError(
            f"head has shape {h.shape}: need ({obj.cross.shape[0]}, {e.shape[0]})"
        )
    P = h @ e
    return float(obj.target_energy - 2.0 * np.sum(P * obj.cross)
                 + np.sum((P @ obj.second_moment) * P))


def subspace_distance(E1, E2) -> float:
    r"""Sine of the largest principal angle between the row spaces of ``E1`` and ``E2``.

    Equals the spectral norm of the difference of the orthogonal projectors; 0 when the two
    encoders span the same subspace (any invertible ``K x K`` reparametrisation).
    """
    a = check_data("E1", E1)
    b = check_data("E2", E2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"E1 has shape {a.shape} and E2 {b.shape}: dimensions differ")
    for name, m in (("E1", a), ("E2", b)):
        if not np.any(m):
            raise ValueError(f"{name} is zero: it spans no subspace")
    ang = sla.subspace_angles(a.T, b.T)
    return float(np.sin(np.max(ang)))


# ---- the special cases (Balestriero & LeCun 2024, linear model) ----------------------------
def _second(X: np.ndarray) -> np.ndarray:
    return X.T @ X / X.shape[0]


def reconstruction_objective(X) -> LinearObjective:
    r"""Autoencoder :math:`\mathbb E\|x-ZEx\|^2`: :math:`B=M_2=\Sigma`; optimum = top-K PCA."""
    X = check_data("X", X)
    s = _second(X)
    return LinearObjective(s, s, float(np.trace(s)), "reconstruction")


def supervised_objective(X, Y) -> LinearObjective:
    r"""Supervised :math:`\mathbb E\|y-WEx\|^2`: reduced-rank regression, :math:`B=Y^\top X/N`."""
    X = check_data("X", X)
    y = _labels_matrix(X, Y)
    return LinearObjective(y.T @ X / X.shape[0], _second(X),
                           float(np.sum(y * y) / X.shape[0]), "supervised")


def joint_objective(X, Y, lam) -> LinearObjective:
    r"""Joint :math:`\mathbb E\|y-WEx\|^2+\lambda\,\mathbb E\|x-ZEx\|^2`.

    Stacked target :math:`t=[y;\sqrt\lambda x]`: :math:`B=[Y^\top X/N;\sqrt\lambda\Sigma]`,
    so :math:`A=C^\top C+\lambda\Sigma^2` with :math:`C=Y^\top X/N`.
    """
    lam = _check_weight("lam", lam)
    X = check_data("X", X)
    y = _labels_matrix(X, Y)
    s = _second(X)
    b = np.vstack([y.T @ X / X.shape[0], math.sqrt(lam) * s])
    energy = float(np.sum(y * y) / X.shape[0] + lam * np.trace(s))
    return LinearObjective(b, s, energy, "joint")


def gaussian_dae_objective(X, sigma) -> LinearObjective:
    r"""Denoising AE with :math:`\tilde x=x+\sigma\xi`: :math:`M_2=\Sigma+\sigma^2I`.

    The generalised eigenvalues are :math:`\lambda_i^2/(\lambda_i+\sigma^2)`, increasing in
    :math:`\lambda_i`: the optimal subspace is top-K PCA for every :math:`\sigma`.
    """
    X = check_data("X", X)
    s = _second(X)
    return LinearObjective(s, gaussian_second_moment(s, sigma), float(np.trace(s)),
                           "gaussian_dae")


def masking_dae_objective(X, mask_ratio, image_shape, patch_size) -> LinearObjective:
    r"""Denoising AE with patch masking: :math:`B=(1-p)\Sigma`, :math:`M_2=\Sigma\odot\Pi`.

    See :func:`dynamics.denoising_moments.masking_second_moment`.
    """
    X = check_data("X", X)
    s = _second(X)
    check_image_shape(image_shape, X.shape[1])
    m2 = masking_second_moment(s, mask_ratio, image_shape, patch_size)
    return LinearObjective((1.0 - float(mask_ratio)) * s, m2, float(np.trace(s)), "masking_dae")


def denoising_objective(X, noise: str = "none", *, sigma: float = 0.0, mask_ratio: float = 0.0,
                        image_shape=None, patch_size=1) -> LinearObjective:
    """Reconstruction objective with ``noise`` in ``{"none", "gaussian", "mask"}``."""
    if noise == "none":
        return reconstruction_objective(X)
    if noise == "gaussian":
        return gaussian_dae_objective(X, sigma)
    if noise == "mask":
        if image_shape is None:
            raise ValueError("image_shape is None: masking needs the image shape (C, H, W)")
        return masking_dae_objective(X, mask_ratio, image_shape, patch_size)
    raise ValueError(f"noise = {noise!r}: choose 'none', 'gaussian' or 'mask'")
