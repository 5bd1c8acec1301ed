r"""Generalized Trans-Lasso: theory vs simulation and the hyperparameter-strategy figures.

Okajima & Obuchi (arXiv:2409.17704); theory from :mod:`replica` (``docs/translasso_theory.md``),
estimators from :mod:`lasso`. The paper's figure parameters are unknown; the default setting
follows a plausible reconstruction (``docs/translasso_theory.md``): K = 2, a scarce target
(alpha_0 = 0.5) and an abundant source (alpha_1 = 4), sigma = 0.1, Bernoulli-Gaussian coefficients
with a common
support (fraction ``pi_common``, identical values when ``corr = 1``) and unique supports
(``pi_unique`` each); lam1 minimises the predicted target error of stage 1 (``lam1_rule``).

Figures (written by :func:`run`):

1. ``fig1_parity.png`` -- theory vs simulation (mean +- 2 s.e.) of every observable over the
   settings of :mod:`validation.experiments.translasso_validate`.
2. ``fig2_landscape.png`` -- eps2 over the (kappa, dlam) plane at the optimal lam2, for
   scenarios A (similar tasks) and B (much unique support), with the two restricted
   strategies (kappa = 0, dlam = 0) drawn as lines and the optima of the full search and of
   each strategy marked.
3. ``fig3_strategies.png`` -- optimal eps2 of the full search, dlam = 0, kappa = 0,
   Trans-Lasso, Pretraining Lasso and the target-only Lasso against alpha_0 and against the
   fraction of the target support shared with the source; theory curves, with simulation
   markers (finite-N fits at the theory-optimal hyperparameters, mean +- s.e.; the strategies
   of one point are fitted on the same instances).
4. ``fig4_finite_size.png`` -- finite-size scaling: seed means at several N against 1/N, the
   weighted fit a + b/N and the replica value at 1/N = 0.
5. ``fig5_regret.png`` (and ``regret.csv``) -- regret of the better restricted strategy
   against the full search over a grid of scenarios (shared fraction x correlation of the
   shared values), i.e. the kappa = 0 / dlam = 0 rule quantified.

Tables: ``parity.csv``, ``landscape.csv``, ``strategies.csv`` (theory), ``markers.csv``
(simulations), ``finite_size.csv`` (extrapolations), ``finite_size_points.csv``,
``regret.csv``, ``runs.csv`` (every fit), ``config.json``.

Running time (2 shared cores, ``n_jobs = 2``, measured): ``quick`` ~35 s; the default preset
~5-6 min from an empty cache (parity fits ~2.5 min, simulation markers ~2 min, 34 strategy
tables 30 s, landscape 20 s, finite-size fits up to N = 4000 20 s); with ``cache_dir`` shared
with ``translasso-validate`` the parity fits are reused.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

import replica
from validation.compare import Setting, compare_settings, finite_size_scaling
from validation.errors import count_convergence_warnings, warn_unconverged
from validation.experiments.translasso_validate import (
    acceptance_settings,
    as_seeds,
    plot_parity,
)
from validation.outputs import make_output_dir, save_results
from validation.plotting import fmt, param_text, pyplot
from validation.runner import run_grid

__all__ = [
    "EXPERIMENT_NAME",
    "STRATEGY_LABELS",
    "TransLassoConfig",
    "compute_tables",
    "landscape_row",
    "make_figures",
    "run",
    "strategy_point",
]

EXPERIMENT_NAME = "translasso"
# measured running time (s) of the presets on 2 shared cores; the CLI scales it with --seeds
RUNTIME_S = {"quick": 35.0, "full": 360.0}

STRATEGY_LABELS = {
    "full": "full search",
    "dlam0": r"$\Delta\lambda=0$",
    "kappa0": r"$\kappa=0$",
    "trans_lasso": "Trans-Lasso",
    "pretraining_lasso": "Pretraining Lasso",
    "target_lasso": "target-only Lasso",
}
_STYLE = {
    "full": dict(color="k", ls="-", marker="*"),
    "dlam0": dict(color="tab:blue", ls="--", marker="o"),
    "kappa0": dict(color="tab:red", ls="--", marker="s"),
    "trans_lasso": dict(color="tab:green", ls=":", marker="^"),
    "pretraining_lasso": dict(color="tab:purple", ls="-.", marker="D"),
    "target_lasso": dict(color="0.5", ls="-", marker="v"),
}


_FSS_OBS = ("mse2", "Q2", "m2", "R", "density2", "mse1")


# ------------------------------------------------------------------------------------------
# config
# ------------------------------------------------------------------------------------------

def _check_grid(name: str, grid, lo: float = -math.inf, hi: float = math.inf,
                min_len: int = 1) -> tuple:
    try:
        g = tuple(float(v) for v in grid)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {grid!r}: must be a sequence of numbers") from None
    if len(g) < min_len:
        raise ValueError(f"{name} = {grid!r}: needs at least {min_len} values")
    for i, v in enumerate(g):
        if not (lo <= v <= hi) or not math.isfinite(v):
            raise ValueError(f"{name}[{i}] = {v}: must lie in [{lo}, {hi}]")
    if any(b <= a for a, b in zip(g[:-1], g[1:], strict=False)):
        raise ValueError(f"{name} = {grid!r}: must be strictly increasing")
    return g


@dataclass(frozen=True)
class TransLassoConfig:
    """Configuration of the Trans-Lasso figures (defaults: full preset).

    Scenario family (all figures except 1 and 4): ``alphas`` = (alpha_0, alpha_1),
    ``sigmas``, coefficients from :func:`replica.support_prior` with common support
    ``pi_common``, unique supports ``pi_unique`` (each dataset) and correlation ``corr`` of the
    common values. ``scenario_A`` / ``scenario_B``: (pi_common, pi_unique, corr) of the two
    landscape panels (scenarios A and B of ``docs/results.md``).

    Attributes
    ----------
    N, seeds
        Size and seeds of the simulations of figures 1 and 3.
    parity_settings
        Names from :func:`~validation.experiments.translasso_validate.acceptance_settings`
        (``None``: all).
    kappa_grid, dlam_grid
        The (kappa, dlam) plane of figure 2 (``dlam_grid`` starts at 0).
    alpha0_grid, fraction_grid
        x-axes of figure 3; ``support`` is the target support fraction pi_common + pi_unique
        kept fixed while the shared fraction pi_common / support varies.
    marker_alpha0, marker_fraction
        Points of figure 3 that get simulation markers (subsets of the grids).
    regret_fraction_grid, regret_corr_grid
        Scenario grid of figure 5.
    fss_Ns, fss_seeds
        Sizes and seeds of figure 4; the setting is the four-class prior P1 of :meth:`fss_setting`
        with
        alpha = (1, 2), sigma = 0.5, (lam1, lam2, kappa, dlam) = (0.3, 0.2, 0.5, 0.5).
    lam1_rule
        ``"target"`` or ``"pooled"`` (:func:`replica.choose_lam1`).
    n_grid
        Coarse-grid points per dimension of :func:`replica.optimize`.
    solver, tol
        Lasso solver and its relative duality-gap tolerance.
    n_jobs, scheduler, cache_dir
        Sweep runner options (:func:`validation.runner.run_grid`).
    """

    alphas: tuple = (0.5, 4.0)
    sigmas: tuple = (0.1, 0.1)
    pi_common: float = 0.10
    pi_unique: float = 0.02
    corr: float = 1.0
    scenario_A: tuple = (0.10, 0.02, 1.0)
    scenario_B: tuple = (0.06, 0.06, 1.0)
    N: int = 2000
    seeds: tuple = tuple(range(10))
    parity_settings: tuple | None = None
    kappa_grid: tuple = tuple(np.round(np.linspace(0.0, 1.4, 15), 6))
    dlam_grid: tuple = (0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28)
    alpha0_grid: tuple = (0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)
    fraction_grid: tuple = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0)
    support: float = 0.12
    marker_alpha0: tuple = (0.3, 0.5, 1.0)
    marker_fraction: tuple = (0.2, 0.6, 1.0)
    regret_fraction_grid: tuple = (0.2, 0.4, 0.6, 0.8, 1.0)
    regret_corr_grid: tuple = (0.5, 0.8, 0.95, 1.0)
    fss_Ns: tuple = (500, 1000, 2000, 4000)
    fss_seeds: tuple = tuple(range(10))
    lam1_rule: str = "target"
    n_grid: int = 7
    solver: str = "fast"
    tol: float = 1e-12
    n_jobs: int = -1
    scheduler: str | None = None
    cache_dir: str | None = None
    preset: str = "full"

    def __post_init__(self) -> None:
        alphas = tuple(float(a) for a in self.alphas)
        sigmas = tuple(float(s) for s in self.sigmas)
        if len(alphas) != 2 or len(sigmas) != 2:
            raise ValueError(f"alphas = {self.alphas!r}, sigmas = {self.sigmas!r}: the figure "
                             "family has K = 2 datasets (target, source)")
        object.__setattr__(self, "alphas", alphas)
        object.__setattr__(self, "sigmas", sigmas)
        for name in ("scenario_A", "scenario_B"):
            v = tuple(float(x) for x in getattr(self, name))
            if len(v) != 3:
                raise ValueError(f"{name} = {v!r}: expected (pi_common, pi_unique, corr)")
            object.__setattr__(self, name, v)
        if isinstance(self.N, bool) or not isinstance(self.N, (int, np.integer)) or self.N < 10:
            raise ValueError(f"N = {self.N!r}: must be an integer >= 10")
        for name in ("seeds", "fss_seeds"):
            object.__setattr__(self, name, as_seeds(getattr(self, name), name))
        if self.parity_settings is not None:
            known = [s.name for s in acceptance_settings()]
            bad = [n for n in self.parity_settings if n not in known]
            if bad or not self.parity_settings:
                raise ValueError(f"parity_settings = {self.parity_settings!r}: unknown {bad}; "
                                 f"choose from {known}")
            object.__setattr__(self, "parity_settings", tuple(self.parity_settings))
        object.__setattr__(self, "kappa_grid", _check_grid("kappa_grid", self.kappa_grid,
                                                           min_len=2))
        dg = _check_grid("dlam_grid", self.dlam_grid, lo=0.0, min_len=2)
        if dg[0] != 0.0:
            raise ValueError(f"dlam_grid[0] = {dg[0]}: must be 0 (the dlam = 0 strategy)")
        object.__setattr__(self, "dlam_grid", dg)
        object.__setattr__(self, "alpha0_grid", _check_grid("alpha0_grid", self.alpha0_grid,
                                                            lo=1e-6, min_len=2))
        for name in ("fraction_grid", "regret_fraction_grid"):
            object.__setattr__(self, name, _check_grid(name, getattr(self, name), 0.0, 1.0))
        object.__setattr__(self, "regret_corr_grid",
                           _check_grid("regret_corr_grid", self.regret_corr_grid, -1.0, 1.0))
        for name, grid in (("marker_alpha0", "alpha0_grid"),
                           ("marker_fraction", "fraction_grid")):
            m = tuple(float(v) for v in getattr(self, name))
            bad = [v for v in m if v not in getattr(self, grid)]
            if bad:
                raise ValueError(f"{name} = {m!r}: values {bad} are not in {grid}")
            object.__setattr__(self, name, m)
        if isinstance(self.support, bool) or not isinstance(self.support, (int, float)) \
                or not 0.0 < self.support <= 1.0:
            raise ValueError(f"support = {self.support}: must lie in (0, 1]")
        ns = tuple(int(n) for n in self.fss_Ns)
        if len(set(ns)) < 2 or min(ns) < 10:
            raise ValueError(f"fss_Ns = {self.fss_Ns!r}: need >= 2 distinct sizes >= 10")
        object.__setattr__(self, "fss_Ns", tuple(sorted(ns)))
        if self.lam1_rule not in ("target", "pooled"):
            raise ValueError(f"lam1_rule = {self.lam1_rule!r}: must be 'target' or 'pooled'")
        if isinstance(self.n_grid, bool) or not isinstance(self.n_grid, int) or self.n_grid < 3:
            raise ValueError(f"n_grid = {self.n_grid!r}: must be an integer >= 3")
        if self.solver not in ("fast", "cvxpy"):
            raise ValueError(f"solver = {self.solver!r}: must be 'fast' or 'cvxpy'")
        if isinstance(self.tol, bool) or not isinstance(self.tol, (int, float)) \
                or not 0 < self.tol < 1e-4:
            raise ValueError(f"tol = {self.tol!r}: must be in (0, 1e-4)")
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int) or self.n_jobs == 0:
            raise ValueError(f"n_jobs = {self.n_jobs!r}: must be a non-zero integer")
        self.scenario()  # validates the scenario fields

    @classmethod
    def quick(cls) -> TransLassoConfig:
        """Coarse grids, N = 500 with 5 seeds, finite-size N up to 1600 (~1 min, 2 cores)."""
        return cls(
            N=500,
            seeds=(0, 1, 2, 3, 4),
            parity_settings=("K2-bg0-trans", "K2-bg0-pretrain", "K2-gm+-kappa0",
                             "K2-pm+--trans", "K3-bg0-general"),
            kappa_grid=(0.0, 0.25, 0.5, 0.75, 1.0, 1.25),
            dlam_grid=(0.0, 0.01, 0.04, 0.16, 0.64),
            alpha0_grid=(0.3, 0.5, 1.0, 2.0),
            fraction_grid=(0.2, 0.6, 1.0),
            marker_alpha0=(0.5,),
            marker_fraction=(1.0,),
            regret_fraction_grid=(0.4, 1.0),
            regret_corr_grid=(0.8, 1.0),
            fss_Ns=(200, 400, 800, 1600),
            fss_seeds=(0, 1, 2, 3, 4),
            n_grid=5,
            preset="quick",
        )

    def scenario(self, pi_common: float | None = None, pi_unique: float | None = None,
                 corr: float | None = None, alpha0: float | None = None,
                 ) -> replica.TransferScenario:
        """A scenario of the family, with any of its four parameters changed."""
        pc = self.pi_common if pi_common is None else pi_common
        pu = self.pi_unique if pi_unique is None else pi_unique
        c = self.corr if corr is None else corr
        alphas = self.alphas if alpha0 is None else (float(alpha0), self.alphas[1])
        prior = replica.support_prior(pc, [pu, pu], corr=c)
        return replica.TransferScenario(alphas, self.sigmas, prior)

    def fraction_scenario(self, fraction: float, corr: float | None = None,
                          ) -> replica.TransferScenario:
        """Scenario with shared fraction ``fraction`` of the (fixed) target support."""
        return self.scenario(pi_common=fraction * self.support,
                             pi_unique=(1.0 - fraction) * self.support, corr=corr)

    def fss_setting(self) -> Setting:
        """The finite-size-scaling setting: four-class Gaussian-mixture prior P1 (shared
        support with correlation 0.8, unique supports, 75% zeros)."""
        prior = replica.GaussianMixturePrior(
            [0.15, 0.05, 0.05, 0.75], np.zeros((4, 2)),
            [[[1, .8], [.8, 1]], [[1, 0], [0, 0]], [[0, 0], [0, 1]], np.zeros((2, 2))])
        sc = replica.TransferScenario((1.0, 2.0), (0.5, 0.5), prior)
        return Setting("spec3.8-P1", sc,
                       replica.TransLassoHyper(lam1=0.3, lam2=0.2, kappa=0.5, dlam=0.5))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

# ------------------------------------------------------------------------------------------
# tasks (module level: picklable and cacheable by the sweep runner)
# ------------------------------------------------------------------------------------------

def landscape_row(scenario: dict, lam1: float, kappa: float, dlam_grid: list,
                  n_grid: int = 7) -> list[dict]:
    r"""eps2 minimised over lam2 at fixed (kappa, dlam) for every dlam of the grid.

    One row per dlam: ``dlam, eps2, mse2, lam2, converged`` (theory; :func:`replica.optimize`
    over ``lam2`` only, at the given ``lam1``).
    """
    sc = replica.TransferScenario.from_dict(scenario)
    rows = []
    for d in dlam_grid:
        fixed = {"lam1": lam1, "kappa": kappa, "dlam": d}
        try:
            r, n_warn = count_convergence_warnings(replica.optimize, sc, ("lam2",), fixed,
                                                   n_grid=n_grid)
            rows.append({"dlam": float(d), "eps2": r.eps2, "mse2": r.mse2,
                         "lam2": r.hyper.lam2, "converged": bool(r.result.converged),
                         "n_convergence_warnings": n_warn})
        except (replica.NonFiniteIterateError, replica.NotIdentifiableError):
            rows.append({"dlam": float(d), "eps2": math.nan, "mse2": math.nan,
                         "lam2": math.nan, "converged": False, "n_convergence_warnings": 0})
    return rows


landscape_row.cache_version = 2


def strategy_point(scenario: dict, lam1_rule: str = "target", n_grid: int = 7) -> list[dict]:
    """:func:`replica.strategy_table` of one scenario, as rows (a run_grid task)."""
    sc = replica.TransferScenario.from_dict(scenario)
    tab, n_warn = count_convergence_warnings(replica.strategy_table, sc, lam1_rule,
                                             n_grid=n_grid)
    return tab.assign(n_convergence_warnings=n_warn).to_dict("records")


strategy_point.cache_version = 2


def _landscape_task(panel: str, scenario: dict, lam1: float, kappa: float, dlam_grid: list,
                    n_grid: int) -> list[dict]:
    return landscape_row(scenario, lam1, kappa, dlam_grid, n_grid)


_landscape_task.cache_version = 2


def _strategy_task(panel: str, scenario: dict, lam1_rule: str, n_grid: int) -> list[dict]:
    return strategy_point(scenario, lam1_rule, n_grid)


_strategy_task.cache_version = 2


def _strategy_sweep_task(panel: str, x: float, corr: float, scenario: dict, lam1_rule: str,
                         n_grid: int) -> list[dict]:
    return strategy_point(scenario, lam1_rule, n_grid)


_strategy_sweep_task.cache_version = 2

# ------------------------------------------------------------------------------------------
# tables
# ------------------------------------------------------------------------------------------

def _runner_kw(cfg: TransLassoConfig) -> dict:
    return {"n_jobs": cfg.n_jobs, "scheduler": cfg.scheduler, "cache_dir": cfg.cache_dir}


def _landscape(cfg: TransLassoConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    params, strat_params = [], []
    for label, (pc, pu, c) in (("A", cfg.scenario_A), ("B", cfg.scenario_B)):
        sc = cfg.scenario(pc, pu, c)
        lam1 = replica.choose_lam1(sc, cfg.lam1_rule).lam1
        for k in cfg.kappa_grid:
            params.append({"panel": label, "scenario": sc.to_dict(), "lam1": float(lam1),
                           "kappa": float(k), "dlam_grid": list(cfg.dlam_grid),
                           "n_grid": cfg.n_grid})
        strat_params.append({"panel": label, "scenario": sc.to_dict()})
    df = run_grid(_landscape_task, params, desc="landscape (theory)", **_runner_kw(cfg))
    warn_unconverged(df, "landscape points (theory)")
    df = df.drop(columns=["scenario", "dlam_grid", "n_grid"])
    st = run_grid(_strategy_task, [{**p, "lam1_rule": cfg.lam1_rule, "n_grid": cfg.n_grid}
                                   for p in strat_params],
                  desc="strategies (theory)", **_runner_kw(cfg))
    warn_unconverged(st, "strategy optima (theory)")
    st = st.drop(columns=["scenario", "n_grid"])
    return df.reset_index(drop=True), st.reset_index(drop=True)


def _strategy_sweeps(cfg: TransLassoConfig) -> pd.DataFrame:
    params = []
    for a0 in cfg.alpha0_grid:
        params.append({"panel": "alpha0", "x": float(a0), "corr": cfg.corr,
                       "scenario": cfg.scenario(alpha0=a0).to_dict()})
    for f in cfg.fraction_grid:
        params.append({"panel": "fraction", "x": float(f), "corr": cfg.corr,
                       "scenario": cfg.fraction_scenario(f).to_dict()})
    for f in cfg.regret_fraction_grid:
        for c in cfg.regret_corr_grid:
            params.append({"panel": "regret", "x": float(f), "corr": float(c),
                           "scenario": cfg.fraction_scenario(f, corr=c).to_dict()})
    df = run_grid(_strategy_sweep_task, [{**p, "lam1_rule": cfg.lam1_rule, "n_grid": cfg.n_grid}
                                         for p in params],
                  desc="strategy tables (theory)", **_runner_kw(cfg))
    warn_unconverged(df, "strategy optima (theory)")
    return df.drop(columns=["scenario", "n_grid"]).reset_index(drop=True)


def _marker_settings(cfg: TransLassoConfig, strat: pd.DataFrame) -> list[Setting]:
    out = []
    for panel, xs in (("alpha0", cfg.marker_alpha0), ("fraction", cfg.marker_fraction)):
        for x in xs:
            sc = cfg.scenario(alpha0=x) if panel == "alpha0" else cfg.fraction_scenario(x)
            rows = strat[(strat["panel"] == panel) & np.isclose(strat["x"], x)]
            for _, r in rows.iterrows():
                hy = replica.TransLassoHyper(lam1=r["lam1"], lam2=r["lam2"], kappa=r["kappa"],
                                             dlam=r["dlam"])
                out.append(Setting(f"{panel}={x:g}/{r['strategy']}", sc, hy,
                                   {"panel": panel, "x": float(x),
                                    "strategy": r["strategy"]}))
    return out


def _regret_table(strat: pd.DataFrame) -> pd.DataFrame:
    rows = []
    sub = strat[strat["panel"] == "regret"]
    for (x, c), g in sub.groupby(["x", "corr"], sort=True):
        t = g.set_index("strategy")
        full = float(t.loc["full", "eps2"])
        best = "dlam0" if t.loc["dlam0", "eps2"] <= t.loc["kappa0", "eps2"] else "kappa0"
        rows.append({
            "shared_fraction": x, "corr": c, "lam1": float(t.loc["full", "lam1"]),
            "eps2_full": full, "best_restricted": best,
            "regret_best": float(t.loc[best, "eps2"]) / full - 1.0,
            "regret_dlam0": float(t.loc["dlam0", "eps2"]) / full - 1.0,
            "regret_kappa0": float(t.loc["kappa0", "eps2"]) / full - 1.0,
            "regret_trans_lasso": float(t.loc["trans_lasso", "eps2"]) / full - 1.0,
            "regret_pretraining_lasso": float(t.loc["pretraining_lasso", "eps2"]) / full - 1.0,
            "regret_target_lasso": float(t.loc["target_lasso", "eps2"]) / full - 1.0,
            "kappa_full": float(t.loc["full", "kappa"]),
            "dlam_full": float(t.loc["full", "dlam"]),
        })
    return pd.DataFrame(rows)


def _parity_table(cfg: TransLassoConfig) -> pd.DataFrame:
    """Figure 1: theory vs simulation over the acceptance settings (one sweep)."""
    settings = acceptance_settings()
    if cfg.parity_settings is not None:
        by = {s.name: s for s in settings}
        settings = [by[n] for n in cfg.parity_settings]
    return compare_settings(settings, cfg.N, cfg.seeds, cfg.solver, tol=cfg.tol,
                            **_runner_kw(cfg))


def _marker_table(cfg: TransLassoConfig, strat: pd.DataFrame) -> pd.DataFrame:
    """Figure 3 markers: finite-N fits at the theory-optimal hyperparameters (paired)."""
    msettings = _marker_settings(cfg, strat)
    if not msettings:
        return pd.DataFrame()
    mk = compare_settings(msettings, cfg.N, cfg.seeds, cfg.solver, tol=cfg.tol,
                          observables=("mse2", "mse1", "density2"), paired=True,
                          **_runner_kw(cfg))
    markers = mk[mk["observable"] == "mse2"].reset_index(drop=True)
    markers.attrs = dict(mk.attrs)
    return markers


def _fss_table(cfg: TransLassoConfig) -> pd.DataFrame:
    """Figure 4: finite-size extrapolation of the simulations against the theory."""
    s = cfg.fss_setting()
    return finite_size_scaling(s.scenario, s.hyper, cfg.fss_Ns, cfg.fss_seeds, cfg.solver,
                               tol=cfg.tol, observables=_FSS_OBS, **_runner_kw(cfg))


def compute_tables(cfg: TransLassoConfig) -> tuple[dict[str, pd.DataFrame], dict]:
    """Every table of the experiment (all sweeps through :func:`validation.runner.run_grid`).

    Returns
    -------
    tables : dict of DataFrame
        ``parity``, ``landscape``, ``landscape_strategies``, ``strategies``, ``markers``,
        ``finite_size``, ``finite_size_points``, ``regret``, ``runs``.
    info : dict
        ``timings`` (s per part) and ``fits_computed_cached`` (per simulation sweep).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name):
        nonlocal t0
        timings[name] = time.perf_counter() - t0
        t0 = time.perf_counter()

    parity = _parity_table(cfg)
    lap("parity_s")
    land, land_st = _landscape(cfg)
    lap("landscape_s")
    strat = _strategy_sweeps(cfg)
    lap("strategy_tables_s")
    markers = _marker_table(cfg, strat)
    lap("markers_s")
    fss = _fss_table(cfg)
    lap("finite_size_s")
    sims = {"parity": parity, "markers": markers, "finite_size": fss}
    runs = [df.attrs["runs"].assign(figure=name) for name, df in sims.items() if df.attrs]
    counts = {name: (df.attrs["n_computed"], df.attrs["n_cached"])
              for name, df in sims.items() if df.attrs}
    fss_points = fss.attrs["points"]
    for df in sims.values():
        df.attrs = {}
    tables = {
        "parity": parity, "landscape": land, "landscape_strategies": land_st,
        "strategies": strat[strat["panel"] != "regret"].reset_index(drop=True),
        "markers": markers, "finite_size": fss, "finite_size_points": fss_points,
        "regret": _regret_table(strat), "runs": pd.concat(runs, ignore_index=True),
    }
    return tables, {"timings": timings, "fits_computed_cached": counts}


