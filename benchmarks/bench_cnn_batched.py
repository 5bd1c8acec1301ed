"""Throughput of the batched CNN simulator on a 1000-run Kou grid against the single-run loop.

Usage::

    python benchmarks/bench_cnn_batched.py [--quick]

Grid: Kou et al.'s setting with their network mapped into our units
(``dynamics.KouSetting.published``: n = 20, m = 10, 100 GD steps, PyTorch init + bias),
10 values of d in [100, 1000] x 10 values of |mu| in [0, 6] x 10 seeds = 1000 runs
(``--quick``: 200 runs).  Both paths draw the same training data and initial filters; one
thread; numba compiled (and cached) before timing.

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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 runs instead of 1000")
    args = ap.parse_args(argv)
    sts, seeds = _grid(10, 2 if args.quick else 10)
    print(f"bench_cnn_batched: {len(sts)} Kou runs (n = 20, m = 10, 100 steps, d in "
          f"[100, 1000]); {platform.processor() or platform.machine()}, python "
          f"{sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f}")
    with threadpool_limits(1):
        dynamics.simulate_kou_runs(sts[:2], seeds[:2])  # compile / load the numba cache
        _single(sts[0], seeds[0], True)
        t0, c0 = time.perf_counter(), time.process_time()
        rows = dynamics.simulate_kou_runs(sts, seeds)
        t_b, c_b = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        errs = [_single(st, sd, True) for st, sd in zip(sts, seeds, strict=True)]
        t_s, c_s = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        losses = [_single(st, sd, False) for st, sd in zip(sts, seeds, strict=True)]
        t_o, c_o = time.perf_counter() - t0, time.process_time() - c0
    same = max(abs(r["train_loss"] - v) for r, v in zip(rows, losses, strict=True))
    gap = float(np.mean([r["err"] for r in rows]) - np.mean(errs))
    print(f"{'path':>22} | {'wall s':>7} | {'cpu s':>7} | {'runs/cpu s':>10}")
    for name, w, c in (("batched", t_b, c_b), ("single-run loop", t_s, c_s),
                       ("single-run sim only", t_o, c_o)):
        print(f"{name:>22} | {w:>7.2f} | {c:>7.2f} | {len(sts) / c:>10.1f}")
    ratio = c_s / c_b
    print(f"max |final training loss batched - single-run| = {same:.1e}; mean test error "
          f"batched - explicit test sets = {gap:+.4f}")
    print(f"throughput batched / single-run loop (CPU time): {ratio:.1f}x (goal >= {GOAL:g}x)"
          f" -> {'met' if ratio >= GOAL else 'NOT met'}; batched / single-run sim only: "
          f"{c_o / c_b:.1f}x")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
