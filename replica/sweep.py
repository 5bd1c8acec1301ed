r"""Warm-started curves and grids of the replica predictions, as tidy tables.

``sweep(scenario, hyper, vary={"kappa": [...], "dlam": [...]})`` evaluates
:func:`replica.solve_trans_lasso` over the cartesian product of the varied parameters, visiting
the grid in snake order so that every point is warm-started from its neighbour, solving stage 1
once per distinct ``lam1``/scenario, and returning one row per point (unconverged points are
flagged in the ``converged``/``status`` columns, never dropped).

Varied names: the hyperparameters ``lam1, lam2, kappa, dlam`` and the scenario fields
``alpha_k`` / ``sigma_k`` (k the dataset index, 0 = target).
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from replica.checks import real_array
from replica.errors import (
    ConvergenceWarning,
    NonFiniteIterateError,
    NotIdentifiableError,
)
from replica.scenario import TransferScenario, TransLassoHyper
from replica.stage1 import solve_pretraining
from replica.stage2 import solve_finetuning

__all__ = ["sweep", "apply_parameters", "snake_order"]

_HYPER = ("lam1", "lam2", "kappa", "dlam")
_SCEN = re.compile(r"^(alpha|sigma)_(\d+)$")


def apply_parameters(
    scenario: TransferScenario, hyper: TransLassoHyper, values: Mapping[str, float]
) -> tuple[TransferScenario, TransLassoHyper]:
    """Return ``(scenario, hyper)`` with the named parameters replaced (see module doc)."""
    h_changes = {}
    alphas = list(scenario.alphas)
    sigmas = list(scenario.sigmas)
    for name, val in values.items():
        if name in _HYPER:
            h_changes[name] = float(val)
            continue
        m = _SCEN.match(name)
        if m is None:
            raise ValueError(
                f"vary: unknown parameter {name!r}; use one of {_HYPER} or alpha_k / sigma_k"
            )
        k = int(m.group(2))
        if k >= scenario.n_datasets:
            raise ValueError(f"vary: {name!r} refers to dataset {k}, but K = {scenario.n_datasets}")
        (alphas if m.group(1) == "alpha" else sigmas)[k] = float(val)
    if alphas != list(scenario.alphas) or sigmas != list(scenario.sigmas):
        scenario = scenario.replace(alphas=tuple(alphas), sigmas=tuple(sigmas))
    if h_changes:
        hyper = hyper.replace(**h_changes)
    return scenario, hyper


def snake_order(shape: tuple[int, ...]):
    """Indices of a grid in boustrophedon order (each step changes one index by one)."""
    if len(shape) == 1:
        yield from ((i,) for i in range(shape[0]))
        return
    forward = True
    for i in range(shape[0]):
        inner = list(snake_order(shape[1:]))
        if not forward:
            inner.reverse()
        for rest in inner:
            yield (i, *rest)
        forward = not forward


def sweep(
    scenario: TransferScenario,
    hyper: TransLassoHyper,
    vary: Mapping[str, Sequence[float]],
    *,
    progress: bool | None = None,
    strict: bool = False,
    tol: float = 1e-11,
    max_iter: int = 5000,
    damping: float = 0.0,
    quadrature=None,
) -> pd.DataFrame:
    r"""Evaluate the replica predictions over a 1-D curve or an n-D grid.

    Parameters
    ----------
    scenario, hyper
        Base point; the parameters named in ``vary`` replace the base values.
    vary : mapping name -> sequence
        Values of each varied parameter (cartesian product, in the given order of names).
    progress : bool, optional
        Progress bar (shown after one second; ``None``: automatic, ``False``: never).
    strict : bool
        Raise at the first unconverged point instead of flagging it.
    tol, max_iter, damping, quadrature
        Passed to the solvers.

    Returns
    -------
    pandas.DataFrame
        One row per grid point in grid order: the varied parameters, all hyperparameters, the
        order parameters and observables of :meth:`TransLassoResult.to_dict`, plus ``status``
        (``"ok"``, ``"unconverged"``, or the error message of a failed point).
    """
    if not isinstance(vary, Mapping):
        raise ValueError(f"vary: expected a mapping name -> values, got {type(vary).__name__}")
    if not vary:
        raise ValueError("vary: give at least one parameter to vary")
    names = list(vary)
    grids = []
    for name in names:
        vals = real_array(f"vary[{name!r}]", vary[name], ndim=1, scalar=True)
        if vals.size == 0:
            raise ValueError(f"vary[{name!r}]: expected a non-empty 1-D sequence of numbers")
        grids.append(vals)
    # validate names early
    apply_parameters(scenario, hyper, {n: g[0] for n, g in zip(names, grids, strict=True)})
    shape = tuple(g.size for g in grids)
    n_total = int(np.prod(shape))
    solver_kw = {"tol": tol, "max_iter": max_iter, "damping": damping}
    rows: dict[tuple, dict] = {}
    stage1_cache: dict = {}
    prev = None
    n_bad = 0
    bar = tqdm(total=n_total, delay=1.0, disable=(progress is False), desc="replica sweep")
    try:
        for idx in snake_order(shape):
            point = {n: float(g[i]) for n, g, i in zip(names, grids, idx, strict=True)}
            sc, hy = apply_parameters(scenario, hyper, point)
            row, res = _solve_point(sc, hy, stage1_cache, prev, strict, solver_kw, quadrature)
            row = {**point, **row}
            prev = res if res is not None and res.converged else prev
            if row["status"] != "ok":
                n_bad += 1
            rows[idx] = row
            bar.update(1)
    finally:
        bar.close()
    if n_bad:
        warnings.warn(
            f"sweep: {n_bad} of {n_total} points did not converge or failed; see the "
            "'status' column",
            ConvergenceWarning,
            stacklevel=2,
        )
    ordered = [rows[idx] for idx in itertools.product(*(range(s) for s in shape))]
    df = pd.DataFrame(ordered)
    for k in range(scenario.n_datasets):
        for col, val in ((f"alpha_{k}", scenario.alphas[k]), (f"sigma_{k}", scenario.sigmas[k])):
            if col not in df:
                df[col] = val
    return df


def _solve_point(sc, hy, stage1_cache, prev, strict, solver_kw, quadrature=None):
    """Solve one point of a sweep; returns (row, result or None).

    Stage 1 is solved once per (lam1, alphas, sigmas) and warm-started from the previous
    point; convergence warnings become the row's ``status`` (re-emitting any other warning).
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            key = (hy.lam1, sc.alphas, sc.sigmas)
            s1 = stage1_cache.get(key)
            if s1 is None:
                s1 = solve_pretraining(sc, hy.lam1, init=prev.stage1 if prev else None,
                                       strict=strict, **solver_kw)
                stage1_cache[key] = s1
            res = solve_finetuning(sc, hy, s1, init=prev, strict=strict, quadrature=quadrature,
                                   **solver_kw)
        for wmsg in caught:
            if not issubclass(wmsg.category, ConvergenceWarning):
                warnings.warn_explicit(wmsg.message, wmsg.category, wmsg.filename, wmsg.lineno)
    except (NotIdentifiableError, NonFiniteIterateError) as err:
        if strict:
            raise
        row = {**hy.to_dict(), "converged": False, "status": f"{type(err).__name__}: {err}"}
        return row, None
    row = res.to_dict()
    row["status"] = "ok" if res.converged else "unconverged"
    return row, res
