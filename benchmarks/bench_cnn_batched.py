"""Throughput of the batched CNN simulator on a 1000-run Kou grid against the single-run loop.

Usage::

    PYTHONPATH=. python benchmarks/bench_cnn_batched.py [--quick] [--repeats R]

Grid: Kou et al.'s setting with their network mapped into our units
(``dynamics.KouSetting.published``: n = 20, m = 10, 100 GD steps, PyTorch init + bias),
10 values of d in [100, 1000] x 10 values of |mu| in [0, 6] x 10 seeds = 1000 runs
(``--quick``: 200 runs).  Both paths draw the same training data and initial filters; one
thread; numba compiled (and cached) before timing.  The paths run ``--repeats`` times,
interleaved (their order rotated every repetition), and the ratio is taken of the median CPU
times (``time.process_time``), which a shared, loaded machine disturbs less than wall time.

* ``batched``: :func:`dynamics.simulate_kou_runs` (data, packing, one compiled loop over all
  runs, test error exact in law from 1000 Gaussian draws per run);
* ``single-run loop``: the pipeline of the existing experiments (``cnn_transfer.run_point``):
  per run :func:`dynamics.simulate_cnn_gd`, the trained filters rebuilt in R^d and the test
  error on an explicit test set of 1000 points;
* ``single-run sim only``: the same loop without the test set (simulator against simulator).

Goal (issue 14, acceptance 1): batched throughput >= 10x the single-run loop.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import dynamics

GOAL = 10.0


def _grid(n_runs_per_axis: int, n_seeds: int):
    sts, seeds = [], []
    for d in np.linspace(100, 1000, n_runs_per_axis).astype(int):
        for mu in np.linspace(0, 6, n_runs_per_axis):
            for s in range(n_seeds):
                sts.append(dynamics.KouSetting.published(int(d), float(mu)))
                seeds.append((0, int(d), int(round(100 * mu)), s))
    return sts, seeds


def _single(st, seed, with_test: bool) -> float:
    rng = np.random.default_rng(np.random.SeedSequence(seed))  # the streams of the batched path
    s = dynamics.sample_kou(st, st.n, rng)
    W0 = dynamics.kou_init(st, rng)
    tr = dynamics.simulate_cnn_gd(s.patches, s.y, W0, st.eta, st.steps, record_every=None)
    if not with_test:
        return float(tr.loss[-1])
    test = dynamics.sample_kou(st, 1000, rng)
    f = dynamics.cnn_output(tr.weights(), test.patches)
    return float(np.mean(np.where(f > 0, 1.0, -1.0) != test.y))


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def _paths(sts, seeds):
    pairs = list(zip(sts, seeds, strict=True))
    return {
        "batched": lambda: dynamics.simulate_kou_runs(sts, seeds),
        "single-run loop": lambda: [_single(st, sd, True) for st, sd in pairs],
        "single-run sim only": lambda: [_single(st, sd, False) for st, sd in pairs],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 runs instead of 1000")
    ap.add_argument("--repeats", type=int, default=3,
                    help="interleaved repetitions of every path (default 3; medians reported)")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        print(f"bench_cnn_batched: --repeats = {args.repeats}: must be >= 1", file=sys.stderr)
        return 2
    sts, seeds = _grid(10, 2 if args.quick else 10)
    print(f"bench_cnn_batched: {len(sts)} Kou runs (n = 20, m = 10, 100 steps, d in "
          f"[100, 1000]), {args.repeats} interleaved repetitions; "
          f"{platform.processor() or platform.machine()}, python {sys.version.split()[0]}; "
          f"load average {_load()}")
    print(f"dynamics imported from {os.path.dirname(dynamics.__file__)} (run with PYTHONPATH=. "
          "from a checkout to measure its code rather than the installed package)")
    paths = _paths(sts, seeds)
    times = {name: [] for name in paths}
    out = {}
    with threadpool_limits(1):
        dynamics.simulate_kou_runs(sts[:2], seeds[:2])  # compile / load the numba cache
        _single(sts[0], seeds[0], True)
        names = list(paths)
        for r in range(args.repeats):  # rotate the order so that no path always runs first
            for name in names[r % 3:] + names[: r % 3]:
                out[name], w, c = _timed(paths[name])
                times[name].append((w, c))
    med = {name: np.median(np.array(t), axis=0) for name, t in times.items()}
    rows, losses = out["batched"], out["single-run sim only"]
    same = max(abs(r["train_loss"] - v) for r, v in zip(rows, losses, strict=True))
    gap = float(np.mean([r["err"] for r in rows]) - np.mean(out["single-run loop"]))
    print(f"{'path':>22} | {'wall s':>7} | {'cpu s':>7} | {'runs/cpu s':>10}  (medians)")
    for name, (w, c) in med.items():
        print(f"{name:>22} | {w:>7.2f} | {c:>7.2f} | {len(sts) / c:>10.1f}")
    per_rep = [s[1] / b[1] for s, b in zip(times["single-run loop"], times["batched"],
                                            strict=True)]
    ratio = med["single-run loop"][1] / med["batched"][1]
    print(f"max |final training loss batched - single-run| = {same:.1e}; mean test error "
          f"batched - explicit test sets = {gap:+.4f}")
    print(f"throughput batched / single-run loop (CPU time, medians): {ratio:.1f}x (per "
          f"repetition {min(per_rep):.1f}x-{max(per_rep):.1f}x; goal >= {GOAL:g}x) -> "
          f"{'met' if ratio >= GOAL else 'NOT met'}; batched / single-run sim only: "
          f"{med['single-run sim only'][1] / med['batched'][1]:.1f}x")
    print(f"load average after: {_load()}")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
