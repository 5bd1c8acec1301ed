r"""Finite-size study of the Sigma theory on the digits covariance (issue 13, items 2-3).

At N = 61 (digits pixels) the Gaussian-Sigma simulations sit 10-30% above the Sigma theory of
:mod:`replica.covariance` when the target has few rows (alphas = (0.5, 4): 30 target rows);
the i.i.d. theory shows an offset of the same size against i.i.d. simulations. To tell a
finite-size effect from a model error, every design is replicated r times
(:class:`~validation.experiments.translasso_realdata.TransLassoRealDataConfig` field
``replicate``): N r columns in r independent blocks, covariance :math:`I_r\otimes\Sigma` for the
Gaussian-Sigma rows, r independently drawn images per row for the image design, N r i.i.d.
columns for the control. The Sigma theory of :math:`I_r\otimes\Sigma` equals that of
:math:`\Sigma` (the effective problem splits into r identical blocks,
:meth:`replica.CovarianceDesign.replicated`), while the simulations approach it as N r grows.

Per scenario, design and strategy, the simulated target error is fitted as
:math:`\mathrm{mse}(N)=a+b/N` by weighted least squares (weights :math:`1/\mathrm{se}^2`);
the intercept :math:`a` (with its standard error from :math:`(X^\top WX)^{-1}`) is compared
with the theory (Sigma theory for the Gaussian-Sigma and image designs, i.i.d. theory for the
i.i.d. control): ``z_extrapolated`` combines the fit and Monte Carlo errors. The seeds per
factor are ``ceil(base_seeds / r)``: the per-seed variance of the error falls like 1/(N r),
so every factor gets about the same standard error.

Outputs: ``points.csv`` (one row per factor, scenario, design, strategy: simulation mean and
s.e., theory, ratio, z), ``extrapolation.csv`` (one row per scenario, design, strategy),
``choice.csv`` (dlam0 vs kappa0 pick of the theories and of the paired simulation, per
factor), ``config.json``, figure ``finite_size.png``. Commands: docs
``translasso_real_designs.md`` section 6.2.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from validation.experiments import translasso_realdata as RD
from validation.outputs import make_output_dir, save_results

__all__ = ["EXPERIMENT_NAME", "FiniteSizeConfig", "fit_inverse_n", "run"]

EXPERIMENT_NAME = "translasso-finite-size"
MAX_BASE_SEEDS = 100_000  # as the CLI's --seeds cap: more is hours of simulation


@dataclass(frozen=True)
class FiniteSizeConfig:
    """Configuration of the finite-size study.

    Attributes
    ----------
    alphas, sigmas
        Sample ratios (target, source) and noise levels.
    replicates : tuple of int
        Replication factors r (at least two distinct, each in [1, 64]).
    base_seeds : int
        Seeds at r = 1; factor r gets ``ceil(base_seeds / r)`` (>= 2 each; at most
        ``MAX_BASE_SEEDS``).
    designs : tuple of str
        Subset of ``("images", "gaussian_sigma", "gaussian")``.
    kurtosis_max : float or None
        Heavy-tailed pixel filter of the real-data experiment (10 for the image study).
    mnist_scenarios : tuple of (name, pi_common, pi_unique, corr)
    sigma_replicates : int
        Monte Carlo replicates of the Sigma theory.
    n_jobs, cache_dir
        Sweep runner options.
    """

    alphas: tuple = (0.5, 4.0)
    sigmas: tuple = (0.1, 0.1)
    replicates: tuple = (1, 2, 4, 8)
    base_seeds: int = 1200
    designs: tuple = ("gaussian_sigma", "gaussian")
    kurtosis_max: float | None = None
    mnist_scenarios: tuple = (("A", 0.10, 0.02, 1.0), ("B", 0.06, 0.06, 1.0))
    sigma_replicates: int = 32
    n_jobs: int = 1
    cache_dir: str | None = None
    preset: str = "full"

    def __post_init__(self) -> None:
        for name in ("alphas", "sigmas", "replicates", "designs", "mnist_scenarios"):
            v = getattr(self, name)
            if isinstance(v, str | bytes) or not isinstance(v, tuple | list):
                raise ValueError(f"{name} = {v!r}: expected a tuple")
        reps = tuple(self.replicates)
        for r in reps:
            if isinstance(r, bool) or not isinstance(r, int | np.integer) or not 1 <= r <= 64:
                raise ValueError(f"replicates = {self.replicates!r}: each factor must be an "
                                 "integer in [1, 64]")
        if len(set(reps)) < 2:
            raise ValueError(f"replicates = {self.replicates!r}: need >= 2 distinct factors "
                             "for the a + b/N fit")
        object.__setattr__(self, "replicates", tuple(sorted(int(r) for r in set(reps))))
        b = self.base_seeds
        if (isinstance(b, bool) or not isinstance(b, int | np.integer)
                or not 2 * max(reps) <= b <= MAX_BASE_SEEDS):
            raise ValueError(f"base_seeds = {b!r}: must be an integer in [2 max(replicates) = "
                             f"{2 * max(reps)}, {MAX_BASE_SEEDS:,}]")
        object.__setattr__(self, "base_seeds", int(b))
        designs = tuple(self.designs)
        if not designs or any(d not in ("images", "gaussian_sigma", "gaussian")
                              for d in designs) or len(set(designs)) != len(designs):
            raise ValueError(f"designs = {self.designs!r}: choose distinct values from "
                             "'images', 'gaussian_sigma', 'gaussian'")
        object.__setattr__(self, "designs", designs)
        if not isinstance(self.preset, str):
            raise ValueError(f"preset = {self.preset!r}: must be a string")
        if self.cache_dir is not None and not isinstance(self.cache_dir, str | os.PathLike):
            raise ValueError(f"cache_dir = {self.cache_dir!r}: must be None or a folder path")
        self.realdata_config(self.replicates[0])  # validates the remaining fields

    def realdata_config(self, r: int) -> RD.TransLassoRealDataConfig:
        """The real-data experiment's configuration at replication factor ``r``."""
        if isinstance(r, bool) or not isinstance(r, int | np.integer) or not 1 <= r <= 64:
            raise ValueError(f"r = {r!r}: must be an integer in [1, 64] (replication factor)")
        return RD.TransLassoRealDataConfig(
            parts=("mnist",), mnist_source="digits", alphas=self.alphas, sigmas=self.sigmas,
            mnist_scenarios=self.mnist_scenarios,
            seeds=tuple(range(math.ceil(self.base_seeds / r))), n_jobs=self.n_jobs,
            cache_dir=self.cache_dir, mnist_designs=self.designs, theories=("iid", "sigma"),
            kurtosis_max=self.kurtosis_max, sigma_replicates=self.sigma_replicates,
            replicate=r, preset=f"finite_size_{self.preset}")

    @classmethod
    def quick(cls) -> FiniteSizeConfig:
        """r = 1, 4; 160 base seeds; prior A only (~2 min on 2 cores)."""
        return cls(replicates=(1, 4), base_seeds=160, mnist_scenarios=(("A", 0.10, 0.02, 1.0),),
                   sigma_replicates=8, preset="quick")

    @classmethod
    def images(cls) -> FiniteSizeConfig:
        """Item 3: filtered digits (kurtosis <= 10, N = 44), alphas (2, 6), images and both
        Gaussian controls at r = 1, 2, 4 (r = 4 needs 1408 of the 1797 images per block)."""
        return cls(alphas=(2.0, 6.0), replicates=(1, 2, 4), base_seeds=800,
                   designs=("images", "gaussian_sigma", "gaussian"), kurtosis_max=10.0,
                   preset="images")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def fit_inverse_n(n, mean, se) -> dict:
    r"""Weighted least squares of :math:`\mathrm{mean}=a+b/N` (weights :math:`1/\mathrm{se}^2`).

    Returns ``a, a_se, b, b_se`` (standard errors from :math:`(X^\top WX)^{-1}`, i.e. taking
    the given s.e. as exact) and ``chi2`` with ``dof`` = points - 2 (0 for two points).
    """
    try:
        n, mean, se = (np.asarray(v, dtype=float) for v in (n, mean, se))
    except (TypeError, ValueError) as err:
        raise ValueError(f"fit_inverse_n: n, mean and se must be arrays of numbers ({err})") \
            from None
    if n.ndim != 1 or not (n.shape == mean.shape == se.shape) or n.size < 2:
        raise ValueError(f"fit_inverse_n: need >= 2 points of equal length, got shapes "
                         f"{n.shape}, {mean.shape}, {se.shape}")
    for name, v in (("n", n), ("mean", mean), ("se", se)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"fit_inverse_n: {name} = {v.tolist()} holds NaN or inf")
    if np.unique(n).size < 2 or np.any(n <= 0) or np.any(~(se > 0)):
        raise ValueError("fit_inverse_n: need >= 2 distinct N > 0 and standard errors > 0")
    X = np.c_[np.ones_like(n), n.min() / n]  # 1/N scaled to (0, 1]: a conditioned system
    w = (se.min() / se) ** 2  # relative weights (scale-free: no overflow for tiny se)
    gram = X.T @ (X * w[:, None])
    if not np.linalg.cond(gram) < 1e12:
        raise ValueError(f"fit_inverse_n: n = {n.tolist()} with weights 1/se^2 do not "
                         "determine a + b/N (1/N values too close, or one point dominates)")
    ginv = np.linalg.inv(gram)  # (X'WX)^{-1} = ginv * min(se)^2
    a, b = ginv @ (X.T @ (w * mean))
    b *= n.min()
    with np.errstate(over="ignore"):  # inf: the points are far outside their s.e.
        chi2 = float(np.sum(((mean - a - b / n) / se) ** 2))
    return {"a": float(a), "a_se": float(math.sqrt(ginv[0, 0]) * se.min()), "b": float(b),
            "b_se": float(math.sqrt(ginv[1, 1]) * se.min() * n.min()), "chi2": chi2,
            "dof": int(n.size - 2)}