# ------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------

def _frac_index(values, grid) -> np.ndarray:
    """Position of values on a grid drawn at integer indices (linear between nodes)."""
    return np.interp(values, grid, np.arange(len(grid)))


def _plot_landscape(land: pd.DataFrame, strat: pd.DataFrame, cfg: TransLassoConfig):
    plt = pyplot()

    kg = np.asarray(cfg.kappa_grid)
    dg = np.asarray(cfg.dlam_grid)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, label in zip(axes, ("A", "B"), strict=True):
        sub = land[land["panel"] == label]
        Z = sub.pivot(index="dlam", columns="kappa", values="eps2").reindex(
            index=dg, columns=kg).to_numpy()
        st = strat[strat["panel"] == label].set_index("strategy")
        full = float(st.loc["full", "eps2"])
        rel = Z / full - 1.0
        vmax = float(min(np.nanpercentile(100 * rel, 90), 40.0))
        im = ax.pcolormesh(np.arange(len(kg) + 1) - 0.5, np.arange(len(dg) + 1) - 0.5,
                           100 * rel, cmap="viridis", vmin=0.0, vmax=max(vmax, 1.0),
                           shading="flat")
        cs = ax.contour(np.arange(len(kg)), np.arange(len(dg)), 100 * rel,
                        levels=[1, 2, 5, 10, 20], colors="w", linewidths=0.8)
        ax.clabel(cs, fmt="%g%%", fontsize=7)
        fig.colorbar(im, ax=ax, extend="max",
                     label=r"$\varepsilon^{(2nd)}/\varepsilon^{(2nd)}_{\rm full}-1$ (%)")
        ax.axvline(_frac_index(0.0, kg), color="tab:red", ls="--", lw=1.5)
        ax.axhline(_frac_index(0.0, dg), color="tab:blue", ls="--", lw=1.5)
        for s in ("full", "dlam0", "kappa0", "trans_lasso", "pretraining_lasso"):
            if s not in st.index:
                continue
            kap, dl = float(st.loc[s, "kappa"]), float(st.loc[s, "dlam"])
            if not (kg[0] <= kap <= kg[-1]):
                continue
            sty = _STYLE[s]
            y = _frac_index(min(dl, dg[-1]), dg)
            note = f" (Δλ={dl:.3g}, off scale)" if dl > dg[-1] else ""
            ax.plot(_frac_index(kap, kg), y, marker=sty["marker"], color=sty["color"],
                    mec="w", ms=12 if s == "full" else 9, ls="",
                    label=f"{STRATEGY_LABELS[s]}: {100 * float(st.loc[s, 'regret']):.1f}%"
                          f"{note}")
        ax.set_xticks(np.arange(len(kg)))
        ax.set_xticklabels([fmt(v) for v in kg], fontsize=7)
        ax.set_yticks(np.arange(len(dg)))
        ax.set_yticklabels([fmt(v) for v in dg], fontsize=7)
        ax.set_xlabel(r"$\kappa$ (vector transfer)")
        ax.set_ylabel(r"$\Delta\lambda$ (support transfer)")
        pc, pu, c = cfg.scenario_A if label == "A" else cfg.scenario_B
        ax.set_title(f"scenario {label}: common {fmt(pc)} (corr {fmt(c)}), unique {fmt(pu)}; "
                     f"$\\lambda_1$={float(sub['lam1'].iloc[0]):.3g}", fontsize=9)
        ax.legend(fontsize=7, loc="upper left" if label == "A" else "upper right",
                  framealpha=0.8, title="optimum: regret", title_fontsize=7)
    fig.suptitle(r"$\varepsilon^{(2nd)}$ at optimal $\lambda_2$ over the $(\kappa,\Delta\lambda)$"
                 r" plane; dashed: $\kappa=0$ (red) and $\Delta\lambda=0$ (blue) strategies")
    fig.tight_layout()
    return fig


