"""Errors and warnings of :mod:`nets.reconstruction` (the house vocabulary)."""

from __future__ import annotations

from nets.train import NonFiniteLossError

__all__ = ["ConvergenceWarning", "ConvergenceError", "NonFiniteLossError"]


class ConvergenceWarning(UserWarning):
    """Training ended while the validation criterion was still improving."""


class ConvergenceError(RuntimeError):
    """Raised instead of :class:`ConvergenceWarning` with ``strict=True``."""
