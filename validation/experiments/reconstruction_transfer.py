r"""Transfer learning with a reconstruction loss (Cui & Yu, arXiv:2404.00505): three tasks.

For one task (``digits``, ``d2d`` or ``miso``) trains the three methods of the paper over
several seeds, paired on the same data and minibatches: regular learning (target network
from scratch), conventional transfer (source features trained on :math:`\mathcal L_S`, frozen,
new head) and transfer with reconstruction (:math:`\mathcal L_S+\alpha\mathcal L_R`, frozen,
new head). Reports early-stopped and final-epoch target performance side by side, the
classical baselines, the paired difference reconstruction - conventional with its standard
error, and two sweeps the paper does not report: the loss weight ``alpha`` and the target
sample size.

Presets: ``full`` = the paper's schedules (spec in ``docs/reconstruction_transfer.md``; hours
on CPU for D2D), ``cpu`` = a reduced D2D/MISO budget that runs in tens of minutes on 2 cores,
``quick`` = a few minutes on 2 cores. Outputs: ``results.csv`` (one row per method x seed x
sweep point), ``summary.csv`` (means and standard errors), ``paired.csv``, ``baselines.csv``,
``curves.csv``, ``config.json``, figures ``curves.png``, ``sweep_alpha.png``,
``sweep_n_target.png``.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from validation.outputs import make_output_dir, save_results
from validation.runner import TaskError, run_grid

__all__ = ["EXPERIMENT_NAME", "TASKS", "Schedule", "SCHEDULES", "ReconstructionTransferConfig",
           "transfer_run", "baselines", "summarise", "paired_difference", "run"]

EXPERIMENT_NAME = "reconstruction-transfer"
TASKS = ("digits", "d2d", "miso")
PRESETS = ("full", "cpu", "quick")
COLORS = {"regular": "tab:green", "conventional": "tab:blue", "reconstruction": "tab:orange"}
METRIC = {  # target metric, unit, higher is better
    "digits": ("accuracy", "%", True),
    "d2d": ("min-rate", "Mbps", True),
    "miso": ("localization error", "m", False),
}


# ---- configuration ------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    """Data sizes and training schedule of one task (see the paper's settings in the docs).

    For ``digits`` only ``n_target_train`` is used among the sizes (the sklearn digits are
    split by fractions, see :func:`nets.reconstruction.digits.digits_transfer_data`).
    """

    n_source_train: int
    n_source_val: int
    n_target_train: int
    n_target_val: int
    source_epochs: int
    source_batch: int
    source_lr: float
    target_epochs: int
    target_batch: int
    target_lr: float
    alpha: float
    eval_every: int = 1
    target_drop_last: bool = False


SCHEDULES = {
    "full": {
        "digits": Schedule(0, 0, 20, 0, 200, 50, 1e-3, 8000, 32, 2e-4, 5.0, 20, True),
        "d2d": Schedule(500_000, 5000, 1000, 5000, 200, 2000, 1e-3, 25_000, 100, 2e-5, 3.0, 50),
        "miso": Schedule(100_000, 5000, 500, 5000, 150, 5000, 5e-4, 1000, 100, 5e-5, 4.0, 5),
    },
    "cpu": {
        "digits": Schedule(0, 0, 20, 0, 200, 50, 1e-3, 2000, 32, 1e-3, 5.0, 10, True),
        "d2d": Schedule(20_000, 2000, 1000, 2000, 40, 500, 1e-3, 500, 100, 4e-4, 3.0, 10),
        "miso": Schedule(20_000, 2000, 500, 2000, 60, 500, 5e-4, 500, 100, 2e-4, 4.0, 10),
    },
    "quick": {
        "digits": Schedule(0, 0, 20, 0, 100, 50, 1e-3, 500, 32, 1e-3, 5.0, 5, True),
        "d2d": Schedule(10_000, 1000, 1000, 1000, 15, 500, 1e-3, 200, 100, 1e-3, 3.0, 5),
        "miso": Schedule(10_000, 1000, 500, 1000, 30, 500, 1e-3, 200, 100, 5e-4, 4.0, 5),
    },
}
N_TARGET_GRID = {
    "full": {"digits": (5, 10, 40, 80), "d2d": (100, 300, 3000), "miso": (100, 250, 1000)},
    "cpu": {"digits": (5, 10, 40, 80), "d2d": (100, 300, 3000), "miso": (100, 250, 1000)},
    "quick": {"digits": (5, 60), "d2d": (300,), "miso": (150,)},
}


@dataclass(frozen=True)
class ReconstructionTransferConfig:
    """Configuration (defaults: the paper's D2D setting, 5 seeds, both sweeps).

    ``alpha`` / ``n_target``: ``None`` takes the preset's value (paper: alpha = 5, 3, 4 for
    digits, D2D, MISO). ``alpha_grid`` and ``n_target_grid`` (``None``: per-task default) are
    the extra sweep points; the main point is always included. ``data_dir``: folder with MNIST
    IDX files for the digits task (default: scikit-learn's bundled 8 x 8 digits).
    """

    task: str = "d2d"
    preset: str = "full"
    seeds: int = 5
    alpha: float | None = None
    n_target: int | None = None
    alpha_grid: tuple = (0.3, 1.0, 10.0, 30.0)
    n_target_grid: tuple | None = None
    sweeps: bool = True
    device: str = "cpu"
    data_dir: str | None = None
    seed: int = 0
    n_jobs: int = 2
    scheduler: str | None = None
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task = {self.task!r}: must be one of {TASKS}")
        if self.preset not in PRESETS:
            raise ValueError(f"preset = {self.preset!r}: must be one of {PRESETS}")
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or self.seeds < 2:
            raise ValueError(f"seeds = {self.seeds!r}: need an integer >= 2 for standard errors")
        if self.alpha is not None and not self.alpha > 0:
            raise ValueError(f"alpha = {self.alpha!r}: loss weight must be > 0")
        for k, a in enumerate(self.alpha_grid):
            if not a > 0:
                raise ValueError(f"alpha_grid[{k}] = {a!r}: loss weights must be > 0")
        if self.n_target is not None and not (isinstance(self.n_target, int)
                                              and self.n_target >= 1):
            raise ValueError(f"n_target = {self.n_target!r}: must be a positive integer")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"device = {self.device!r}: must be 'cpu', 'cuda' or 'auto'")
        if self.data_dir is not None and self.task == "digits" \
                and not Path(self.data_dir).is_dir():
            raise ValueError(f"data_dir = {str(self.data_dir)!r}: MNIST directory not found")

    @classmethod
    def quick(cls, **kw) -> ReconstructionTransferConfig:
        """3 seeds, reduced data and epochs, two extra sweep points each (< 5 min, 2 cores)."""
        return cls(**{"preset": "quick", "seeds": 3, "alpha_grid": (0.3, 30.0), **kw})

    def schedule(self) -> Schedule:
        s = SCHEDULES[self.preset][self.task]
        return dataclasses.replace(
            s, alpha=s.alpha if self.alpha is None else float(self.alpha),
            n_target_train=s.n_target_train if self.n_target is None else self.n_target)

    def target_grid(self) -> tuple:
        grid = self.n_target_grid or N_TARGET_GRID[self.preset][self.task]
        return tuple(sorted(set(grid) - {self.schedule().n_target_train}))


# ---- tasks --------------------------------------------------------------------------------
def _configs(s: Schedule, device: str):
    from nets.reconstruction import TrainConfig

    src = TrainConfig(epochs=s.source_epochs, batch_size=s.source_batch, lr=s.source_lr,
                      alpha=s.alpha, device=device, warn=False)
    tgt = TrainConfig(epochs=s.target_epochs, batch_size=s.target_batch, lr=s.target_lr,
                      eval_every=s.eval_every, drop_last=s.target_drop_last, device=device,
                      warn=False)
    return src, tgt


def _digits_setup(s: Schedule, data_dir, seed):
    from nets.reconstruction import digits as D

    if data_dir is None:
        x, y = D.load_sklearn_digits()
        data, test = D.digits_transfer_data(x, y, n_target_train=s.n_target_train,
                                            target_fraction=0.3, seed=seed)
    else:  # MNIST: train + test pooled, the test share as in the paper (3089 of 21605)
        xa, ya = D.load_mnist_idx(data_dir, "train")
        xb, yb = D.load_mnist_idx(data_dir, "test")
        data, test = D.digits_transfer_data(
            np.concatenate([xa, xb]), np.concatenate([ya, yb]),
            n_target_train=s.n_target_train, target_fraction=0.05, test_fraction=0.143,
            seed=seed, mean=D.MNIST_MEAN, std=D.MNIST_STD)
    task = D.digits_task(data.source_train[0].shape[1])

    def evaluate(model, kind):
        import torch

        out = model.eval()(torch.as_tensor(test[0])).detach()
        return {"metric": 100 * D.accuracy(out, test[1 if kind == "source" else 2])}
    return task, data, evaluate


def _d2d_setup(s: Schedule, seed):
    from nets.reconstruction import d2d
    from nets.reconstruction import d2d_learning as DL

    data, norm = DL.d2d_transfer_data(s.n_source_train, s.n_source_val, s.n_target_train,
                                      s.n_target_val, seed=seed)
    g, _ = d2d.load_test_set()
    gp = d2d.min_rate(g, d2d.gp_power(g))
    fp = d2d.sum_rate(g, d2d.fp_power(g))

    def evaluate(model, kind):
        p = DL.evaluate_power(model, g, norm)
        if kind == "source":
            r = d2d.sum_rate(g, p)
            return {"metric": r.mean() / 1e6, "pct": 100 * np.mean(r / fp)}
        r = d2d.min_rate(g, p)
        return {"metric": r.mean() / 1e6, "pct": 100 * np.mean(r / gp)}
    return DL.d2d_task(), data, evaluate


def _miso_setup(s: Schedule, seed):
    from nets.reconstruction import miso
    from nets.reconstruction import miso_learning as ML

    system = miso.make_system(seed=123)
    data, norm = ML.miso_transfer_data(system, s.n_source_train, s.n_source_val,
                                       s.n_target_train, s.n_target_val, seed=seed)
    test = miso.generate_samples(2000, system, seed=20240330)

    def evaluate(model, kind):
        m = ML.evaluate_miso(model, test, norm, kind, system.config)
        if kind == "target":
            return {"metric": m["loc_error_m"]}
        return {"metric": m["gain_pct_mrt"], "snr_db": m["snr_db"]}
    return ML.miso_task(), data, evaluate


def transfer_run(task: str, preset: str, alpha: float, n_target: int, methods: list,
                 device: str, data_dir: str | None, seed: int) -> list[dict]:
    """One seed of the requested methods; one row per method (runner task)."""
    from nets.reconstruction import deployed, run_methods

    s = dataclasses.replace(SCHEDULES[preset][task], alpha=alpha, n_target_train=n_target)
    if task == "digits":
        spec, data, evaluate = _digits_setup(s, data_dir, seed)
    elif task == "d2d":
        spec, data, evaluate = _d2d_setup(s, seed)
    else:
        spec, data, evaluate = _miso_setup(s, seed)
    src_cfg, tgt_cfg = _configs(s, device)
    runs = run_methods(spec, data, src_cfg, tgt_cfg, seed=seed, methods=tuple(methods))
    rows = []
    for m, r in runs.items():
        row = {"method": m}
        for k in ("early", "final"):
            row.update({f"target_{key}_{k}": v
                        for key, v in evaluate(deployed(getattr(r.target, k)), "target").items()})
        row.update({f"source_{key}": v
                    for key, v in evaluate(deployed(r.source.early), "source").items()})
        row.update(best_epoch=r.target.best_epoch, converged=r.target.converged,
                   iterations=r.target.iterations,
                   curve_epochs=r.target.eval_epochs.tolist(),
                   curve_val=r.target.val_criterion.tolist())
        rows.append(row)
    return rows


transfer_run.cache_version = 1


# ---- tables -------------------------------------------------------------------------------
def baselines(task: str) -> pd.DataFrame:
    """Classical baselines on the test set of ``task`` (one row each)."""
    if task == "d2d":
        from nets.reconstruction import d2d

        g, gp_stored = d2d.load_test_set()
        gp_rate = d2d.min_rate(g, d2d.gp_power(g))
        fp_rate = d2d.sum_rate(g, d2d.fp_power(g))
        rows = []
        for name, p in (("FP", d2d.fp_power(g)), ("GP", d2d.gp_power(g)),
                        ("GP (authors' stored)", gp_stored), ("full power", d2d.full_power(g)),
                        ("random power", d2d.random_power(g, seed=0))):
            mn, sm = d2d.min_rate(g, p), d2d.sum_rate(g, p)
            rows.append({"baseline": name, "min_rate_mbps": mn.mean() / 1e6,
                         "min_rate_pct_gp": 100 * np.mean(mn / gp_rate),
                         "sum_rate_mbps": sm.mean() / 1e6,
                         "sum_rate_pct_fp": 100 * np.mean(sm / fp_rate)})
        return pd.DataFrame(rows)
    if task == "miso":
        from nets.reconstruction import miso
        from nets.reconstruction.miso_learning import snr_linear

        system = miso.make_system(seed=123)
        test = miso.generate_samples(2000, system, seed=20240330)
        rng = np.random.default_rng(0)
        v = rng.standard_normal(test.h.shape) + 1j * rng.standard_normal(test.h.shape)
        rows = []
        for name, bf in (("MRT", miso.mrt(test.h)), ("random unit-norm", miso.mrt(v))):
            gsum = miso.beamforming_gain(test.h, bf).sum(axis=1)
            rows.append({"baseline": name, "gain_pct_mrt": 100 * np.mean(
                gsum / (np.abs(test.h) ** 2).sum(axis=(1, 2))),
                "snr_db": 10 * np.log10(np.mean(snr_linear(gsum, system.config)))})
        centre = np.linalg.norm(test.ue - 50.0, axis=1).mean()
        rows.append({"baseline": "always guess the centre", "loc_error_m": centre})
        return pd.DataFrame(rows)
    from nets.reconstruction import digits as D

    _, y = D.load_sklearn_digits()
    return pd.DataFrame([{"baseline": "always 'not an 8'", "accuracy_pct": 100 * np.mean(y != 8)}])


def _se(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error over seeds per (alpha, n_target, method)."""
    cols = [c for c in runs.columns if c.startswith(("target_", "source_"))]
    rows = []
    for key, grp in runs.groupby(["alpha", "n_target", "method"], sort=False):
        row = dict(zip(["alpha", "n_target", "method"], key, strict=True))
        row["n_seeds"] = len(grp)
        for c in cols:
            row[c] = grp[c].mean()
            row[c + "_se"] = _se(grp[c])
        row["converged"] = int(grp["converged"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def paired_difference(runs: pd.DataFrame, a: str = "reconstruction",
                      b: str = "conventional") -> pd.DataFrame:
    """Per (alpha, n_target): mean and s.e. over seeds of ``metric(a) - metric(b)``.

    Method ``b`` does not depend on ``alpha`` when it is ``conventional`` or ``regular``; at
    sweep points without its own ``b`` rows, those of the same ``n_target`` (same seeds, same
    data) are used.
    """
    rows = []
    for (alpha, n_t), grp in runs.groupby(["alpha", "n_target"], sort=False):
        if a not in set(grp["method"]):
            continue
        ref = grp if b in set(grp["method"]) else runs[(runs["n_target"] == n_t)
                                                       & (runs["method"] == b)]
        if ref.empty:
            continue
        row = {"alpha": alpha, "n_target": n_t, "comparison": f"{a} - {b}"}
        for k in ("early", "final"):
            col = f"target_metric_{k}"
            pa = grp[grp["method"] == a].groupby("seed")[col].mean()
            pb = ref[ref["method"] == b].groupby("seed")[col].mean()
            d = (pa - pb).dropna()
            row.update({f"diff_{k}": d.mean(), f"diff_{k}_se": _se(d), "n_seeds": len(d)})
        rows.append(row)
    return pd.DataFrame(rows)


def _curves(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in runs.iterrows():
        for e, v in zip(r["curve_epochs"], r["curve_val"], strict=True):
            rows.append({"alpha": r["alpha"], "n_target": r["n_target"], "method": r["method"],
                         "seed": r["seed"], "epoch": e, "val_criterion": v})
    return pd.DataFrame(rows)


# ---- figures ------------------------------------------------------------------------------
def _plot_curves(curves: pd.DataFrame, cfg: ReconstructionTransferConfig):
    import matplotlib.pyplot as plt

    s = cfg.schedule()
    main = curves[(curves["alpha"] == s.alpha) & (curves["n_target"] == s.n_target_train)]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for m, grp in main.groupby("method"):
        mean = grp.groupby("epoch")["val_criterion"].mean()
        ax.plot(mean.index, mean.values, label=m, color=COLORS[m])
    ax.set_xlabel("target epoch")
    ax.set_ylabel("validation criterion (lower is better)")
    ax.set_title(f"{cfg.task}: target training curves (mean over {cfg.seeds} seeds)")
    ax.legend()
    return fig


def _plot_sweep(summary: pd.DataFrame, cfg: ReconstructionTransferConfig, by: str):
    import matplotlib.pyplot as plt

    s = cfg.schedule()
    fixed = ("n_target", s.n_target_train) if by == "alpha" else ("alpha", s.alpha)
    sub = summary[summary[fixed[0]] == fixed[1]]
    name, unit, _ = METRIC[cfg.task]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for m, grp in sub.groupby("method"):
        grp = grp.sort_values(by)
        for k, ls in (("early", "-"), ("final", "--")):
            if len(grp) == 1 and by == "alpha":
                ax.axhline(grp[f"target_metric_{k}"].iloc[0], ls=ls, lw=0.8,
                           color=COLORS[m], label=f"{m} ({k})")
                continue
            ax.errorbar(grp[by], grp[f"target_metric_{k}"], grp[f"target_metric_{k}_se"],
                        ls=ls, marker="o", ms=3, capsize=2, color=COLORS[m],
                        label=f"{m} ({k})")
    ax.set_xscale("log")
    ax.set_xlabel("reconstruction weight alpha" if by == "alpha" else "target training samples")
    ax.set_ylabel(f"target {name} ({unit})")
    ax.set_title(f"{cfg.task}: sweep over {by}")
    ax.legend(fontsize=7)
    return fig


# ---- driver -------------------------------------------------------------------------------
def _grid(cfg: ReconstructionTransferConfig) -> list[dict]:
    s = cfg.schedule()
    common = {"task": cfg.task, "preset": cfg.preset, "device": cfg.device,
              "data_dir": None if cfg.data_dir is None else str(cfg.data_dir)}
    grid = [{**common, "alpha": s.alpha, "n_target": s.n_target_train,
             "methods": ["regular", "conventional", "reconstruction"]}]
    if cfg.sweeps:
        grid += [{**common, "alpha": float(a), "n_target": s.n_target_train,
                  "methods": ["reconstruction"]} for a in cfg.alpha_grid if a != s.alpha]
        grid += [{**common, "alpha": s.alpha, "n_target": int(n),
                  "methods": ["regular", "conventional", "reconstruction"]}
                 for n in cfg.target_grid()]
    return grid


def run(cfg: ReconstructionTransferConfig | None = None, out_dir=None) -> dict:
    """Run the experiment, write the outputs, print the tables; return the tables."""
    cfg = cfg or ReconstructionTransferConfig()
    out = Path(out_dir) if out_dir is not None else make_output_dir(None, EXPERIMENT_NAME)
    t0 = time.perf_counter()
    seeds = [cfg.seed + 1000 * k for k in range(cfg.seeds)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            runs = run_grid(transfer_run, _grid(cfg), seeds=seeds, n_jobs=cfg.n_jobs,
                            scheduler=cfg.scheduler, cache_dir=cfg.cache_dir,
                            desc=f"reconstruction-transfer ({cfg.task})")
        except TaskError as err:  # one line for the CLI; the traceback stays on err
            raise ValueError(str(err).split("\n", 1)[0]) from err
    runs = runs.drop(columns=["methods", "device", "data_dir"])
    t_train = time.perf_counter() - t0
    curves = _curves(runs)
    runs = runs.drop(columns=["curve_epochs", "curve_val"])
    summary = summarise(runs)
    paired = paired_difference(runs)
    base = baselines(cfg.task)
    tables = {"results": runs, "summary": summary, "paired": paired, "baselines": base,
              "curves": curves}
    figures = {"curves": _plot_curves(curves, cfg)}
    if cfg.sweeps:
        figures["sweep_alpha"] = _plot_sweep(summary, cfg, "alpha")
        figures["sweep_n_target"] = _plot_sweep(summary, cfg, "n_target")
    extra = {"seconds": time.perf_counter() - t0, "training_seconds": t_train,
             "schedule": dataclasses.asdict(cfg.schedule()), "seeds": seeds}
    save_results(out, tables, cfg, figures=figures, extra=extra)
    print_report(cfg, summary, paired, base)
    return tables


def print_report(cfg, summary: pd.DataFrame, paired: pd.DataFrame, base: pd.DataFrame) -> None:
    """The paper-shaped table at the main point, the paired difference, the sweeps."""
    s = cfg.schedule()
    name, unit, higher = METRIC[cfg.task]
    main = summary[(summary["alpha"] == s.alpha) & (summary["n_target"] == s.n_target_train)]
    print(f"\n{cfg.task}: target {name} ({unit}), {cfg.preset} preset, alpha = {s.alpha}, "
          f"{s.n_target_train} target samples, {cfg.seeds} seeds (mean +- s.e.)")
    pct = "target_pct_early" in main
    for _, r in main.iterrows():
        line = (f"  {r['method']:<15} early {r['target_metric_early']:8.3f} +- "
                f"{r['target_metric_early_se']:.3f}   final {r['target_metric_final']:8.3f} +- "
                f"{r['target_metric_final_se']:.3f}")
        if pct:
            line += (f"   ({r['target_pct_early']:.1f}% / {r['target_pct_final']:.1f}% of GP)")
        line += f"   source {r['source_metric']:.3f} +- {r['source_metric_se']:.3f}"
        print(line)
    print("baselines:")
    print(base.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    p = paired[(paired["alpha"] == s.alpha) & (paired["n_target"] == s.n_target_train)]
    for _, r in p.iterrows():
        better = "higher" if higher else "lower"
        print(f"paired {r['comparison']} ({better} is better): early {r['diff_early']:+.3f} +- "
              f"{r['diff_early_se']:.3f}, final {r['diff_final']:+.3f} +- "
              f"{r['diff_final_se']:.3f} over {int(r['n_seeds'])} seeds")
    if cfg.sweeps:
        cols = ["alpha", "n_target", "method", "target_metric_early", "target_metric_early_se",
                "target_metric_final", "target_metric_final_se"]
        print("sweeps (alpha at the main n_target; n_target at the main alpha):")
        print(summary[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
