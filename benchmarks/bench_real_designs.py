"""Time the real-design theories against the i.i.d. solver, in one run (issue 13, item 4).

Usage::

    python benchmarks/bench_real_designs.py [--quick] [--rotinv-only]

(the checkout containing this script is put first on ``sys.path``, so its packages are the
ones timed, not an installed copy).

Prints:

1. single-stage Lasso: median CPU time of a cold ``replica.rotinv.solve_rotinv_pretraining``
   solve for three spectra at N = 1000 (geometric, condition 100; power law k^-1; exact
   Marchenko-Pastur) against ``replica.solve_pretraining`` (i.i.d.) on the same scenario,
   both measured in interleaved batches in the same run, and the ratio (goal: <= 5);
2. a two-stage Sigma-theory point (``replica.covariance.solve_covariance``, Trans-Lasso
   hyperparameters, default Monte Carlo: 8 replicates of ceil(8000/N) draws) on the digits
   pixel covariance (N = 61; goal < 30 s on 2 cores) and on an AR(1) covariance of size
   N = 700 (``--quick``: N = 200), with the i.i.d. two-stage solve for reference.

Timings depend on the machine load; the script prints ``os.getloadavg()`` before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_ROTINV_RATIO = 5.0
GOAL_SIGMA_61_S = 30.0


def _interleaved_cpu(fn_a, fn_b, repeat: int, batch: int = 20) -> tuple[float, float]:
    """Median CPU time (``time.process_time``) per call of ``fn_a`` and ``fn_b``, measured in
    alternating batches of ``batch`` calls, so that both sides see the same machine load."""
    fn_a()  # compile / warm caches
    fn_b()
    ta, tb = [], []
    for _ in range(repeat):
        for fn, ts in ((fn_a, ta), (fn_b, tb)):
            t0 = time.process_time()
            for _ in range(batch):
                fn()
            ts.append((time.process_time() - t0) / batch)
    return statistics.median(ta), statistics.median(tb)


def bench_rotinv(repeat: int) -> list[dict]:
    import replica
    from replica.design import Spectrum
    from replica.rotinv import solve_rotinv_pretraining

    sc = replica.TransferScenario((0.6,), (0.1,), replica.support_prior(0.0, [0.15]))
    rows = []
    for sp in (Spectrum.geometric(0.6, 1000, 100.0), Spectrum.power_law(0.6, 1000, 1.0),
               Spectrum.marchenko_pastur(0.6)):
        for lam in (0.1, 0.3, 1.0):
            t_iid, t_rot = _interleaved_cpu(
                lambda lam=lam: replica.solve_pretraining(sc, lam),
                lambda lam=lam, sp=sp: solve_rotinv_pretraining(sc, sp, lam), repeat)
            its = (replica.solve_pretraining(sc, lam).iterations,
                   solve_rotinv_pretraining(sc, sp, lam).iterations)
            rows.append({"spectrum": sp.name, "lam": lam, "iid_us": 1e6 * t_iid,
                         "rotinv_us": 1e6 * t_rot, "ratio": t_rot / t_iid,
                         "iid_iterations": its[0], "rotinv_iterations": its[1]})
    return rows


def bench_sigma(n_large: int) -> list[dict]:
    from sklearn.datasets import load_digits

    import replica
    from replica.covariance import solve_covariance
    from replica.design import CovarianceDesign

    sc = replica.TransferScenario((2.0, 6.0), (0.1, 0.1),
                                  replica.support_prior(0.10, [0.02, 0.02]))
    h = replica.TransLassoHyper(0.39119, 0.174958, 1.0, 0.0)
    X = load_digits().data
    designs = [CovarianceDesign.from_rows(X[:, X.std(0) > 0], name="digits")]
    idx = np.arange(n_large)
    designs.append(CovarianceDesign(0.5 ** np.abs(idx[:, None] - idx[None, :]), name="AR(1) 0.5"))
    t0 = time.perf_counter()
    replica.solve_trans_lasso(sc, h)
    t_iid = time.perf_counter() - t0
    rows = []
    for d in designs:
        solve_covariance(sc, CovarianceDesign(np.eye(8)), h)  # compile
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = solve_covariance(sc, d, h)
        t = time.perf_counter() - t0
        rows.append({"design": d.name, "N": d.n_features, "seconds": t,
                     "iterations": r.iterations, "converged": r.converged,
                     "mse2": r.mse2, "mse2_se": r.mse2_se, "iid_solve_s": t_iid})
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rotinv-only", action="store_true", help="skip the Sigma-theory part")
    args = p.parse_args(argv)
    print(f"load average {os.getloadavg()}, cpus {os.cpu_count()}, python {sys.version.split()[0]}")
    print("\n1. single-stage Lasso, N = 1000: rotationally invariant vs i.i.d. solve")
    rows = bench_rotinv(5 if args.quick else 30)
    for r in rows:
        print(f"  {r['spectrum']:22s} lam={r['lam']:<4} iid {r['iid_us']:8.1f} us "
              f"({r['iid_iterations']:3d} it)  rotinv {r['rotinv_us']:8.1f} us "
              f"({r['rotinv_iterations']:3d} it)  ratio {r['ratio']:5.2f}")
    worst = max(r["ratio"] for r in rows)
    print(f"  worst ratio {worst:.2f} (goal <= {GOAL_ROTINV_RATIO}): "
          f"{'met' if worst <= GOAL_ROTINV_RATIO else 'NOT met'}; load average "
          f"{os.getloadavg()}")
    if args.rotinv_only:
        return 0
    print("\n2. two-stage Sigma theory (Trans-Lasso point, 8 replicates)")
    for r in bench_sigma(200 if args.quick else 700):
        print(f"  {r['design']:12s} N={r['N']:4d}: {r['seconds']:7.1f} s, {r['iterations']} "
              f"iterations, converged {r['converged']}, mse2 {r['mse2']:.5f} +- "
              f"{r['mse2_se']:.5f} (i.i.d. solve {1e3 * r['iid_solve_s']:.1f} ms)")
        if r["N"] == 61:
            ok = r["seconds"] < GOAL_SIGMA_61_S
            print(f"    goal < {GOAL_SIGMA_61_S:.0f} s at N = 61: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
