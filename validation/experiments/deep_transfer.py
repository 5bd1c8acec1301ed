r"""Partial parameter transfer in deep networks: the real-data side of Yuan et al. (2025).

Yuan et al. (arXiv:2509.22056, §5) train an upstream ResNet-101 / VGG-16 on Task 1, transfer
a proportion of its parameters to a downstream ResNet-34/50 / VGG-11/13 (Algorithm 1) and
compare with the same downstream model trained from scratch (Algorithm 2):

* part ``"ratio"`` (Table 1): ``N1/N2 in {2, 3, 4}``; the paper reports for ResNet-101 -> 34
  on CIFAR-100 a gain over scratch growing from 2.6% (ratio 2) to 12% (ratio 4).
* part ``"noise"`` (Figure 3): Gaussian noise ``sigma_p2 in [1, 20]`` on the Task-2 images;
  transfer ahead at every level, the gap widening with the noise.
* part ``"vit"`` (Figure 4): DeiT-Base pretrained on ImageNet (81.8%), blocks 9-11
  transferred, fine-tuned on CIFAR-10/100, ahead of scratch.

Protocol (:mod:`nets.cifar`, :mod:`nets.deep_transfer`; choices the paper leaves open are
listed in ``docs/deep_transfer.md``): Task 2 = ``n2_classes`` classes, Task 1 = ``ratio *
n2_classes`` other classes with as many images per class; the upstream model is trained on
Task 1, ``alpha`` of the output units of every shared tensor (matched by name and shape, the
first blocks of each stage across depths) is copied into a freshly initialised downstream
model, which is trained on Task 2.  Transfer and scratch runs of one seed share the Task-2
sample, the noise draw and the fresh initialisation, so ``gain = acc_transfer -
acc_scratch`` is a paired difference.  Without ``data_dir`` the bundled 8x8 digits stand in for
CIFAR-10.  With ``vit_upstream_weights`` (a local file, never downloaded) the ViT upstream is
that checkpoint instead of a Task-1 model.

Every (part, pair, ratio, seed) is one task of :func:`validation.runner.run_grid` (on-disk
cache, joblib or a Dask cluster of GPU workers); upstream and downstream runs are
checkpointed under ``checkpoint_dir`` (default ``<cache_dir>/checkpoints``, or
``<out>/checkpoints`` removed after a successful run when there is no cache), so an
interrupted sweep resumes mid-run and the noise sweep reuses the ratio-part upstream model of
the same seed.

Outputs (:func:`run`): ``table1.csv`` (Table 1-shaped: per pair and ratio, mean and s.e. over
seeds of transfer and scratch accuracy, the paired gain in points and relative to scratch),
``noise.csv``, ``vit.csv``, ``runs.csv`` (one row per run), ``transfer_report.csv`` (which
tensors each pair transfers), ``config.json``, figures ``table1.png``, ``fig3_noise.png``,
``fig4_vit.png``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from validation.outputs import make_output_dir, save_results
from validation.runner import run_grid

__all__ = ["EXPERIMENT_NAME", "DeepTransferConfig", "run", "transfer_task"]

EXPERIMENT_NAME = "deep-transfer"
PARTS = ("ratio", "noise", "vit")


@dataclass(frozen=True)
class DeepTransferConfig:
    """Configuration (defaults: the paper's CIFAR-100 ResNet-101 -> 34 setting on a GPU).

    Data: ``data_dir`` (CIFAR python batches; ``None``: bundled digits), ``dataset``
    (``"cifar10"``/``"cifar100"``), ``n2_classes`` (``None``: 20 for CIFAR-100, else 2),
    ``n_per_class`` (``None``: all), ``class_order``, ``n1_mode`` (:func:`nets.cifar.class_split`).
    Models: ``pairs`` of (upstream, downstream) architectures, ``width`` (``None``: 64).
    Transfer: ``alpha``, ``transfer_mode`` (``"filter"``/``"entry"``), ``align``
    (``"first"``/``"last"`` blocks across depths).  Training: ``up_epochs``, ``down_epochs``,
    ``batch_size``, ``lr``, ``weight_decay``, ``augment``.  Sweeps: ``ratios`` (Table 1),
    ``noise_levels`` and ``noise_ratio`` (Figure 3), ``vit_*`` (Figure 4).  ``seeds``: number of
    seeds, ``seed``: root seed.  Runner: ``n_jobs``, ``scheduler``, ``cache_dir``, ``device``.
    """

    data_dir: str | None = None
    dataset: str = "cifar100"
    n2_classes: int | None = None
    n_per_class: int | None = None
    class_order: str = "random"
    n1_mode: str = "classes"
    pairs: tuple = (("resnet101", "resnet34"),)
    width: int | None = None
    alpha: float = 0.5
    transfer_mode: str = "filter"
    align: str = "first"
    up_epochs: int = 60
    down_epochs: int = 60
    batch_size: int = 128
    lr: float = 0.05
    weight_decay: float = 5e-4
    augment: bool = True
    ratios: tuple = (2, 3, 4)
    noise_levels: tuple = (1.0, 5.0, 10.0, 15.0, 20.0)
    noise_ratio: int = 4
    vit_arch: str = "deit_base"
    vit_blocks: tuple = (9, 10, 11)
    vit_alpha: float = 1.0
    vit_width: int | None = None
    vit_patch_size: int | None = None
    vit_epochs: int = 30
    vit_lr: float = 5e-4
    vit_upstream_weights: str | None = None
    seeds: int = 3
    seed: int = 0
    parts: tuple = PARTS
    device: str | None = None
    n_jobs: int = 1
    scheduler: str | None = None
    cache_dir: str | None = None
    checkpoint_dir: str | None = None
    preset: str = field(default="full")

    def __post_init__(self) -> None:
        from nets.deep_models import ARCHITECTURES

        for name in ("data_dir", "cache_dir", "checkpoint_dir", "vit_upstream_weights"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, str(v))
        if self.dataset not in ("cifar10", "cifar100"):
            raise ValueError(f"dataset = {self.dataset!r}: must be 'cifar10' or 'cifar100'")
        for k, pair in enumerate(self.pairs):
            if len(pair) != 2:
                raise ValueError(f"pairs[{k}] = {pair!r}: must be (upstream, downstream)")
            for a in pair:
                if a not in ARCHITECTURES:
                    raise ValueError(f"pairs[{k}] = {pair!r}: unknown architecture {a!r}; "
                                     f"choose from {ARCHITECTURES}")
        if self.vit_arch not in ARCHITECTURES or not self.vit_arch.startswith("deit"):
            raise ValueError(f"vit_arch = {self.vit_arch!r}: must be a deit_* architecture")
        for name in ("alpha", "vit_alpha"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                raise ValueError(f"{name} = {v!r}: transferred proportion must lie in [0, 1]")
        for k, s in enumerate(self.noise_levels):
            if not (isinstance(s, (int, float)) and np.isfinite(s) and s >= 0):
                raise ValueError(f"noise_levels[{k}] = {s!r}: noise level must be >= 0")
        for k, r in enumerate((*self.ratios, self.noise_ratio)):
            if isinstance(r, bool) or not isinstance(r, int) or r < 1:
                raise ValueError(f"ratios[{k}] = {r!r}: N1/N2 must be a positive integer")
        for name in ("up_epochs", "down_epochs", "vit_epochs", "batch_size", "seeds"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} = {v!r}: must be a positive integer")
        bad = [p for p in self.parts if p not in PARTS]
        if bad or not self.parts:
            raise ValueError(f"parts = {self.parts!r}: choose a non-empty subset of {PARTS}")
        if self.transfer_mode not in ("filter", "entry"):
            raise ValueError(f"transfer_mode = {self.transfer_mode!r}: 'filter' or 'entry'")
        if self.align not in ("first", "last"):
            raise ValueError(f"align = {self.align!r}: must be 'first' or 'last'")
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int) or self.n_jobs == 0:
            raise ValueError(f"n_jobs = {self.n_jobs!r}: must be a non-zero integer")

    @classmethod
    def quick(cls) -> DeepTransferConfig:
        """Bundled digits, ResNet-101 -> 34 and DeiT at reduced width, few epochs (CPU)."""
        return cls(dataset="cifar10", n_per_class=10, width=8, up_epochs=15, down_epochs=30,
                   batch_size=10, lr=0.05, augment=False,
                   noise_levels=(1.0, 20.0, 60.0, 120.0), vit_arch="deit_tiny", vit_width=32,
                   vit_patch_size=2, vit_epochs=15, vit_lr=1e-3, seeds=5, n_jobs=2,
                   preset="quick")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def setting(self) -> dict:
        """JSON-able settings shared by all tasks (part of the cache key)."""
        d = self.to_dict()
        for k in ("pairs", "ratios", "noise_levels", "seeds", "parts", "n_jobs", "scheduler",
                  "cache_dir", "preset"):
            d.pop(k)
        return d


# --------------------------------------------------------------------------------------------
# one task: upstream on Task 1, transfer and scratch downstream runs on Task 2 (paired)
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _data(data_dir, dataset):
    from nets.cifar import load_image_data

    return load_image_data(data_dir, dataset if data_dir is not None else None)


def _key(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _train_cfg(st: dict, vit: bool, epochs: int, seed: int, flip: bool):
    from nets.deep_train import TrainConfig

    return TrainConfig(epochs=epochs, batch_size=st["batch_size"],
                       lr=st["vit_lr"] if vit else st["lr"],
                       weight_decay=0.05 if vit else st["weight_decay"],
                       optimizer="adamw" if vit else "sgd", augment=st["augment"], flip=flip,
                       seed=seed, device=st["device"], progress=False,
                       checkpoint_every=max(1, epochs // 10))


def _upstream(st, part, arch, task1, ratio, seeds, ckdir, image_size):
    """Train (or load the checkpoint of) the upstream model on Task 1."""
    from nets.deep_models import build_model, load_state_dict_file
    from nets.deep_train import evaluate, train_classifier

    vit = part == "vit"
    width = st["vit_width"] if vit else st["width"]
    if vit and st["vit_upstream_weights"]:
        sd = load_state_dict_file(st["vit_upstream_weights"])
        return sd, float("nan"), float("nan")
    model = build_model(arch, task1.n_classes, width=width, image_size=image_size,
                        seed=int(seeds[0]), patch_size=st["vit_patch_size"])
    cfg = _train_cfg(st, vit, st["vit_epochs"] if vit else st["up_epochs"], int(seeds[1]),
                     st["dataset"] != "digits")
    kind = "vit" if vit else "cnn"  # the noise sweep reuses the ratio part's upstream model
    path = ckdir / f"up-{arch}-{_key(st, kind, ratio, [int(s) for s in seeds])}.pt"
    res = train_classifier(model, task1.x_train, task1.y_train, cfg, checkpoint=path)
    return model, evaluate(model, task1.x_test, task1.y_test, device=st["device"]), res.residual


def _downstream(st, part, arch, task2, upstream, seeds, ckdir, tag, image_size, vit_layers):
    """Scratch and transfer runs on Task 2 from the same fresh initialisation."""
    from nets.deep_models import build_model
    from nets.deep_train import evaluate, train_classifier
    from nets.deep_transfer import transfer_parameters, vit_blocks

    vit = part == "vit"
    width = st["vit_width"] if vit else st["width"]
    out, report = {}, None
    for method in ("scratch", "transfer"):
        model = build_model(arch, task2.n_classes, width=width, image_size=image_size,
                            seed=int(seeds[2]), patch_size=st["vit_patch_size"])
        if method == "transfer":
            report = transfer_parameters(
                upstream, model, st["vit_alpha"] if vit else st["alpha"],
                mode=st["transfer_mode"], align=st["align"], seed=int(seeds[3]),
                include=vit_blocks(st["vit_blocks"], vit_layers) if vit else ())
        cfg = _train_cfg(st, vit, st["vit_epochs"] if vit else st["down_epochs"],
                         int(seeds[4]), st["dataset"] != "digits")
        res = train_classifier(model, task2.x_train, task2.y_train, cfg,
                               checkpoint=ckdir / f"down-{method}-{tag[method]}.pt")
        out[f"acc_{method}"] = evaluate(model, task2.x_test, task2.y_test, device=st["device"])
        out[f"loss_{method}"] = res.residual
        out[f"converged_{method}"] = res.converged
        out["images_per_s"] = res.images_per_s
    out.update(report.summary())
    return out


def transfer_task(part: str, upstream: str, downstream: str, ratio: int, sigmas: list,
                  setting: dict, seed: int) -> list[dict]:
    """One seed of one (part, pair, ratio): upstream, then per noise level a paired
    transfer/scratch comparison.  Returns one row per noise level (a ``run_grid`` task)."""
    from nets.cifar import add_gaussian_noise, class_split

    st = setting
    t0, c0 = time.perf_counter(), time.process_time()
    data = _data(st["data_dir"], st["dataset"])
    dataset = data.name
    st = {**st, "dataset": dataset}
    n2c = st["n2_classes"] or (20 if dataset == "cifar100" else 2)
    seeds = np.random.SeedSequence((st["seed"], seed)).generate_state(6)
    pair = class_split(data, ratio, n2c, n_per_class=st["n_per_class"], seed=int(seeds[5]),
                       class_order=st["class_order"], n1_mode=st["n1_mode"])
    ckdir = Path(st["checkpoint_dir"])
    ckdir.mkdir(parents=True, exist_ok=True)
    size = data.x_train.shape[-1]
    up_model, acc_up, loss_up = _upstream(st, part, upstream, pair.task1.standardized(),
                                          ratio, seeds, ckdir, size)
    rows = []
    for sigma in sigmas:
        t2 = add_gaussian_noise(pair.task2, float(sigma), seed=int(seeds[5]) + 1).standardized()
        words = [int(s) for s in seeds]
        kind = "vit" if part == "vit" else "cnn"
        # the Task-2 sample, noise and fresh init do not depend on the ratio: one scratch run
        # per (downstream, sigma, seed) serves every ratio
        tag = {"scratch": _key(st, kind, downstream, float(sigma), words),
               "transfer": _key(st, kind, upstream, downstream, ratio, float(sigma), words)}
        res = _downstream(st, part, downstream, t2, up_model, seeds, ckdir, tag, size, 12)
        rows.append({"sigma_p2": float(sigma), "N1": pair.task1.n_train,
                     "N2": pair.task2.n_train, "acc_upstream": acc_up,
                     "loss_upstream": loss_up, **res,
                     "seconds": time.perf_counter() - t0,
                     "cpu_seconds": time.process_time() - c0})
    return rows


transfer_task.cache_version = 2


# --------------------------------------------------------------------------------------------
# sweeps and tables
# --------------------------------------------------------------------------------------------


def _jobs(cfg: DeepTransferConfig) -> list[dict]:
    st = cfg.setting()
    jobs = []
    if "ratio" in cfg.parts:
        jobs += [{"part": "ratio", "upstream": u, "downstream": d, "ratio": r, "sigmas": [0.0],
                  "setting": st} for u, d in cfg.pairs for r in cfg.ratios]
    if "noise" in cfg.parts:
        jobs += [{"part": "noise", "upstream": u, "downstream": d, "ratio": cfg.noise_ratio,
                  "sigmas": [float(s) for s in cfg.noise_levels], "setting": st}
                 for u, d in cfg.pairs]
    if "vit" in cfg.parts:
        jobs.append({"part": "vit", "upstream": cfg.vit_arch, "downstream": cfg.vit_arch,
                     "ratio": cfg.noise_ratio, "sigmas": [0.0], "setting": st})
    return jobs


def summarise(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and standard error over seeds; paired gain in points and relative to scratch."""
    runs = runs.assign(gain=100 * (runs["acc_transfer"] - runs["acc_scratch"]),
                       acc_transfer=100 * runs["acc_transfer"],
                       acc_scratch=100 * runs["acc_scratch"])
    g = runs.groupby(keys, sort=False)
    cols = ["acc_transfer", "acc_scratch", "gain"]
    mean = g[cols].mean()
    se = g[cols].sem(ddof=1).add_suffix("_se")
    out = pd.concat([mean, se, g["N1"].first(), g["N2"].first(), g.size().rename("n_seeds")],
                    axis=1).reset_index()
    out["gain_rel_pct"] = 100 * out["gain"] / out["acc_scratch"]
    return out


def format_table1(tab: pd.DataFrame) -> str:
    """Table 1-shaped text: accuracy (%) mean +- s.e. and gain over scratch per N1/N2."""
    lines = [f"{'pair':<22}{'N1/N2':>6}{'N1':>7}{'N2':>6}{'transfer':>16}{'scratch':>16}"
             f"{'gain (points)':>17}{'gain (rel.)':>13}"]
    for _, r in tab.iterrows():
        lines.append(
            f"{r['pair']:<22}{r['ratio']:>6g}{r['N1']:>7d}{r['N2']:>6d}"
            f"{r['acc_transfer']:>9.2f} +- {r['acc_transfer_se']:<4.2f}"
            f"{r['acc_scratch']:>9.2f} +- {r['acc_scratch_se']:<4.2f}"
            f"{r['gain']:>+10.2f} +- {r['gain_se']:<4.2f}{r['gain_rel_pct']:>+12.1f}%")
    return "\n".join(lines)


def _report_table(cfg: DeepTransferConfig) -> pd.DataFrame:
    """Which tensors each pair transfers (fresh models, the configured alpha and matching)."""
    from nets.deep_models import build_model
    from nets.deep_transfer import transfer_parameters, vit_blocks

    frames = []
    size = 8 if cfg.data_dir is None else 32
    for u, d in cfg.pairs:
        up = build_model(u, 4, width=cfg.width, image_size=size, seed=1)
        dn = build_model(d, 2, width=cfg.width, image_size=size, seed=2)
        rep = transfer_parameters(up, dn, cfg.alpha, mode=cfg.transfer_mode, align=cfg.align)
        frames.append(rep.to_frame().assign(pair=f"{u}->{d}"))
    if "vit" in cfg.parts:
        v = [build_model(cfg.vit_arch, k, width=cfg.vit_width, image_size=size, seed=k,
                         patch_size=cfg.vit_patch_size) for k in (4, 2)]
        rep = transfer_parameters(v[0], v[1], cfg.vit_alpha, mode=cfg.transfer_mode,
                                  include=vit_blocks(cfg.vit_blocks, 12))
        frames.append(rep.to_frame().assign(pair=f"{cfg.vit_arch} blocks {cfg.vit_blocks}"))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------


def _plot_lines(tab: pd.DataFrame, x: str, xlabel: str, title: str):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    pairs = list(dict.fromkeys(tab["pair"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for p in pairs:
        df = tab[tab["pair"] == p].sort_values(x)
        for col, ls in (("acc_transfer", "o-"), ("acc_scratch", "s--")):
            axes[0].errorbar(df[x], df[col], yerr=df[col + "_se"], fmt=ls, capsize=3,
                             label=f"{p}: {col.split('_')[1]}")
        axes[1].errorbar(df[x], df["gain"], yerr=df["gain_se"], fmt="o-", capsize=3, label=p)
    axes[1].axhline(0, color="gray", lw=0.8)
    axes[0].set_ylabel("downstream test accuracy (%)")
    axes[1].set_ylabel("gain over scratch (points)")
    for ax in axes:
        ax.set_xticks(sorted(tab[x].unique()))
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def _plot_vit(tab: pd.DataFrame, title: str):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3.4))
    r = tab.iloc[0]
    ax.bar([0, 1], [r["acc_transfer"], r["acc_scratch"]],
           yerr=[r["acc_transfer_se"], r["acc_scratch_se"]], capsize=4,
           color=["tab:blue", "tab:gray"])
    ax.set_xticks([0, 1], ["transfer (blocks)", "scratch"])
    ax.set_ylabel("downstream test accuracy (%)")
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------


def run(cfg: DeepTransferConfig | None = None, out_dir=None) -> dict[str, pd.DataFrame]:
    """Run the parts of the experiment, write the outputs into ``out_dir``, return the tables.

    Raises
    ------
    ValueError
        Bad configuration, or a ``data_dir`` without CIFAR batches (checked before any run).
    """
    cfg = DeepTransferConfig() if cfg is None else cfg
    out = make_output_dir(out_dir, EXPERIMENT_NAME)
    scratch_ckpt = cfg.checkpoint_dir is None and cfg.cache_dir is None
    if cfg.checkpoint_dir is None:
        base = Path(cfg.cache_dir) if cfg.cache_dir is not None else out
        cfg = dataclasses.replace(cfg, checkpoint_dir=str(base / "checkpoints"))
    if cfg.data_dir is not None:
        _data(cfg.data_dir, cfg.dataset)  # fail early on a folder without batches
    if cfg.device is not None:
        from nets.deep_train import resolve_device

        resolve_device(cfg.device)  # fail early on --device cuda without a GPU
    t0 = time.perf_counter()
    runs = run_grid(transfer_task, _jobs(cfg), seeds=range(cfg.seeds), n_jobs=cfg.n_jobs,
                    scheduler=cfg.scheduler, cache_dir=cfg.cache_dir, desc="deep-transfer")
    runs = runs.drop(columns=["setting", "sigmas"])
    runs["pair"] = runs["upstream"] + "->" + runs["downstream"]
    seconds = time.perf_counter() - t0
    tables = {"runs": runs, "transfer_report": _report_table(cfg)}
    figures = {}
    data_name = "digits (bundled)" if cfg.data_dir is None else cfg.dataset
    if "ratio" in cfg.parts:
        t1 = summarise(runs[runs["part"] == "ratio"], ["pair", "ratio"])
        tables["table1"] = t1
        figures["table1"] = _plot_lines(t1, "ratio", "N1/N2", f"Table 1 analogue, "
                                        f"{data_name}, alpha={cfg.alpha}, {cfg.seeds} seeds")
    if "noise" in cfg.parts:
        nz = summarise(runs[runs["part"] == "noise"], ["pair", "sigma_p2"])
        tables["noise"] = nz
        figures["fig3_noise"] = _plot_lines(
            nz, "sigma_p2", r"Task-2 noise $\sigma_{p,2}$ (grey levels)",
            f"Fig. 3 analogue, {data_name}, N1/N2={cfg.noise_ratio}, {cfg.seeds} seeds")
    if "vit" in cfg.parts:
        vt = summarise(runs[runs["part"] == "vit"], ["pair", "ratio"])
        tables["vit"] = vt
        figures["fig4_vit"] = _plot_vit(vt, f"Fig. 4 analogue: {cfg.vit_arch}, blocks "
                                        f"{tuple(cfg.vit_blocks)} transferred, {data_name}")
    save_results(out, tables, cfg, figures=figures,
                 extra={"experiment": EXPERIMENT_NAME, "seconds": seconds,
                        "task_cpu_seconds": float(runs.groupby(
                            ["part", "pair", "ratio", "seed"])["cpu_seconds"].max().sum()),
                        "n_computed": runs.attrs.get("n_computed"),
                        "n_cached": runs.attrs.get("n_cached")})
    if scratch_ckpt:  # no cache: the checkpoints of a finished run are of no further use
        import shutil

        shutil.rmtree(cfg.checkpoint_dir, ignore_errors=True)
    _print_summary(tables, seconds, out)
    return tables


def _print_summary(tables: dict, seconds: float, out: Path) -> None:
    print(f"deep-transfer: outputs in {out} ({seconds:.0f} s of runs)")
    if "table1" in tables:
        print("Table 1 analogue (test accuracy %, mean +- s.e. over seeds):")
        print(format_table1(tables["table1"]))
    if "noise" in tables:
        print("Noise sweep (Figure 3 analogue):")
        print(format_table1(tables["noise"].rename(columns={"sigma_p2": "ratio"})).replace(
            "N1/N2", "sigma"))
    if "vit" in tables:
        print("ViT blocks transfer (Figure 4 analogue):")
        print(format_table1(tables["vit"]))


if __name__ == "__main__":  # pragma: no cover
    import sys

    run(DeepTransferConfig.quick() if "--quick" in sys.argv else DeepTransferConfig(), None)
