"""Errors and warnings of the :mod:`dynamics` package (house vocabulary, DESIGN.md)."""

from __future__ import annotations

__all__ = ["ConvergenceWarning", "ConvergenceError", "NotIdentifiableError"]


class ConvergenceWarning(UserWarning):
    """An iterative computation stopped before meeting its tolerance."""


class ConvergenceError(RuntimeError):
    """An iterative computation did not converge and ``strict=True`` was asked."""


class NotIdentifiableError(ValueError):
    """The requested quantity is not determined by the inputs (e.g. a degenerate optimum)."""
