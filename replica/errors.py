"""Warnings and errors raised by the saddle-point solvers of :mod:`replica`."""

from __future__ import annotations


class ConvergenceWarning(UserWarning):
    """A fixed-point iteration stopped at ``max_iter`` before reaching ``tol``."""


class ConvergenceError(RuntimeError):
    """Raised instead of :class:`ConvergenceWarning` when a solver runs with ``strict=True``."""


class NonFiniteIterateError(FloatingPointError):
    """An iterate of a fixed-point iteration became NaN or infinite."""


class NotIdentifiableError(ValueError):
    """The estimator is not defined (e.g. an unpenalised fit with fewer rows than features)."""


def report_nonconvergence(
    what: str, iterations: int, residual: float, tol: float, strict: bool, hint: str = "",
    stacklevel: int = 3,
) -> None:
    """Warn (default) or raise (``strict=True``) that ``what`` did not converge.

    ``stacklevel`` is counted from the caller of this function (as for ``warnings.warn``).
    """
    import warnings

    msg = (
        f"{what} did not converge: residual {residual:.3g} > tol {tol:.3g} after "
        f"{iterations} iterations"
    )
    if hint:
        msg += f" ({hint})"
    if strict:
        raise ConvergenceError(msg)
    warnings.warn(msg, ConvergenceWarning, stacklevel=stacklevel)
