r"""Calibrated CNN phase diagrams: simulated test-error grids, fitted theorem constants.

Two settings (``--setting``):

* ``kou`` -- the synthetic experiment of Kou et al. (ICML 2023), whose released 100 x 100
  test-error grid (row ``t``: ``d = 100 + 10 t``; column ``s``: ``|mu| = 0.1 s``) is read from
  ``grid_file`` (default: the copy shipped in ``validation/data/kou/``).  Our coefficient
  simulator runs their setting with their network's scaling and initialisation mapped into our
  units (:meth:`dynamics.KouSetting.published`), and again with ``N(0, 0.01^2)`` filters; the
  boundaries at test error 0.2 and 0.3 are compared with the published grid's on a 20-point
  ``d`` grid, and the constants ``C1'`` / ``C3'`` of Theorem 4.3 (Kou's Theorem 4.2) are fitted
  on both grids.
* ``yuan`` -- the two-task setting of Yuan et al. (arXiv:2509.22056) over (d, |u|), transfer
  (Algorithm 1) and scratch (Algorithm 2): ``C1'``, ``C3'`` of Theorem 4.3 fitted on the
  scratch grid and ``C1``, ``C3`` of Theorem 4.2 on the transfer grid.

Every run is one exact gradient-descent trajectory of the coefficient-space simulator, many
advanced together (:func:`dynamics.simulate_cnn_gd_batched`); the tasks (one per ``d`` and
seed) run through :func:`validation.runner.run_grid` (processes, optional Dask, disk cache).

Outputs: ``cells.csv`` (mean test error per cell and setting/initialisation, with seed se),
``runs.csv`` (one row per run), ``constants.csv`` (each fitted constant with its 95%
bootstrap interval, exponent, level and grid), ``boundaries.csv`` (boundary per ``d`` and
level with intervals; for Kou also the published boundary, the difference and whether it is
within the combined uncertainty), ``chi2.csv`` (Kou: noise-calibrated chi^2 per cell in the
transition band), ``config.json``, ``phase_<setting>.png``.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

import dynamics
from validation.outputs import make_output_dir, save_results
from validation.runner import run_grid

__all__ = ["EXPERIMENT_NAME", "CNNPhaseConfig", "SETTINGS", "run", "load_published_grid",
           "default_grid_file", "kou_row_task", "yuan_row_task", "fit_constants", "seed_grids",
           "constants_table", "draw_fit", "heat"]

EXPERIMENT_NAME = "cnn-phase"
SETTINGS = ("kou", "yuan")
KOU_GRID_SHAPE = (100, 100)


def default_grid_file() -> Path:
    """The copy of Kou et al.'s released test-error grid shipped with the package."""
    return Path(str(resources.files("validation") / "data" / "kou" / "data_test100.csv"))


