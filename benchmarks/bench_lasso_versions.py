"""A/B timing of two versions of :mod:`lasso` in one process, interleaved (robust on a busy
machine): the installed/working-tree ``lasso`` against an older copy imported under another
package name.

Prepare the older copy (its relative imports make it importable under any name)::

    git archive <rev> lasso | tar -x -C /tmp/old && mv /tmp/old/lasso /tmp/old/lasso_old

Run::

    OMP_NUM_THREADS=1 python benchmarks/bench_lasso_versions.py --old /tmp/old [--sizes 500 2000]

Prints CPU seconds (``time.process_time``, minimum over repeats) of
``GeneralizedTransLasso.fit`` on the problems of ``bench_lasso.py`` and of
``GeneralizedTransLassoCV.fit`` (default grids; the new version also with
``pt_alpha_grid=[]``, the old product grid alone), the ratio new / old, and the
coordinate-descent epochs of both (equal epochs: the same algorithm).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lasso import DLAM, KAPPA, LAM1, LAM2, best_time, make_problem  # noqa: E402


def cpu_min(fn, repeats):
    return best_time(fn, repeats, clock=time.process_time)


def bench_fit(mods, N, repeats):
    target, sources = make_problem(N)
    best = {name: np.inf for name in mods}
    epochs = {}
    for _ in range(repeats):  # interleaved: both versions see the same load
        for name, mod in mods.items():
            t, est = cpu_min(lambda m=mod: m.GeneralizedTransLasso(
                LAM1, LAM2, KAPPA, DLAM, tol=1e-8).fit(target, sources), 1)
            best[name] = min(best[name], t)
            epochs[name] = (est.fit_.stage1.epochs, est.fit_.stage2.epochs)
    o, n = best["old"], best["new"]
    print(f"GeneralizedTransLasso N={N:<5} old {o:8.4f} s  new {n:8.4f} s  new/old {n / o:.3f}"
          f"  epochs old {epochs['old']} new {epochs['new']}", flush=True)


def bench_cv(mods, N, repeats):
    target, sources = make_problem(N)
    kw = dict(random_state=0, progress=False)
    runs = {"old": lambda: mods["old"].GeneralizedTransLassoCV(**kw),
            "new (same grid)": lambda: mods["new"].GeneralizedTransLassoCV(**kw,
                                                                          pt_alpha_grid=[]),
            "new (default grid)": lambda: mods["new"].GeneralizedTransLassoCV(**kw)}
    best = {name: np.inf for name in runs}
    for _ in range(repeats):
        for name, make in runs.items():
            best[name] = min(best[name], cpu_min(lambda m=make: m().fit(target, sources), 1)[0])
    o = best["old"]
    print(f"GeneralizedTransLassoCV N={N:<4} " + ", ".join(
        f"{k} {v:.3f} s ({v / o:.3f}x)" for k, v in best.items()), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--old", required=True, help="folder holding the package lasso_old")
    p.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 5000])
    p.add_argument("--cv-sizes", type=int, nargs="*", default=[200, 400])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    sys.path.insert(0, args.old)
    mods = {"old": importlib.import_module("lasso_old"), "new": importlib.import_module("lasso")}
    warnings.simplefilter("ignore")
    with threadpool_limits(1):
        warm = make_problem(50, seed=1)
        for mod in mods.values():  # numba compilation / cache load, excluded
            mod.GeneralizedTransLasso(LAM1, LAM2, KAPPA, DLAM).fit(*warm)
        for N in args.sizes:
            bench_fit(mods, N, args.repeats if N <= 2000 else max(1, args.repeats - 2))
        for N in args.cv_sizes:
            bench_cv(mods, N, max(1, args.repeats - 2))


if __name__ == "__main__":
    main()
