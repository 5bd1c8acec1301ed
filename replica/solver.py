r"""The one driver of the stage-1 and stage-2 fixed-point solves.

A stage is a compiled kernel ``iterate(model, x0, ctrl) -> (state, iterations, residual,
status)`` (:mod:`replica.stage1`, :mod:`replica.stage2`). :func:`run_fixed_point` runs it with
the user's controls, retries a failed run once with plain heavy damping, and turns the outcome
into a :class:`FixedPoint` or a clear error: :class:`~replica.errors.NonFiniteIterateError` for
a NaN/inf iterate, a :class:`~replica.errors.ConvergenceWarning` (or
:class:`~replica.errors.ConvergenceError` with ``strict=True``) when ``max_iter`` is reached.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from replica.checks import integer, real
from replica.errors import NonFiniteIterateError, report_nonconvergence
from replica.fixed_point import CONVERGED, NONFINITE

__all__ = ["SolverOptions", "solver_options", "FixedPoint", "run_fixed_point", "initial_state"]

MAX_ITER_CAP = 10**9  # iteration cap of any run (the compiled kernels take 64-bit integers)


@dataclass(frozen=True)
class SolverOptions:
    r"""Controls of a damped, Anderson-accelerated fixed-point iteration.

    Parameters
    ----------
    tol : float
        Stop when :math:`\|F(\Theta)-\Theta\|_\infty\le` ``tol`` (``> 0``).
    max_iter : int
        Iteration cap of one run (``>= 1``).
    damping : float in [0, 1)
        :math:`\eta` in :math:`\Theta\leftarrow\eta\Theta+(1-\eta)F(\Theta)`.
    anderson : int
        Memory of the Anderson acceleration (``>= 0``; 0: plain damped iteration).
    strict : bool
        Raise :class:`~replica.errors.ConvergenceError` instead of warning.
    retry_damping : float in [0, 1)
        Damping of the single retry, with plain iteration, after a failed run (the retry uses
        :math:`\max(\eta_{\rm retry},\eta)`). 0.9 rescued every failure seen on 150 random
        scenarios.
    anderson_restart : float
        The Anderson memory is cleared when the residual grows by more than this factor
        (``> 1``).
    anderson_ridge : float
        Ridge added to the Anderson least-squares system, relative to its largest diagonal
        entry (``>= 0``).
    """

    tol: float = 1e-11
    max_iter: int = 5000
    damping: float = 0.0
    anderson: int = 4
    strict: bool = False
    retry_damping: float = 0.9
    anderson_restart: float = 2.0
    anderson_ridge: float = 1e-12

    def __post_init__(self) -> None:
        object.__setattr__(self, "tol", real("tol", self.tol, low=0.0, low_open=True))
        object.__setattr__(self, "max_iter", integer("max_iter", self.max_iter, low=1))
        if self.max_iter > MAX_ITER_CAP:  # the compiled kernels take a 64-bit integer
            raise ValueError(f"max_iter = {self.max_iter}: must be <= {MAX_ITER_CAP:.0e}")
        for name in ("damping", "retry_damping"):
            v = real(name, getattr(self, name), low=0.0, high=1.0, high_open=True)
            object.__setattr__(self, name, v)
        object.__setattr__(self, "anderson", integer("anderson", self.anderson, low=0,
                                                     what="Anderson memory"))
        object.__setattr__(self, "anderson_restart", real(
            "anderson_restart", self.anderson_restart, low=1.0, low_open=True))
        object.__setattr__(self, "anderson_ridge", real("anderson_ridge", self.anderson_ridge,
                                                        low=0.0))
        if not isinstance(self.strict, bool | np.bool_):
            raise ValueError(f"strict = {self.strict!r}: must be True or False")

    def ctrl(self) -> tuple:
        """Kernel controls ``(damping, tol, max_iter, memory, restart, ridge)`` of the first run."""
        return (self.damping, self.tol, self.max_iter, self.anderson, self.anderson_restart,
                self.anderson_ridge)

    def retry_ctrl(self) -> tuple:
        """Kernel controls of the retry: plain iteration, heavier damping."""
        return (max(self.retry_damping, self.damping), self.tol, self.max_iter, 0,
                self.anderson_restart, self.anderson_ridge)


@functools.lru_cache(maxsize=64)
def _cached_options(*args) -> SolverOptions:
    return SolverOptions(*args)


def solver_options(tol, max_iter, damping, anderson, strict) -> SolverOptions:
    """:class:`SolverOptions` of the keyword arguments of the solvers (validated once per value)."""
    try:
        return _cached_options(tol, max_iter, damping, anderson, strict)
    except TypeError:  # unhashable argument: validate (and refuse) it without the cache
        return SolverOptions(tol, max_iter, damping, anderson, strict)


@dataclass(frozen=True)
class FixedPoint:
    """Outcome of :func:`run_fixed_point`: the state and its convergence report."""

    state: np.ndarray
    converged: bool
    iterations: int
    residual: float


def run_fixed_point(iterate, model, x0: np.ndarray, options: SolverOptions, what,
                    hint: str = "try a larger damping or another init") -> FixedPoint:
    """Run ``iterate`` from ``x0``; retry once with heavy plain damping if it fails.

    ``what()`` names the problem in messages (e.g. ``"stage-1 saddle point (lam1 = 0.3)"``);
    it is a callable so that the text is only built when something goes wrong.
    """
    state, it, res, status = iterate(model, x0, options.ctrl())
    total = it
    if status != CONVERGED:
        state, it, res, status = iterate(model, x0, options.retry_ctrl())
        total += it
    if status == NONFINITE:
        raise NonFiniteIterateError(f"{what()}: an iterate became NaN/inf; {hint}")
    converged = status == CONVERGED
    if not converged:
        report_nonconvergence(what(), total, res, options.tol, options.strict, stacklevel=4)
    return FixedPoint(state, bool(converged), int(total), float(res))


def initial_state(init, result_type, default, names: str) -> np.ndarray:
    """Starting vector from ``init``: None (``default``), a previous result, or numbers.

    ``names`` describes the expected components in the error message, e.g.
    ``"(Q1, m1..., chi1)"``.
    """
    default = np.asarray(default, dtype=np.float64)
    if init is None:
        return default.copy()
    if isinstance(init, result_type):
        return np.asarray(init.state, dtype=np.float64).copy()
    try:
        x0 = np.array(init, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"init: expected a {result_type.__name__} or {default.size} numbers {names}"
        ) from err
    if x0.shape != default.shape:
        raise ValueError(f"init: expected {default.size} values {names}, got shape {x0.shape}")
    return x0
