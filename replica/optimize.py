r"""Hyperparameter optimisation from theory and the :math:`\kappa=0` / :math:`\Delta\lambda=0` rule.

The replica prediction
:math:`\varepsilon^{(2nd)}(\lambda_1,\lambda_2,\kappa,\Delta\lambda)` is smooth in
 :math:`(\log\lambda_2,\kappa,\Delta\lambda)`; we minimise it by a coarse grid followed by
Nelder-Mead (``docs/translasso_theory.md``, numerical scheme), with :math:`\Delta\lambda\ge0`
allowed to reach 0 exactly (the optimiser works on :math:`z` with :math:`\Delta\lambda=\max(z,0)`).
:math:`\lambda_1` is either given or chosen by the pretraining stage alone (minimiser of the
target error :math:`\varepsilon^{(1st)}` or of the pooled error
:math:`\varepsilon^{(1st)}_{\rm pool}`: the "LO" protocol of lam1 protocols), or optimised jointly
(``"lam1"`` in ``over``: the "GO" protocol).

Strategies compared by :func:`strategy_table` (strategies): the full search over
:math:`(\lambda_2,\kappa,\Delta\lambda)`; :math:`\Delta\lambda=0`; :math:`\kappa=0`; Trans-Lasso
(:math:`\kappa=1,\Delta\lambda=0`); Pretraining Lasso (:math:`\kappa=1-a`,
:math:`\Delta\lambda=\lambda_2(1/a-1)`, best :math:`a\in(0,1]`); the target-only Lasso.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize as sopt

from replica.checks import instance, integer, real
from replica.errors import ConvergenceWarning, NonFiniteIterateError, NotIdentifiableError
from replica.scenario import TransferScenario, TransLassoHyper
from replica.search_space import (
    NAMES,
    SearchSpace,
    check_bounds,
    default_bounds,
    field_scale,
)
from replica.stage1 import PretrainingResult, solve_pretraining
from replica.stage2 import TransLassoResult, solve_finetuning
from replica.sweep import snake_order

__all__ = [
    "OptimizationResult",
    "NelderMeadOptions",
    "Recommendation",
    "choose_lam1",
    "optimize",
    "strategy_table",
    "recommend",
    "STRATEGIES",
]

STRATEGIES = ("full", "dlam0", "kappa0", "trans_lasso", "pretraining_lasso", "target_lasso")

@dataclass(frozen=True)
class OptimizationResult:
    """Minimiser of the predicted target error over a set of hyperparameters.

    Attributes
    ----------
    hyper : TransLassoHyper
        Optimal hyperparameters.
    eps2, mse2 : float
        Predicted target error at the optimum (noise included) and ``eps2 - sigma_0^2``.
    result : TransLassoResult
        Full replica result at the optimum.
    over : tuple of str
        Optimised names.
    n_evaluations : int
        Number of saddle-point solves.
    n_failed : int
        Evaluations that did not converge or failed (treated as +inf); a
        :class:`~replica.errors.ConvergenceWarning` says so.
    extra : dict
        ``at_bound`` (names whose optimum lies on an edge of the search box) and, for the
        Pretraining Lasso, ``pt_alpha``.
    n_exhausted : int
        Nelder-Mead runs that stopped at their evaluation budget (``maxfev``) before meeting
        their tolerances; a :class:`~replica.errors.ConvergenceWarning` says so.
    """

    hyper: TransLassoHyper
    eps2: float
    mse2: float
    result: TransLassoResult
    over: tuple
    n_evaluations: int
    n_failed: int
    extra: dict = field(default_factory=dict)
    n_exhausted: int = 0

    def to_dict(self) -> dict:
        d = {"eps2": self.eps2, "mse2": self.mse2, **self.hyper.to_dict()}
        d.update(self.extra)
        d.update({"n_evaluations": self.n_evaluations, "n_failed": self.n_failed,
                  "n_exhausted": self.n_exhausted, "converged": self.result.converged,
                  "eps1": self.result.eps1})
        return d


@dataclass(frozen=True)
class NelderMeadOptions:
    """Controls of the Nelder-Mead refinement of :func:`optimize`.

    Parameters
    ----------
    n_starts : int
        Refinements started from the best grid points (plus any explicit ``starts``).
    xatol, fatol : float
        Tolerances on the simplex size (in the search coordinates) and on eps2.
    maxfev : int
        Evaluation budget of one refinement; a run that stops there is reported.
    simplex_fraction : float
        Initial simplex edge as a fraction of the search box.
    """

    n_starts: int = 2
    xatol: float = 1e-5
    fatol: float = 1e-10
    maxfev: int = 400
    simplex_fraction: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_starts", integer("n_starts", self.n_starts, low=0))
        object.__setattr__(self, "maxfev", integer("maxfev", self.maxfev, low=1))
        for name in ("xatol", "fatol"):
            object.__setattr__(self, name, real(name, getattr(self, name), low=0.0))
        object.__setattr__(self, "simplex_fraction", real(
            "simplex_fraction", self.simplex_fraction, low=0.0, high=1.0, low_open=True))


class _Objective:
    """eps2 as a function of an unconstrained vector, with warm starts and memoisation."""

    def __init__(self, scenario, space, stage1_for, tol):
        self.scenario = scenario
        self.space = space
        self.stage1_for = stage1_for
        self.tol = tol
        self.cache: dict = {}
        self.prev: TransLassoResult | None = None
        self.best: tuple[float, TransLassoResult | None] = (math.inf, None)
        self.n_eval = 0
        self.n_failed = 0

    def result_of(self, hy: TransLassoHyper):
        key = (hy.lam1, hy.lam2, hy.kappa, hy.dlam)
        if key in self.cache:
            return self.cache[key]
        self.n_eval += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                s1 = self.stage1_for(hy.lam1)
                init = self.prev if self.prev is not None else None
                res = solve_finetuning(self.scenario, hy, s1, tol=self.tol, init=init)
                if not res.converged and init is not None:
                    res = solve_finetuning(self.scenario, hy, s1, tol=self.tol)
        except (NotIdentifiableError, NonFiniteIterateError):
            res = None
        if res is None or not res.converged or not math.isfinite(res.eps2):
            self.n_failed += 1
            self.cache[key] = None
            return None
        self.prev = res
        self.cache[key] = res
        if res.eps2 < self.best[0]:
            self.best = (res.eps2, res)
        return res

    def __call__(self, z) -> float:
        res = self.result_of(self.space.hyper(z))
        return math.inf if res is None else res.eps2


def _stage1_cache(scenario, tol):
    cache: dict[float, PretrainingResult] = {}
    last: list = [None]

    def get(lam1: float) -> PretrainingResult:
        s1 = cache.get(lam1)
        if s1 is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                s1 = solve_pretraining(scenario, lam1, tol=tol, init=last[0])
            cache[lam1] = s1
            last[0] = s1
        return s1

    return get


def choose_lam1(
    scenario: TransferScenario,
    rule: str = "target",
    *,
    bounds: tuple[float, float] | None = None,
    n_grid: int = 25,
    tol: float = 1e-11,
) -> PretrainingResult:
    r"""Stage-1 penalty chosen by the pretraining stage alone.

    Parameters
    ----------
    rule : {"target", "pooled"}
        Minimise :math:`\varepsilon^{(1st)}` on the target, or the pooled error
        :math:`\varepsilon^{(1st)}_{\rm pool}` (what cross-validation on all pretraining data
        estimates).
    bounds : (float, float), optional
        Search interval for :math:`\lambda_1`; default ``[1e-3, 30] x`` the field scale
        :math:`\sqrt{\alpha_{\rm tot}\sum_k\alpha_k(\rho_k+\sigma_k^2)}`.
    n_grid : int
        Log-spaced grid points before the bounded refinement.

    Returns
    -------
    PretrainingResult
        Stage-1 fixed point at the chosen :math:`\lambda_1` (its ``lam1`` attribute).
    """
    instance("scenario", scenario, TransferScenario)
    if rule not in ("target", "pooled"):
        raise ValueError(f"rule = {rule!r}: use 'target' or 'pooled'")
    n_grid = integer("n_grid", n_grid, low=2, what="grid points")
    lo, hi = check_bounds("lam1", bounds) if bounds is not None else (
        default_bounds(scenario, "lam1"))
    get = _stage1_cache(scenario, real("tol", tol, low=0.0, low_open=True))
    attr = "eps1" if rule == "target" else "eps1_pooled"

    def f(loglam):
        try:
            r = get(float(math.exp(loglam)))
        except (NotIdentifiableError, NonFiniteIterateError):
            return math.inf
        return getattr(r, attr) if r.converged else math.inf

    grid = np.linspace(math.log(lo), math.log(hi), n_grid)
    vals = np.array([f(g) for g in grid])
    i = int(np.argmin(vals))
    a = grid[max(i - 1, 0)]
    b = grid[min(i + 1, n_grid - 1)]
    best = grid[i]
    if b > a:
        opt = sopt.minimize_scalar(f, bounds=(a, b), method="bounded",
                                   options={"xatol": 1e-6})
        if opt.fun <= vals[i]:
            best = opt.x
    return get(float(math.exp(best)))


def _resolve_lam1(scenario, lam1, tol):
    if isinstance(lam1, str):
        return choose_lam1(scenario, lam1, tol=tol).lam1
    if lam1 is None:
        raise ValueError("lam1: give a value, 'target' or 'pooled' (or put 'lam1' in over)")
    return real("lam1", lam1, low=0.0, allow_inf=True, what="stage-1 penalty")


def _names(name: str, value, allowed) -> tuple:
    """A sequence of names (a single string counts as one name), each in ``allowed``."""
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{name} = {value!r}: expected a sequence of names from {allowed}")
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"{name}: unknown name {unknown[0]!r}; choose from {allowed}")
    if len(set(names)) != len(names):
        raise ValueError(f"{name}: repeated names in {tuple(names)}")
    return tuple(names)


def _check_request(over, fixed, bounds):
    """Validated (over, fixed, bounds) of :func:`optimize`."""
    over = _names("over", over, NAMES)
    if not over:
        raise ValueError("over: name at least one hyperparameter to optimise")
    for name, value in (("fixed", fixed), ("bounds", bounds)):
        if value is not None and not isinstance(value, Mapping):
            raise ValueError(f"{name}: expected a mapping name -> value, got {value!r}")
    fixed = dict(fixed or {})
    _names("fixed", tuple(fixed), NAMES[:4])
    fixed = {k: real(f"fixed[{k!r}]", v, allow_inf=True) for k, v in fixed.items()}
    bounds = dict(bounds or {})
    _names("bounds", tuple(bounds), NAMES)
    for name in over:
        if name in fixed:
            raise ValueError(f"{name!r} is both optimised (over) and fixed")
    if "pt_alpha" in over and ({"kappa", "dlam"} & (set(over) | set(fixed))):
        raise ValueError("pt_alpha sets kappa and dlam: do not optimise or fix them as well")
    return over, fixed, bounds


def _base_hyper(scenario, over, fixed, lam1, tol) -> TransLassoHyper:
    """The hyperparameters held fixed (lam1 resolved by its rule unless it is optimised)."""
    lam1_val = 1.0 if "lam1" in over else fixed.pop("lam1", None)
    if lam1_val is None:
        lam1_val = _resolve_lam1(scenario, lam1, tol)
    base = {"lam1": lam1_val, "lam2": 0.1 * field_scale(scenario, pooled=False),
            "kappa": 0.0, "dlam": 0.0}
    base.update(fixed)
    return TransLassoHyper(**base)


def _refine(fz, z0, space: SearchSpace, search: NelderMeadOptions) -> bool:
    """One Nelder-Mead run from ``z0``; True if it stopped at its evaluation budget."""
    lo, hi = (np.array(v) for v in zip(*space.z_bounds, strict=True))
    span = np.maximum((hi - lo) * search.simplex_fraction, 1e-3)
    simplex = [z0] + [np.clip(z0 + np.eye(len(z0))[j] * span[j] *
                              (1 if z0[j] + span[j] <= hi[j] else -1), lo, hi)
                      for j in range(len(z0))]
    opt = sopt.minimize(fz, z0, method="Nelder-Mead",
                        options={"initial_simplex": np.array(simplex), "xatol": search.xatol,
                                 "fatol": search.fatol, "maxfev": search.maxfev})
    return not opt.success and opt.nfev >= search.maxfev


def _minimize(obj: _Objective, space: SearchSpace, n_grid: int, extra_starts,
              search: NelderMeadOptions) -> int:
    """Coarse grid (snake order, warm starts) then Nelder-Mead from the best points.

    Returns the number of Nelder-Mead runs that ran out of evaluations.
    """
    grids = space.grids(n_grid)
    vals = {}
    for idx in snake_order(tuple(g.size for g in grids)):
        z = np.array([g[i] for g, i in zip(grids, idx, strict=True)])
        vals[idx] = (obj(z), z)
    best = sorted(vals.values(), key=lambda t: t[0])[: search.n_starts]
    starts = [z for v, z in best if math.isfinite(v)] + [np.asarray(z) for z in extra_starts]
    lo, hi = (np.array(v) for v in zip(*space.z_bounds, strict=True))

    def fz(z):
        if np.any(z < lo - 1e-12) or np.any(z > hi + 1e-12):
            return math.inf
        return obj(z)

    return sum(_refine(fz, z0, space, search) for z0 in starts)


def _warn_search(over, obj: _Objective, n_exhausted: int, search: NelderMeadOptions) -> None:
    if obj.n_failed:
        warnings.warn(
            f"optimize over {over}: {obj.n_failed} of {obj.n_eval} evaluations failed or did "
            "not converge (treated as +inf; see OptimizationResult.n_failed)",
            ConvergenceWarning, stacklevel=3,
        )
    if n_exhausted:
        warnings.warn(
            f"optimize over {over}: {n_exhausted} Nelder-Mead run(s) stopped at maxfev = "
            f"{search.maxfev} evaluations before reaching their tolerances (see "
            "OptimizationResult.n_exhausted; raise NelderMeadOptions.maxfev)",
            ConvergenceWarning, stacklevel=3,
        )


def optimize(
    scenario: TransferScenario,
    over: Sequence[str] = ("lam2", "kappa", "dlam"),
    fixed: Mapping[str, float] | None = None,
    lam1: float | str | None = "target",
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    n_grid: int = 7,
    tol: float = 1e-10,
    starts: Sequence[Mapping[str, float]] = (),
    search: NelderMeadOptions | None = None,
) -> OptimizationResult:
    r"""Minimise the predicted target error :math:`\varepsilon^{(2nd)}` over hyperparameters.

    Parameters
    ----------
    scenario : TransferScenario
    over : sequence of str
        Names among ``lam1, lam2, kappa, dlam`` to optimise, or the special ``pt_alpha``
        (Pretraining Lasso: :math:`\kappa=1-a`, :math:`\Delta\lambda=\lambda_2(1/a-1)`).
    fixed : mapping, optional
        Values of the hyperparameters not optimised (defaults: ``kappa = dlam = 0``,
        ``lam2 = 0.1 x`` field scale).
    lam1 : float, "target" or "pooled"
        Stage-1 penalty, or the rule that chooses it from stage 1 alone (ignored when
        ``"lam1"`` is in ``over``).
    bounds : mapping name -> (low, high), optional
        Search box; ``lam1``/``lam2``/``pt_alpha`` are searched on a log scale and must be
        positive.
    n_grid : int
        Points per dimension of the coarse grid (``>= 2``).
    tol : float
        Saddle-point tolerance.
    starts : sequence of mappings
        Extra starting points for Nelder-Mead (e.g. the optima of restricted strategies).
    search : NelderMeadOptions, optional
        Controls of the Nelder-Mead refinement.

    Returns
    -------
    OptimizationResult
        Warns (:class:`~replica.errors.ConvergenceWarning`) when evaluations failed or a
        Nelder-Mead run ran out of evaluations; both counts are in the result.
    """
    instance("scenario", scenario, TransferScenario)
    over, fixed, bounds = _check_request(over, fixed, bounds)
    n_grid = integer("n_grid", n_grid, low=2, what="points per dimension")
    tol = real("tol", tol, low=0.0, low_open=True)
    search = NelderMeadOptions() if search is None else search
    instance("search", search, NelderMeadOptions)
    base = _base_hyper(scenario, over, fixed, lam1, tol)
    space = SearchSpace.build(scenario, over, base, bounds)
    extra_starts = [space.to_z({**base.to_dict(), **_check_start(i, s)})
                    for i, s in enumerate(starts)]
    obj = _Objective(scenario, space, _stage1_cache(scenario, tol), tol)
    n_exhausted = _minimize(obj, space, n_grid, extra_starts, search)
    best = obj.best[1]
    if best is None:
        raise NonFiniteIterateError(
            f"optimize: no converged evaluation over {over}; check the scenario and bounds"
        )
    # the exact boundary candidate dlam = 0 at the optimum
    if "dlam" in over and best.hyper.dlam > 0 and space.z_bounds[over.index("dlam")][0] < 0:
        obj.result_of(best.hyper.replace(dlam=0.0))
        best = obj.best[1]
    _warn_search(over, obj, n_exhausted, search)
    extra = {"pt_alpha": 1.0 - best.hyper.kappa} if "pt_alpha" in over else {}
    extra["at_bound"] = ",".join(space.at_bound(space.to_z(best.hyper.to_dict())))
    return OptimizationResult(
        hyper=best.hyper, eps2=best.eps2, mse2=best.mse2, result=best, over=over,
        n_evaluations=obj.n_eval, n_failed=obj.n_failed, extra=extra, n_exhausted=n_exhausted,
    )


def _check_start(i: int, start) -> dict:
    if not isinstance(start, Mapping):
        raise ValueError(f"starts[{i}] = {start!r}: expected a mapping name -> value")
    _names(f"starts[{i}]", tuple(start), NAMES[:4])
    return {k: real(f"starts[{i}][{k!r}]", v, allow_inf=True) for k, v in start.items()}


_STRATEGY_SPEC = {
    "dlam0": (("lam2", "kappa"), {"dlam": 0.0}),
    "kappa0": (("lam2", "dlam"), {"kappa": 0.0}),
    "trans_lasso": (("lam2",), {"kappa": 1.0, "dlam": 0.0}),
    "pretraining_lasso": (("lam2", "pt_alpha"), {}),
    "target_lasso": (("lam2",), {"kappa": 0.0, "dlam": 0.0}),
}


def strategy_table(
    scenario: TransferScenario,
    lam1: float | str = "target",
    *,
    strategies: Sequence[str] = STRATEGIES,
    n_grid: int = 7,
    tol: float = 1e-10,
    bounds: Mapping[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    r"""Optimal predicted target error of each transfer strategy (``docs/translasso_theory.md``).

    Parameters
    ----------
    scenario : TransferScenario
    lam1 : float, "target" or "pooled"
        Stage-1 penalty shared by all strategies, or the rule choosing it.
    strategies : sequence of str
        Subset of :data:`STRATEGIES`.

    Returns
    -------
    pandas.DataFrame
        One row per strategy: ``strategy, eps2, mse2, lam1, lam2, kappa, dlam, pt_alpha,
        regret`` (relative excess of eps2, noise included, over the full search, when it is in
        the table), ``regret_mse`` (the same on mse2 = eps2 - sigma_0^2), ``at_bound`` (names
        whose optimum lies on an edge of the search box), ``n_evaluations, converged``.
    """
    instance("scenario", scenario, TransferScenario)
    strategies = _names("strategies", strategies, STRATEGIES)
    if not strategies:
        raise ValueError("strategies: name at least one strategy")
    lam1_val = _resolve_lam1(scenario, lam1, tol)
    results: dict[str, OptimizationResult] = {}
    for s in strategies:
        if s != "full":
            over_s, fixed_s = _STRATEGY_SPEC[s]
            results[s] = optimize(scenario, over_s, {**fixed_s, "lam1": lam1_val},
                                  n_grid=n_grid, tol=tol, bounds=bounds)
    if "full" in strategies:
        results["full"] = _full_search(scenario, lam1_val, results, n_grid=n_grid, tol=tol,
                                       bounds=bounds)
    return _strategy_frame(strategies, results)


def _full_search(scenario, lam1, restricted, **kwargs) -> OptimizationResult:
    """The (lam2, kappa, dlam) search, started from the restricted optima as well.

    The full search contains every restricted optimum that lies inside its box, so a better
    restricted optimum found by a different path is taken as the full one.
    """
    starts = [{"lam2": r.hyper.lam2, "kappa": r.hyper.kappa, "dlam": r.hyper.dlam}
              for s, r in restricted.items() if s in ("dlam0", "kappa0", "trans_lasso")]
    over = ("lam2", "kappa", "dlam")
    full = optimize(scenario, over, {"lam1": lam1}, starts=starts, **kwargs)
    bounds = kwargs.get("bounds") or {}
    lo_k, hi_k = check_bounds("kappa", bounds.get("kappa", default_bounds(scenario, "kappa")))
    lo_d, hi_d = check_bounds("dlam", bounds.get("dlam", default_bounds(scenario, "dlam")))
    for r in restricted.values():
        inside = lo_k <= r.hyper.kappa <= hi_k and lo_d <= r.hyper.dlam <= hi_d
        if inside and r.eps2 < full.eps2:
            full = dataclasses.replace(r, over=over, n_evaluations=full.n_evaluations,
                                       n_failed=full.n_failed, n_exhausted=full.n_exhausted)
    return full


def _strategy_frame(strategies, results) -> pd.DataFrame:
    rows = []
    for s in strategies:
        row = {"strategy": s, **results[s].to_dict()}
        row.setdefault("pt_alpha", np.nan)
        rows.append(row)
    df = pd.DataFrame(rows)
    if "full" in results:
        df["regret"] = (df["eps2"] - results["full"].eps2) / results["full"].eps2
        df["regret_mse"] = (df["mse2"] - results["full"].mse2) / results["full"].mse2
    cols = ["strategy", "eps2", "mse2", "lam1", "lam2", "kappa", "dlam", "pt_alpha"]
    rest = [c for c in df.columns if c not in cols]
    return df[cols + rest]


@dataclass(frozen=True)
class Recommendation:
    """Which restricted strategy to use (``"dlam0"`` or ``"kappa0"``), from theory.

    Attributes
    ----------
    strategy : str
        The better restricted strategy.
    hyper : TransLassoHyper
        Its optimal hyperparameters.
    eps2 : float
        Its predicted target error.
    eps2_full : float
        Predicted error of the full (lam2, kappa, dlam) search.
    regret : float
        Relative excess ``(eps2 - eps2_full) / eps2_full`` (eps2 includes the noise sigma_0^2).
    regret_mse : float
        The same on ``mse2 = eps2 - sigma_0^2``.
    table : pandas.DataFrame
        The :func:`strategy_table` it was read from.
    """

    strategy: str
    hyper: TransLassoHyper
    eps2: float
    eps2_full: float
    regret: float
    regret_mse: float
    table: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict:
        return {"strategy": self.strategy, **self.hyper.to_dict(), "eps2": self.eps2,
                "eps2_full": self.eps2_full, "regret": self.regret,
                "regret_mse": self.regret_mse}

    def __str__(self) -> str:
        h = self.hyper
        return (
            f"use strategy {self.strategy} (lam1={h.lam1:.4g}, lam2={h.lam2:.4g}, "
            f"kappa={h.kappa:.4g}, dlam={h.dlam:.4g}): eps2 = {self.eps2:.5g}, full search "
            f"{self.eps2_full:.5g}, regret {100 * self.regret:.2f}% "
            f"({100 * self.regret_mse:.2f}% on the mse)"
        )


def recommend(scenario: TransferScenario, lam1: float | str = "target", **kwargs) -> Recommendation:
    r"""Recommend :math:`\Delta\lambda=0` or :math:`\kappa=0` for a scenario (docs: selection rule).

    Solves the strategy table and returns the better of the two restricted strategies with its
    regret against the full search. Keyword arguments go to :func:`strategy_table`.
    """
    needed = {"full", "dlam0", "kappa0"}
    missing = needed - set(kwargs.get("strategies", STRATEGIES))
    if missing:
        raise ValueError(f"strategies: recommend needs {sorted(needed)}, missing {sorted(missing)}")
    table = strategy_table(scenario, lam1, **kwargs)
    sub = table.set_index("strategy")
    pick = "dlam0" if sub.loc["dlam0", "eps2"] <= sub.loc["kappa0", "eps2"] else "kappa0"
    row = sub.loc[pick]
    hyper = TransLassoHyper(lam1=row["lam1"], lam2=row["lam2"], kappa=row["kappa"],
                            dlam=row["dlam"])
    return Recommendation(
        strategy=pick,
        hyper=hyper,
        eps2=float(row["eps2"]),
        eps2_full=float(sub.loc["full", "eps2"]),
        regret=float(row["regret"]),
        regret_mse=float(row["regret_mse"]),
        table=table,
    )
