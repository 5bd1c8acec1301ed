r"""First and second moments of masked and Gaussian-noised inputs (denoising autoencoders).

For a clean input :math:`x\in\mathbb R^D` with second moment :math:`\Sigma=\mathbb E[xx^\top]`
and a noisy view :math:`\tilde x`, the linear denoising objective only sees
:math:`\mathbb E[x\tilde x^\top]` and :math:`M_2=\mathbb E[\tilde x\tilde x^\top]`
(Balestriero & LeCun 2024, linear model; docs/linear_reconstruction_theory.md, section 2).

* Additive isotropic Gaussian noise :math:`\tilde x=x+\sigma\xi`:
  :math:`\mathbb E[x\tilde x^\top]=\Sigma`, :math:`M_2=\Sigma+\sigma^2 I`.
* Patch masking: the image (flattened in ``(C, H, W)`` order) is cut, per channel, into
  non-overlapping ``ph x pw`` patches; each patch is zeroed independently with probability
  ``p`` (zero fill, no rescaling), :math:`\tilde x = m\odot x`. Then
  :math:`\mathbb E[x\tilde x^\top]=(1-p)\Sigma` and

  .. math::  M_2 = \Sigma\odot\Pi,\qquad \Pi_{ij}=\begin{cases}1-p & i,j\ \text{same patch}\\
             (1-p)^2 & \text{otherwise,}\end{cases}

  i.e. :math:`M_2=(1-p)^2\Sigma+p(1-p)\,\mathrm{blockdiag}_{\rm patch}(\Sigma)`.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from dynamics.checks import as_rng

__all__ = [
    "check_image_shape",
    "check_mask_ratio",
    "patch_labels",
    "same_patch_matrix",
    "masking_second_moment",
    "gaussian_second_moment",
    "sample_masks",
]


def check_image_shape(image_shape, dim: int | None = None) -> tuple[int, int, int]:
    """Validate ``image_shape`` (``(H, W)`` or ``(C, H, W)``) and return it as ``(C, H, W)``."""
    try:
        shape = tuple(image_shape)
    except TypeError:
        raise ValueError(f"image_shape = {image_shape!r}: must be (H, W) or (C, H, W)") from None
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or any(
        isinstance(s, bool) or not isinstance(s, Integral) or s < 1 for s in shape
    ):
        raise ValueError(
            f"image_shape = {image_shape!r}: must be (H, W) or (C, H, W) of positive integers"
        )
    shape = tuple(int(s) for s in shape)
    if dim is not None and math.prod(shape) != dim:
        raise ValueError(
            f"image_shape = {image_shape!r} has {math.prod(shape)} pixels but the data have "
            f"dimension {dim}"
        )
    return shape


def _check_patch(patch_size, shape: tuple[int, int, int]) -> tuple[int, int]:
    ps = (patch_size, patch_size) if isinstance(patch_size, Integral) else tuple(patch_size)
    if len(ps) != 2 or any(isinstance(s, bool) or not isinstance(s, Integral) or s < 1
                           for s in ps):
        raise ValueError(f"patch_size = {patch_size!r}: must be a positive integer or (ph, pw)")
    _, h, w = shape
    if h % ps[0] or w % ps[1]:
        raise ValueError(
            f"patch_size = {patch_size!r} does not divide the image size {h}x{w} "
            "(patches are non-overlapping and must tile the image)"
        )
    return int(ps[0]), int(ps[1])


def check_mask_ratio(mask_ratio) -> float:
    """Validate a masking probability, allowed range [0, 1)."""
    if isinstance(mask_ratio, bool) or not isinstance(mask_ratio, Real) \
            or not 0.0 <= float(mask_ratio) < 1.0:
        raise ValueError(f"mask_ratio = {mask_ratio!r}: must lie in [0, 1)")
    return float(mask_ratio)


def patch_labels(image_shape, patch_size) -> np.ndarray:
    """Patch index of every pixel of a flattened ``(C, H, W)`` image.

    Patches are non-overlapping ``ph x pw`` blocks of each channel (different channels never
    share a patch), numbered channel-major.

    Returns
    -------
    ndarray of int, shape (C*H*W,)
    """
    c, h, w = check_image_shape(image_shape)
    ph, pw = _check_patch(patch_size, (c, h, w))
    ci, yi, xi = np.meshgrid(np.arange(c), np.arange(h), np.arange(w), indexing="ij")
    per_channel = (h // ph) * (w // pw)
    lab = ci * per_channel + (yi // ph) * (w // pw) + (xi // pw)
    return lab.reshape(-1)


MAX_ENTRIES = 500_000_000
"""Largest array (entries) :func:`same_patch_matrix` / :func:`sample_masks` allocate."""


def _check_entries(what: str, *shape: int) -> None:
    if math.prod(shape) > MAX_ENTRIES:
        raise ValueError(f"{what}: shape {shape} is over the {MAX_ENTRIES:.0e} entries allowed")


def same_patch_matrix(image_shape, patch_size) -> np.ndarray:
    """Boolean ``D x D`` matrix, True where pixels ``i`` and ``j`` share a patch."""
    lab = patch_labels(image_shape, patch_size)
    _check_entries("image_shape (D x D matrix)", lab.size, lab.size)
    return lab[:, None] == lab[None, :]


def _check_square(name: str, s) -> np.ndarray:
    s = np.asarray(s, dtype=float)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ValueError(f"{name} has shape {s.shape}: must be a square matrix")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} contains NaN or inf")
    return s


def masking_second_moment(second_moment, mask_ratio, image_shape, patch_size) -> np.ndarray:
    r""":math:`M_2=\mathbb E[\tilde x\tilde x^\top]` of patch-masked inputs.

    Parameters
    ----------
    second_moment : array, shape (D, D)
        :math:`\Sigma=\mathbb E[xx^\top]` of the clean inputs.
    mask_ratio : float in [0, 1)
        Probability :math:`p` that a patch is zeroed.
    image_shape : (H, W) or (C, H, W)
        With ``C*H*W = D``.
    patch_size : int or (ph, pw)
        Must divide ``H`` and ``W``.
    """
    s = _check_square("second_moment", second_moment)
    p = check_mask_ratio(mask_ratio)
    shape = check_image_shape(image_shape, s.shape[0])
    same = same_patch_matrix(shape, patch_size)
    return s * np.where(same, 1.0 - p, (1.0 - p) ** 2)


def gaussian_second_moment(second_moment, sigma) -> np.ndarray:
    r""":math:`M_2=\Sigma+\sigma^2 I` of inputs with additive isotropic Gaussian noise."""
    s = _check_square("second_moment", second_moment)
    if isinstance(sigma, bool) or not isinstance(sigma, Real) or not (
            math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma = {sigma!r}: noise std must be a finite number >= 0")
    return s + float(sigma) ** 2 * np.eye(s.shape[0])


def sample_masks(n: int, mask_ratio, image_shape, patch_size, seed=None) -> np.ndarray:
    """Draw ``n`` patch masks (1 = kept, 0 = dropped), shape ``(n, C*H*W)``, float64.

    Each patch is dropped independently with probability ``mask_ratio``.  ``seed`` is an int,
    a ``numpy.random.Generator`` or None (fresh entropy).
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n = {n!r}: number of masks must be a positive integer")
    p = check_mask_ratio(mask_ratio)
    lab = patch_labels(image_shape, patch_size)
    _check_entries(f"n = {n} masks", int(n), lab.size)
    rng = as_rng(seed)
    keep = rng.random((int(n), int(lab.max()) + 1)) >= p
    return keep[:, lab].astype(float)
