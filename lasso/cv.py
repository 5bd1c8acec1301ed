r"""Cross-validated generalized Trans-Lasso: the empirical counterpart of ``replica.recommend``.

Hyperparameters (Okajima & Obuchi 2024, arXiv:2409.17704; spec sections 2 and 6.2):
:math:`\lambda_1` is chosen first (K-fold CV of the stage-1 Lasso, on the pooled rows by
default), then :math:`(\lambda_2,\kappa,\Delta\lambda)` by K-fold CV on the target rows, over
the full grid or one restricted strategy:

========== =============================================== ==============================
strategy   searched                                        meaning
========== =============================================== ==============================
"full"     :math:`\lambda_2\times\kappa\times\Delta\lambda` LO tuning (spec 6.2)
"dlam0"    :math:`\lambda_2\times\kappa`, :math:`\Delta\lambda=0` vector transfer only
"kappa0"   :math:`\lambda_2\times\Delta\lambda`, :math:`\kappa=0` support transfer only
"trans"    :math:`\lambda_2`, :math:`\kappa=1,\Delta\lambda=0`  Trans-Lasso (Li, Cai & Li)
"target"   :math:`\lambda_2`, :math:`\kappa=\Delta\lambda=0`    target-only Lasso
========== =============================================== ==============================

Penalties are given for the full data. A fold that fits on a fraction :math:`f` of the rows
uses :math:`f\lambda` (the same :math:`1/(2M)`-normalised penalty, as glmnet's CV does), so
that the CV-optimal values apply to the final fit on all rows.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from ._validation import check_datasets, check_identifiable, check_penalty
from .errors import ConvergenceWarning
from .estimators import (
    GeneralizedTransLasso,
    _check_solver,
    _Prepared,
    _stage1,
    _TransferBase,
    stage2_weights,
)
from .solver import (
    lambda_max,
    lasso_path,
    solve_weighted_lasso,
    solve_weighted_lasso_gram,
)

STRATEGIES = ("full", "dlam0", "kappa0", "trans", "target")


@dataclass(frozen=True)
class StrategyChoice:
    """Best cross-validated point of one strategy."""

    strategy: str
    cv_mse: float
    cv_mse_se: float
    lam1: float
    lam2: float
    kappa: float
    dlam: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _strategy_mask(df: pd.DataFrame, strategy: str) -> np.ndarray:
    if strategy == "full":
        return np.ones(len(df), dtype=bool)
    if strategy == "dlam0":
        return (df["dlam"] == 0).to_numpy()
    if strategy == "kappa0":
        return (df["kappa"] == 0).to_numpy()
    if strategy == "trans":
        return ((df["kappa"] == 1) & (df["dlam"] == 0)).to_numpy()
    if strategy == "target":
        return ((df["kappa"] == 0) & (df["dlam"] == 0)).to_numpy()
    raise ValueError(f"strategy = {strategy!r}: must be one of {STRATEGIES}")


def _grids_for(strategy, kappa_grid, dlam_grid):
    if strategy == "full":
        return kappa_grid, dlam_grid
    if strategy == "dlam0":
        return kappa_grid, np.array([0.0])
    if strategy == "kappa0":
        return np.array([0.0]), dlam_grid
    if strategy == "trans":
        return np.array([1.0]), np.array([0.0])
    if strategy == "target":
        return np.array([0.0]), np.array([0.0])
    raise ValueError(f"strategy = {strategy!r}: must be one of {STRATEGIES}")


def _run_tasks(fn, tasks, n_jobs, desc, progress):
    """Run ``fn(*task)`` for every task with a tqdm progress bar; results in task order.

    Tasks run in joblib threads: the numba kernels release the GIL, so threads share the
    data without copies or worker start-up. BLAS is pinned to one thread meanwhile
    (threadpoolctl), so that ``n_jobs`` threads do not oversubscribe the cores.
    """
    from tqdm.auto import tqdm

    def call(i, task):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return i, fn(*task)

    out = [None] * len(tasks)
    if isinstance(progress, bool):
        show, delay = progress, 1.0
    else:
        show, delay = True, float(progress)
    bar = tqdm(total=len(tasks), desc=desc, disable=not show, delay=delay, leave=False)
    with threadpool_limits(1):
        if n_jobs in (None, 1) or len(tasks) == 1:
            gen = (call(i, t) for i, t in enumerate(tasks))
        else:
            gen = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator_unordered")(
                delayed(call)(i, t) for i, t in enumerate(tasks)
            )
        for i, res in gen:
            out[i] = res
            bar.update(1)
    bar.close()
    return out


def _lam1_fold(A_tr, b_tr, A_te, b_te, lams, solver, tol, max_iter):
    path = lasso_path(A_tr, b_tr, lams, solver=solver, tol=tol, max_iter=max_iter)
    mse = np.array([np.mean((b_te - A_te @ r.coef) ** 2) for r in path])
    return mse, np.array([not r.converged for r in path], dtype=int)


def _lam1_target_fold(target, sources, train, test, lams, fit_intercept, solver, tol, max_iter):
    X0, y0 = target
    prep = _Prepared((X0[train], y0[train]), sources, fit_intercept)
    path = lasso_path(prep.A, prep.b, lams, solver=solver, tol=tol, max_iter=max_iter,
                      col_sq_norms=prep.L)
    mse = np.array([
        np.mean((y0[test] - X0[test] @ r.coef - prep.intercept(r.coef)) ** 2) for r in path
    ])
    return mse, np.array([not r.converged for r in path], dtype=int)


def _stage1_fold(target, sources, train, lam1, fit_intercept, solver, tol, max_iter):
    X0, y0 = target
    prep = _Prepared((X0[train], y0[train]), sources, fit_intercept)
    return _stage1(prep, lam1, solver, tol, max_iter, False)


def _fold_gram(X0, y0, train, fit_intercept):
    """Centred training design of one target fold and its Gram quantities."""
    prep = _Prepared((X0[train], y0[train]), [], fit_intercept, pooled=False)
    G = prep.A0.T @ prep.A0
    return prep, np.ascontiguousarray(G), prep.A0.T @ prep.y0


def _stage2_task(X0, y0, train, test, x1, kappa, dlam_grid, lam2_grid, fit_intercept, solver,
                 tol, max_iter, gram=None):
    """CV errors on the held-out target rows for one fold and one kappa, every dlam and lam2.

    With ``gram = (prep, G, c0)`` the fits use the Gram form (one Gram matrix per fold, shared
    by every kappa, dlam and lam2 of that fold)."""
    if gram is None:
        prep = _Prepared((X0[train], y0[train]), [], fit_intercept, pooled=False)
    else:
        prep, G, c0 = gram
    support = x1 != 0
    b = prep.y0 - kappa * (prep.A0 @ x1)
    if gram is not None:
        c = c0 - kappa * (G @ x1) if kappa != 0 else c0
        b2 = float(b @ b)
    mse = np.empty((dlam_grid.size, lam2_grid.size))
    unconv = np.zeros_like(mse, dtype=int)
    X_te, y_te = X0[test], y0[test]
    prev = None  # solutions of the previous dlam: warm starts at the same lam2 (measured:
    # about 30 % fewer epochs than continuing along the lam2 path)
    for d, dlam in enumerate(dlam_grid):
        cur = []
        x = None
        for i, lam2 in enumerate(lam2_grid):
            w = stage2_weights(support, lam2, dlam)
            init = x if prev is None else prev[i]
            if gram is None:
                r = solve_weighted_lasso(prep.A0, b, w, solver=solver, tol=tol,
                                         max_iter=max_iter, init=init, col_sq_norms=prep.L0)
            else:
                r = solve_weighted_lasso_gram(G, c, b2, w, tol=tol, max_iter=max_iter,
                                              init=init)
            x = r.coef
            cur.append(x)
            coef = kappa * x1 + x
            pred = X_te @ coef + prep.intercept(coef)
            mse[d, i] = np.mean((y_te - pred) ** 2)
            unconv[d, i] = not r.converged
        prev = cur
    return mse, unconv


class GeneralizedTransLassoCV(_TransferBase):
    r"""Generalized Trans-Lasso with hyperparameters chosen by K-fold cross-validation.

    Model and objectives as :class:`~lasso.GeneralizedTransLasso` (Okajima & Obuchi 2024,
    arXiv:2409.17704):

    .. math::

        \hat x^{(1st)} = \arg\min_x \tfrac12\sum_k\|y^{(k)} - A^{(k)}x\|^2 + \lambda_1\|x\|_1,
        \quad
        \hat x^{(2nd)} = \arg\min_x \tfrac12\|y^{(0)} - \kappa A^{(0)}\hat x^{(1st)}
        - A^{(0)}x\|^2 + \sum_i(\lambda_2 + \Delta\lambda\,\mathbb 1[i\notin S])|x_i| .

    :math:`\lambda_1` is chosen first (``lam1_cv="pooled"``: K-fold CV of the stage-1 Lasso
    on all pooled rows; ``"target"``: CV error of the stage-1 Lasso on held-out target rows;
    or fixed by ``lam1``). Then the target rows are split into ``cv`` folds; for every fold
    stage 1 is refitted without the held-out target rows and stage 2 is fitted for every grid
    point (warm-started along decreasing :math:`\lambda_2`); the score is the mean squared
    prediction error on the held-out target rows. The final model is refitted on all data.

    Parameters
    ----------
    strategy : {"full", "dlam0", "kappa0", "trans", "target"}
        Which part of the :math:`(\kappa, \Delta\lambda)` plane to search (module docstring).
    cv : int
        Number of folds (target rows; also pooled rows for ``lam1_cv="pooled"``).
    lam1 : float or None
        Fixed stage-1 penalty; ``None`` chooses it by CV over ``lam1_grid``.
    lam1_grid : array or None
        Default: ``n_lam1`` values from :math:`\lambda_{1,\max}` down to
        ``lam1_eps`` :math:`\lambda_{1,\max}`, geometric.
    lam1_cv : {"pooled", "target"}
    lam2_grid : array or None
        Default: ``n_lam2`` values from :math:`\lambda_{0,\max}=\max_j|A^{(0)\top}_j y^{(0)}|`
        down to ``lam2_eps`` :math:`\lambda_{0,\max}`, geometric.
    kappa_grid : array or None
        Default ``0, 0.25, ..., 1.5``.
    dlam_grid : array or None
        Default :math:`\lambda_{0,\max}\times(0, 0.01, 0.03, 0.1, 0.3, 1)` and ``inf``.
    n_lam1, n_lam2 : int
    lam1_eps, lam2_eps : float
        Ratio of the smallest to the largest penalty of the default grids.
    n_jobs : int or None
        Number of joblib threads (the numba kernels release the GIL; BLAS is pinned to one
        thread while they run). ``-1``: all cores.
    random_state : int or None
        Seed of the fold splits.
    solver : {"fast", "cvxpy"}
    tol : float
        Relative duality-gap tolerance of the CV fits and of the refit.
    max_iter : int
    fit_intercept : bool
    progress : bool or float
        Show tqdm progress bars (``True``: once a phase has run for 1 s; a number: after that
        many seconds; ``False``: never).
    gram : {"auto", True, False}
        Stage-2 CV fits on the Gram matrix of each target fold (shared by the whole grid of
        that fold; :math:`N^2` floats per fold). Pays off for tall targets: ``"auto"`` uses it
        when the training rows of a fold are at least 2 N and N <= 4000 (measured: for
        N = 2000 and 1600 rows the residual form is about twice as fast).

    Attributes
    ----------
    best_params_ : dict
        ``lam1, lam2, kappa, dlam`` at the smallest mean CV error.
    best_score_ : float
        That smallest mean CV **mean squared error** (lower is better).
    cv_results_ : pandas.DataFrame
        One row per grid point: ``lam1, lam2, kappa, dlam, mean_test_mse, std_test_mse,
        sem_test_mse, split<k>_test_mse, n_unconverged, rank_test_mse``.
    lam1_cv_results_ : pandas.DataFrame or None
        ``lam1, mean_test_mse, std_test_mse`` of the stage-1 CV.
    best_estimator_ : GeneralizedTransLasso
        Refitted on all data; ``coef_`` etc. are copied from it.
    timings_ : dict
        Wall-clock seconds of the phases (``lam1_cv``, ``stage1_folds``, ``stage2_grid``,
        ``refit``, ``total``).
    """

    def __init__(
        self, strategy="full", cv=5, *, lam1=None, lam1_grid=None, lam1_cv="pooled",
        lam2_grid=None, kappa_grid=None, dlam_grid=None, n_lam1=15, n_lam2=12, lam1_eps=1e-2,
        lam2_eps=1e-2,
        n_jobs=None, random_state=None, solver="fast", tol=1e-6, max_iter=10_000,
        fit_intercept=False, progress=True, gram="auto",
    ):
        self.strategy = strategy
        self.cv = cv
        self.lam1 = lam1
        self.lam1_grid = lam1_grid
        self.lam1_cv = lam1_cv
        self.lam2_grid = lam2_grid
        self.kappa_grid = kappa_grid
        self.dlam_grid = dlam_grid
        self.n_lam1 = n_lam1
        self.n_lam2 = n_lam2
        self.lam1_eps = lam1_eps
        self.lam2_eps = lam2_eps
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.progress = progress
        self.gram = gram

    # ------------------------------------------------------------------ grids
    def _grid(self, values, name, allow_inf=False):
        arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D sequence")
        for i, v in enumerate(arr):
            check_penalty(v, f"{name}[{i}]", allow_inf=allow_inf)
        return arr

    def _resolve_grids(self, target, prep):
        X0, y0 = target
        lmax0 = lambda_max(prep.A0, prep.y0) or 1.0
        if self.lam2_grid is None:
            lam2 = lmax0 * np.geomspace(1.0, self.lam2_eps, self.n_lam2)
        else:
            lam2 = np.sort(self._grid(self.lam2_grid, "lam2_grid"))[::-1]
        if self.kappa_grid is None:
            kappa = np.linspace(0.0, 1.5, 7)
        else:
            kappa = np.atleast_1d(np.asarray(self.kappa_grid, dtype=np.float64))
            if kappa.size == 0 or not np.all(np.isfinite(kappa)):
                raise ValueError("kappa_grid must be a non-empty sequence of finite numbers")
        if self.dlam_grid is None:
            dlam = np.append(lmax0 * np.array([0.0, 0.01, 0.03, 0.1, 0.3, 1.0]), np.inf)
        else:
            dlam = np.sort(self._grid(self.dlam_grid, "dlam_grid", allow_inf=True))
        return lam2, kappa, dlam

    # -------------------------------------------------------------------- fit
    def fit(self, target, sources):
        """Cross-validate on ``target = (X0, y0)`` and ``sources = [(X1, y1), ...]``, then
        refit on all data with the best hyperparameters."""
        _check_solver(self.solver)
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy = {self.strategy!r}: must be one of {STRATEGIES}")
        if self.lam1_cv not in ("pooled", "target"):
            raise ValueError(f"lam1_cv = {self.lam1_cv!r}: must be 'pooled' or 'target'")
        target, sources = check_datasets(target, sources, require_sources=True)
        X0, y0 = target
        n0 = X0.shape[0]
        if not (isinstance(self.cv, (int, np.integer)) and 2 <= self.cv <= n0):
            raise ValueError(f"cv = {self.cv}: must be an integer in [2, n_target_rows={n0}]")
        n_pool = n0 + sum(X.shape[0] for X, _ in sources)
        prep = _Prepared(target, sources, self.fit_intercept)
        lam2_grid, kappa_grid, dlam_grid = self._resolve_grids(target, prep)
        kappa_grid, dlam_grid = _grids_for(self.strategy, kappa_grid, dlam_grid)
        kw = dict(solver=self.solver, tol=self.tol, max_iter=self.max_iter)
        n_jobs = self.n_jobs

        t_start = time.perf_counter()
        timings = {}
        # ---- lam1
        self.lam1_cv_results_ = None
        if self.lam1 is not None:
            lam1 = check_penalty(self.lam1, "lam1")
        else:
            lam1 = self._cv_lam1(target, sources, prep, n_pool, n_jobs, kw)
        check_identifiable(lam1, n_pool, X0.shape[1], "lam1")
        timings["lam1_cv"] = time.perf_counter() - t_start

        # ---- stage 1 on each target fold
        folds = list(KFold(self.cv, shuffle=True, random_state=self.random_state).split(X0))
        s1 = _run_tasks(
            _stage1_fold,
            [(target, sources, tr, lam1 * (n_pool - te.size) / n_pool, self.fit_intercept,
              self.solver, self.tol, self.max_iter) for tr, te in folds],
            n_jobs, "stage 1 per fold", self.progress,
        )
        timings["stage1_folds"] = time.perf_counter() - t_start - sum(timings.values())
        # ---- stage 2 grid
        n_feat = X0.shape[1]
        tall = n0 * (self.cv - 1) / self.cv >= 2 * n_feat and n_feat <= 4000
        use_gram = self.solver == "fast" and (
            self.gram is True or (self.gram == "auto" and tall)
        )
        tasks, keys = [], []
        for f, (tr, te) in enumerate(folds):
            scale = tr.size / n0
            gram = _fold_gram(X0, y0, tr, self.fit_intercept) if use_gram else None
            for k, kappa in enumerate(kappa_grid):
                tasks.append((X0, y0, tr, te, s1[f].coef, kappa, dlam_grid * scale,
                              lam2_grid * scale, self.fit_intercept, self.solver, self.tol,
                              self.max_iter, gram))
                keys.append((f, k))
        res = _run_tasks(_stage2_task, tasks, n_jobs, f"stage 2 grid ({self.strategy})",
                         self.progress)
        timings["stage2_grid"] = time.perf_counter() - t_start - sum(timings.values())
        K = len(folds)
        mse = np.empty((K, kappa_grid.size, dlam_grid.size, lam2_grid.size))
        unconv = np.zeros(mse.shape[1:], dtype=int)
        for (f, k), (m, u) in zip(keys, res, strict=True):
            mse[f, k] = m
            unconv[k] += u
        unconv_s1 = sum(not r.converged for r in s1)

        # ---- tidy table
        kk, dd, ll = np.meshgrid(kappa_grid, dlam_grid, lam2_grid, indexing="ij")
        flat = mse.reshape(K, -1)
        table = {
            "lam1": np.full(flat.shape[1], lam1),
            "lam2": ll.ravel(), "kappa": kk.ravel(), "dlam": dd.ravel(),
            "mean_test_mse": flat.mean(axis=0),
            "std_test_mse": flat.std(axis=0),
            "sem_test_mse": flat.std(axis=0, ddof=1) / np.sqrt(K),
        }
        for f in range(K):
            table[f"split{f}_test_mse"] = flat[f]
        table["n_unconverged"] = unconv.ravel() + unconv_s1
        df = pd.DataFrame(table)
        df["rank_test_mse"] = df["mean_test_mse"].rank(method="min").astype(int)
        self.cv_results_ = df
        n_bad = int(unconv.sum()) + unconv_s1
        if self.lam1_cv_results_ is not None:
            n_bad += int(self.lam1_cv_results_["n_unconverged"].sum())
        if n_bad:
            warnings.warn(
                f"{n_bad} CV fits did not reach tol={self.tol:g}; see the n_unconverged "
                "columns of cv_results_ and lam1_cv_results_",
                ConvergenceWarning, stacklevel=2,
            )
        best = df.loc[df["mean_test_mse"].idxmin()]
        if best["lam2"] == lam2_grid.min() and lam2_grid.size > 1:
            warnings.warn(
                f"the best lam2 = {best['lam2']:.4g} is the smallest of lam2_grid; extend the grid "
                "(lam2_eps or lam2_grid)", UserWarning, stacklevel=2,
            )
        self.best_params_ = {k: float(best[k]) for k in ("lam1", "lam2", "kappa", "dlam")}
        self.best_score_ = float(best["mean_test_mse"])
        self.best_index_ = int(df["mean_test_mse"].idxmin())

        # ---- refit
        est = GeneralizedTransLasso(
            **self.best_params_, solver=self.solver, tol=self.tol, max_iter=self.max_iter,
            fit_intercept=self.fit_intercept,
        ).fit(target, sources)
        self.best_estimator_ = est
        timings["refit"] = time.perf_counter() - t_start - sum(timings.values())
        timings["total"] = time.perf_counter() - t_start
        self.timings_ = timings
        return self._set_fit(est.fit_)

    def _cv_lam1(self, target, sources, prep, n_pool, n_jobs, kw):
        if self.lam1_grid is None:
            lam1_grid = lambda_max(prep.A, prep.b) * np.geomspace(1.0, self.lam1_eps, self.n_lam1)
        else:
            lam1_grid = np.sort(self._grid(self.lam1_grid, "lam1_grid"))[::-1]
        if self.lam1_cv == "pooled":
            kf = KFold(self.cv, shuffle=True, random_state=self.random_state)
            tasks = []
            for tr, te in kf.split(prep.b):
                tr = np.sort(tr)
                tasks.append((prep.A[tr], prep.b[tr], prep.A[te], prep.b[te],
                              lam1_grid * tr.size / n_pool, kw["solver"], kw["tol"],
                              kw["max_iter"]))
            fn = _lam1_fold
        else:
            X0 = target[0]
            kf = KFold(self.cv, shuffle=True, random_state=self.random_state)
            tasks = [(target, sources, tr, te, lam1_grid * (n_pool - te.size) / n_pool,
                      self.fit_intercept, kw["solver"], kw["tol"], kw["max_iter"])
                     for tr, te in kf.split(X0)]
            fn = _lam1_target_fold
        res = _run_tasks(fn, tasks, n_jobs, f"lam1 CV ({self.lam1_cv})", self.progress)
        mse = np.array([m for m, _ in res])
        self.lam1_cv_results_ = pd.DataFrame({
            "lam1": lam1_grid, "mean_test_mse": mse.mean(axis=0), "std_test_mse": mse.std(axis=0),
            "n_unconverged": np.sum([u for _, u in res], axis=0),
        })
        i = int(np.argmin(mse.mean(axis=0)))
        if i == lam1_grid.size - 1 and lam1_grid.size > 1:
            warnings.warn(
                f"the best lam1 = {lam1_grid[i]:.4g} is the smallest of lam1_grid; extend the grid "
                "(lam1_eps or lam1_grid)", UserWarning, stacklevel=3,
            )
        return float(lam1_grid[i])

    # ------------------------------------------------------------- summaries
    def strategy_table(self, strategies=("full", "dlam0", "kappa0")) -> pd.DataFrame:
        """Best CV point of each strategy contained in the searched grid (one row each).

        A restricted strategy is read off the same CV runs (same folds, same stage 1), so the
        rows are directly comparable; a strategy with no grid point raises ``ValueError``.
        """
        df = self.cv_results_
        rows = []
        for s in strategies:
            sub = df[_strategy_mask(df, s)]
            if sub.empty:
                raise ValueError(f"strategy {s!r} has no point in the searched grid")
            b = sub.loc[sub["mean_test_mse"].idxmin()]
            rows.append(StrategyChoice(
                strategy=s, cv_mse=float(b["mean_test_mse"]), cv_mse_se=float(b["sem_test_mse"]),
                lam1=float(b["lam1"]), lam2=float(b["lam2"]), kappa=float(b["kappa"]),
                dlam=float(b["dlam"]),
            ).to_dict())
        out = pd.DataFrame(rows)
        out["is_best"] = out["cv_mse"] == out["cv_mse"].min()
        return out


def compare_strategies(
    target, sources, strategies=("full", "dlam0", "kappa0"), **cv_kwargs
) -> pd.DataFrame:
    """Best cross-validated MSE and hyperparameters of each strategy, one row per strategy.

    Runs one :class:`GeneralizedTransLassoCV` over the full grid (``kappa_grid`` must contain
    0 and ``dlam_grid`` must contain 0, as the defaults do, and 1 for ``"trans"``) and reads
    every strategy off the same folds. ``cv_kwargs`` go to the CV estimator (``cv``,
    ``lam2_grid``, ``kappa_grid``, ``dlam_grid``, ``n_jobs``, ``random_state``, ...).
    Columns: ``strategy, cv_mse, cv_mse_se, lam1, lam2, kappa, dlam, is_best``; the
    recommended restricted strategy is the row with the smaller ``cv_mse`` among
    ``"dlam0"`` and ``"kappa0"``.
    """
    cv_kwargs = dict(cv_kwargs)
    cv_kwargs.pop("strategy", None)
    est = GeneralizedTransLassoCV(strategy="full", **cv_kwargs).fit(target, sources)
    return est.strategy_table(strategies)