def _plot_strategies(strat: pd.DataFrame, markers: pd.DataFrame, cfg: TransLassoConfig):
    plt = pyplot()

    sig2 = cfg.sigmas[0] ** 2
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    xlabels = {"alpha0": r"target sample ratio $\alpha_0$",
               "fraction": r"shared fraction of the target support $\pi_c/(\pi_c+\pi_0)$"}
    for ax, panel in zip(axes, ("alpha0", "fraction"), strict=True):
        sub = strat[strat["panel"] == panel]
        for s in replica.STRATEGIES:
            rows = sub[sub["strategy"] == s].sort_values("x")
            sty = _STYLE[s]
            ax.plot(rows["x"], rows["eps2"], color=sty["color"], ls=sty["ls"],
                    lw=2.2 if s == "full" else 1.5, label=STRATEGY_LABELS[s])
            if markers is not None and not markers.empty:
                m = markers[(markers["panel"] == panel) & (markers["strategy"] == s)]
                if not m.empty:
                    ax.errorbar(m["x"], m["empirical"] + sig2, yerr=m["se"], ls="",
                                marker=sty["marker"], color=sty["color"], mfc="none", ms=7,
                                capsize=3)
        ax.set_xlabel(xlabels[panel])
        ax.set_ylabel(r"optimal $\varepsilon^{(2nd)}$ (noise included)")
        if panel == "alpha0":
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"common {fmt(cfg.pi_common)} (corr {fmt(cfg.corr)}), unique "
                         f"{fmt(cfg.pi_unique)}; $\\alpha_1$ = {fmt(cfg.alphas[1])}", fontsize=9)
        else:
            ax.set_title(f"target support {fmt(cfg.support)} (corr {fmt(cfg.corr)}); "
                         f"$\\alpha$ = {fmt(cfg.alphas)}", fontsize=9)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], marker="o", ls="", color="k", mfc="none"))
    labels.append(f"simulation, N = {cfg.N} (mean ± s.e., {len(cfg.seeds)} seeds)")
    axes[0].legend(handles, labels, fontsize=8)
    fig.suptitle("Optimal target error of each strategy: replica theory (lines), finite-N "
                 "fits at the theory-optimal hyperparameters (markers)")
    fig.tight_layout()
    return fig


