"""Argument checks of the public boundary of :mod:`replica`.

Every failure is a :class:`ValueError` whose message starts with the argument's name, then its
value and the allowed range (``"lam2 = -1.0: must be >= 0"``), so that a bad input is never a
numpy traceback, a silent NaN or a hang.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["real", "integer", "real_array", "instance", "as_generator"]


def real(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
    what: str = "",
) -> float:
    """``value`` as a float, checked: a real number (not a bool, string or NaN) in the range.

    ``low``/``high`` are inclusive unless ``low_open``/``high_open``; ``allow_inf`` admits
    ``+inf`` (and ``-inf`` when no lower bound is given). ``what`` is appended to the message.
    """
    suffix = f" ({what})" if what else ""
    if type(value) is not float and (  # fast path for the common case
        isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real)
    ):
        raise ValueError(f"{name} = {value!r}: must be a real number{suffix}")
    v = float(value)
    if v != v:
        raise ValueError(f"{name} = nan: must be a number, got NaN{suffix}")
    if math.isinf(v) and not allow_inf:
        raise ValueError(f"{name} = {v}: must be finite{suffix}")
    if low is not None and (v < low or (low_open and v == low)):
        op = ">" if low_open else ">="
        raise ValueError(f"{name} = {v}: must be {op} {low}{suffix}")
    if high is not None and (v > high or (high_open and v == high)):
        op = "<" if high_open else "<="
        raise ValueError(f"{name} = {v}: must be {op} {high}{suffix}")
    return v


def integer(name: str, value, *, low: int | None = None, what: str = "") -> int:
    """``value`` as an int: an integral number (``3`` or ``3.0``; not ``2.5``, a bool or NaN)."""
    suffix = f" ({what})" if what else ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} = {value!r}: must be an integer{suffix}")
    v = float(value)
    if not math.isfinite(v) or v != math.floor(v):
        raise ValueError(f"{name} = {value!r}: must be an integer{suffix}")
    n = int(v)
    if low is not None and n < low:
        raise ValueError(f"{name} = {n}: must be >= {low}{suffix}")
    return n


def real_array(name: str, value, *, ndim: int | None = None, scalar: bool = False) -> np.ndarray:
    """``value`` as a float64 array of real numbers (no strings, objects or ragged nesting).

    ``scalar=True`` turns a single number into a 1-element array. NaN entries are refused by
    name; infinite entries are left to the caller.
    """
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged nesting
        raise ValueError(f"{name} = {value!r}: expected a regular array of numbers") from err
    if raw.dtype.kind not in "iuf":
        raise ValueError(f"{name} = {value!r}: expected numbers (got {raw.dtype} entries)")
    arr = raw.astype(np.float64)
    if scalar and arr.ndim == 0:
        arr = arr.reshape(1)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array of numbers, got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains NaN")
    return arr


def instance(name: str, value, cls: type) -> None:
    """Refuse ``value`` unless it is a ``cls`` (named in the message)."""
    if not isinstance(value, cls):
        raise ValueError(f"{name}: expected a {cls.__name__}, got {type(value).__name__}")


def as_generator(rng) -> np.random.Generator:
    """``numpy.random.default_rng(rng)`` for a Generator, an int seed or None; else an error."""
    if rng is None or isinstance(rng, np.random.Generator | np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, bool | np.bool_) or not isinstance(rng, numbers.Integral) or rng < 0:
        raise ValueError(f"rng = {rng!r}: use a numpy Generator, a non-negative int seed or None")
    return np.random.default_rng(int(rng))
