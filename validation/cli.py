"""The ``transfer-theory`` command line (also ``python -m validation``).

Subcommands
-----------
demo
    A one-minute tour: strategy table and recommendation for a default scenario, and the
    eps2 landscape over (kappa, dlam) as a figure.
curve
    Replica predictions along one hyperparameter (or over a 2-D grid): CSV + PNG.
select
    Strategy table (full search, dlam=0, kappa=0, Trans-Lasso, Pretraining Lasso, target-only)
    and the recommended restricted strategy for a scenario.
reproduce NAME / validate NAME
    Run an experiment of :mod:`validation.experiments` (``--quick`` preset available).

A scenario is given either by ``--scenario FILE`` (JSON or TOML with ``alphas``, ``sigmas`` and
either ``prior = {weights, means, covs}`` or ``support = {pi_common, pi_unique, corr, scale}``)
or by the flags ``--alphas --sigmas --pi-common --pi-unique --corr --scale`` (a file, when
given, takes precedence over these flags).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser", "scenario_from_args", "EXPERIMENTS"]

# name -> (module, config class); modules expose run(cfg, out_dir) and Config.quick()
EXPERIMENTS = {
    "translasso": ("validation.experiments.translasso", "TransLassoConfig"),
    "translasso-validate": ("validation.experiments.translasso_validate", None),
    "translasso-realdata": ("validation.experiments.translasso_realdata", None),
    "cnn-transfer": ("validation.experiments.cnn_transfer", "CNNTransferConfig"),
    "reconstruction-transfer": ("validation.experiments.reconstruction_transfer",
                                "ReconstructionTransferConfig"),
}
# `validate NAME` is an alias of `reproduce NAME-validate`
VALIDATIONS = {"translasso": "translasso-validate"}
_OVERRIDABLE = ("n_jobs", "scheduler", "cache_dir", "data_dir", "seeds", "parts", "task",
                "device")


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from err


def _float(text: str) -> float:
    if text.lower() in ("inf", "infinity"):
        return math.inf
    return float(text)


def _add_scenario_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("scenario (index 0 = target)")
    g.add_argument("--scenario", type=Path, help="JSON or TOML file describing the scenario")
    g.add_argument("--alphas", type=_floats, default=(0.5, 4.0),
                   help="sample ratios M_k/N, target first (default 0.5,4)")
    g.add_argument("--sigmas", type=_floats, default=(0.1, 0.1), help="noise levels (0.1,0.1)")
    g.add_argument("--pi-common", type=float, default=0.10,
                   help="fraction of coordinates on the common support (0.10)")
    g.add_argument("--pi-unique", type=_floats, default=None,
                   help="fraction unique to each dataset (default 0.02 each)")
    g.add_argument("--corr", type=float, default=1.0,
                   help="correlation of common-support values across datasets (1 = identical)")
    g.add_argument("--scale", type=float, default=1.0, help="variance of non-zero coefficients")


def _add_hyper_args(p: argparse.ArgumentParser, lam1_default="target") -> None:
    g = p.add_argument_group("hyperparameters")
    g.add_argument("--lam1", default=lam1_default,
                   help="stage-1 penalty, or 'target' / 'pooled' to choose it from stage 1")
    g.add_argument("--lam2", type=_float, default=0.1)
    g.add_argument("--kappa", type=float, default=0.0)
    g.add_argument("--dlam", type=_float, default=0.0)


def _load_mapping(path: Path) -> dict:
    text = path.read_text()
    if path.suffix.lower() == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError as err:  # Python 3.10
            raise SystemExit("reading TOML needs Python >= 3.11; use a JSON file") from err
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise SystemExit(f"--scenario {path}: not valid TOML ({err})") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise SystemExit(f"--scenario {path}: not valid JSON ({err})") from err


_SCENARIO_KEYS = {"alphas", "sigmas", "prior", "support"}
_SUPPORT_KEYS = {"pi_common", "pi_unique", "corr", "scale"}


def scenario_from_args(args):
    """Build a :class:`replica.TransferScenario` from parsed arguments."""
    import replica as rp

    if args.scenario is not None:
        if not args.scenario.exists():
            raise SystemExit(f"--scenario: file not found: {args.scenario}")
        d = _load_mapping(args.scenario)
        unknown = set(d) - _SCENARIO_KEYS | set(d.get("support", {})) - _SUPPORT_KEYS
        if unknown:
            raise SystemExit(
                f"--scenario {args.scenario}: unknown keys {sorted(unknown)}; expected "
                f"{sorted(_SCENARIO_KEYS)} and support keys {sorted(_SUPPORT_KEYS)}"
            )
        try:
            if "prior" in d:
                return rp.TransferScenario.from_dict(d)
            sup = d.get("support", {})
            k = len(d["alphas"])
            prior = rp.support_prior(sup.get("pi_common", 0.1), sup.get("pi_unique", 0.02),
                                     corr=sup.get("corr", 1.0), scale=sup.get("scale", 1.0),
                                     n_datasets=k)
            return rp.TransferScenario(d["alphas"], d["sigmas"], prior)
        except KeyError as err:
            raise SystemExit(f"--scenario {args.scenario}: missing key {err}") from err
    k = len(args.alphas)
    pi_u = args.pi_unique if args.pi_unique is not None else (0.02,) * k
    prior = rp.support_prior(args.pi_common, list(pi_u), corr=args.corr, scale=args.scale)
    return rp.TransferScenario(args.alphas, args.sigmas, prior)


def _resolve_lam1(scenario, lam1_arg):
    import replica as rp

    if isinstance(lam1_arg, str) and lam1_arg in ("target", "pooled"):
        s1 = rp.choose_lam1(scenario, lam1_arg)
        print(f"lam1 = {s1.lam1:.5g} (minimises the {lam1_arg} stage-1 error, eps1 = "
              f"{s1.eps1:.5g})")
        return s1.lam1
    try:
        return _float(str(lam1_arg))
    except ValueError as err:
        raise ValueError(f"--lam1 = {lam1_arg!r}: give a number, 'target' or 'pooled'") from err


def _parse_vary(specs: list[str]) -> dict[str, np.ndarray]:
    out = {}
    for spec in specs:
        try:
            name, rng = spec.split("=", 1)
            parts = rng.split(":")
            if len(parts) == 3:
                lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
                vals = np.linspace(lo, hi, n)
            elif len(parts) == 4 and parts[3] == "log":
                vals = np.geomspace(float(parts[0]), float(parts[1]), int(parts[2]))
            else:
                vals = np.array(_floats(rng))
        except (ValueError, argparse.ArgumentTypeError) as err:
            raise SystemExit(
                f"--vary {spec!r}: use name=start:stop:num, name=start:stop:num:log or "
                "name=v1,v2,..."
            ) from err
        out[name.strip()] = vals
    return out


def _out_dir(args, name):
    from validation.outputs import make_output_dir

    return make_output_dir(args.out, name)


# ---- commands -----------------------------------------------------------------------------
def cmd_curve(args) -> int:
    import replica as rp
    from validation.outputs import save_results
    from validation.theory_figures import plot_curve, plot_grid

    scenario = scenario_from_args(args)
    vary = _parse_vary(args.vary)
    if not 1 <= len(vary) <= 2:
        raise SystemExit("--vary: give one (curve) or two (grid) parameters")
    lam1 = 1.0 if "lam1" in vary else _resolve_lam1(scenario, args.lam1)
    hyper = rp.TransLassoHyper(lam1, args.lam2, args.kappa, args.dlam)
    t0 = time.perf_counter()
    df = rp.sweep(scenario, hyper, vary=vary)
    names = list(vary)
    if len(names) == 1:
        fig = plot_curve(df, names[0], title=f"replica prediction, {hyper}")
    else:
        fig = plot_grid(df, names[0], names[1], title="eps2 (replica prediction)")
    out = _out_dir(args, "curve")
    paths = save_results(out, df, {"scenario": scenario.to_dict(), "hyper": hyper.to_dict(),
                                   "vary": {k: v.tolist() for k, v in vary.items()}},
                         figures={"curve": fig}, name="curve",
                         extra={"seconds": time.perf_counter() - t0})
    bad = int((df["status"] != "ok").sum())
    print(f"{len(df)} points in {time.perf_counter() - t0:.2f} s ({bad} unconverged/failed)")
    print(f"wrote {paths['curve']} and {paths['curve.png']}")
    if bad == len(df):
        print(f"error: no point converged; first status: {df['status'].iloc[0]}",
              file=sys.stderr)
        return 2
    best = df.loc[df.loc[df["status"] == "ok", "eps2"].idxmin()]
    print("minimum eps2 = {:.6g} at {}".format(
        best["eps2"], ", ".join(f"{n} = {best[n]:.4g}" for n in names)))
    return 0


def _print_table(tab):
    import pandas as pd

    with pd.option_context("display.width", 140, "display.max_columns", 20,
                           "display.float_format", "{:.5g}".format):
        cols = ["strategy", "eps2", "mse2", "regret", "regret_mse", "lam1", "lam2", "kappa",
                "dlam", "pt_alpha", "at_bound"]
        print(tab[[c for c in cols if c in tab]].to_string(index=False))


def cmd_select(args) -> int:
    import replica as rp
    from validation.outputs import save_results

    scenario = scenario_from_args(args)
    lam1 = _resolve_lam1(scenario, args.lam1)
    t0 = time.perf_counter()
    rec = rp.recommend(scenario, lam1=lam1, n_grid=args.n_grid)
    _print_table(rec.table)
    print()
    print("recommendation:", rec)
    print(f"({time.perf_counter() - t0:.1f} s)")
    if args.out is not None:
        save_results(_out_dir(args, "select"), rec.table,
                     {"scenario": scenario.to_dict(), "lam1": lam1},
                     name="strategy_table", extra={"recommendation": rec.to_dict()})
        print(f"wrote {args.out}/strategy_table.csv")
    return 0


def cmd_demo(args) -> int:
    import replica as rp
    from validation.outputs import save_results
    from validation.theory_figures import plot_grid

    t0 = time.perf_counter()
    scenario = scenario_from_args(args)
    print("Generalized Trans-Lasso, replica-symmetric theory (Okajima & Obuchi 2024)")
    print(f"scenario: alphas = {scenario.alphas}, sigmas = {scenario.sigmas}, "
          f"{scenario.prior.n_classes} prior classes")
    lam1 = _resolve_lam1(scenario, args.lam1)
    rec = rp.recommend(scenario, lam1=lam1, n_grid=args.n_grid)
    _print_table(rec.table)
    full = rec.table.set_index("strategy").loc["full"]
    hyper = rp.TransLassoHyper(lam1, float(full["lam2"]), 0.0, 0.0)
    n = args.grid
    dmax = max(3.0 * float(full["dlam"]), 4.0 * float(full["lam2"]), 0.05)
    df = rp.sweep(scenario, hyper, vary={"kappa": np.linspace(0, 1.5, n),
                                         "dlam": np.linspace(0, dmax, n)})
    tab = rec.table.set_index("strategy")
    marks = {f"{s} optimum (lam2 = {tab.loc[s, 'lam2']:.3g})": (tab.loc[s, "kappa"],
                                                              tab.loc[s, "dlam"])
             for s in ("dlam0", "kappa0", "full")}
    fig = plot_grid(df, "kappa", "dlam",
                    title=f"eps2 at lam2 = {hyper.lam2:.3g} (full-search optimum)", marks=marks)
    out = _out_dir(args, "demo")
    paths = save_results(out, {"strategy_table": rec.table, "kappa_dlam_grid": df},
                         {"scenario": scenario.to_dict(), "lam1": lam1, "grid": n},
                         figures={"kappa_dlam": fig},
                         extra={"recommendation": rec.to_dict(),
                                "seconds": time.perf_counter() - t0})
    print()
    print("recommendation:", rec)
    print(f"figure: {paths['kappa_dlam.png']}")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def _run_experiment(name: str, args) -> int:
    if name not in EXPERIMENTS:
        raise SystemExit(f"unknown experiment {name!r}; choose from {sorted(EXPERIMENTS)}")
    module_name, cfg_name = EXPERIMENTS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise SystemExit(f"experiment {name!r} is not available ({err})") from err
    cfg_cls = getattr(module, cfg_name) if cfg_name else _find_config(module)
    cfg = cfg_cls.quick() if args.quick else cfg_cls()
    overrides = {}
    fields = {f.name for f in dataclasses.fields(cfg)}
    for key in _OVERRIDABLE:
        val = getattr(args, key, None)
        if val is not None:
            if key not in fields:
                raise SystemExit(f"--{key.replace('_', '-')}: not an option of {name!r}")
            overrides[key] = val
    if overrides:
        cfg = dataclasses.replace(cfg, **overrides)
    out = _out_dir(args, module.EXPERIMENT_NAME if hasattr(module, "EXPERIMENT_NAME") else name)
    t0 = time.perf_counter()
    print(f"running {name} ({'quick' if args.quick else 'full'} preset) -> {out}")
    try:
        module.run(cfg, out)
    except FileNotFoundError as err:
        raise SystemExit(str(err)) from err
    print(f"done in {time.perf_counter() - t0:.1f} s; outputs in {out}")
    for p in sorted(Path(out).iterdir()):
        print("  ", p.name)
    return 0


def _find_config(module):
    for obj in vars(module).values():
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and hasattr(obj, "quick") \
                and obj.__module__ == module.__name__:
            return obj
    raise SystemExit(f"{module.__name__} defines no Config dataclass with a quick() preset")


def cmd_reproduce(args) -> int:
    return _run_experiment(args.name, args)


def cmd_validate(args) -> int:
    name = VALIDATIONS.get(args.name)
    if name is None:
        raise SystemExit(
            f"nothing to validate for {args.name!r}; choose from {sorted(VALIDATIONS)}"
        )
    return _run_experiment(name, args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="transfer-theory",
        description="Replica theory and simulation checks for transfer learning.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="one-minute tour: strategy table, recommendation, figure")
    _add_scenario_args(d)
    d.add_argument("--lam1", default="target",
                   help="stage-1 penalty, or 'target' / 'pooled' to choose it from stage 1")
    d.add_argument("--grid", type=int, default=25, help="(kappa, dlam) grid size (25)")
    d.add_argument("--n-grid", type=int, default=6, help="coarse grid per optimised dimension")
    d.add_argument("--out", type=Path, default=None, help="output folder (default ./results/...)")
    d.set_defaults(func=cmd_demo)

    c = sub.add_parser("curve", help="replica predictions along a parameter or over a grid")
    _add_scenario_args(c)
    _add_hyper_args(c)
    c.add_argument("--vary", action="append", required=True,
                   help="name=start:stop:num[:log] or name=v1,v2,...; repeat for a 2-D grid "
                        "(names: lam1, lam2, kappa, dlam, alpha_k, sigma_k)")
    c.add_argument("--out", type=Path, default=None)
    c.set_defaults(func=cmd_curve)

    s = sub.add_parser("select", help="strategy table and the kappa=0 / dlam=0 recommendation")
    _add_scenario_args(s)
    s.add_argument("--lam1", default="target",
                   help="stage-1 penalty, or 'target' / 'pooled' to choose it from stage 1")
    s.add_argument("--n-grid", type=int, default=7, help="coarse grid per optimised dimension")
    s.add_argument("--out", type=Path, default=None)
    s.set_defaults(func=cmd_select)

    for cmd, helptext, func in (("reproduce", "run an experiment", cmd_reproduce),
                                ("validate", "theory against simulation", cmd_validate)):
        r = sub.add_parser(cmd, help=helptext)
        names = sorted(EXPERIMENTS if cmd == "reproduce" else VALIDATIONS)
        r.add_argument("name", help=f"one of {names}")
        r.add_argument("--quick", action="store_true", help="small preset (minutes on 2 cores)")
        r.add_argument("--out", type=Path, default=None)
        r.add_argument("--n-jobs", type=int, default=None, help="parallel local processes")
        r.add_argument("--scheduler", default=None, help="Dask scheduler address (tcp://...)")
        r.add_argument("--cache-dir", type=Path, default=None, help="on-disk result cache")
        r.add_argument("--data-dir", type=Path, default=None, help="folder with real datasets")
        r.add_argument("--parts", type=lambda t: tuple(v for v in t.split(",") if v),
                       default=None, help="parts of an experiment to run, e.g. mnist,imdb")
        r.add_argument("--seeds", type=int, default=None, help="number of seeds (override)")
        r.add_argument("--task", choices=("digits", "d2d", "miso"), default=None,
                       help="task of reconstruction-transfer (default d2d)")
        r.add_argument("--device", choices=("cpu", "cuda", "auto"), default=None,
                       help="torch device of reconstruction-transfer (default cpu)")
        r.set_defaults(func=func)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from replica.errors import ConvergenceError, NonFiniteIterateError

    try:
        return int(args.func(args) or 0)
    except ValueError as err:  # bad parameters: say which, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (ConvergenceError, NonFiniteIterateError) as err:
        print(f"error: the saddle-point solver failed: {err}", file=sys.stderr)
        return 3
