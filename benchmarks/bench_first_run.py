"""Time a new user's first ``transfer-theory demo`` (empty numba cache) and a warm one.

Usage::

    python benchmarks/bench_first_run.py [--runs 2] [--reference PATH]

Each run is a fresh subprocess ``python -m validation demo --out TMP`` started in the
repository root: *cold* with ``NUMBA_CACHE_DIR`` pointing at a new empty folder (every kernel
is compiled), *warm* right after with the same folder (kernels loaded from the cache).
Printed per measurement: wall time (median over ``--runs``), the CPU time (user + sys) of
the subprocess, which depends less on the load of a shared machine, and the load average.

``--reference PATH`` times another checkout of the package the same way in the same run (for
example the previous release, extracted with ``git archive``) and prints the ratios.

Goals (issue 9): cold under 10 s and warm under 3 s on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_COLD_S = 10.0
GOAL_WARM_S = 3.0


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_demo(root: Path, cache_dir: Path, out_dir: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``python -m validation demo`` in ``root``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), MPLBACKEND="Agg",
               PYTHONPATH=str(root), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    cpu0 = _child_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "validation", "demo", "--out", str(out_dir)],
                          cwd=root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"demo failed in {root}:\n{proc.stderr[-2000:]}")
    return wall, _child_cpu() - cpu0


def measure(root: Path, runs: int) -> dict[str, list[tuple[float, float]]]:
    """Cold and warm (wall, CPU) pairs, ``runs`` of each, every cold run in a fresh cache."""
    out: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench_first_run_") as tmp:
            cache = Path(tmp) / "numba_cache"
            out["cold"].append(run_demo(root, cache, Path(tmp) / "cold"))
            out["warm"].append(run_demo(root, cache, Path(tmp) / "warm"))
    return out


def _median(pairs, i):
    return statistics.median(p[i] for p in pairs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=2, help="cold+warm pairs (median reported)")
    ap.add_argument("--reference", type=Path, default=None,
                    help="another checkout to time the same way (prints ratios)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        raise SystemExit("--runs must be >= 1")
    roots = {"this": ROOT}
    if args.reference is not None:
        if not (args.reference / "validation").is_dir():
            raise SystemExit(f"--reference {args.reference}: no validation/ package there")
        roots["reference"] = args.reference.resolve()
    print(f"bench_first_run: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} (shared machine: CPU time is the steadier "
          "number)")
    results = {name: measure(root, args.runs) for name, root in roots.items()}
    print(f"{'checkout':10s} | {'run':4s} | {'wall s':>7s} | {'CPU s':>6s}")
    for name, res in results.items():
        for kind in ("cold", "warm"):
            print(f"{name:10s} | {kind:4s} | {_median(res[kind], 0):7.2f} | "
                  f"{_median(res[kind], 1):6.2f}")
    if "reference" in results:
        for kind in ("cold", "warm"):
            for i, what in ((0, "wall"), (1, "CPU")):
                ratio = _median(results["reference"][kind], i) / _median(results["this"][kind], i)
                print(f"{kind} {what}: reference / this = {ratio:.2f}x")
    this = results["this"]
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    for kind, goal in (("cold", GOAL_COLD_S), ("warm", GOAL_WARM_S)):
        wall, cpu = _median(this[kind], 0), _median(this[kind], 1)
        verdict = "PASS" if wall < goal else ("PASS (CPU)" if cpu < goal else "FAIL")
        print(f"{verdict:10s} {kind} demo < {goal:g} s (wall {wall:.2f} s, CPU {cpu:.2f} s; "
              "the goal is for a quiet 2-core machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
