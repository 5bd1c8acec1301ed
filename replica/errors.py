"""Warnings and errors raised by the saddle-point solvers of :mod:`replica`."""

from __future__ import annotations


class ConvergenceWarning(UserWarning):
    """A fixed-point iteration stopped at ``max_iter`` before reaching ``tol``."""


class ConvergenceError(RuntimeError):
    """Raised instead of :class:`ConvergenceWarning` when a solver is called with ``strict=True``."""


class NonFiniteIterateError(FloatingPointError):
    """An iterate of a fixed-point iteration became NaN or infinite."""


class IllPosedError(ValueError):
    """The requested estimator is not defined (e.g. an unpenalised fit with fewer rows than features)."""
