"""Argument checks shared by the modules of :mod:`dynamics`.

Bad input raises ``ValueError`` naming the argument, its value and the allowed range; NaN or
infinite arrays are named as such (not reported later as a diverging run).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = ["as_rng", "check_count", "check_finite", "check_int", "check_real", "float_array"]


def check_int(name: str, value, minimum: int) -> None:
    """Require an integer (not a bool, not a float) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} = {value!r}: must be an integer >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name} = {value}: must be an integer >= {minimum}")


def check_count(name: str, value, minimum: int = 0) -> int:
    """``value`` as an int >= ``minimum``; integer-valued floats are accepted, NaN is not."""
    ok = not isinstance(value, bool)
    try:
        as_int = int(value)
        ok = ok and as_int == value
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or as_int < minimum:
        raise ValueError(f"{name} = {value!r}: must be an integer >= {minimum}")
    return as_int


def check_real(name: str, value, *, positive: bool = False, nonneg: bool = False) -> float:
    """Require a finite real number (optionally > 0 or >= 0); returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} = {value!r}: must be a finite real number")
    if positive and not value > 0:
        raise ValueError(f"{name} = {value}: must be positive")
    if nonneg and not value >= 0:
        raise ValueError(f"{name} = {value}: must be non-negative")
    return float(value)


def float_array(name: str, value) -> np.ndarray:
    """``value`` as a contiguous float64 array, or a ``ValueError`` naming the argument."""
    try:
        return np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a numeric array, got {type(value).__name__}") from None


def check_finite(name: str, a: np.ndarray) -> None:
    """Raise ``ValueError`` if ``a`` holds NaN or infinite entries (named as such)."""
    if not np.all(np.isfinite(a)):
        kind = "NaN" if np.isnan(a).any() else "infinite"
        raise ValueError(f"{name} contains {kind} entries: inputs must be finite")


def as_rng(seed, name: str = "seed") -> np.random.Generator:
    """``numpy.random.default_rng(seed)``, or a ValueError naming the argument ``name``."""
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {seed!r}: give a non-negative integer, a numpy Generator or "
                         "None") from None
