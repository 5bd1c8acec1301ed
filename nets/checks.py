"""Argument checks and the seeded default generator of :mod:`nets`.

Bad input raises ``ValueError`` naming the argument, its value and the allowed range; NaN or
infinite tensors are named as such (not reported later as a diverging loss).
"""

from __future__ import annotations

import math

import torch

__all__ = ["DEFAULT_SEED", "as_generator", "check_count", "check_finite_tensor",
           "check_labels", "check_positive"]

DEFAULT_SEED = 0
"""Seed of the generator used when a drawing function gets ``generator=None``."""


def as_generator(generator: torch.Generator | int | None) -> torch.Generator:
    """A CPU ``torch.Generator``: the one given, one seeded with an int, or seed 0 for None.

    Functions of :mod:`nets` that draw use this, so the same call gives the same numbers by
    default (no global torch seed is read or changed).
    """
    if generator is None:
        return torch.Generator().manual_seed(DEFAULT_SEED)
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, bool) or not isinstance(generator, int) or generator < 0:
        raise ValueError(f"generator = {generator!r}: give a torch.Generator, a non-negative "
                         "integer seed or None")
    return torch.Generator().manual_seed(int(generator))


def check_count(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (bools, floats with a fraction, NaN refused)."""
    ok = not isinstance(value, bool)
    try:
        as_int = int(value)
        ok = ok and as_int == value
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or as_int < minimum:
        raise ValueError(f"{name} = {value!r}: must be an integer >= {minimum}")
    return as_int


def check_positive(name: str, value, what: str = "must be a positive finite number") -> float:
    """``value`` as a float in (0, inf) (NaN, inf, strings refused)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r}: {what}") from None
    if isinstance(value, bool) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} = {value!r}: {what}")
    return v


def check_finite_tensor(name: str, t: torch.Tensor) -> None:
    """Raise ``ValueError`` if ``t`` holds NaN or infinite entries (named as such)."""
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        kind = "NaN" if bool(torch.isnan(t).any()) else "infinite"
        raise ValueError(f"{name} contains {kind} entries: inputs must be finite")


def check_labels(name: str, y: torch.Tensor) -> None:
    """Raise ``ValueError`` unless every entry of ``y`` is -1 or +1."""
    if y.numel() and not bool((y.abs() == 1).all()):
        bad = y[y.abs() != 1].flatten()[:3].tolist()
        raise ValueError(f"{name}: labels must be -1 or +1, got {bad}")