def _plot_regret(reg: pd.DataFrame, cfg: TransLassoConfig):
    plt = pyplot()

    fr = sorted(reg["shared_fraction"].unique())
    cr = sorted(reg["corr"].unique())
    cols = [("regret_best", "better restricted\n" + r"min($\Delta\lambda=0$, $\kappa=0$)"),
            ("regret_dlam0", r"$\Delta\lambda=0$"), ("regret_kappa0", r"$\kappa=0$"),
            ("regret_trans_lasso", "Trans-Lasso")]
    fig, axes = plt.subplots(1, len(cols), figsize=(4.2 * len(cols), 4.6),
                             constrained_layout=True)
    vmax = max(1.0, float(np.nanmax(100 * reg[[c for c, _ in cols]].to_numpy())))
    for ax, (col, title) in zip(axes, cols, strict=True):
        M = reg.pivot(index="corr", columns="shared_fraction", values=col).reindex(
            index=cr, columns=fr).to_numpy() * 100
        im = ax.imshow(M, origin="lower", cmap="magma_r", vmin=0, vmax=vmax, aspect="auto")
        for i in range(len(cr)):
            for j in range(len(fr)):
                txt = f"{M[i, j]:.1f}"
                if col == "regret_best":
                    b = reg[(reg["corr"] == cr[i]) & (reg["shared_fraction"] == fr[j])]
                    txt += "\n" + (r"$\Delta\lambda$=0" if b["best_restricted"].iloc[0] ==
                                   "dlam0" else r"$\kappa$=0")
                ax.text(j, i, txt, ha="center", va="center", fontsize=7,
                        color="w" if M[i, j] > 0.5 * vmax else "k")
        ax.set_xticks(range(len(fr)))
        ax.set_xticklabels([fmt(v) for v in fr])
        ax.set_yticks(range(len(cr)))
        ax.set_yticklabels([fmt(v) for v in cr])
        ax.set_xlabel("shared fraction of target support", fontsize=9)
        if ax is axes[0]:
            ax.set_ylabel("correlation of the shared values")
        ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=axes, label="regret vs full search (%)", shrink=0.8)
    fig.suptitle(f"Regret (%) of restricted strategies against the full (λ2, κ, Δλ) search; "
                 f"α = {fmt(cfg.alphas)}, σ = {fmt(cfg.sigmas[0])}, "
                 f"target support {fmt(cfg.support)}", fontsize=11)
    return fig


