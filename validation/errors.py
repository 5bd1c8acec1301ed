"""Warnings and errors of :mod:`validation`, and the report of unconverged sweep points.

Sweep tasks run in worker processes (or on a Dask cluster), where a warning raised by a fit
is lost. Every task therefore records convergence in its rows (a boolean ``converged`` column
and the number of solver ``ConvergenceWarning`` s it caught, ``n_convergence_warnings``), and
the parent process re-emits one :class:`ConvergenceWarning` per sweep with the count
(:func:`warn_unconverged`). Unconverged points are never dropped and never only a 0 in a
column.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

__all__ = [
    "CLIError",
    "ConvergenceWarning",
    "count_convergence_warnings",
    "warn_unconverged",
]


class ConvergenceWarning(UserWarning):
    """Some fits or saddle points of a sweep did not converge (they are kept in the table)."""


class CLIError(Exception):
    """A command-line input is unusable; the CLI prints the message on one line, exit code 2."""


def _is_convergence_warning(category: type) -> bool:
    return any(c.__name__ == "ConvergenceWarning" for c in category.__mro__)


def count_convergence_warnings(func: Callable[..., Any], *args, **kwargs) -> tuple[Any, int]:
    """Call ``func(*args, **kwargs)``, return ``(result, number of ConvergenceWarnings)``.

    Any warning class named ``ConvergenceWarning`` (those of :mod:`lasso`, :mod:`replica`,
    scikit-learn and this package) is caught and counted; other warnings pass through.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    n = 0
    for w in caught:
        if _is_convergence_warning(w.category):
            n += 1
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result, n


def warn_unconverged(df, what: str, *, converged: str = "converged",
                     counts: str = "n_convergence_warnings", stacklevel: int = 2) -> int:
    """Warn (:class:`ConvergenceWarning`) when rows of ``df`` did not converge; return their count.

    A row counts as unconverged when its ``converged`` column is false or its
    ``n_convergence_warnings`` column is positive (either column may be absent).

    Parameters
    ----------
    df : pandas.DataFrame
        Sweep table.
    what : str
        What the rows are, for the message (e.g. ``"Trans-Lasso fits"``).
    """
    import numpy as np

    if df is None or len(df) == 0:
        return 0
    bad = np.zeros(len(df), dtype=bool)
    if converged in df.columns:
        bad |= ~df[converged].fillna(False).astype(bool).to_numpy()
    if counts in df.columns:
        bad |= df[counts].fillna(0).to_numpy(dtype=float) > 0
    n_bad = int(bad.sum())
    if n_bad:
        warnings.warn(
            f"{n_bad} of {len(df)} {what} did not converge (kept in the table; see the "
            f"'{converged}' and '{counts}' columns)",
            ConvergenceWarning, stacklevel=stacklevel,
        )
    return n_bad
