r"""Acceptance table: replica theory of the Generalized Trans-Lasso vs finite-N simulations.

Thirteen settings (:func:`acceptance_settings`) cover K = 2 and 3 datasets, zero- and
non-zero-mean Gaussian-mixture priors, point-mass priors (coefficients in {0, +-1} and
{0, 1}), and every special case of the algorithm: Trans-Lasso (kappa = 1, dlam = 0),
Pretraining Lasso (kappa = 1 - a, dlam = lam2 (1/a - 1)), kappa = 0 (support transfer only),
dlam = 0 (vector transfer only), the target-only Lasso (kappa = dlam = 0) and the general case.
Each is simulated at ``N`` = 2000 with 10 seeds (the spec section 3.8 protocol: coordinate
descent to a relative duality gap of 1e-12, so the stage-1 support is exact) and compared with
:func:`replica.solve_trans_lasso` by :func:`validation.compare.compare_settings`.

Pass criterion (issue 4, acceptance 1): for ``mse2`` of every setting, ``|z| <= 3`` and
``|rel_error| <= 3%`` (column ``passed``: plain seed means). The table also gives the
control-variate estimator of :func:`validation.compare.summarize_runs` (``*_adj`` columns,
``passed_adj``): the same expectation, with the scatter caused by the realised noise and
signal powers removed. The other observables are reported with their z-scores
(``max_abs_z_all``).

Design of the settings. A 3% criterion on the mean of 10 seeds only tests the theory if the
relative standard error is well below 1.5%; it is set by the seed-to-seed scatter of
``mse2`` at N = 2000 (2.5-8% per seed). A first version (alpha_0 = 1-2, dlam up to 1) had
relative standard errors of 1.2-2.6%, so the 3% test mostly measured seed luck. The settings
were therefore redesigned on pilot seeds (100-131, never the acceptance seeds 0-9): target
sample ratio alpha_0 = 4, dense-ish priors (about half of the coordinates non-zero), and
dlam <= 0.5 (large dlam makes ``mse2`` depend on a few stage-1 support misses, a high-variance
quantity). The pilot relative standard errors for 10 seeds are 0.5-1.5%.
Every setting is drawn from its own random stream (``paired=False``), so the thirteen rows
are statistically independent.

Outputs (:func:`run`): ``acceptance.csv`` (one row per setting and observable), ``summary.csv``
(``mse2`` rows with the pass flags), ``settings.csv`` (scenario and hyperparameters of every
setting), ``runs.csv`` (one row per fit), ``config.json``, and ``parity.png``.

Running time (2 shared cores, ``n_jobs = 2``, measured): quick preset (N = 1000, 6 seeds)
~20 s; default (N = 2000, 10 seeds, 130 fits) ~2.5 min.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

import replica
from validation.compare import OBSERVABLES, Setting, compare_settings
from validation.outputs import make_output_dir, save_results

__all__ = [
    "EXPERIMENT_NAME",
    "TransLassoValidateConfig",
    "acceptance_settings",
    "as_seeds",
    "acceptance_summary",
    "plot_parity",
    "run",
]

EXPERIMENT_NAME = "translasso-validate"


# ------------------------------------------------------------------------------------------
# priors and settings
# ------------------------------------------------------------------------------------------


def _mixture(classes) -> replica.GaussianMixturePrior:
    """Prior from ``[(weight, mean, cov), ...]`` with scalars/vectors/matrices as given."""
    w = np.array([c[0] for c in classes], dtype=float)
    mu = np.array([c[1] for c in classes], dtype=float)
    cov = np.array([c[2] for c in classes], dtype=float)
    return replica.GaussianMixturePrior(w / w.sum(), mu, cov)


def _point_masses(points) -> replica.GaussianMixturePrior:
    """Discrete prior: ``[(weight, vector), ...]`` (zero covariances)."""
    k = len(points[0][1])
    return _mixture([(w, v, np.zeros((k, k))) for w, v in points])


def _pt(lam1: float, lam2: float, a: float) -> replica.TransLassoHyper:
    """Pretraining Lasso with Craig et al.'s alpha = a: kappa = 1 - a, dlam = lam2 (1/a - 1)."""
    return replica.TransLassoHyper(lam1=lam1, lam2=lam2, kappa=1.0 - a,
                                   dlam=lam2 * (1.0 / a - 1.0))