def _plot_fss(fss: pd.DataFrame, pts: pd.DataFrame, cfg: TransLassoConfig):
    plt = pyplot()
    obs = [o for o in _FSS_OBS if o in set(fss["observable"])]
    ncol = 3
    nrow = math.ceil(len(obs) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.3 * ncol, 3.6 * nrow), squeeze=False)
    xmax = 1.0 / min(cfg.fss_Ns)
    for ax, o in zip(axes.flat, obs, strict=False):
        p = pts[pts["observable"] == o].sort_values("N")
        f = fss[fss["observable"] == o].iloc[0]
        x = 1.0 / p["N"].to_numpy()
        ax.errorbar(x, p["empirical"], yerr=p["se"], fmt="o", color="tab:blue", capsize=3,
                    label="simulation (mean ± s.e.)")
        xx = np.linspace(0, 1.05 * xmax, 50)
        ax.plot(xx, f["extrapolated"] + f["slope"] * xx, color="tab:blue", lw=1,
                label=r"fit $a+b/N$")
        ax.errorbar([0.0], [f["extrapolated"]], yerr=[f["extrapolated_se"]], fmt="s",
                    color="tab:blue", mfc="none", capsize=4)
        ax.plot([0.0], [f["theory"]], marker="*", ms=13, color="tab:red", ls="",
                label="replica theory")
        ax.set_title(f"{o}: a = {f['extrapolated']:.4f} ± {f['extrapolated_se']:.4f}, "
                     f"theory {f['theory']:.4f} (z = {f['z']:+.2f})", fontsize=8)
        ax.set_xlabel("1/N")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(obs):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    s = cfg.fss_setting()
    fig.suptitle(f"Finite-size scaling, setting {s.name}: {param_text(s.hyper, labels=True)}; "
                 f"N = {list(cfg.fss_Ns)}, {len(cfg.fss_seeds)} seeds", fontsize=10)
    fig.tight_layout()
    return fig


