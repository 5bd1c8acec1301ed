"""Time the coefficient-space CNN simulator against torch full-batch GD, in one run.

Usage::

    python benchmarks/bench_cnn.py [--quick]

For ``d`` in {500, 2000, 8000}, ``m = 40`` filters per class and ``N = 200`` samples (two-task
data, layout A, float64, one thread for both), prints:

* ``sim setup``: the one-off cost of :func:`dynamics.simulate_cnn_gd` (patch deduplication,
  Gram matrix, initial inner products; O(k^2 d));
* ``sim step``: the per-step time of the simulator (O(m k^2), should not depend on ``d``);
* ``torch step``: the per-step time of ``nets.train_gd`` (forward + backward + SGD step);
* ``torch/sim``: their ratio, and the largest relative weight difference of the two after the
  same steps (both are exact GD).

Goals (issue 5, acceptance 3): simulator step time flat in ``d``; at least 5x faster than torch
at ``d = 2000``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import dynamics
import nets

GOAL_RATIO = 5.0
DIMS = (500, 2000, 8000)


def _best(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench(d: int, m: int, n: int, sim_steps: int, torch_steps: int, repeat: int) -> dict:
    st = dynamics.CNNTransferSetting(d=d, m=m, N2=n)
    rng = np.random.default_rng(0)
    s = dynamics.sample_task(st, 2, n, rng)
    W0 = st.sigma_0 * rng.standard_normal((2, m, d))
    eta = st.eta

    sim_repeat = 2 * repeat + 1  # cheap; best-of-many damps the noise of a shared machine
    t_setup = _best(lambda: dynamics.simulate_cnn_gd(s.patches, s.y, W0, eta, 0), sim_repeat)
    t_run = _best(
        lambda: dynamics.simulate_cnn_gd(s.patches, s.y, W0, eta, sim_steps, record_every=None),
        sim_repeat,
    )
    sim_step = max(t_run - t_setup, 0.0) / sim_steps

    x, y = torch.from_numpy(s.patches), torch.from_numpy(s.y)
    nets.train_gd(nets.TwoLayerReLUCNN(d, m, weight=W0), x, y, eta, 2)  # warm-up

    def torch_run():
        model = nets.TwoLayerReLUCNN(d, m, weight=W0)
        return nets.train_gd(model, x, y, eta, torch_steps)

    t0 = time.perf_counter()
    res = torch_run()
    t_torch = time.perf_counter() - t0
    if repeat > 1:
        t_torch = min(t_torch, _best(torch_run, repeat - 1))
    torch_step = t_torch / torch_steps

    tr = dynamics.simulate_cnn_gd(s.patches, s.y, W0, eta, torch_steps, record_every=None)
    dW = tr.weights() - W0
    agree = float(np.linalg.norm(res.weights[-1] - W0 - dW) / np.linalg.norm(dW))
    return {"d": d, "sim_setup_ms": 1e3 * t_setup, "sim_step_ms": 1e3 * sim_step,
            "torch_step_ms": 1e3 * torch_step, "ratio": torch_step / sim_step, "agree": agree}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    ap.add_argument("--m", type=int, default=40)
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args(argv)
    sim_steps, torch_steps, repeat = (100, 5, 1) if args.quick else (400, 20, 3)

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    dynamics.simulate_cnn_gd(np.ones((1, 1, 3)), np.ones(1), np.ones((2, 1, 3)), 0.1, 1)
    first = time.perf_counter() - t0

    print(f"bench_cnn: m = {args.m}, N = {args.n}, layout A, float64, 1 thread; "
          f"{platform.processor() or platform.machine()}, python {sys.version.split()[0]}, "
          f"torch {torch.__version__}")
    print(f"first simulator call in this process (numba cache load or JIT): {first:.2f} s")
    hdr = (f"{'d':>6} | {'sim setup ms':>12} | {'sim step ms':>11} | {'torch step ms':>13} | "
           f"{'torch/sim':>9} | {'rel diff W':>10}")
    print(hdr)
    print("-" * len(hdr))
    rows = []
    with threadpool_limits(1):
        for d in DIMS:
            r = bench(d, args.m, args.n, sim_steps, torch_steps, repeat)
            rows.append(r)
            print(f"{r['d']:>6} | {r['sim_setup_ms']:>12.2f} | {r['sim_step_ms']:>11.3f} | "
                  f"{r['torch_step_ms']:>13.2f} | {r['ratio']:>9.1f} | {r['agree']:>10.1e}")
    steps = [r["sim_step_ms"] for r in rows]
    flat = max(steps) / min(steps)
    r2000 = next(r for r in rows if r["d"] == 2000)
    ok_ratio = r2000["ratio"] >= GOAL_RATIO
    ok_flat = flat < 1.5
    print(f"simulator step time max/min over d: {flat:.2f} (goal: flat, < 1.5) "
          f"-> {'met' if ok_flat else 'NOT met'}")
    print(f"speed-up at d = 2000: {r2000['ratio']:.1f}x (goal >= {GOAL_RATIO:g}x) "
          f"-> {'met' if ok_ratio else 'NOT met'}")
    return 0 if (ok_flat and ok_ratio) else 1


if __name__ == "__main__":
    sys.exit(main())