def acceptance_settings() -> list[Setting]:
    """The thirteen settings of the acceptance table (see the module docstring).

    Tags: ``K``, ``prior`` (``bg0`` zero-mean Bernoulli-Gaussian, ``gm+`` non-zero-mean
    Gaussian mixture, ``pm+-`` point masses at 0 and +-1, ``pm+`` point masses at 0 and 1) and
    ``case`` (``trans_lasso``, ``pretraining_lasso``, ``kappa0``, ``dlam0``, ``target_lasso``,
    ``general``).
    """
    H = replica.TransLassoHyper
    out: list[Setting] = []

    def add(name, scenario, hyper, prior, case):
        out.append(Setting(name, scenario, hyper,
                           {"K": scenario.n_datasets, "prior": prior, "case": case}))

    # K = 2, zero-mean Bernoulli-Gaussian: common 0.3 (corr 0.8), unique 0.1 each
    bg = replica.support_prior(0.3, [0.1, 0.1], corr=0.8)
    s_bg = replica.TransferScenario((4.0, 3.0), (0.5, 0.5), bg)
    add("K2-bg0-trans", s_bg, H(0.8, 0.3, 1.0, 0.0), "bg0", "trans_lasso")
    add("K2-bg0-pretrain", s_bg, _pt(0.8, 0.3, 0.5), "bg0", "pretraining_lasso")
    add("K2-bg0-kappa0", s_bg, H(0.8, 0.3, 0.0, 0.3), "bg0", "kappa0")
    add("K2-bg0-dlam0", s_bg, H(0.8, 0.3, 0.6, 0.0), "bg0", "dlam0")
    add("K2-bg0-target", s_bg, H(0.8, 0.3, 0.0, 0.0), "bg0", "target_lasso")
    add("K2-bg0-general", s_bg, H(0.8, 0.3, 0.5, 0.5), "bg0", "general")

    # K = 2, non-zero-mean Gaussian mixture (shifted common values, spec 3.8 family)
    gm = _mixture([
        (0.30, [1.0, 0.6], [[0.1, 0.05], [0.05, 0.1]]),
        (0.10, [1.0, 0.0], [[0.1, 0.0], [0.0, 0.0]]),
        (0.10, [0.0, 1.0], [[0.0, 0.0], [0.0, 0.1]]),
        (0.50, [0.0, 0.0], [[0.0, 0.0], [0.0, 0.0]]),
    ])
    s_gm = replica.TransferScenario((4.0, 3.0), (0.4, 0.4), gm)
    add("K2-gm+-kappa0", s_gm, H(0.8, 0.2, 0.0, 0.3), "gm+", "kappa0")
    add("K2-gm+-general", s_gm, H(0.8, 0.15, 0.6, 0.4), "gm+", "general")

    # K = 2, point masses at 0 and +-1 (symmetric) and at 0 and 1 (non-zero mean)
    pm = _point_masses([
        (0.15, [1, 1]), (0.15, [-1, -1]), (0.05, [1, 0]), (0.05, [-1, 0]),
        (0.05, [0, 1]), (0.05, [0, -1]), (0.50, [0, 0]),
    ])
    s_pm = replica.TransferScenario((4.0, 3.0), (0.5, 0.5), pm)
    add("K2-pm+--trans", s_pm, H(0.8, 0.3, 1.0, 0.0), "pm+-", "trans_lasso")
    pp = _point_masses([(0.3, [1, 1]), (0.1, [1, 0]), (0.1, [0, 1]), (0.5, [0, 0])])
    s_pp = replica.TransferScenario((4.0, 3.0), (0.5, 0.5), pp)
    add("K2-pm+-general", s_pp, H(0.8, 0.3, 0.5, 0.2), "pm+", "general")

    # K = 3: zero-mean Bernoulli-Gaussian, non-zero-mean mixture, point masses
    bg3 = replica.support_prior(0.3, [0.08, 0.08, 0.08], corr=0.7)
    s_bg3 = replica.TransferScenario((4.0, 2.0, 2.0), (0.5, 0.5, 0.5), bg3)
    add("K3-bg0-general", s_bg3, H(1.0, 0.3, 0.5, 0.2), "bg0", "general")
    gm3 = _mixture([
        (0.30, [0.8, 0.8, 0.5], 0.1 * (0.5 * np.eye(3) + 0.5)),
        (0.10, [1.0, 0.0, 0.0], np.diag([0.1, 0.0, 0.0])),
        (0.10, [0.0, 0.7, 0.7], np.diag([0.0, 0.1, 0.1])),
        (0.50, [0.0, 0.0, 0.0], np.zeros((3, 3))),
    ])
    s_gm3 = replica.TransferScenario((4.0, 2.0, 2.0), (0.4, 0.4, 0.4), gm3)
    add("K3-gm+-pretrain", s_gm3, _pt(1.0, 0.2, 0.6), "gm+", "pretraining_lasso")
    pm3 = _point_masses([
        (0.15, [1, 1, 1]), (0.15, [-1, -1, -1]), (0.05, [1, 0, 0]), (0.05, [-1, 0, 0]),
        (0.05, [0, 1, -1]), (0.05, [0, -1, 1]), (0.50, [0, 0, 0]),
    ])
    s_pm3 = replica.TransferScenario((4.0, 2.0, 2.0), (0.5, 0.5, 0.5), pm3)
    add("K3-pm+--dlam0", s_pm3, H(1.0, 0.3, 0.8, 0.0), "pm+-", "dlam0")
    return out


