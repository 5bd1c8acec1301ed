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

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize as sopt

from replica.errors import ConvergenceWarning, NonFiniteIterateError, NotIdentifiableError
from replica.scenario import TransferScenario, TransLassoHyper
from replica.stage1 import PretrainingResult, solve_pretraining
from replica.stage2 import TransLassoResult, solve_finetuning
from replica.sweep import snake_order

__all__ = [
    "OptimizationResult",
    "Recommendation",
    "choose_lam1",
    "optimize",
    "strategy_table",
    "recommend",
    "STRATEGIES",
]

STRATEGIES = ("full", "dlam0", "kappa0", "trans_lasso", "pretraining_lasso", "target_lasso")

_LOG_PARAMS = ("lam1", "lam2", "pt_alpha")


def _field_scale(scenario: TransferScenario, pooled: bool) -> float:
    """Typical size of the effective field h = mh r + zeta, which sets the scale of penalties."""
    rho = scenario.prior.second_moments
    s2 = np.asarray(scenario.sigmas) ** 2
    a = np.asarray(scenario.alphas)
    if pooled:
        return float(max(np.sqrt(np.dot(a, rho + s2) * a.sum()), 1e-8))
    return float(max(a[0] * math.sqrt(rho[0] + s2[0]), 1e-8))


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
        Evaluations that did not converge or failed (treated as +inf).
    """

    hyper: TransLassoHyper
    eps2: float
    mse2: float
    result: TransLassoResult
    over: tuple
    n_evaluations: int
    n_failed: int
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {"eps2": self.eps2, "mse2": self.mse2, **self.hyper.to_dict()}
        d.update(self.extra)
        d.update({"n_evaluations": self.n_evaluations, "n_failed": self.n_failed,
                  "converged": self.result.converged, "eps1": self.result.eps1})
        return d


class _Objective:
    """eps2 as a function of an unconstrained vector, with warm starts and memoisation."""

    def __init__(self, scenario, base, names, transform, stage1_for, tol):
        self.scenario = scenario
        self.base = base
        self.names = names
        self.transform = transform
        self.stage1_for = stage1_for
        self.tol = tol
        self.cache: dict = {}
        self.prev: TransLassoResult | None = None
        self.best: tuple[float, TransLassoResult | None] = (math.inf, None)
        self.n_eval = 0
        self.n_failed = 0

    def hyper_of(self, z) -> TransLassoHyper:
        return self.base.replace(**self.transform(np.asarray(z, dtype=float)))

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
        res = self.result_of(self.hyper_of(z))
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
    if rule not in ("target", "pooled"):
        raise ValueError(f"rule = {rule!r}: use 'target' or 'pooled'")
    scale = _field_scale(scenario, pooled=True)
    lo, hi = bounds if bounds is not None else (1e-3 * scale, 30.0 * scale)
    if not (0 < lo < hi):
        raise ValueError(f"bounds = {(lo, hi)}: need 0 < low < high")
    get = _stage1_cache(scenario, tol)
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
    v = float(lam1)
    if not v >= 0:
        raise ValueError(f"lam1 = {lam1}: must be >= 0")
    return v


def _default_bounds(scenario, name):
    if name == "lam2":
        s = _field_scale(scenario, pooled=False)
        return (1e-3 * s, 30.0 * s)
    if name == "lam1":
        s = _field_scale(scenario, pooled=True)
        return (1e-3 * s, 30.0 * s)
    if name == "kappa":
        return (0.0, 1.5)
    if name == "dlam":
        s = _field_scale(scenario, pooled=False)
        return (0.0, 30.0 * s)
    if name == "pt_alpha":
        # log scale: a = 1e-4 already means dlam = 1e4 lam2, i.e. the a -> 0 limit
        return (1e-4, 1.0)
    raise ValueError(f"over: unknown hyperparameter {name!r}")


def _grid_for(name, lo, hi, n):
    if name == "pt_alpha":
        # log-spaced towards the a -> 0 limit plus linear coverage of the interior of (0, 1]
        a = np.union1d(np.geomspace(lo, hi, n), np.linspace(max(lo, 0.05), hi, n))
        return np.log(a)
    if name in _LOG_PARAMS:
        return np.linspace(math.log(lo), math.log(hi), n)
    if name == "dlam":
        if hi <= 0:
            return np.zeros(1)
        if lo > 0:
            return np.geomspace(lo, hi, n)
        # 0 exactly, then geometric values up to hi
        return np.concatenate([[0.0], np.geomspace(hi * 1e-3, hi, n - 1)])
    return np.linspace(lo, hi, n)


def _at_bound(over, z, bz) -> list[str]:
    """Names whose optimum sits on an edge of the search box that is not a natural limit.

    dlam = 0, kappa = 0 and pt_alpha = 1 are exact special cases, not artefacts of the box.
    """
    out = []
    for name, v, (lo, hi) in zip(over, z, bz, strict=True):
        tol = 1e-6 * max(1.0, hi - lo)
        low = v <= lo + tol and not (name in ("dlam", "kappa") and v <= 0.0 + tol)
        high = v >= hi - tol and name != "pt_alpha"
        if low or high:
            out.append(name)
    return out


def _minimize(obj: _Objective, grids: list[np.ndarray], bounds_z, extra_starts=()):
    """Coarse grid (snake order, warm starts) then Nelder-Mead from the best points."""
    shape = tuple(g.size for g in grids)

    vals = {}
    for idx in snake_order(shape):
        z = np.array([g[i] for g, i in zip(grids, idx, strict=True)])
        vals[idx] = (obj(z), z)
    starts = sorted(vals.values(), key=lambda t: t[0])[:2]
    starts = [z for v, z in starts if math.isfinite(v)] + [np.asarray(z) for z in extra_starts]
    lo = np.array([b[0] for b in bounds_z])
    hi = np.array([b[1] for b in bounds_z])

    def fz(z):
        if np.any(z < lo - 1e-12) or np.any(z > hi + 1e-12):
            return math.inf
        return obj(z)

    for z0 in starts:
        span = np.maximum((hi - lo) / 10.0, 1e-3)
        simplex = [z0] + [np.clip(z0 + np.eye(len(z0))[j] * span[j] *
                                  (1 if z0[j] + span[j] <= hi[j] else -1), lo, hi)
                          for j in range(len(z0))]
        sopt.minimize(fz, z0, method="Nelder-Mead",
                      options={"initial_simplex": np.array(simplex), "xatol": 1e-5,
                               "fatol": 1e-10, "maxfev": 400})


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
        Search box; ``lam1``/``lam2`` are searched on a log scale and must be positive.
    n_grid : int
        Points per dimension of the coarse grid.
    tol : float
        Saddle-point tolerance.
    starts : sequence of mappings
        Extra starting points for Nelder-Mead (e.g. the optima of restricted strategies).

    Returns
    -------
    OptimizationResult
    """
    over = tuple(over)
    fixed = dict(fixed or {})
    if int(n_grid) < 2:
        raise ValueError(f"n_grid = {n_grid}: need at least 2 points per dimension")
    bounds = dict(bounds or {})
    if not over:
        raise ValueError("over: name at least one hyperparameter to optimise")
    for name in over:
        if name not in ("lam1", "lam2", "kappa", "dlam", "pt_alpha"):
            raise ValueError(f"over: unknown hyperparameter {name!r}")
        if name in fixed:
            raise ValueError(f"{name!r} is both optimised (over) and fixed")
    if "pt_alpha" in over and ({"kappa", "dlam"} & set(over) or {"kappa", "dlam"} & set(fixed)):
        raise ValueError("pt_alpha sets kappa and dlam: do not optimise or fix them as well")
    if len(set(over)) != len(over):
        raise ValueError(f"over: repeated names in {over}")
    if "lam1" in over:
        lam1_val = None
    else:
        lam1_val = fixed.pop("lam1", None)
        if lam1_val is None:
            lam1_val = _resolve_lam1(scenario, lam1, tol)
    base = {"lam1": lam1_val if lam1_val is not None else 1.0,
            "lam2": 0.1 * _field_scale(scenario, pooled=False), "kappa": 0.0, "dlam": 0.0}
    base.update({k: float(v) for k, v in fixed.items()})
    base_hyper = TransLassoHyper(**base)

    bz = []
    grids = []
    for name in over:
        lo, hi = bounds.get(name, _default_bounds(scenario, name))
        if name in _LOG_PARAMS:
            if not (0 < lo < hi):
                raise ValueError(f"bounds[{name!r}] = {(lo, hi)}: need 0 < low < high")
            bz.append((math.log(lo), math.log(hi)))
        else:
            if not lo <= hi:
                raise ValueError(f"bounds[{name!r}] = {(lo, hi)}: need low <= high")
            if name == "dlam" and lo < 0:
                raise ValueError(f"bounds['dlam'] = {(lo, hi)}: dlam must be >= 0")
            # dlam with lower bound 0: z below 0 maps to dlam = 0 exactly
            ext = name == "dlam" and lo == 0
            bz.append((lo - 0.05 * (hi - lo), hi) if ext else (lo, hi))
        grids.append(_grid_for(name, lo, hi, n_grid))

    def transform(z):
        out = {}
        for name, v in zip(over, z, strict=True):
            if name == "pt_alpha":
                a = float(min(math.exp(v), 1.0))
                out["kappa"] = 1.0 - a
                out["_pt_alpha"] = a
            elif name in _LOG_PARAMS:
                out[name] = float(math.exp(v))
            elif name == "dlam":
                out[name] = float(max(v, 0.0))
            else:
                out[name] = float(v)
        if "_pt_alpha" in out:
            a = out.pop("_pt_alpha")
            lam2 = out.get("lam2", base_hyper.lam2)
            out["dlam"] = lam2 * (1.0 / a - 1.0)
        return out

    def to_z(h: Mapping[str, float]):
        z = []
        for name in over:
            if name == "pt_alpha":
                z.append(math.log(max(1.0 - h["kappa"], 1e-300)))
            elif name in _LOG_PARAMS:
                z.append(math.log(max(h[name], 1e-300)))
            else:
                z.append(h[name])
        return np.array(z)

    obj = _Objective(scenario, base_hyper, over, transform, _stage1_cache(scenario, tol), tol)
    _minimize(obj, grids, bz, extra_starts=[to_z({**base, **s}) for s in starts])
    # exact boundary candidates: dlam = 0 and kappa = 0 at the optimum
    best_eps, best_res = obj.best
    if best_res is None:
        raise NonFiniteIterateError(
            f"optimize: no converged evaluation over {over}; check the scenario and bounds"
        )
    if "dlam" in over and best_res.hyper.dlam > 0 and bz[over.index("dlam")][0] < 0:
        obj.result_of(best_res.hyper.replace(dlam=0.0))
    best_eps, best_res = obj.best
    extra = {}
    if "pt_alpha" in over:
        extra["pt_alpha"] = 1.0 - best_res.hyper.kappa
    extra["at_bound"] = ",".join(_at_bound(over, to_z(best_res.hyper.to_dict()), bz))
    return OptimizationResult(
        hyper=best_res.hyper,
        eps2=best_res.eps2,
        mse2=best_res.mse2,
        result=best_res,
        over=over,
        n_evaluations=obj.n_eval,
        n_failed=obj.n_failed,
        extra=extra,
    )


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
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise ValueError(f"strategies: unknown {unknown}; choose from {STRATEGIES}")
    lam1_val = _resolve_lam1(scenario, lam1, tol)
    results: dict[str, OptimizationResult] = {}
    for s in strategies:
        if s == "full":
            continue
        over_s, fixed_s = _STRATEGY_SPEC[s]
        results[s] = optimize(scenario, over_s, {**fixed_s, "lam1": lam1_val},
                              n_grid=n_grid, tol=tol, bounds=bounds)
    if "full" in strategies:
        starts = []
        for s in ("dlam0", "kappa0", "trans_lasso"):
            if s in results:
                h = results[s].hyper
                starts.append({"lam2": h.lam2, "kappa": h.kappa, "dlam": h.dlam})
        results["full"] = optimize(scenario, ("lam2", "kappa", "dlam"), {"lam1": lam1_val},
                                   n_grid=n_grid, tol=tol, bounds=bounds, starts=starts)
        # the full search contains every restricted optimum that lies inside its box
        lo_k, hi_k = (bounds or {}).get("kappa", _default_bounds(scenario, "kappa"))
        lo_d, hi_d = (bounds or {}).get("dlam", _default_bounds(scenario, "dlam"))
        for s, r in results.items():
            if s != "full" and r.eps2 < results["full"].eps2:
                if lo_k <= r.hyper.kappa <= hi_k and lo_d <= r.hyper.dlam <= hi_d:
                    results["full"] = OptimizationResult(
                        r.hyper, r.eps2, r.mse2, r.result, ("lam2", "kappa", "dlam"),
                        results["full"].n_evaluations, results["full"].n_failed)
    rows = []
    for s in strategies:
        r = results[s]
        row = {"strategy": s, **r.to_dict()}
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