def _theory(row) -> tuple[float, float]:
    """(theory, Monte Carlo s.e.) compared with a design: i.i.d. theory for the i.i.d. control,
    Sigma theory otherwise."""
    if row["design"] == "i.i.d. Gaussian":
        return float(row["theory_mse2"]), 0.0
    return float(row["sigma_mse2"]), float(row["sigma_se"])


def _check_config(cfg) -> None:
    if not isinstance(cfg, FiniteSizeConfig):
        raise ValueError(f"cfg = {cfg!r}: expected a FiniteSizeConfig")


_POINT_COLUMNS = ("scenario", "design", "strategy", "N", "mse2", "se", "theory", "theory_se",
                  "ratio", "ratio_se", "z_theory")


def points_table(cfg: FiniteSizeConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulation vs theory at every replication factor: (points, choice) tables."""
    _check_config(cfg)
    points, choices = [], []
    for r in cfg.replicates:
        table, _, _, _, choice = RD._run_mnist(cfg.realdata_config(r))
        table.insert(0, "replicate", r)
        choice.insert(0, "replicate", r)
        th = table.apply(_theory, axis=1, result_type="expand")
        table["theory"], table["theory_se"] = th[0], th[1]
        comb = np.hypot(table["se"], table["theory_se"])
        table["ratio"] = table["mse2"] / table["theory"]
        table["ratio_se"] = table["ratio"] * np.hypot(table["se"] / table["mse2"],
                                                      table["theory_se"] / table["theory"])
        table["z_theory"] = (table["mse2"] - table["theory"]) / comb
        points.append(table)
        choices.append(choice)
    return pd.concat(points, ignore_index=True), pd.concat(choices, ignore_index=True)


def extrapolation_table(points: pd.DataFrame) -> pd.DataFrame:
    """One row per scenario, design and strategy: the a + b/N fit against the theory, and the
    direct comparison at the largest factor."""
    if not isinstance(points, pd.DataFrame):
        raise ValueError(f"points: expected the DataFrame of points_table, got "
                         f"{type(points).__name__}")
    missing = [c for c in _POINT_COLUMNS if c not in points.columns]
    if missing:
        raise ValueError(f"points: missing columns {missing} (expected those of points_table)")
    rows = []
    for (scn, des, strat), g in points.groupby(["scenario", "design", "strategy"], sort=False):
        g = g.sort_values("N")
        fit = fit_inverse_n(g["N"], g["mse2"], g["se"])
        last = g.iloc[-1]
        theory, theory_se = float(last["theory"]), float(last["theory_se"])
        row = {"scenario": scn, "design": des, "strategy": strat,
               "N_values": ",".join(str(int(v)) for v in g["N"]), **fit,
               "theory": theory, "theory_se": theory_se,
               "z_extrapolated": (fit["a"] - theory) / math.hypot(fit["a_se"], theory_se)}
        if len(g) >= 3:  # without the smallest N (curvature beyond b/N there)
            f2 = fit_inverse_n(g["N"].iloc[1:], g["mse2"].iloc[1:], g["se"].iloc[1:])
            row.update({"a_drop_smallest": f2["a"], "a_drop_smallest_se": f2["a_se"],
                        "chi2_drop_smallest": f2["chi2"],
                        "z_extrapolated_drop_smallest":
                            (f2["a"] - theory) / math.hypot(f2["a_se"], theory_se)})
        rows.append({**row,
                     "rel_offset_smallest_N": float(g["mse2"].iloc[0] / theory - 1.0),
                     "z_smallest_N": float(g["z_theory"].iloc[0]),
                     "ratio_largest_N": float(last["ratio"]),
                     "ratio_largest_N_se": float(last["ratio_se"]),
                     "z_largest_N": float(last["z_theory"])})
    return pd.DataFrame(rows)


def plot_finite_size(points: pd.DataFrame, extrap: pd.DataFrame):
    """Simulation / theory ratio against 1/N per strategy (rows: scenarios, columns: designs),
    with the a + b/N fit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scens = list(dict.fromkeys(points["scenario"]))
    designs = list(dict.fromkeys(points["design"]))
    fig, axes = plt.subplots(len(scens), len(designs), figsize=(3.6 * len(designs),
                             2.9 * len(scens)), squeeze=False, sharex=True)
    for (i, scn), (j, des) in ((a, b) for a in enumerate(scens) for b in enumerate(designs)):
        ax = axes[i][j]
        sub = points[(points["scenario"] == scn) & (points["design"] == des)]
        for k, (strat, g) in enumerate(sub.groupby("strategy", sort=False)):
            e = extrap[(extrap["scenario"] == scn) & (extrap["design"] == des)
                       & (extrap["strategy"] == strat)].iloc[0]
            x = 1.0 / g["N"].to_numpy()
            ax.errorbar(x * (1 + 0.02 * (k - 2.5)), g["ratio"], g["ratio_se"], fmt="o", ms=2.5,
                        color=f"C{k}", label=RD._LABELS[strat], capsize=1.5, lw=0.8)
            xx = np.linspace(0, x.max(), 20)
            ax.plot(xx, (e["a"] + e["b"] * xx) / e["theory"], "-", lw=0.6, color=f"C{k}")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_title(f"prior {scn}: {des}", fontsize=8)
        ax.tick_params(labelsize=7)
        if i == len(scens) - 1:
            ax.set_xlabel("1 / N", fontsize=8)
        if j == 0:
            ax.set_ylabel("simulation / theory", fontsize=8)
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def run(cfg: FiniteSizeConfig | None = None, out_dir=None) -> dict[str, pd.DataFrame]:
    """Run the study, write ``points.csv``, ``extrapolation.csv``, ``choice.csv``,
    ``config.json`` and ``finite_size.png`` into ``out_dir``; return the tables."""
    cfg = FiniteSizeConfig() if cfg is None else cfg
    _check_config(cfg)
    out = make_output_dir(out_dir, EXPERIMENT_NAME)
    t0 = time.perf_counter()
    points, choice = points_table(cfg)
    extrap = extrapolation_table(points)
    tables = {"points": points, "extrapolation": extrap, "choice": choice}
    extra = {"experiment": EXPERIMENT_NAME, "total_s": time.perf_counter() - t0}
    save_results(out, tables, cfg, figures={"finite_size": plot_finite_size(points, extrap)},
                 extra=extra)
    print(f"{EXPERIMENT_NAME}: outputs in {out} ({extra['total_s']:.0f} s)")
    for _, e in extrap.iterrows():
        print(f"  {e['scenario']} / {e['design']} / {e['strategy']}: a = {e['a']:.5f} ± "
              f"{e['a_se']:.5f} vs theory {e['theory']:.5f} ± {e['theory_se']:.5f} "
              f"(z = {e['z_extrapolated']:+.2f}); largest N ratio {e['ratio_largest_N']:.3f} "
              f"± {e['ratio_largest_N_se']:.3f} (z = {e['z_largest_N']:+.2f})")
    return tables


if __name__ == "__main__":  # pragma: no cover
    import sys

    run(FiniteSizeConfig.quick() if "--quick" in sys.argv
        else FiniteSizeConfig.images() if "--images" in sys.argv else FiniteSizeConfig(), None)