# ------------------------------------------------------------------------------------------
# config
# ------------------------------------------------------------------------------------------


def as_seeds(value, name: str = "seeds") -> tuple:
    """Seeds of a config field: a sequence of distinct integers (at least two), or an
    integer ``n`` meaning ``range(n)``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = range(int(value))
    try:
        seeds = tuple(int(s) for s in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r}: expected integers or a count") from None
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"{name} = {value!r}: need at least two distinct seeds")
    return seeds



@dataclass(frozen=True)
class TransLassoValidateConfig:
    """Configuration of the acceptance table.

    Attributes
    ----------
    N : int
        Number of features of the simulations (default 2000).
    seeds : tuple of int
        Seeds (default 0..9); each fit draws from ``default_rng([seed, N])``.
    settings : tuple of str or None
        Names of :func:`acceptance_settings` to run (``None``: all thirteen).
    solver : {"fast", "cvxpy"}
    tol : float
        Relative duality-gap tolerance of both stages.
    z_max, rel_max : float
        Pass thresholds: ``|z| <= z_max`` (all observables) and ``|rel_error| <= rel_max``
        (``mse2``).
    n_jobs, scheduler, cache_dir
        Sweep runner options (:func:`validation.runner.run_grid`).
    preset : str
        Label recorded in the outputs.
    """

    N: int = 2000
    seeds: tuple = tuple(range(10))
    settings: tuple | None = None
    solver: str = "fast"
    tol: float = 1e-12
    z_max: float = 3.0
    rel_max: float = 0.03
    n_jobs: int = -1
    scheduler: str | None = None
    cache_dir: str | None = None
    preset: str = "full"

    def __post_init__(self) -> None:
        if isinstance(self.N, bool) or not isinstance(self.N, (int, np.integer)) or self.N < 10:
            raise ValueError(f"N = {self.N!r}: must be an integer >= 10")
        object.__setattr__(self, "seeds", as_seeds(self.seeds))
        if self.settings is not None:
            known = [s.name for s in acceptance_settings()]
            names = tuple(self.settings)
            bad = [n for n in names if n not in known]
            if bad or not names:
                raise ValueError(f"settings = {self.settings!r}: unknown {bad}; choose from "
                                 f"{known}")
            object.__setattr__(self, "settings", names)
        if self.solver not in ("fast", "cvxpy"):
            raise ValueError(f"solver = {self.solver!r}: must be 'fast' or 'cvxpy'")
        if not 0 < self.tol < 1e-4:
            raise ValueError(f"tol = {self.tol}: must be in (0, 1e-4)")
        if not self.z_max > 0:
            raise ValueError(f"z_max = {self.z_max}: must be positive")
        if not self.rel_max > 0:
            raise ValueError(f"rel_max = {self.rel_max}: must be positive")
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int) or self.n_jobs == 0:
            raise ValueError(f"n_jobs = {self.n_jobs!r}: must be a non-zero integer")

    @classmethod
    def quick(cls) -> TransLassoValidateConfig:
        """All thirteen settings at N = 1000 with 6 seeds (~20 s on 2 cores).

        At this size the 3% criterion is not expected to hold for every setting (the
        standard error alone is 1-2.5%); the quick preset checks the pipeline and the
        z-scores.
        """
        return cls(N=1000, seeds=tuple(range(6)), preset="quick")

    def selected(self) -> list[Setting]:
        """The settings of this run."""
        all_s = acceptance_settings()
        if self.settings is None:
            return all_s
        by = {s.name: s for s in all_s}
        return [by[n] for n in self.settings]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------------------------------
# tables and figure
# ------------------------------------------------------------------------------------------


def acceptance_summary(table: pd.DataFrame, z_max: float = 3.0,
                       rel_max: float = 0.03) -> pd.DataFrame:
    """``mse2`` rows of a comparison table with the pass flags.

    ``passed``: ``|z| <= z_max`` and ``|rel_error| <= rel_max`` for the plain seed mean;
    ``passed_adj``: the same for the control-variate estimator (``z_adj``,
    ``rel_error_adj``, see :func:`validation.compare.summarize_runs`), when present;
    ``max_abs_z_all``: the largest plain |z| over all observables of the setting.
    """
    rows = table[table["observable"] == "mse2"].copy()
    rows["passed"] = (rows["z"].abs() <= z_max) & (rows["rel_error"].abs() <= rel_max)
    if "z_adj" in rows.columns:
        rows["passed_adj"] = ((rows["z_adj"].abs() <= z_max)
                              & (rows["rel_error_adj"].abs() <= rel_max))
    worst = table.groupby("setting")["z"].apply(lambda z: float(np.nanmax(np.abs(z))))
    rows["max_abs_z_all"] = rows["setting"].map(worst)
    return rows.reset_index(drop=True)


def _settings_table(settings: list[Setting]) -> pd.DataFrame:
    rows = []
    for s in settings:
        sc = s.scenario
        rows.append({"setting": s.name, **s.tags, "alphas": json.dumps(list(sc.alphas)),
                     "sigmas": json.dumps(list(sc.sigmas)), **s.hyper.to_dict(),
                     "prior": json.dumps(sc.prior.to_dict())})
    return pd.DataFrame(rows)


def plot_parity(table: pd.DataFrame, title: str | None = None):
    """Parity plot: theory (x) vs simulation mean +- 2 s.e. (y), one panel per observable
    group (errors, densities, overlaps), colours by setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [("errors", ("mse1", "mse2")), ("densities", ("density1", "density2")),
              ("overlaps", ("Q1", "m1", "Q2", "m2", "R"))]
    markers = {"mse1": "o", "mse2": "s", "density1": "o", "density2": "s", "Q1": "o",
               "m1": "v", "Q2": "s", "m2": "^", "R": "D"}
    settings = list(dict.fromkeys(table["setting"]))
    cmap = plt.get_cmap("tab20")
    colors = {s: cmap(i % 20) for i, s in enumerate(settings)}
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    for ax, (gname, obs) in zip(axes, groups, strict=True):
        sub = table[table["observable"].isin(obs)]
        if sub.empty:
            ax.set_visible(False)
            continue
        lo = float(min(sub["theory"].min(), sub["empirical"].min()))
        hi = float(max(sub["theory"].max(), sub["empirical"].max()))
        pad = 0.05 * (hi - lo + 1e-12)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.5", lw=1, zorder=0)
        for _, r in sub.iterrows():
            ax.errorbar(r["theory"], r["empirical"], yerr=2 * r["se"], fmt=markers[r["observable"]],
                        ms=5, color=colors[r["setting"]], mfc="none", capsize=2, lw=1)
        ax.set_xlabel("replica theory")
        ax.set_ylabel("simulation (mean ± 2 s.e.)")
        ax.set_title(f"{gname}: " + ", ".join(obs))
        handles = [plt.Line2D([], [], marker=markers[o], ls="", color="k", mfc="none", label=o)
                   for o in obs]
        ax.legend(handles=handles, loc="upper left", fontsize=8)
    set_handles = [plt.Line2D([], [], marker="o", ls="", color=colors[s], label=s)
                   for s in settings]
    fig.legend(handles=set_handles, loc="lower center", ncol=min(len(settings), 5), fontsize=7,
               bbox_to_anchor=(0.5, -0.08))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------


