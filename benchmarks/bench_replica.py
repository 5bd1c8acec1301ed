"""Time the package's replica solver against the numpy reference, in one run.

Usage::

    python benchmarks/bench_replica.py [--quick]

Prints one table (issue 2, acceptance item 4):

1. median time of a cold full solve (stage 1 + stage 2) of ``replica.solve_trans_lasso`` and
   of ``benchmarks/reference_replica.reference_solve`` (plain numpy/scipy, 60 Gauss-Legendre
   nodes per piece) for three scenarios, the speed ratio, and the relative difference of eps2;
2. time per point of a warm-started 41 x 41 (kappa, dlam) grid with ``replica.sweep``, against
   the reference warm-started along one row of the same grid (extrapolated to the full grid);
3. the first solve in a fresh process (numba cache already populated by a priming run).

Goals: >= 50x faster than the reference, a cold solve in a few (<= 5) ms, first solve in a
fresh process < 5 s, and eps2 agreeing with the reference to 1e-6 relative.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_replica import reference_solve  # noqa: E402

GOAL_RATIO = 50.0
GOAL_COLD_S = 5e-3
GOAL_FRESH_S = 5.0
GOAL_AGREE = 1e-6

_Z2 = np.zeros((2, 2))

# name -> (weights, means, covs, alphas, sigmas, hyper); index 0 is the target
SCENARIOS = {
    "A  K=2 (scenario A)": (
        [0.10, 0.02, 0.02, 0.86],
        np.zeros((4, 2)),
        [[[1.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]], _Z2],
        (0.5, 4.0),
        (0.1, 0.1),
        {"lam1": 0.3, "lam2": 0.1, "kappa": 0.5, "dlam": 0.5},
    ),
    "K=3 (corr 0.8)": (
        [0.10, 0.05, 0.05, 0.05, 0.75],
        np.zeros((5, 3)),
        [
            0.2 * np.eye(3) + 0.8 * np.ones((3, 3)),
            np.diag([1.0, 0.0, 0.0]),
            np.diag([0.0, 1.0, 0.0]),
            np.diag([0.0, 0.0, 1.0]),
            np.zeros((3, 3)),
        ],
        (1.2, 1.0, 2.0),
        (0.3, 0.3, 0.5),
        {"lam1": 0.3, "lam2": 0.2, "kappa": 1.0, "dlam": 1.0},
    ),
    "point masses K=2": (
        [0.06, 0.06, 0.03, 0.03, 0.82],
        [[1.0, 1.0], [-1.0, -1.0], [0.5, 0.0], [-0.5, 0.0], [0.0, 0.0]],
        [_Z2] * 5,
        (0.6, 2.5),
        (0.2, 0.3),
        {"lam1": 0.4, "lam2": 0.15, "kappa": 0.7, "dlam": 0.5},
    ),
}
GRID_SCENARIO = "A  K=2 (scenario A)"
KAPPAS = np.linspace(0.0, 1.5, 41)
DLAMS = np.linspace(0.0, 2.0, 41)
REF_ROW = 20  # the reference runs along dlam at KAPPAS[REF_ROW] = 0.75


def _fmt_t(seconds):
    if seconds is None or not np.isfinite(seconds):
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _median_time(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def _ref_args(name):
    w, mu, cov, alphas, sigmas, hyper = SCENARIOS[name]
    return (w, mu, cov, alphas, sigmas, hyper["lam1"], hyper["lam2"], hyper["kappa"])


def _fast_problem(replica, name, **hyper_override):
    w, mu, cov, alphas, sigmas, hyper = SCENARIOS[name]
    prior = replica.GaussianMixturePrior(
        np.asarray(w, float), np.asarray(mu, float), np.asarray(cov, float)
    )
    sc = replica.TransferScenario(alphas=alphas, sigmas=sigmas, prior=prior)
    hy = replica.TransLassoHyper(**{**hyper, **hyper_override})
    return sc, hy


def _fresh_process_code(name):
    w, mu, cov, alphas, sigmas, hyper = SCENARIOS[name]
    lists = [np.asarray(x, float).tolist() for x in (w, mu, cov)]
    return (
        "import time\n"
        "t0 = time.perf_counter()\n"
        "import numpy as np\n"
        "import replica\n"
        "t1 = time.perf_counter()\n"
        f"prior = replica.GaussianMixturePrior(np.array({lists[0]}), np.array({lists[1]}),"
        f" np.array({lists[2]}))\n"
        f"sc = replica.TransferScenario(alphas={alphas!r}, sigmas={sigmas!r}, prior=prior)\n"
        f"hy = replica.TransLassoHyper(**{hyper!r})\n"
        "res = replica.solve_trans_lasso(sc, hy)\n"
        "t2 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, repr(float(res.eps2)))\n"
    )


def _fresh_process(name, runs, package_root):
    """Priming run (fills the numba cache if needed), then `runs` timed fresh processes.

    The child runs in ``package_root`` so that it imports the same ``replica`` as this process.
    """
    code = _fresh_process_code(name)
    results = []
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=False,
            cwd=package_root,
        )
        wall = time.perf_counter() - t0
        if out.returncode != 0:
            raise RuntimeError(f"fresh-process solve failed:\n{out.stderr}")
        t_import, t_solve, eps2 = out.stdout.split()[-3:]
        results.append((wall, float(t_import), float(t_solve), float(eps2)))
    priming, timed = results[0], results[1:]
    wall = statistics.median(r[0] for r in timed)
    t_import = statistics.median(r[1] for r in timed)
    t_solve = statistics.median(r[2] for r in timed)
    return priming, wall, t_import, t_solve, timed[-1][3]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, shorter reference")
    args = ap.parse_args(argv)
    n_fast = 20 if args.quick else 200
    n_ref = 1 if args.quick else 5
    n_ref_grid = 8 if args.quick else len(DLAMS)
    n_fresh = 1 if args.quick else 3

    import numba

    import replica

    missing = [
        a
        for a in (
            "GaussianMixturePrior",
            "TransferScenario",
            "TransLassoHyper",
            "solve_trans_lasso",
            "sweep",
        )
        if not hasattr(replica, a)
    ]
    if missing:
        print(f"replica does not provide {missing} yet; nothing to compare.", file=sys.stderr)
        return 2

    print(
        f"bench_replica{' --quick' if args.quick else ''}: python {platform.python_version()},"
        f" numpy {np.__version__}, numba {numba.__version__}, {os.cpu_count()} CPUs,"
        f" load {os.getloadavg()[0]:.2f}"
    )
    rows = []  # (item, fast, ref, ratio, agree, note)

    # 1. cold full solves
    for name in SCENARIOS:
        hyper = SCENARIOS[name][5]
        sc, hy = _fast_problem(replica, name)
        replica.solve_trans_lasso(sc, hy)  # JIT warm-up (compilation is item 3)
        t_fast, res = _median_time(lambda sc=sc, hy=hy: replica.solve_trans_lasso(sc, hy), n_fast)
        ref_args = (*_ref_args(name), hyper["dlam"])
        t_ref, ref = _median_time(lambda a=ref_args: reference_solve(*a), n_ref)
        agree = _rel(float(res.eps2), ref["eps2"])
        others = max(
            _rel(float(getattr(res, q)), ref[q])
            for q in ("eps1", "Q1", "chi1", "Q2", "m2", "R", "chi2", "chi12")
            if hasattr(res, q)
        )
        rows.append(
            (
                f"cold solve: {name}",
                t_fast,
                t_ref,
                t_ref / t_fast,
                agree,
                f"median of {n_fast} / {n_ref}; other order params max rel {others:.1e}",
            )
        )

    # 2. warm-started 41 x 41 grid
    sc, hy = _fast_problem(replica, GRID_SCENARIO)
    replica.sweep(sc, hy, vary={"kappa": KAPPAS[:2], "dlam": DLAMS[:2]}, progress=False)
    t0 = time.perf_counter()
    df = replica.sweep(sc, hy, vary={"kappa": KAPPAS, "dlam": DLAMS}, progress=False)
    t_grid = time.perf_counter() - t0
    n_points = len(KAPPAS) * len(DLAMS)
    fast_pp = t_grid / n_points

    base = _ref_args(GRID_SCENARIO)[:-1]  # without kappa
    kappa = KAPPAS[REF_ROW]
    prev, t_first, t_warm, agree_grid, matched = None, None, [], 0.0, 0
    for j, dlam in enumerate(DLAMS[:n_ref_grid]):
        t0 = time.perf_counter()
        prev = reference_solve(*base, kappa, dlam, init=prev)
        dt = time.perf_counter() - t0
        if j == 0:
            t_first = dt
        else:
            t_warm.append(dt)
        hit = df[np.isclose(df["kappa"], kappa) & np.isclose(df["dlam"], dlam)]
        if len(hit) == 1:
            matched += 1
            agree_grid = max(agree_grid, _rel(float(hit["eps2"].iloc[0]), prev["eps2"]))
    if matched < n_ref_grid:
        agree_grid = float("nan")  # a reference point is missing from the sweep's table
    ref_pp = (t_first + (n_points - 1) * float(np.mean(t_warm))) / n_points
    if "status" in df:
        n_unconv = int((df["status"] != "ok").sum())
    else:
        n_unconv = int((~df["converged"].astype(bool)).sum())
    rows.append(
        (
            "41x41 (kappa, dlam) grid, per point",
            fast_pp,
            ref_pp,
            ref_pp / fast_pp,
            agree_grid,
            f"fast: replica.sweep, total {_fmt_t(t_grid)}, {n_unconv} unconverged;"
            f" ref: warm-started along dlam at kappa={kappa:.2f}, {n_ref_grid} points"
            f" ({matched} found in the sweep table),"
            " extrapolated to the grid as (cold + 1680 warm)/1681",
        )
    )

    # 3. first solve in a fresh process
    priming, wall, t_import, t_solve, eps2_fresh = _fresh_process(
        GRID_SCENARIO, n_fresh, Path(replica.__file__).resolve().parents[1]
    )
    ref_a = reference_solve(*_ref_args(GRID_SCENARIO), SCENARIOS[GRID_SCENARIO][5]["dlam"])
    rows.append(
        (
            "fresh process: import + first solve",
            wall,
            None,
            None,
            _rel(eps2_fresh, ref_a["eps2"]),
            f"scenario A; wall incl. interpreter start, median of {n_fresh};"
            f" import {_fmt_t(t_import)}, first solve {_fmt_t(t_solve)};"
            f" priming run {_fmt_t(priming[0])}",
        )
    )

    # the table
    head = ("measurement", "fast", "reference", "ref/fast", "eps2 rel diff", "notes")
    body = [
        (
            item,
            _fmt_t(tf),
            _fmt_t(tr),
            "-" if ratio is None else f"{ratio:.0f}x",
            f"{ag:.1e}",
            note,
        )
        for item, tf, tr, ratio, ag, note in rows
    ]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(5)]

    def line(r):
        return " | ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + " | " + r[5]

    print(line(head))
    print("-+-".join("-" * w for w in widths) + "-+-" + "-" * 20)
    for r in body:
        print(line(r))

    ratios = [r[3] for r in rows if r[3] is not None]
    colds = [r[1] for r in rows if r[0].startswith("cold")]
    agrees = [r[4] for r in rows]
    goals = [
        (f">= {GOAL_RATIO:.0f}x faster than the reference", min(ratios) >= GOAL_RATIO,
         f"min ratio {min(ratios):.0f}x"),
        (f"cold solve <= {_fmt_t(GOAL_COLD_S)}", max(colds) <= GOAL_COLD_S,
         f"slowest {_fmt_t(max(colds))}"),
        (f"fresh-process first solve < {GOAL_FRESH_S:.0f} s", wall < GOAL_FRESH_S,
         f"{_fmt_t(wall)} wall"),
        (f"eps2 agrees with the reference to {GOAL_AGREE:.0e}",
         all(a <= GOAL_AGREE for a in agrees), f"max rel diff {np.max(agrees):.1e}"),
    ]  # fmt: skip
    print()
    for text, ok, detail in goals:
        print(f"{'PASS' if ok else 'MISS'}  {text}  ({detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
