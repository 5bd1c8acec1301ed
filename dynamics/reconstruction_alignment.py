r"""Alignment between (denoising) reconstruction features and a labelling.

Balestriero & LeCun (ICML 2024), alignment metric as implemented in the authors' released
``alignment.py`` (the paper's own normalisation could not be checked; see
``docs/linear_reconstruction_theory.md``, section 3).

Given centred inputs :math:`X\in\mathbb R^{N\times D}` and one-hot labels
:math:`Y\in\mathbb R^{N\times C}`, let :math:`s_1,\dots,s_D` be the generalised eigenvectors of
the reconstruction objective (with or without noise) ordered by decreasing eigenvalue,
:math:`F=X[s_1\dots s_D]=QR` a QR decomposition, and

.. math::

    \mathrm{align}(K)=100\,\frac{\|\tfrac1N YY^\top Q_{:,1:K}\|_F}{\|\tfrac1N YY^\top Q\|_F}.

The first ``K`` columns of ``Q`` span the features of the ``K``-dimensional optimal encoder,
so for balanced classes :math:`\mathrm{align}(K)^2` is the share of the linearly explainable
label energy that a least-squares probe recovers from them.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from dynamics.checks import as_rng, check_real, float_array
from dynamics.linear_reconstruction import (
    check_data,
    denoising_objective,
    generalised_eigh,
)

__all__ = ["alignment_preprocess", "one_hot", "alignment_curve", "masking_impact"]


def alignment_preprocess(X, seed=0, jitter: float = 1e-3) -> np.ndarray:
    r"""Authors' preprocessing: flatten, add :math:`10^{-3}\,\mathrm{std}(X)\,\mathcal N(0,1)`
    jitter, centre each feature, divide by the global std."""
    X = float_array("X", X)
    if X.ndim < 2 or X.shape[0] < 2 or X[0].size == 0:
        raise ValueError(f"X has shape {X.shape}: expected (N >= 2, D, ...) samples")
    X = check_data("X", X.reshape(X.shape[0], -1))
    jitter = check_real("jitter", jitter, nonneg=True)
    rng = as_rng(seed)
    X = X + jitter * X.std() * rng.standard_normal(X.shape)
    X = X - X.mean(axis=0)
    sd = X.std()
    if not sd > 0:
        raise ValueError("X is constant over samples: cannot scale by its standard deviation")
    return X / sd


def one_hot(labels) -> np.ndarray:
    """One-hot matrix ``N x C`` of integer class labels (classes = sorted unique labels)."""
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size == 0:
        raise ValueError(f"labels has shape {lab.shape}: expected a non-empty 1-d array of "
                         "class labels")
    bad_float = lab.dtype.kind == "f" and not (np.all(np.isfinite(lab))
                                               and np.all(lab == np.round(lab)))
    if bad_float or lab.dtype.kind in "cOV":
        raise ValueError(f"labels (dtype {lab.dtype}): class labels must be integers or strings "
                         "(NaN, fractions, None refused)")
    classes, idx = np.unique(lab, return_inverse=True)
    out = np.zeros((lab.size, classes.size))
    out[np.arange(lab.size), idx] = 1.0
    return out


def alignment_curve(X, labels, Ks=None, noise: str = "none", **noise_kw) -> np.ndarray:
    """Alignment (percent) of the optimal ``K``-dim (denoising) encoder with the labels.

    Parameters
    ----------
    X : array (N, D)
        Inputs, preprocessed (see :func:`alignment_preprocess`).
    labels : array (N,) of class labels, or (N, C) label matrix
    Ks : sequence of int in [1, D], optional
        Widths (default ``1..D``).
    noise, noise_kw
        As :func:`dynamics.linear_reconstruction.denoising_objective` (``sigma``,
        ``mask_ratio``, ``image_shape``, ``patch_size``).

    Returns
    -------
    ndarray, shape (len(Ks),)
    """
    X = check_data("X", X)
    lab = np.asarray(labels)
    Y = one_hot(lab) if lab.ndim == 1 else check_data("labels", lab)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"labels have {Y.shape[0]} rows but X has {X.shape[0]}")
    D = X.shape[1]
    Ks = np.arange(1, D + 1) if Ks is None else np.asarray(Ks)
    if Ks.ndim != 1 or Ks.size == 0:
        raise ValueError(f"Ks = {Ks!r}: expected a non-empty 1-d sequence of widths")
    if not np.any(Y):
        raise ValueError("labels: the label matrix is zero, the alignment is undefined")
    for k in Ks:
        if isinstance(k, bool) or not isinstance(k, Integral | np.integer) or not 1 <= k <= D:
            raise ValueError(f"Ks contains {k!r}: widths must be integers in [1, D = {D}]")
    obj = denoising_objective(X, noise, **noise_kw)
    _, V = generalised_eigh(obj, 0)
    Q, _ = np.linalg.qr(X @ V)
    YYQ = Y @ (Y.T @ Q) / X.shape[0]
    c = np.cumsum(np.sum(YYQ ** 2, axis=0))
    return 100.0 * np.sqrt(c[Ks.astype(int) - 1] / c[-1])


def masking_impact(align_noisy, align_clean) -> np.ndarray:
    """Relative change (percent) of the alignment caused by denoising, as in the authors' code."""
    a = float_array("align_noisy", align_noisy)
    b = float_array("align_clean", align_clean)
    if a.shape != b.shape:
        raise ValueError(f"align_noisy has shape {a.shape} but align_clean {b.shape}")
    check_data("align_noisy", a, a.ndim)
    check_data("align_clean", b, b.ndim)
    if np.any(b == 0):
        raise ValueError("align_clean contains 0: the relative change is undefined")
    return 100.0 * (a - b) / b