def run(cfg: TransLassoValidateConfig | None = None, out_dir=None) -> dict[str, pd.DataFrame]:
    """Build the acceptance table, write the outputs into ``out_dir`` and return the tables.

    Returns
    -------
    dict of DataFrame
        ``acceptance`` (setting x observable), ``summary`` (``mse2`` with pass flags),
        ``settings``, ``runs``.
    """
    cfg = TransLassoValidateConfig() if cfg is None else cfg
    out = make_output_dir(out_dir, EXPERIMENT_NAME)
    settings = cfg.selected()
    t0 = time.perf_counter()
    table = compare_settings(settings, cfg.N, cfg.seeds, cfg.solver, tol=cfg.tol,
                             n_jobs=cfg.n_jobs, scheduler=cfg.scheduler,
                             cache_dir=cfg.cache_dir, observables=OBSERVABLES)
    elapsed = time.perf_counter() - t0
    runs = table.attrs["runs"]
    summary = acceptance_summary(table, cfg.z_max, cfg.rel_max)
    acc = table.copy()
    acc.attrs = {}
    tables = {"acceptance": acc, "summary": summary, "settings": _settings_table(settings),
              "runs": runs}
    n_pass = int(summary["passed"].sum())
    n_pass_adj = int(summary["passed_adj"].sum())
    fig = plot_parity(acc, title=f"Generalized Trans-Lasso: replica theory vs simulation "
                                 f"(N = {cfg.N}, {len(cfg.seeds)} seeds, "
                                 f"{len(settings)} settings)")
    save_results(out, tables, cfg, figures={"parity": fig},
                 extra={"experiment": EXPERIMENT_NAME,
                        "timings": {"sweep_s": elapsed},
                        "n_computed": table.attrs.get("n_computed"),
                        "n_cached": table.attrs.get("n_cached"),
                        "mse2_passed": n_pass, "mse2_passed_adj": n_pass_adj,
                        "n_settings": len(settings),
                        "all_passed": bool(summary["passed"].all()),
                        "all_passed_adj": bool(summary["passed_adj"].all())})
    print(f"{EXPERIMENT_NAME}: {n_pass}/{len(settings)} settings pass (|z| <= {cfg.z_max}, "
          f"|rel. error| <= {100 * cfg.rel_max:.0f}% for mse2; control-variate estimator: "
          f"{n_pass_adj}/{len(settings)}) at N = {cfg.N}, {len(cfg.seeds)} seeds; "
          f"{elapsed:.0f} s; outputs in {out}")
    cols = ["setting", "theory", "empirical", "se", "z", "rel_error", "passed",
            "empirical_adj", "se_adj", "z_adj", "rel_error_adj", "passed_adj",
            "max_abs_z_all"]
    print(summary[cols].to_string(index=False, float_format=lambda v: f"{v:.5g}"))
    return tables


if __name__ == "__main__":  # pragma: no cover
    import sys

    run(TransLassoValidateConfig.quick() if "--quick" in sys.argv
        else TransLassoValidateConfig(), None)
