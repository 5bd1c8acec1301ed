"""Checks of user input at the public boundary of :mod:`lasso`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .errors import NotIdentifiableError


def check_xy(X, y, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)`` as float64 arrays after checking shapes and finiteness.

    Raises
    ------
    ValueError
        Naming the dataset ``name`` when ``X`` is not 2-D, ``y`` not 1-D, their lengths
        differ, or either contains NaN or inf.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name}: X must be a 2-D array (rows x features), got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name}: y must be a 1-D array, got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{name}: X has {X.shape[0]} rows but y has {y.shape[0]} entries; they must match"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name}: dataset has no rows")
    # a sum is non-finite whenever an entry is (cheap first pass, as scikit-learn does);
    # only an overflowing sum of finite entries needs the element-wise check
    if not np.isfinite(X.sum()) and not np.isfinite(X).all():
        raise ValueError(f"{name}: X contains NaN or inf")
    if not np.isfinite(y).all():
        raise ValueError(f"{name}: y contains NaN or inf")
    return X, y


def _as_pair(data, name: str):
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return check_xy(data[0], data[1], name)
    raise ValueError(f"{name} must be a pair (X, y), got {type(data).__name__}")


def check_datasets(
    target, sources, *, require_sources: bool
) -> tuple[tuple[np.ndarray, np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
    """Validate one target dataset and a list of source datasets.

    Returns the target pair and a list of source pairs, all float64. Every dataset must have
    the same number of features as the target.
    """
    X0, y0 = _as_pair(target, "target")
    if sources is None:
        sources = []
    if (
        isinstance(sources, tuple) and len(sources) == 2
        and isinstance(sources[0], np.ndarray) and sources[0].ndim == 2
    ):
        raise ValueError("sources must be a list of (X, y) pairs, got one pair; wrap it in [ ]")
    if not isinstance(sources, Sequence):
        raise ValueError(f"sources must be a list of (X, y) pairs, got {type(sources).__name__}")
    out = []
    for k, pair in enumerate(sources, start=1):
        Xk, yk = _as_pair(pair, f"sources[{k - 1}] (dataset {k})")
        if Xk.shape[1] != X0.shape[1]:
            raise ValueError(
                f"sources[{k - 1}] has {Xk.shape[1]} features but the target has "
                f"{X0.shape[1]}; all datasets must share the same features"
            )
        out.append((Xk, yk))
    if require_sources and not out:
        raise ValueError("sources is empty: this estimator needs at least one source dataset")
    return (X0, y0), out


def check_penalty(value, name: str, *, allow_inf: bool = False) -> float:
    """Return ``value`` as a float after checking it is a non-negative penalty level."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r}: must be a non-negative number") from None
    if math.isnan(v):
        raise ValueError(f"{name} = nan: must be a non-negative number")
    if v < 0:
        raise ValueError(f"{name} = {v}: penalties must be non-negative")
    if math.isinf(v) and not allow_inf:
        raise ValueError(f"{name} = {v}: must be finite")
    return v


def check_identifiable(lam: float, n_rows: int, n_features: int, name: str) -> None:
    """Refuse an unpenalised least-squares fit with more features than rows."""
    if lam == 0 and n_features > n_rows:
        raise NotIdentifiableError(
            f"{name} = 0 with {n_features} features and only {n_rows} rows: the unpenalised "
            f"least-squares problem is not identifiable (infinitely many minimisers); "
            f"use {name} > 0"
        )
