"""Time the two-stage generalized Trans-Lasso fast path against scikit-learn and cvxpy.

One table: for N in (500, 2000, 5000) features and sample ratios alphas = (0.5, 4) (target
M_0 = 0.5 N rows, one source with M_1 = 4 N rows), entries of A ~ N(0, 1/N), Bernoulli-Gaussian
truths (common support 0.1 with identical values, unique support 0.02 each: scenario A of
docs/lasso.md), noise sigma = 0.1. Columns:

- ``fast 2-stage``   the whole ``GeneralizedTransLasso(solver="fast").fit`` (validation,
                     stacking, both stages);
- ``sklearn pooled`` one ``sklearn.linear_model.Lasso`` fit of the stage-1 pooled problem
                     (alpha = lam1 / M_pooled, no intercept, pre-stacked Fortran array);
- ``sk 2-stage``     candidate: both stages with scikit-learn, per-feature weights of stage 2
                     by column rescaling;
- ``skglm 2-stage``  candidate: both stages with skglm ``WeightedLasso`` (if installed;
                     JIT warm-up excluded);
- ``cvxpy 2-stage``  both stages through cvxpy/CLARABEL, only for N <= --cvxpy-max-n
                     (default 500: at N = 2000 a single cvxpy solve takes minutes);

and the ratios fast / sklearn pooled (goal <= 2) and cvxpy / fast (goal >= 100). All solvers
use the same stopping rule where they share it: duality gap <= tol * ||b||^2 (sklearn's rule).
Times are the minimum over --repeats runs (the machine is shared). The achieved relative
duality gaps of every stage are printed below the table.

Run: ``python benchmarks/bench_lasso.py [--sizes 500 2000 5000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.linear_model import Lasso
from threadpoolctl import threadpool_limits

from lasso import GeneralizedTransLasso, duality_gap
from lasso.estimators import stage2_weights

LAM1, LAM2, KAPPA, DLAM = 0.3, 0.1, 1.0, 0.05


def make_problem(N, alphas=(0.5, 4.0), sigma=0.1, seed=0):
    """Target + one source, A ~ N(0, 1/N) (Fortran-ordered), scenario-A-like truths."""
    rng = np.random.default_rng(seed)
    u = rng.random(N)
    common = u < 0.10
    uniq0 = (u >= 0.10) & (u < 0.12)
    uniq1 = (u >= 0.12) & (u < 0.14)
    v = rng.standard_normal(N)
    r0 = np.where(common | uniq0, v, 0.0)
    r1 = np.where(common, v, 0.0) + np.where(uniq1, rng.standard_normal(N), 0.0)
    data = []
    for a, r in zip(alphas, (r0, r1), strict=True):
        M = int(round(a * N))
        X = rng.standard_normal((N, M)).T / np.sqrt(N)  # Fortran order
        data.append((X, X @ r + sigma * rng.standard_normal(M)))
    return data[0], data[1:]


def best_time(fn, repeats, clock=time.perf_counter):
    """``(min over repeats of the time of fn(), last result)``, timed by ``clock``."""
    ts, out = [], None
    for _ in range(repeats):
        t = clock()
        out = fn()
        ts.append(clock() - t)
    return min(ts), out


def sklearn_weighted(A, b, w, tol):
    """sklearn Lasso with per-feature weights w > 0 by column rescaling (w_j |x_j| = |w_j x_j|)."""
    m = Lasso(alpha=1.0 / A.shape[0], fit_intercept=False, tol=tol, max_iter=100_000)
    m.fit(np.asfortranarray(A / w), b)
    return m.coef_ / w


def two_stage_with(solve, target, sources):
    (X0, y0), (X1, y1) = target, sources[0]
    A = np.asfortranarray(np.vstack([X0, X1]))
    b = np.concatenate([y0, y1])
    x1 = solve(A, b, np.full(A.shape[1], LAM1))
    w2 = stage2_weights(x1 != 0, LAM2, DLAM)
    x2 = solve(np.asfortranarray(X0), y0 - KAPPA * (X0 @ x1), w2)
    return x1, x2


def skglm_solver(tol):
    from skglm import WeightedLasso

    def solve(A, b, w):
        m = WeightedLasso(alpha=1.0 / A.shape[0], weights=w, fit_intercept=False, tol=tol)
        return m.fit(A, b).coef_

    return solve


def bench_one(N, args, use_skglm):
    """Times (fast, sklearn pooled, sklearn 2-stage, skglm 2-stage, cvxpy 2-stage) and checks."""
    tol = args.tol
    target, sources = make_problem(N)
    (X0, y0), (X1, y1) = target, sources[0]
    reps = args.repeats if N <= 2000 else max(1, args.repeats - 1)
    checks = []

    def fast():
        return GeneralizedTransLasso(LAM1, LAM2, KAPPA, DLAM, tol=tol).fit(target, sources)

    t_fast, est = best_time(fast, reps)
    A = np.asfortranarray(np.vstack([X0, X1]))
    b = np.concatenate([y0, y1])
    sk = Lasso(alpha=LAM1 / A.shape[0], fit_intercept=False, tol=tol, max_iter=100_000)
    t_sk, _ = best_time(lambda: sk.fit(A, b), reps)
    checks.append((N, "sklearn pooled", duality_gap(A, b, sk.coef_, LAM1) / (b @ b)))
    checks.append((N, "fast stage 1", est.fit_.stage1.relative_gap))
    checks.append((N, "fast stage 2", est.fit_.stage2.relative_gap))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_sk2, _ = best_time(lambda: two_stage_with(
            lambda A_, b_, w_: sklearn_weighted(A_, b_, w_, tol), target, sources), reps)
        t_skglm = np.nan
        if use_skglm:
            t_skglm, (x1g, _) = best_time(
                lambda: two_stage_with(skglm_solver(tol), target, sources), reps)
            checks.append((N, "skglm stage 1", duality_gap(A, b, x1g, LAM1) / (b @ b)))
    A = None  # free memory before cvxpy
    t_cvx = np.nan
    if N <= args.cvxpy_max_n:
        t_cvx, cv = best_time(lambda: GeneralizedTransLasso(
            LAM1, LAM2, KAPPA, DLAM, solver="cvxpy", tol=1e-6).fit(target, sources), 1)
        checks.append((N, "max |coef cvxpy - fast|", np.max(np.abs(cv.coef_ - est.coef_))))
    return (N, t_fast, t_sk, t_sk2, t_skglm, t_cvx), checks


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 5000])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--tol", type=float, default=1e-8)
    p.add_argument("--cvxpy-max-n", type=int, default=500)
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads for every method (0: library default)")
    p.add_argument("--no-skglm", action="store_true")
    args = p.parse_args(argv)
    with threadpool_limits(args.blas_threads or None):
        run(args)


def run(args):
    tol = args.tol
    # warm-up: numba cache load / compilation, skglm JIT (excluded from the timings)
    t0 = time.perf_counter()
    tgt, src = make_problem(50, seed=1)
    GeneralizedTransLasso(LAM1, LAM2, KAPPA, DLAM, tol=tol).fit(tgt, src)
    print(f"fast path first call (numba cache load or compile): {time.perf_counter() - t0:.2f} s")
    use_skglm = not args.no_skglm
    if use_skglm:
        try:
            t0 = time.perf_counter()
            two_stage_with(skglm_solver(tol), tgt, src)
            print(f"skglm first call (JIT): {time.perf_counter() - t0:.2f} s")
        except ImportError:
            use_skglm = False

    rows, checks = [], []
    for N in args.sizes:
        row, ch = bench_one(N, args, use_skglm)
        rows.append(row)
        checks += ch

    head = (f"{'N':>6} {'fast 2-stage':>13} {'sklearn pooled':>15} {'sk 2-stage':>11} "
            f"{'skglm 2-stage':>14} {'cvxpy 2-stage':>14} {'fast/skl':>9} {'cvxpy/fast':>11}")
    print("\nfit times in seconds (min over repeats); alphas = (0.5, 4); "
          f"lam1={LAM1}, lam2={LAM2}, kappa={KAPPA}, dlam={DLAM}, tol={tol:g}, "
          f"BLAS threads={args.blas_threads or 'default'}")
    print(head)
    print("-" * len(head))

    def f(t):
        return "n/a" if np.isnan(t) else f"{t:.3f}"

    for N, tf, ts, ts2, tg, tc in rows:
        rc = "n/a" if np.isnan(tc) else f"{tc / tf:.0f}x"
        print(f"{N:>6} {tf:13.3f} {ts:15.3f} {ts2:11.3f} {f(tg):>14} {f(tc):>14} "
              f"{tf / ts:9.2f} {rc:>11}")
    print(f"\ncvxpy run only for N <= {args.cvxpy_max_n} (--cvxpy-max-n).")
    print("achieved relative duality gaps / checks:")
    for N, name, g in checks:
        print(f"  N={N:<5} {name:<28} {g:.2e}")


if __name__ == "__main__":
    main()
