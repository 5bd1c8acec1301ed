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
    "translasso-finite-size": ("validation.experiments.translasso_finite_size",
                               "FiniteSizeConfig"),
    "cnn-transfer": ("validation.experiments.cnn_transfer", "CNNTransferConfig"),
    "reconstruction-perception": ("validation.experiments.reconstruction_perception",
                                  "ReconstructionPerceptionConfig"),
    "cnn-phase": ("validation.experiments.cnn_phase", "CNNPhaseConfig"),
    "deep-transfer": ("validation.experiments.deep_transfer", "DeepTransferConfig"),
    "reconstruction-transfer": ("validation.experiments.reconstruction_transfer",
                                "ReconstructionTransferConfig"),
}
# `validate NAME` is an alias of `reproduce NAME-validate`
VALIDATIONS = {"translasso": "translasso-validate"}
_OVERRIDABLE = ("n_jobs", "scheduler", "cache_dir", "data_dir", "seeds", "parts", "device",
                "setting", "grid_file", "task")


# ---- error handling (shared by every subcommand) ------------------------------------------
class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (``prog: error: ...``), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _one_line(text: str, limit: int = 400) -> str:
    line = " ".join(str(text).strip().splitlines()[:1]) or "(no message)"
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _handle(func, args) -> int:
    """Run a subcommand; every failure becomes one line on stderr and a non-zero exit code.

    2: bad input (ValueError, TypeError, CLIError, an unusable file or folder), 3: a solver
    failed, 1: any other error (with a hint how to see the traceback), 130: interrupted.
    Set ``TRANSFER_THEORY_DEBUG=1`` to get the traceback instead.
    """
    import os

    from replica.errors import ConvergenceError, NonFiniteIterateError
    from validation.errors import CLIError
    from validation.runner import TaskError

    if os.environ.get("TRANSFER_THEORY_DEBUG"):
        return int(func(args) or 0)
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except SystemExit as err:  # raised with a message by older code paths
        if isinstance(err.code, int) or err.code is None:
            return int(err.code or 0)
        print(f"error: {_one_line(err.code)}", file=sys.stderr)
        return 2
    except (CLIError, ValueError, TypeError, argparse.ArgumentTypeError) as err:  # bad input
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2
    except (ConvergenceError, NonFiniteIterateError) as err:
        print(f"error: the saddle-point solver failed: {_one_line(err)}", file=sys.stderr)
        return 3
    except TaskError as err:
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 3
    except OSError as err:  # files and folders, connections
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        print(f"error:{where} {err.strerror or _one_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - never a traceback on the command line
        print(f"error: {type(err).__name__}: {_one_line(err)} (unexpected; set "
              "TRANSFER_THEORY_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


def _floats(text: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from err
    if not vals:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return vals


def _float(text: str) -> float:
    try:
        val = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from err
    if math.isnan(val):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    return val


def _finite(text: str) -> float:
    val = _float(text)
    if not math.isfinite(val):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return val


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            val = int(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from err
        if val < minimum:
            raise argparse.ArgumentTypeError(f"{val}: must be an integer >= {minimum}")
        return val

    parse.__name__ = f"integer >= {minimum}"
    return parse


# Estimated cost of one replica point (theory sweeps) or one optimiser evaluation: ~4 ms
# measured on 2 busy cores (``transfer-theory curve --vary lam2=0.01:1:200`` takes 0.75 s);
# used to refuse runs of over 30 min unless --yes-long-run is given.
_SECONDS_PER_POINT = 0.005
_LONG_RUN_S = 1800.0
_MAX_SEEDS = 100_000


def _check_run_length(args, n_points: int, what: str) -> None:
    from validation.errors import CLIError

    est = n_points * _SECONDS_PER_POINT
    if est > _LONG_RUN_S and not getattr(args, "yes_long_run", False):
        raise CLIError(
            f"{what}: {n_points:,} points, estimated {_duration(est)} at ~"
            f"{1000 * _SECONDS_PER_POINT:.0f} ms per point; pass --yes-long-run to go on, or "
            "use fewer points"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _add_scenario_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("scenario (index 0 = target)")
    g.add_argument("--scenario", type=Path, help="JSON or TOML file describing the scenario")
    g.add_argument("--alphas", type=_floats, default=(0.5, 4.0),
                   help="sample ratios M_k/N, target first (default 0.5,4)")
    g.add_argument("--sigmas", type=_floats, default=(0.1, 0.1), help="noise levels (0.1,0.1)")
    g.add_argument("--pi-common", type=_finite, default=0.10,
                   help="fraction of coordinates on the common support (0.10)")
    g.add_argument("--pi-unique", type=_floats, default=None,
                   help="fraction unique to each dataset (default 0.02 each)")
    g.add_argument("--corr", type=_finite, default=1.0,
                   help="correlation of common-support values across datasets (1 = identical)")
    g.add_argument("--scale", type=_finite, default=1.0,
                   help="variance of non-zero coefficients")


def _add_hyper_args(p: argparse.ArgumentParser, lam1_default="target") -> None:
    g = p.add_argument_group("hyperparameters")
    g.add_argument("--lam1", default=lam1_default,
                   help="stage-1 penalty, or 'target' / 'pooled' to choose it from stage 1")
    g.add_argument("--lam2", type=_float, default=0.1)
    g.add_argument("--kappa", type=_finite, default=0.0)
    g.add_argument("--dlam", type=_float, default=0.0)


def _load_mapping(path: Path) -> dict:
    from validation.errors import CLIError

    if not path.exists():
        raise CLIError(f"--scenario {path}: file not found")
    if path.is_dir():
        raise CLIError(f"--scenario {path}: is a folder, not a JSON or TOML file")
    if not path.is_file():
        raise CLIError(f"--scenario {path}: not a regular file (a device or a pipe?)")
    if path.stat().st_size > _MAX_SCENARIO_BYTES:
        raise CLIError(f"--scenario {path}: {path.stat().st_size:,} bytes; a scenario file "
                       f"is at most {_MAX_SCENARIO_BYTES:,} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise CLIError(f"--scenario {path}: not a UTF-8 text file ({err.reason})") from err
    except OSError as err:
        raise CLIError(f"--scenario {path}: cannot read it ({err.strerror})") from err
    if path.suffix.lower() == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError as err:  # Python 3.10
            raise CLIError("reading TOML needs Python >= 3.11; use a JSON file") from err
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise CLIError(f"--scenario {path}: not valid TOML ({err})") from err
    else:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as err:
            raise CLIError(f"--scenario {path}: not valid JSON ({_one_line(err)})") from err
    if not isinstance(data, dict):
        raise CLIError(f"--scenario {path}: expected a JSON object / TOML table with keys "
                       f"{sorted(_SCENARIO_KEYS)}, got a {type(data).__name__}")
    return data


_MAX_SCENARIO_BYTES = 1_000_000
_SCENARIO_KEYS = {"alphas", "sigmas", "prior", "support"}
_SUPPORT_KEYS = {"pi_common", "pi_unique", "corr", "scale"}
_PRIOR_KEYS = {"weights", "means", "covs"}


def _numbers(value, key: str, source: str, *, scalar_ok: bool = True, depth: int = 1):
    """Check that ``value`` is a number (or nested lists of numbers, ``depth`` levels)."""
    from validation.errors import CLIError

    def bad(what):
        return CLIError(f"--scenario {source}: {key} = {value!r:.60}: {what}")

    def walk(v, level):
        if isinstance(v, bool) or isinstance(v, str) or v is None:
            raise bad(f"expected {'a number or ' if scalar_ok else ''}a list of numbers, got "
                      f"{type(v).__name__} {v!r:.30}")
        if isinstance(v, (int, float)):
            if level > 0 and not (scalar_ok and level == depth):
                raise bad(f"expected a {'nested ' * (depth > 1)}list of numbers")
            if not math.isfinite(v):
                raise bad(f"contains the non-finite value {v}")
            return
        if isinstance(v, list):
            if level == 0:
                raise bad("expected a number here, not a list")
            if not v:
                raise bad("is an empty list")
            for item in v:
                walk(item, level - 1)
            return
        raise bad(f"expected numbers, got {type(v).__name__}")

    walk(value, depth)


def scenario_from_file(path: Path):
    """Build a :class:`replica.TransferScenario` from a JSON or TOML file (keys checked)."""
    import replica as rp
    from validation.errors import CLIError

    d = _load_mapping(path)
    unknown = set(d) - _SCENARIO_KEYS
    if unknown:
        raise CLIError(f"--scenario {path}: unknown keys {sorted(unknown)}; expected "
                       f"{sorted(_SCENARIO_KEYS)}")
    for key in ("alphas", "sigmas"):
        if key not in d:
            raise CLIError(f"--scenario {path}: missing key '{key}'")
        _numbers(d[key], key, path, scalar_ok=False)
    if "prior" in d and "support" in d:
        raise CLIError(f"--scenario {path}: give either 'prior' or 'support', not both")
    if "prior" in d:
        p = d["prior"]
        if not isinstance(p, dict) or set(p) != _PRIOR_KEYS:
            raise CLIError(f"--scenario {path}: prior must be a table with exactly the keys "
                           f"{sorted(_PRIOR_KEYS)}, got {p!r:.80}")
        for key, depth in (("weights", 1), ("means", 2), ("covs", 3)):
            _numbers(p[key], f"prior.{key}", path, scalar_ok=False, depth=depth)
        try:
            return rp.TransferScenario.from_dict(d)
        except (ValueError, TypeError) as err:
            raise CLIError(f"--scenario {path}: {_one_line(err)}") from err
    sup = d.get("support", {})
    if not isinstance(sup, dict):
        raise CLIError(f"--scenario {path}: support = {sup!r:.60}: expected a table with keys "
                       f"{sorted(_SUPPORT_KEYS)}")
    unknown = set(sup) - _SUPPORT_KEYS
    if unknown:
        raise CLIError(f"--scenario {path}: unknown keys {sorted(unknown)} in support; "
                       f"expected {sorted(_SUPPORT_KEYS)}")
    for key, val in sup.items():
        _numbers(val, f"support.{key}", path, scalar_ok=True, depth=1 if key == "pi_unique"
                 else 0)
    try:
        prior = rp.support_prior(sup.get("pi_common", 0.1), sup.get("pi_unique", 0.02),
                                 corr=sup.get("corr", 1.0), scale=sup.get("scale", 1.0),
                                 n_datasets=len(d["alphas"]))
        return rp.TransferScenario(d["alphas"], d["sigmas"], prior)
    except (ValueError, TypeError) as err:
        raise CLIError(f"--scenario {path}: {_one_line(err)}") from err


def scenario_from_args(args):
    """Build a :class:`replica.TransferScenario` from parsed arguments."""
    import replica as rp

    if args.scenario is not None:
        return scenario_from_file(args.scenario)
    from validation.errors import CLIError

    k = len(args.alphas)
    pi_u = args.pi_unique if args.pi_unique is not None else (0.02,) * k
    if len(pi_u) != k:
        raise CLIError(f"--pi-unique: got {len(pi_u)} values for {k} datasets (--alphas)")
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
        return _finite(str(lam1_arg))
    except (ValueError, argparse.ArgumentTypeError) as err:
        raise ValueError(f"--lam1 = {lam1_arg!r}: give a number, 'target' or 'pooled'") from err


_VARY_MAX_POINTS = 10_000_000


def _parse_vary(specs: list[str]) -> dict[str, np.ndarray]:
    from validation.errors import CLIError

    usage = "use name=start:stop:num, name=start:stop:num:log or name=v1,v2,..."
    out = {}
    for spec in specs:
        name, sep, rng = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CLIError(f"--vary {spec!r}: {usage}")
        parts = rng.split(":")
        try:
            if len(parts) in (3, 4):
                if len(parts) == 4 and parts[3] != "log":
                    raise CLIError(f"--vary {spec!r}: the 4th field must be 'log'; {usage}")
                lo, hi, n = _finite(parts[0]), _finite(parts[1]), int(parts[2])
                if not 1 <= n <= _VARY_MAX_POINTS:
                    raise CLIError(f"--vary {spec!r}: num = {n}: must be between 1 and "
                                   f"{_VARY_MAX_POINTS:,}")
                if len(parts) == 4 and not (lo > 0 and hi > 0):
                    raise CLIError(f"--vary {spec!r}: a log grid needs positive start and stop")
                vals = np.geomspace(lo, hi, n) if len(parts) == 4 else np.linspace(lo, hi, n)
            elif len(parts) == 1:
                vals = np.array(_floats(rng))
                if not np.all(np.isfinite(vals)):
                    raise CLIError(f"--vary {spec!r}: values must be finite numbers")
            else:
                raise CLIError(f"--vary {spec!r}: {usage}")
        except (ValueError, argparse.ArgumentTypeError) as err:
            raise CLIError(f"--vary {spec!r}: {usage}") from err
        if name in out:
            raise CLIError(f"--vary: {name!r} is given twice")
        out[name] = vals
    return out


def _out_dir(args, name):
    """Create the output folder; an unusable ``--out`` is a one-line error."""
    from validation.errors import CLIError
    from validation.outputs import make_output_dir

    out = getattr(args, "out", None)
    if out is not None:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise CLIError(f"--out {out}: is an existing file; give a folder")
    try:
        path = make_output_dir(out, name)
    except OSError as err:
        raise CLIError(f"--out {out if out is not None else 'results/'}: cannot create the "
                       f"folder ({err.strerror or err})") from err
    import os

    if not os.access(path, os.W_OK | os.X_OK):
        raise CLIError(f"--out {path}: the folder is not writable")
    return path


# ---- commands -----------------------------------------------------------------------------
def cmd_curve(args) -> int:
    import replica as rp
    from validation.errors import CLIError
    from validation.outputs import save_results
    from validation.plotting import LABELS, param_text
    from validation.theory_figures import plot_curve, plot_grid

    scenario = scenario_from_args(args)
    vary = _parse_vary(args.vary)
    if not 1 <= len(vary) <= 2:
        raise CLIError("--vary: give one (curve) or two (grid) parameters")
    for name in vary:
        k = name.rpartition("_")[2]
        if name not in ("lam1", "lam2", "kappa", "dlam") and not (
                name.startswith(("alpha_", "sigma_")) and k.isdigit()
                and int(k) < scenario.n_datasets):
            raise CLIError(f"--vary: unknown parameter {name!r}; use lam1, lam2, kappa, dlam, "
                           f"alpha_k or sigma_k (k < {scenario.n_datasets})")
    _check_run_length(args, int(np.prod([v.size for v in vary.values()])), "--vary grid")
    lam1 = 1.0 if "lam1" in vary else _resolve_lam1(scenario, args.lam1)
    hyper = rp.TransLassoHyper(lam1, args.lam2, args.kappa, args.dlam)
    out = _out_dir(args, "curve")
    t0 = time.perf_counter()
    df = rp.sweep(scenario, hyper, vary=vary)
    names = list(vary)
    fixed = param_text(hyper, exclude=names, labels=True)
    axes = [LABELS.get(n, n) for n in names]
    if len(names) == 1:
        fig = plot_curve(df, names[0], title=f"replica prediction along {axes[0]}; {fixed}")
    else:
        fig = plot_grid(df, names[0], names[1],
                        title=f"{LABELS['eps2']} (replica prediction) over ({axes[0]}, "
                              f"{axes[1]}); {fixed}")
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

    if getattr(args, "design", None) is not None:
        return cmd_select_design(args)
    scenario = scenario_from_args(args)
    _check_run_length(args, args.n_grid ** 3, "--n-grid (full-search coarse grid)")
    lam1 = _resolve_lam1(scenario, args.lam1)
    out = _out_dir(args, "select") if args.out is not None else None
    t0 = time.perf_counter()
    rec = rp.recommend(scenario, lam1=lam1, n_grid=args.n_grid)
    _print_table(rec.table)
    print()
    print("recommendation:", rec)
    print(f"({time.perf_counter() - t0:.1f} s)")
    if out is not None:
        save_results(out, rec.table,
                     {"scenario": scenario.to_dict(), "lam1": lam1},
                     name="strategy_table", extra={"recommendation": rec.to_dict()})
        print(f"wrote {args.out}/strategy_table.csv")
    return 0


# --- select --design FILE (issue 13): theory chosen for the user's own design matrix -------
def _kurtosis_arg(text: str):
    return None if text.lower() in ("none", "off", "inf") else float(text)


def _add_design_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("own design matrix (select --design)")
    g.add_argument("--design", type=Path, default=None,
                   help="target design matrix (.npy or .csv, rows = samples); its shape must "
                        "match --alphas (round(alphas[0] N) = M)")
    g.add_argument("--kurtosis-max", type=_kurtosis_arg, default=10.0,
                   help="drop columns with standardised kurtosis above this (10; 'none' keeps "
                        "all)")
    g.add_argument("--mc-replicates", type=int, default=4,
                   help="Monte Carlo replicates of the Sigma theory (4)")


def cmd_select_design(args) -> int:
    from validation.design_select import load_design_file, select_for_design
    from validation.outputs import save_results

    scenario = scenario_from_args(args)
    A = load_design_file(args.design, scenario)
    t0 = time.perf_counter()
    lam1 = args.lam1 if args.lam1 in ("target", "pooled") else _float(str(args.lam1))
    rep = select_for_design(A, scenario, lam1, kurtosis_max=args.kurtosis_max,
                            n_grid=args.n_grid, mc_replicates=args.mc_replicates)
    print(f"design {args.design}: M = {rep.n_rows} rows, N = {rep.n_features} columns kept; "
          f"dropped {len(rep.dropped_constant)} constant and {len(rep.dropped_heavy)} "
          f"heavy-tailed columns (kurtosis > {rep.kurtosis_max})"
          + (f": {list(rep.dropped_heavy)[:20]}" if rep.dropped_heavy else ""))
    print(f"theory: {rep.theory} -- {rep.reason}")
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20,
                           "display.float_format", "{:.5g}".format):
        cols = ["strategy", "iid_eps2", "sigma_eps2", "sigma_eps2_se", "lam1", "lam2", "kappa",
                "dlam"]
        print(rep.table[[c for c in cols if c in rep.table]].to_string(index=False))
    print()
    print("recommendation:", rep.recommendation)
    print(f"({time.perf_counter() - t0:.1f} s)")
    if args.out is not None:
        save_results(_out_dir(args, "select"), rep.table,
                     {"scenario": scenario.to_dict(), "design": str(args.design)},
                     name="strategy_table", extra={"design_report": rep.to_dict()})
        print(f"wrote {args.out}/strategy_table.csv")
    return 0


def cmd_demo(args) -> int:
    import replica as rp
    from validation.outputs import save_results
    from validation.theory_figures import plot_grid

    t0 = time.perf_counter()
    scenario = scenario_from_args(args)
    _check_run_length(args, args.grid ** 2 + args.n_grid ** 3, "--grid / --n-grid")
    print("Generalized Trans-Lasso, replica-symmetric theory (Okajima & Obuchi 2024)")
    print(f"scenario: alphas = {scenario.alphas}, sigmas = {scenario.sigmas}, "
          f"{scenario.prior.n_classes} prior classes")
    lam1 = _resolve_lam1(scenario, args.lam1)
    out = _out_dir(args, "demo")
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


def _load_experiment(name: str):
    from validation.errors import CLIError

    if name not in EXPERIMENTS:
        raise CLIError(f"unknown experiment {name!r}; choose from {sorted(EXPERIMENTS)}")
    module_name, cfg_name = EXPERIMENTS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise CLIError(f"experiment {name!r} is not available ({err})") from err
    return module, (getattr(module, cfg_name) if cfg_name else _find_config(module))


def _check_runner_args(args) -> None:
    """Fail fast on an unusable --cache-dir or an unreachable --scheduler."""
    from validation.errors import CLIError

    cache = getattr(args, "cache_dir", None)
    if cache is not None:
        if cache.exists() and not cache.is_dir():
            raise CLIError(f"--cache-dir {cache}: is an existing file; give a folder")
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CLIError(f"--cache-dir {cache}: cannot create the folder "
                           f"({err.strerror or err})") from err
    scheduler = getattr(args, "scheduler", None)
    if scheduler is not None:
        from validation.runner import check_scheduler

        try:
            check_scheduler(scheduler)
        except (ValueError, ConnectionError) as err:
            raise CLIError(f"--scheduler: {err}") from err
        try:
            import distributed  # noqa: F401
        except ImportError as err:
            raise CLIError('--scheduler needs dask[distributed]: pip install '
                           '"transfer-theory[dask]"') from err


def _check_experiment_length(args, module, n_seeds: int, default_cfg) -> None:
    """Refuse seed counts that would run for hours (``RUNTIME_S`` of the module, measured)."""
    from validation.errors import CLIError

    if n_seeds > _MAX_SEEDS:
        raise CLIError(f"--seeds {n_seeds}: at most {_MAX_SEEDS:,}")
    runtime = getattr(module, "RUNTIME_S", {}).get("quick" if args.quick else "full")
    base = getattr(default_cfg, "seeds", None)
    if runtime is None or base is None:
        return
    est = runtime * n_seeds / max(len(base), 1)
    if est > _LONG_RUN_S and not args.yes_long_run:
        raise CLIError(f"--seeds {n_seeds}: estimated {_duration(est)} (the preset takes "
                       f"~{_duration(runtime)} with {len(base)} seeds); pass --yes-long-run "
                       "to go on, or use fewer seeds")


def _run_experiment(name: str, args) -> int:
    from validation.errors import CLIError

    module, cfg_cls = _load_experiment(name)
    default_cfg = cfg_cls.quick() if args.quick else cfg_cls()
    if getattr(args, "seeds", None) is not None:  # before a config holds range(seeds)
        _check_experiment_length(args, module, args.seeds, default_cfg)
    overrides = {}
    fields = {f.name for f in dataclasses.fields(default_cfg)}
    for key in _OVERRIDABLE:
        val = getattr(args, key, None)
        if val is not None:
            if key not in fields:
                raise CLIError(f"--{key.replace('_', '-')}: not an option of {name!r}")
            overrides[key] = str(val) if isinstance(val, Path) else val
    cfg = dataclasses.replace(default_cfg, **overrides) if overrides else default_cfg
    _check_runner_args(args)
    out = _out_dir(args, getattr(module, "EXPERIMENT_NAME", name))
    t0 = time.perf_counter()
    print(f"running {name} ({'quick' if args.quick else 'full'} preset) -> {out}")
    module.run(cfg, out)
    print(f"done in {time.perf_counter() - t0:.1f} s; outputs in {out}")
    for p in sorted(Path(out).iterdir()):
        print("  ", p.name)
    return 0


def _find_config(module):
    from validation.errors import CLIError

    for obj in vars(module).values():
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and hasattr(obj, "quick") \
                and obj.__module__ == module.__name__:
            return obj
    raise CLIError(f"{module.__name__} defines no Config dataclass with a quick() preset")


def cmd_reproduce(args) -> int:
    return _run_experiment(args.name, args)


def cmd_validate(args) -> int:
    from validation.errors import CLIError

    name = VALIDATIONS.get(args.name)
    if name is None:
        raise CLIError(f"nothing to validate for {args.name!r}; choose from "
                       f"{sorted(VALIDATIONS)}")
    return _run_experiment(name, args)


def _add_cnn_phase_args(r: argparse.ArgumentParser) -> None:
    """Options of ``reproduce cnn-phase`` (other experiments reject them)."""
    r.add_argument("--setting", default=None,
                   help="cnn-phase: 'kou' (Kou et al. 2023, with their published grid) or "
                        "'yuan' (two-task transfer)")
    r.add_argument("--grid-file", default=None,
                   help="cnn-phase: Kou et al.'s released 100x100 test-error grid (default: "
                        "the copy shipped in validation/data/kou)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="transfer-theory",
        description="Replica theory and simulation checks for transfer learning.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="one-minute tour: strategy table, recommendation, figure")
    _add_scenario_args(d)
    d.add_argument("--lam1", default="target",
                   help="stage-1 penalty, or 'target' / 'pooled' to choose it from stage 1")
    d.add_argument("--grid", type=_count(2), default=25, help="(kappa, dlam) grid size (25)")
    d.add_argument("--n-grid", type=_count(3), default=6,
                   help="coarse grid per optimised dimension")
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
    s.add_argument("--n-grid", type=_count(3), default=7,
                   help="coarse grid per optimised dimension")
    s.add_argument("--out", type=Path, default=None)
    _add_design_args(s)
    s.set_defaults(func=cmd_select)

    for cmd, helptext, func in (("reproduce", "run an experiment", cmd_reproduce),
                                ("validate", "theory against simulation", cmd_validate)):
        r = sub.add_parser(cmd, help=helptext)
        names = sorted(EXPERIMENTS if cmd == "reproduce" else VALIDATIONS)
        r.add_argument("name", help=f"one of {names}")
        r.add_argument("--quick", action="store_true", help="small preset (minutes on 2 cores)")
        r.add_argument("--out", type=Path, default=None)
        r.add_argument("--n-jobs", type=_n_jobs, default=None,
                       help="parallel local processes (-1 = all cores)")
        r.add_argument("--scheduler", default=None, help="Dask scheduler address (tcp://...)")
        r.add_argument("--cache-dir", type=Path, default=None, help="on-disk result cache")
        r.add_argument("--data-dir", type=Path, default=None, help="folder with real datasets")
        r.add_argument("--parts", type=lambda t: tuple(v for v in t.split(",") if v),
                       default=None, help="parts of an experiment to run, e.g. mnist,imdb")
        r.add_argument("--seeds", type=_count(2), default=None,
                       help="number of seeds (override)")
        r.add_argument("--device", default=None, help="torch device, e.g. cuda (default cpu)")
        _add_cnn_phase_args(r)
        r.add_argument("--task", choices=("digits", "d2d", "miso"), default=None,
                       help="task of reconstruction-transfer (default d2d)")
        r.set_defaults(func=func)
    for sp in (d, c, s, *[sub.choices[n] for n in ("reproduce", "validate")]):
        sp.add_argument("--yes-long-run", action="store_true",
                        help="go on when the estimated running time is over 30 min")
    return p


def _n_jobs(text: str) -> int:
    try:
        val = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from err
    if val == 0 or val < -1:
        raise argparse.ArgumentTypeError(f"{val}: must be a positive integer or -1 (all cores)")
    import os

    most = 4 * (os.cpu_count() or 1)
    if val > most:
        raise argparse.ArgumentTypeError(f"{val}: at most {most} processes (4 per core)")
    return val


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (every failure is one line on stderr)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as err:  # --help, or an argparse error (already printed, one line)
        return err.code if isinstance(err.code, int) else 2
    return _handle(args.func, args)