def load_published_grid(path) -> np.ndarray:
    """Kou et al.'s 100 x 100 test-error grid (row: ``d = 100 + 10 t``; column ``0.1 s``).

    Raises
    ------
    ValueError
        If the file cannot be parsed as numbers, has the wrong shape, or holds values outside
        [0, 1] or NaN.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"grid_file = {str(path)!r}: no such file")
    try:
        with warnings.catch_warnings():  # an empty file is reported below by its shape
            warnings.simplefilter("ignore", UserWarning)
            grid = np.loadtxt(path, ndmin=2)
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"grid_file = {str(path)!r}: not a whitespace-separated table of "
                         f"numbers ({err})") from None
    if grid.shape != KOU_GRID_SHAPE:
        raise ValueError(f"grid_file = {str(path)!r}: grid has shape {grid.shape}, expected "
                         f"{KOU_GRID_SHAPE} (rows d = 100..1090, columns |mu| = 0..9.9)")
    if not np.all(np.isfinite(grid)) or grid.min() < 0 or grid.max() > 1:
        raise ValueError(f"grid_file = {str(path)!r}: test errors must be finite and lie in "
                         "[0, 1]")
    return grid


# ------------------------------------------------------------------------------------------
# configuration
# ------------------------------------------------------------------------------------------

# the base setting of ``cnn-transfer`` (its Fig. 2 grid shares these tasks and their cache)
_YUAN_FIXED = dict(m=40, eta=0.01, sigma_0=0.01, T1=800, T2=400, N2=20, sigma_p1=1.0, u_norm=1.5,
                   sigma_p2=1.0, v1_norm=1.0, v2_norm=2.5, flip_prob1=0.1, flip_prob2=0.1,
                   alpha=0.5, layout="A", transfer_mode="filter")


MAX_SIZE = 1_000_000
"""Largest ``n_test`` / ``yuan_N1`` (samples drawn per run) and ``n_boot``."""


def _increasing(v, integer: bool = False) -> bool:
    """``v`` a sequence of finite real numbers (integers if asked), strictly increasing."""
    if not isinstance(v, tuple | list) or not v:
        return False
    ok = all(not isinstance(x, bool) and isinstance(x, int | float | np.integer | np.floating)
             and np.isfinite(x) and (not integer or float(x).is_integer()) for x in v)
    return ok and all(a < b for a, b in zip(v[:-1], v[1:], strict=True))


def _check_run_options(cfg) -> None:
    """Sizes, seed, runner options, flags and preset of a :class:`CNNPhaseConfig`."""
    for name in ("n_test", "n_boot", "yuan_N1"):
        v = getattr(cfg, name)
        if isinstance(v, int) and not isinstance(v, bool) and v > MAX_SIZE:
            raise ValueError(f"{name} = {v}: at most {MAX_SIZE:,}")
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int) or cfg.seed < 0:
        raise ValueError(f"seed = {cfg.seed!r}: must be an integer >= 0")
    if isinstance(cfg.n_jobs, bool) or not isinstance(cfg.n_jobs, int) or cfg.n_jobs == 0:
        raise ValueError(f"n_jobs = {cfg.n_jobs!r}: a non-zero integer (-1 = all cores)")
    if not isinstance(cfg.gaussian_init, bool):
        raise ValueError(f"gaussian_init = {cfg.gaussian_init!r}: must be True or False")
    if cfg.preset not in ("full", "quick"):
        raise ValueError(f"preset = {cfg.preset!r}: must be 'full' or 'quick'")
    if cfg.grid_file is not None and not isinstance(cfg.grid_file, str | Path):
        raise ValueError(f"grid_file = {cfg.grid_file!r}: a path or None")
    if cfg.n_seeds is not None and isinstance(cfg.n_seeds, bool):
        raise ValueError(f"n_seeds = {cfg.n_seeds!r}: must be an integer >= 2 (bootstrap)")


@dataclass(frozen=True)
class CNNPhaseConfig:
    r"""Configuration (defaults: full preset; ``None`` fields take the setting's default).

    Parameters
    ----------
    setting : {"kou", "yuan"}
    grid_file : str or None
        Kou et al.'s released grid (default :func:`default_grid_file`).
    levels : tuple of float
        Test-error levels of the boundaries, in (0, 0.5); the first gives ``C1`` / ``C1'``
        (near-optimal contour), the second ``C3`` / ``C3'``.
    d_index : tuple of int or None
        Kou: rows ``t`` of the published grid (``d = 100 + 10 t``); default every 5th row
        (20 values).
    s_index : tuple of int or None
        Kou: columns ``s`` (``|mu| = 0.1 s``); default 0..69.
    yuan_d, yuan_u : tuple or None
        Yuan: the d and |u| grids; default 30 log-spaced d in [250, 8000] and 30 |u| in [0, 3].
    yuan_N1 : int
        Upstream sample size of the Yuan grid.
    n_seeds : int or None
        Seeds per cell (Kou 10, as their grid; Yuan 5).
    gaussian_init : bool
        Kou: also run with ``N(0, sigma_0^2)`` filters, ``sigma_0 = 0.01``.
    kou_pool : {"sum", "mean"}
        Kou: pooling over the two patches in their network
        (:meth:`dynamics.KouSetting.published`).  Default ``"sum"``: it reproduces the released
        grid at every ``d``; their released script's ``"mean"`` puts the error about 0.02-0.03
        below the grid at ``d <= 600`` (``docs/cnn_phase.md``).
    n_test, n_boot, seed : int
        Test draws per run, bootstrap resamples, root seed.
    n_jobs, scheduler, cache_dir
        Sweep runner options (:func:`validation.runner.run_grid`).
    """

    setting: str = "kou"
    grid_file: str | None = None
    levels: tuple = (0.2, 0.3)
    d_index: tuple | None = None
    s_index: tuple | None = None
    yuan_d: tuple | None = None
    yuan_u: tuple | None = None
    yuan_N1: int = 50
    n_seeds: int | None = None
    gaussian_init: bool = True
    kou_pool: str = "sum"
    n_test: int = 1000
    n_boot: int = 200
    seed: int = 0
    n_jobs: int = 2
    scheduler: str | None = None
    cache_dir: str | None = None
    preset: str = "full"

    def __post_init__(self) -> None:
        if self.setting not in SETTINGS:
            raise ValueError(f"setting = {self.setting!r}: must be one of {SETTINGS}")
        _check_run_options(self)
        if self.kou_pool not in dynamics.KOU_POOLS:
            raise ValueError(f"kou_pool = {self.kou_pool!r}: must be one of "
                             f"{dynamics.KOU_POOLS}")
        if not isinstance(self.levels, tuple | list) or len(self.levels) != 2:
            raise ValueError(f"levels = {self.levels!r}: give two test-error levels")
        for k, lv in enumerate(self.levels):
            if not (isinstance(lv, (int, float)) and 0 < lv < 0.5):
                raise ValueError(f"levels[{k}] = {lv!r}: a test-error threshold must lie in "
                                 "(0, 0.5)")
        for name in ("n_test", "n_boot", "yuan_N1"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} = {v!r}: must be a positive integer")
        if self.n_seeds is not None and (not isinstance(self.n_seeds, int) or self.n_seeds < 2):
            raise ValueError(f"n_seeds = {self.n_seeds!r}: must be an integer >= 2 (bootstrap)")
        for name, hi in (("d_index", 99), ("s_index", 99)):
            v = getattr(self, name)
            if v is not None and (not _increasing(v, integer=True) or len(v) < 3 or min(v) < 0
                                  or max(v) > hi):
                raise ValueError(f"{name} = {v!r}: at least 3 increasing integer indices in "
                                 f"[0, {hi}]")
        if self.yuan_d is not None and (not _increasing(self.yuan_d, integer=True)
                                        or len(self.yuan_d) < 3 or min(self.yuan_d) < 2):
            raise ValueError(f"yuan_d = {self.yuan_d!r}: at least 3 increasing integer "
                             "dimensions >= 2")
        if self.yuan_u is not None and (not _increasing(self.yuan_u) or len(self.yuan_u) < 3
                                        or min(self.yuan_u) < 0):
            raise ValueError(f"yuan_u = {self.yuan_u!r}: at least 3 increasing finite norms "
                             ">= 0")

    @classmethod
    def quick(cls) -> CNNPhaseConfig:
        """Coarse grids and 3 seeds (about a minute on 2 cores for either setting)."""
        return cls(d_index=(0, 20, 40, 60, 80, 99), s_index=tuple(range(0, 70, 3)),
                   yuan_d=(250, 500, 1000, 2000, 4000, 8000),
                   yuan_u=(0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0), n_seeds=3, n_boot=100,
                   preset="quick")

    def seeds(self) -> int:
        return self.n_seeds if self.n_seeds is not None else (10 if self.setting == "kou"
                                                               else 5)

    def kou_axes(self) -> tuple[np.ndarray, np.ndarray]:
        t = np.array(self.d_index if self.d_index is not None else range(0, 100, 5))
        s = np.array(self.s_index if self.s_index is not None else range(70))
        return t, s

    def yuan_axes(self) -> tuple[np.ndarray, np.ndarray]:
        d = self.yuan_d if self.yuan_d is not None else tuple(
            int(round(v)) for v in np.geomspace(250, 8000, 30))
        u = self.yuan_u if self.yuan_u is not None else tuple(np.round(np.linspace(0, 3, 30),
                                                                       4))
        return np.array(d, dtype=int), np.array(u, dtype=float)

    def yuan_setting(self, **changes) -> dynamics.CNNTransferSetting:
        return dynamics.CNNTransferSetting(**{**_YUAN_FIXED, "N1": self.yuan_N1, **changes})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------------------------------
# tasks (one d row x one seed per task; run_grid)
# ------------------------------------------------------------------------------------------


def _check_row(name: str, v) -> None:
    if not isinstance(v, list | tuple) or not v:
        raise ValueError(f"{name} = {v!r}: a non-empty list of signal norms")


def kou_row_task(d: int, mu: list, init: str, n_test: int, root: int, seed: int,
                 pool: str = "sum") -> list[dict]:
    """All ``|mu|`` of one ``d`` for one seed, Kou setting (published scaling), batched.

    ``init="pytorch"``: their network exactly (PyTorch init, bias); ``"gaussian"``: this
    package's model (``docs/cnn_theory.md`` §2: no bias, ``N(0, 0.01^2)`` filters) at the same
    learning rate.  ``pool``: their pooling over the patches (``"sum"`` reproduces the
    released grid, ``"mean"`` is their released script; :meth:`dynamics.KouSetting.published`).
    """
    _check_row("mu", mu)
    c0 = time.process_time()
    sts = [dynamics.KouSetting.published(int(d), float(v), init=init, pool=pool,
                                         bias=(init == "pytorch")) for v in mu]
    seeds = [(root, seed, int(d), int(round(1000 * v))) for v in mu]
    rows = dynamics.simulate_kou_runs(sts, seeds, n_test=n_test)
    cpu = (time.process_time() - c0) / len(mu)
    return [{"mu_norm": float(v), **r, "cpu_s": cpu} for v, r in zip(mu, rows, strict=True)]


kou_row_task.cache_version = 4


def yuan_row_task(d: int, u: list, setting: dict, n_test: int, root: int,
                  seed: int) -> list[dict]:
    """All ``|u|`` of one ``d`` for one seed, Yuan setting: transfer and scratch, batched."""
    _check_row("u", u)
    c0 = time.process_time()
    sts = [dynamics.CNNTransferSetting(**{**setting, "d": int(d), "u_norm": float(v)})
           for v in u]
    seeds = [(root, seed, int(d), int(round(1000 * v))) for v in u]
    rows = dynamics.simulate_transfer_runs(sts, seeds, n_test=n_test)
    cpu = (time.process_time() - c0) / len(u)
    return [{"u_norm": float(v), **r, "cpu_s": cpu} for v, r in zip(u, rows, strict=True)]


yuan_row_task.cache_version = 2


def _runner_kw(cfg: CNNPhaseConfig) -> dict:
    return {"n_jobs": cfg.n_jobs, "scheduler": cfg.scheduler, "cache_dir": cfg.cache_dir}


def _kou_runs(cfg: CNNPhaseConfig) -> pd.DataFrame:
    t, s = cfg.kou_axes()
    inits = ("pytorch", "gaussian") if cfg.gaussian_init else ("pytorch",)
    params = [{"d": int(100 + 10 * ti), "mu": [round(0.1 * si, 10) for si in s], "init": ini,
               "n_test": cfg.n_test, "root": cfg.seed, "pool": cfg.kou_pool}
              for ini in inits for ti in t]
    df = run_grid(kou_row_task, params, seeds=range(cfg.seeds()), desc="cnn-phase kou",
                  **_runner_kw(cfg))
    return df.drop(columns=["mu"])


def _yuan_runs(cfg: CNNPhaseConfig) -> pd.DataFrame:
    d, u = cfg.yuan_axes()
    setting = cfg.yuan_setting(d=int(d[0])).to_dict()
    params = [{"d": int(di), "u": [float(v) for v in u], "setting": setting,
               "n_test": cfg.n_test, "root": cfg.seed} for di in d]
    df = run_grid(yuan_row_task, params, seeds=range(1000, 1000 + cfg.seeds()),
                  desc="cnn-phase yuan",
                  **_runner_kw(cfg))
    return df.drop(columns=["u", "setting"])


# ------------------------------------------------------------------------------------------
# tables: grids, fits, comparison with the published grid
# ------------------------------------------------------------------------------------------


def seed_grids(runs: pd.DataFrame, col: str, s_col: str, d_vals, s_vals) -> np.ndarray:
    """(n_seeds, n_d, n_s) array of ``col``."""
    missing = [c for c in ("seed", "d", col, s_col) if c not in getattr(runs, "columns", ())]
    if missing:
        raise ValueError(f"runs: expected a runs table with columns {missing}")
    piv = runs.pivot_table(index=["seed", "d"], columns=s_col, values=col)
    seeds = sorted(runs["seed"].unique())
    try:
        return np.stack([piv.loc[sd].loc[list(d_vals), list(s_vals)].to_numpy()
                         for sd in seeds])
    except KeyError as err:
        raise ValueError(f"d_vals / s_vals: {err} is not a cell of the runs table") from None


def fit_constants(grids: np.ndarray, s_vals, d_vals, levels, theorem: str, params: dict,
                  names: tuple[str, str], fitted_on: str, *, n_boot=200, rng=0,
                  noise_sd=None) -> list[dynamics.PhaseFit]:
    """One :class:`dynamics.PhaseFit` per level (``names``: the constants, e.g. C1', C3')."""
    if len(levels) != len(names):
        raise ValueError(f"levels = {levels!r} and names = {names!r}: one name per level")
    fits = []
    for k, (lv, name) in enumerate(zip(levels, names, strict=True)):
        fits.append(dynamics.fit_phase(
            grids, s_vals, d_vals, lv, theorem, params, n_boot=n_boot, rng=[rng, k],
            noise_sd=noise_sd, fitted_on=f"{name}: {fitted_on}"))
    return fits


def constants_table(fits: list[dynamics.PhaseFit]) -> pd.DataFrame:
    rows = []
    for f in fits:
        name, grid = f.fitted_on.split(": ", 1)
        rows.append({"constant": name, "theorem": f.theorem, "level": f.level, "grid": grid,
                     "value": f.constant, "lo95": f.constant_lo, "hi95": f.constant_hi,
                     "exponent": f.exponent, "exponent_lo95": f.exponent_lo,
                     "exponent_hi95": f.exponent_hi, "n_boot": f.n_boot})
    return pd.DataFrame(rows)


def _boundaries_table(fits: list[dynamics.PhaseFit], tags: list[str]) -> pd.DataFrame:
    rows = []
    for f, tag in zip(fits, tags, strict=True):
        for k, d in enumerate(f.d):
            rows.append({"grid": tag, "level": f.level, "d": d, "boundary": f.boundary[k],
                         "lo95": f.lo[k], "hi95": f.hi[k]})
    return pd.DataFrame(rows)


def _kou_comparison(bnd: pd.DataFrame) -> pd.DataFrame:
    """Simulated vs published boundary per (level, d): difference and agreement."""
    key = ["level", "d"]
    pub = bnd[bnd["grid"] == "published"].set_index(key)
    out = []
    for tag in ("simulated_pytorch_init", "simulated_sigma0_0.01"):
        sim = bnd[bnd["grid"] == tag].set_index(key)
        if sim.empty:
            continue
        se = lambda t: (t["hi95"] - t["lo95"]) / (2 * 1.96)  # noqa: E731
        diff = sim["boundary"] - pub["boundary"]
        comb = np.hypot(se(sim), se(pub))
        out.append(pd.DataFrame({"grid": tag, "boundary_sim": sim["boundary"],
                                 "boundary_pub": pub["boundary"], "diff": diff,
                                 "se_combined": comb,
                                 "z": diff / comb,
                                 "within_95": np.abs(diff) <= 1.96 * comb}).reset_index())
    return pd.concat(out, ignore_index=True)


def _kou_chi2(sim_grids: np.ndarray, pub: np.ndarray, pub_sd: float, band) -> dict:
    """Noise-calibrated chi^2 per cell where the published error lies in ``band``."""
    mean = sim_grids.mean(axis=0)
    se2 = sim_grids.var(axis=0, ddof=1) / sim_grids.shape[0]
    sel = (pub > band[0]) & (pub < band[1])
    chi2 = (mean - pub) ** 2 / (se2 + pub_sd**2)
    return {"band_lo": band[0], "band_hi": band[1], "n_cells": int(sel.sum()),
            "chi2_per_cell": float(chi2[sel].mean()), "published_cell_sd": pub_sd,
            "mean_diff": float((mean - pub)[sel].mean())}


def _kou_tables(cfg: CNNPhaseConfig, runs: pd.DataFrame) -> dict:
    pub_full = load_published_grid(cfg.grid_file or default_grid_file())
    pub_sd = dynamics.cell_noise_sd(pub_full)
    t, s = cfg.kou_axes()
    d_vals, mu = 100 + 10 * t, np.round(0.1 * s, 10)
    pub = pub_full[np.ix_(t, s)]
    params = {"N": 20, "sigma_p": 1.0, "v_norm": 0.0}
    names = ("C1'", "C3'")
    kw = dict(n_boot=cfg.n_boot, rng=cfg.seed)
    fits, tags, grids, chi2 = [], [], {}, []
    fits += fit_constants(pub, mu, d_vals, cfg.levels, "thm43", params, names,
                          "published grid (Kou et al., 10 runs per cell)", noise_sd=pub_sd, **kw)
    tags += ["published"] * 2
    variants = (("pytorch", "simulated_pytorch_init",
                 f"their network: PyTorch init + bias, {cfg.kou_pool} over patches"),
                ("gaussian", "simulated_sigma0_0.01", "our model: no bias, sigma_0 = 0.01"))
    for init, tag, text in variants:
        sub = runs[runs["init"] == init]
        if sub.empty:
            continue
        g = seed_grids(sub, "err", "mu_norm", d_vals, mu)
        grids[tag] = g
        fits += fit_constants(g, mu, d_vals, cfg.levels, "thm43", params, names,
                              f"simulated, {text}, {g.shape[0]} seeds", **kw)
        tags += [tag] * 2
        chi2.append({"grid": tag, **_kou_chi2(g, pub, pub_sd, (0.15, 0.4))})
    bnd = _boundaries_table(fits, tags)
    return {"constants": constants_table(fits), "boundaries": bnd,
            "comparison": _kou_comparison(bnd), "chi2": pd.DataFrame(chi2),
            "_fits": fits, "_grids": grids, "_pub": pub, "_axes": (d_vals, mu),
            "_pool": cfg.kou_pool}


def _yuan_tables(cfg: CNNPhaseConfig, runs: pd.DataFrame) -> dict:
    d_vals, u = cfg.yuan_axes()
    st = cfg.yuan_setting()
    kw = dict(n_boot=cfg.n_boot, rng=cfg.seed)
    g_s = seed_grids(runs, "err_scratch", "u_norm", d_vals, u)
    g_t = seed_grids(runs, "err_transfer", "u_norm", d_vals, u)
    p43 = {"N": st.N2, "sigma_p": st.sigma_p2, "v_norm": st.v2_norm}
    p42 = {"alpha": st.alpha, "N1": st.N1, "N2": st.N2, "v2_norm": st.v2_norm,
           "sigma_p1": st.sigma_p1, "sigma_p2": st.sigma_p2}
    fits = fit_constants(g_s, u, d_vals, cfg.levels, "thm43", p43, ("C1'", "C3'"),
                         f"simulated scratch grid, {g_s.shape[0]} seeds", **kw)
    fits += fit_constants(g_t, u, d_vals, cfg.levels, "thm42", p42, ("C1", "C3"),
                          f"simulated transfer grid, {g_t.shape[0]} seeds", **kw)
    tags = ["scratch"] * 2 + ["transfer"] * 2
    return {"constants": constants_table(fits), "boundaries": _boundaries_table(fits, tags),
            "_fits": fits, "_grids": {"scratch": g_s, "transfer": g_t}, "_axes": (d_vals, u),
            "_params": (p43, p42)}


def _cells(runs: pd.DataFrame, keys: list[str], cols: list[str]) -> pd.DataFrame:
    g = runs.groupby(keys, sort=True)[cols]
    return pd.concat([g.mean(), g.sem(ddof=1).add_suffix("_se"),
                      g.size().rename("n_seeds")], axis=1).reset_index()


# ------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------


def draw_fit(ax, fit: dynamics.PhaseFit, curve, color: str, name: str, what: str):
    """Fitted theorem boundary as a band (95% interval of the constant) + simulated contour."""
    dd = np.geomspace(fit.d.min(), fit.d.max(), 200)
    ax.fill_betweenx(dd, curve(dd, fit.constant_lo), curve(dd, fit.constant_hi), color=color,
                     alpha=0.45, lw=0,
                     label=f"{what}, {name} = {fit.constant:.2g} [{fit.constant_lo:.2g}, "
                           f"{fit.constant_hi:.2g}] fitted to the {fit.level:g} contour "
                           f"({fit.fitted_on.split(': ', 1)[1]})")
    ax.errorbar(fit.boundary, fit.d, xerr=[fit.boundary - fit.lo, fit.hi - fit.boundary],
                fmt="o", ms=2.5, color=color, elinewidth=0.8, capsize=0)


def heat(ax, grid, d_vals, s_vals, title, vmax=0.5):
    im = ax.pcolormesh(s_vals, d_vals, grid, cmap="viridis_r", vmin=0.0, vmax=vmax,
                       shading="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("signal norm")
    ax.set_ylabel("d")
    return im


def _plot_kou(tab: dict):
    import matplotlib.pyplot as plt

    d_vals, mu = tab["_axes"]
    fits = tab["_fits"]
    panels = [("published grid (Kou et al. 2023)", tab["_pub"], fits[0:2])]
    titles = {"simulated_pytorch_init": "simulated: their network (PyTorch init + bias, "
                                        f"{tab['_pool']} over patches)",
              "simulated_sigma0_0.01": "simulated: our model (no bias, sigma_0 = 0.01)"}
    for k, (tag, g) in enumerate(tab["_grids"].items()):
        panels.append((f"{titles[tag]}, {g.shape[0]} seeds", g.mean(axis=0),
                       fits[2 + 2 * k: 4 + 2 * k]))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 7.2), squeeze=False)

    def curve(d, C):
        return dynamics.critical_u_norm_scratch(d, 20, 0.0, 1.0, C=C)

    for ax, (title, grid, pf) in zip(axes[0], panels, strict=True):
        im = heat(ax, grid, d_vals, mu, title)
        for f, name, col in zip(pf, ("C1'", "C3'"), ("white", "orange"), strict=True):
            draw_fit(ax, f, curve, col, name, "Thm 4.3")
        for f, mk in zip(fits[0:2], ("s", "D"), strict=True):
            ax.plot(f.boundary, f.d, mk, mfc="none", mec="red", ms=4,
                    label=f"published boundary at {f.level:g}")
        dd = np.linspace(d_vals.min(), d_vals.max(), 100)
        ax.plot(curve(dd, 1.0), dd, "k:", lw=1, label="Thm 4.3 with C = 1 (unfitted)")
        ax.set_xlim(mu.min(), mu.max())
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.1))
        fig.colorbar(im, ax=ax, label="test error")
    fig.suptitle("Kou et al. setting (n = 20, m = 10, p = 0.1, 100 GD steps): test error over "
                 r"$(\|\mu\|, d)$; bands: Theorem 4.3 boundary $n\|\mu\|^4 = C\sigma_p^4 d$ with "
                 "the fitted C (95% bootstrap)", fontsize=9)
    fig.tight_layout()
    return fig


def _plot_yuan(tab: dict, cfg: CNNPhaseConfig):
    import matplotlib.pyplot as plt

    d_vals, u = tab["_axes"]
    p43, p42 = tab["_params"]
    fits = tab["_fits"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 7.2))

    def c43(d, C):
        return dynamics.critical_u_norm_scratch(d, p43["N"], p43["v_norm"], p43["sigma_p"], C=C)

    def c42(d, C):
        return dynamics.critical_u_norm_transfer(d, p42["alpha"], p42["N1"], p42["N2"],
                                                 p42["v2_norm"], p42["sigma_p1"],
                                                 p42["sigma_p2"], C=C)

    for ax, key, pf, curve, thm, names in (
            (axes[0], "scratch", fits[0:2], c43, "Thm 4.3", ("C1'", "C3'")),
            (axes[1], "transfer", fits[2:4], c42, "Thm 4.2", ("C1", "C3"))):
        im = heat(ax, tab["_grids"][key].mean(axis=0), d_vals, u, f"{key} (mean of "
                   f"{tab['_grids'][key].shape[0]} seeds)")
        for f, name, col in zip(pf, names, ("white", "orange"), strict=True):
            draw_fit(ax, f, curve, col, name, thm)
        dd = np.geomspace(d_vals.min(), d_vals.max(), 100)
        ax.plot(curve(dd, 1.0), dd, "k:", lw=1, label=f"{thm} with C = 1 (unfitted)")
        ax.set_yscale("log")
        ax.set_xlim(u.min(), u.max())
        ax.set_xlabel(r"$\|u\|$")
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.1))
        fig.colorbar(im, ax=ax, label="downstream test error")
    st = cfg.yuan_setting()
    fig.suptitle(f"Yuan et al. setting: N1={st.N1}, N2={st.N2}, alpha={st.alpha}, "
                 f"|v2|={st.v2_norm}, m={st.m}, T1={st.T1}, T2={st.T2}; bands: fitted "
                 "theorem boundaries (95% bootstrap of the constant)", fontsize=9)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------


def run(cfg: CNNPhaseConfig | None = None, out_dir=None) -> dict[str, pd.DataFrame]:
    """Simulate the grid, fit the boundaries and constants, write tables and the figure."""
    cfg = CNNPhaseConfig() if cfg is None else cfg
    if cfg.setting == "kou":  # fail on a bad grid file before any simulation
        load_published_grid(cfg.grid_file or default_grid_file())
    out = make_output_dir(out_dir, EXPERIMENT_NAME)
    t0 = time.perf_counter()
    if cfg.setting == "kou":
        runs = _kou_runs(cfg)
        t_sim = time.perf_counter() - t0
        tab = _kou_tables(cfg, runs)
        cells = _cells(runs, ["init", "d", "mu_norm"], ["err", "err_clean", "train_loss"])
        fig = _plot_kou(tab)
    else:
        runs = _yuan_runs(cfg)
        t_sim = time.perf_counter() - t0
        tab = _yuan_tables(cfg, runs)
        cells = _cells(runs, ["d", "u_norm"], ["err_transfer", "err_scratch",
                                               "loss_transfer", "loss_scratch"])
        fig = _plot_yuan(tab, cfg)
    tables = {"cells": cells, "runs": runs,
              **{k: v for k, v in tab.items() if not k.startswith("_")}}
    timings = {"simulation_s": t_sim, "total_s": time.perf_counter() - t0,
               "simulation_cpu_s": float(runs["cpu_s"].sum()),
               "n_runs": int(len(runs)), "n_cached_tasks": int(runs.attrs.get("n_cached", 0))}
    save_results(out, tables, cfg, figures={f"phase_{cfg.setting}": fig},
                 extra={"timings": timings, "experiment": EXPERIMENT_NAME})
    _print_summary(tables, timings, out)
    return tables


def _print_summary(tables: dict, timings: dict, out) -> None:
    print(f"cnn-phase: {timings['n_runs']} runs, {timings['total_s']:.0f} s wall (simulation "
          f"{timings['simulation_s']:.0f} s wall, {timings['simulation_cpu_s']:.0f} s CPU in the "
          f"tasks); outputs in {out}")
    for _, r in tables["constants"].iterrows():
        print(f"  {r['constant']:>4} = {r['value']:.3g} [{r['lo95']:.3g}, {r['hi95']:.3g}] "
              f"(level {r['level']:g}, exponent {r['exponent']:.3f}; {r['grid']})")
    if "comparison" in tables:
        c = tables["comparison"]
        for (tag, lv), g in c.groupby(["grid", "level"]):
            print(f"  {tag} vs published at {lv:g}: {int(g['within_95'].sum())}/{len(g)} d "
                  f"within 95%, mean shift {g['diff'].mean():+.3f}")
        for _, r in tables["chi2"].iterrows():
            print(f"  {r['grid']}: chi2 per cell {r['chi2_per_cell']:.2f} over {r['n_cells']} "
                  "transition cells")
