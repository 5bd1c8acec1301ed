"""Errors and warnings of the :mod:`nets` package (house vocabulary, DESIGN.md)."""

from __future__ import annotations

from nets.train import NonFiniteLossError

__all__ = ["ConvergenceWarning", "ConvergenceError", "NonFiniteLossError"]


class ConvergenceWarning(UserWarning):
    """A training loop stopped before its convergence criterion was met."""


class ConvergenceError(RuntimeError):
    """A training loop did not converge and ``strict=True`` was asked."""