def make_figures(tables: dict[str, pd.DataFrame], cfg: TransLassoConfig) -> dict:
    """The five figures from the tables of :func:`compute_tables`."""
    n_settings = tables["parity"]["setting"].nunique()
    return {
        "fig1_parity": plot_parity(tables["parity"], title=(
            f"Replica theory vs simulation, N = {cfg.N}, {len(cfg.seeds)} seeds, "
            f"{n_settings} settings")),
        "fig2_landscape": _plot_landscape(tables["landscape"], tables["landscape_strategies"],
                                          cfg),
        "fig3_strategies": _plot_strategies(tables["strategies"], tables["markers"], cfg),
        "fig4_finite_size": _plot_fss(tables["finite_size"], tables["finite_size_points"],
                                      cfg),
        "fig5_regret": _plot_regret(tables["regret"], cfg),
    }


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------

def run(cfg: TransLassoConfig | None = None, out_dir=None) -> dict[str, pd.DataFrame]:
    """Run all five figures, write the outputs into ``out_dir``, return the tables.

    Returns
    -------
    dict of DataFrame
        ``parity``, ``landscape``, ``landscape_strategies``, ``strategies``, ``markers``,
        ``finite_size``, ``finite_size_points``, ``regret``, ``runs``.
    """
    cfg = TransLassoConfig() if cfg is None else cfg
    out = make_output_dir(out_dir, EXPERIMENT_NAME)
    t0 = time.perf_counter()
    tables, info = compute_tables(cfg)
    figures = make_figures(tables, cfg)
    info["timings"]["total_s"] = time.perf_counter() - t0
    save_results(out, tables, cfg, figures=figures,
                 extra={"experiment": EXPERIMENT_NAME, **info,
                        "conventions": {
                            "eps2": "target prediction error, noise sigma_0^2 included",
                            "mse2": "||kappa x1 + x2 - r0||^2 / N = eps2 - sigma_0^2",
                            "regret": "eps2(strategy) / eps2(full search) - 1",
                            "lam1": f"choose_lam1(rule={cfg.lam1_rule!r}) per scenario",
                        }})
    _print_summary(tables, info["timings"], out)
    return tables


def _print_summary(tables: dict, timings: dict, out) -> None:
    par = tables["parity"]
    fss = tables["finite_size"]
    reg = tables["regret"]
    print(f"{EXPERIMENT_NAME}: outputs in {out} ({timings['total_s']:.0f} s)")
    print(f"  parity: max |z| = {np.nanmax(np.abs(par['z'])):.2f} over {len(par)} comparisons; "
          f"mse2 max |rel. error| = "
          f"{100 * par.loc[par['observable'] == 'mse2', 'rel_error'].abs().max():.2f}%")
    for _, r in fss.iterrows():
        print(f"  N->inf {r['observable']:>8}: {r['extrapolated']:.5f} ± "
              f"{r['extrapolated_se']:.5f} vs theory {r['theory']:.5f} (z = {r['z']:+.2f})")
    if not reg.empty:
        print(f"  regret of the better restricted strategy: max "
              f"{100 * reg['regret_best'].max():.2f}%, median "
              f"{100 * reg['regret_best'].median():.2f}% over {len(reg)} scenarios")


if __name__ == "__main__":  # pragma: no cover
    import sys

    run(TransLassoConfig.quick() if "--quick" in sys.argv else TransLassoConfig(), None)
