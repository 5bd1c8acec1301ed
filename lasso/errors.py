"""Warnings and errors raised by the estimators and solvers of :mod:`lasso`."""

from __future__ import annotations

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning


class ConvergenceWarning(_SklearnConvergenceWarning):
    """A Lasso solve stopped at ``max_iter`` before its duality gap reached ``tol``.

    Subclasses :class:`sklearn.exceptions.ConvergenceWarning`, so filters written for
    scikit-learn also catch it. The message states the achieved (relative) duality gap.
    """


class ConvergenceError(RuntimeError):
    """Raised instead of :class:`ConvergenceWarning` when a solver runs with ``strict=True``."""


class NotIdentifiableError(ValueError):
    """The requested estimator is not defined by the data (e.g. ``lam1 = 0`` with more
    features than pooled rows)."""
