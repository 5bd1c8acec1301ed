"""Checks of user input at the public boundary of :mod:`lasso` (internal module)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .errors import NotIdentifiableError


def check_dense(a, name: str):
    """Refuse scipy.sparse input by name (the kernels work on dense columns)."""
    if hasattr(a, "tocsc") and hasattr(a, "nnz"):
        raise TypeError(
            f"{name} is a scipy.sparse matrix/array: lasso's solvers need dense arrays "
            f"(sparse designs are not supported); convert it with .toarray()"
        )
    return a


def as_real_array(a, name: str) -> np.ndarray:
    """``a`` as a float64 array; sparse, complex and non-numeric input refused by name."""
    check_dense(a, name)
    try:
        arr = np.asarray(a)
        if np.iscomplexobj(arr):
            raise ValueError(f"{name} is complex: complex data not supported")
        return np.asarray(arr, dtype=np.float64)
    except TypeError as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    except ValueError as exc:
        if "complex" in str(exc):
            raise
        raise ValueError(f"{name} must be a numeric array: {exc}") from None


def check_finite(a: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` if ``a`` holds NaN (missing values) or inf."""
    # a sum is non-finite whenever an entry is (cheap first pass, as scikit-learn does);
    # only an overflowing sum of finite entries needs the element-wise check
    if np.isfinite(a.sum()) or np.isfinite(a).all():
        return
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN (missing values are not supported)")
    raise ValueError(f"{name} contains inf")


def check_max_iter(value, name: str = "max_iter") -> int:
    """Return ``value`` as an int after checking it is an integer >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if not (isinstance(value, (float, np.floating)) and float(value).is_integer()):
            raise ValueError(f"{name} = {value!r}: must be an integer >= 1")
    if value < 1:
        raise ValueError(f"{name} = {value!r}: must be an integer >= 1")
    return int(value)


def check_tol(value, name: str = "tol") -> float:
    """Return ``value`` as a float after checking it is a finite positive number."""
    v = _as_float(value, name, "a positive number")
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{name} = {value!r}: must be a finite positive number")
    return v


def check_kappa(kappa, name: str = "kappa") -> float:
    """Return ``kappa`` as a float after checking it is a finite real number."""
    k = _as_float(kappa, name, "a finite real number")
    if not math.isfinite(k):
        raise ValueError(f"{name} = {kappa!r}: must be a finite real number")
    return k


def check_choice(value, name: str, allowed) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is one of ``allowed``."""
    if not (isinstance(value, str) or value is None) or value not in allowed:
        raise ValueError(f"{name} = {value!r}: must be one of {tuple(allowed)}")


def _as_float(value, name: str, what: str) -> float:
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise ValueError(f"{name} = {value!r}: must be {what}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r}: must be {what}") from None


def check_xy(X, y, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)`` as float64 arrays after checking shapes and finiteness.

    Raises
    ------
    ValueError
        Naming the dataset ``name`` when ``X`` is not 2-D, ``y`` not 1-D, their lengths
        differ, or either contains NaN or inf.
    """
    X = as_real_array(X, f"{name}: X")
    y = as_real_array(y, f"{name}: y")
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
    check_finite(X, f"{name}: X")
    check_finite(y, f"{name}: y")
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
    v = _as_float(value, name, "a non-negative number")
    if math.isnan(v):
        raise ValueError(f"{name} = nan: must be a non-negative number")
    if v < 0:
        raise ValueError(f"{name} = {v}: penalties must be non-negative")
    if math.isinf(v) and not allow_inf:
        raise ValueError(f"{name} = {v}: must be finite")
    return v


def check_identifiable(n_free: int, n_rows: int, cause: str, fix: str) -> None:
    r"""Refuse a Lasso problem whose unpenalised part cannot be identified.

    A weighted Lasso :math:`\tfrac12\|b-Ax\|^2+\sum_j w_j|x_j|` with :math:`F=\{j: w_j=0\}`
    has infinitely many minimisers as soon as the columns :math:`A_F` are linearly dependent,
    which is certain when :math:`|F|` exceeds the rank bound of :math:`A` (its number of
    rows, less one per dataset centred for an intercept): adding a null vector of :math:`A_F`
    changes neither the loss nor the penalty. Rank-deficient designs with fewer free columns
    than rows are not detected.

    Parameters
    ----------
    n_free : int
        :math:`|F|`, the number of unpenalised coordinates.
    n_rows : int
        Rank bound of the design (rows, less the centrings).
    cause, fix : str
        What leaves the coordinates free (naming the argument) and how to avoid it.
    """
    if n_free > n_rows:
        raise NotIdentifiableError(
            f"{cause} leaves {n_free} coordinates unpenalised: {n_free} features and only "
            f"{n_rows} rows, so the problem is not identifiable (infinitely many minimisers); "
            f"{fix}"
        )
