r"""Cross-validated generalized Trans-Lasso: the empirical counterpart of ``replica.recommend``.

Hyperparameters (Okajima & Obuchi 2024, arXiv:2409.17704, section on hyperparameter
tuning): :math:`\lambda_1` is chosen first (K-fold CV of the stage-1 Lasso, on the pooled rows
by default), then :math:`(\lambda_2,\kappa,\Delta\lambda)` by K-fold CV on the target rows,
over the full grid or one restricted strategy (the names of ``replica``'s strategies):

=================== ====================================================== =====================
strategy            searched                                               meaning
=================== ====================================================== =====================
"full"              :math:`\lambda_2\times\kappa\times\Delta\lambda`, plus  LO tuning
                    the Pretraining Lasso points
"dlam0"             :math:`\lambda_2\times\kappa`, :math:`\Delta\lambda=0`   vector transfer only
"kappa0"            :math:`\lambda_2\times\Delta\lambda`, :math:`\kappa=0`   support transfer only
"trans_lasso"       :math:`\lambda_2`, :math:`\kappa=1,\Delta\lambda=0`      Li, Cai & Li (2022)
"pretraining_lasso" :math:`\lambda_2\times\alpha`, :math:`\kappa=1-\alpha,`     Craig et al. (2024)
                    :math:`\Delta\lambda=\lambda_2(1/\alpha-1)`
"target_lasso"      :math:`\lambda_2`, :math:`\kappa=\Delta\lambda=0`        target-only Lasso
=================== ====================================================== =====================

Penalties are given for the full data. A fold that fits on a fraction :math:`f` of the rows
uses :math:`f\lambda` (the same :math:`1/(2M)`-normalised penalty, as glmnet's CV does), so
that the CV-optimal values apply to the final fit on all rows.
"""

from __future__ import annotations

import numbers
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from .base import TransferBase
from .checks import check_choice, check_kappa, check_penalty
from .errors import ConvergenceWarning
from .estimators import GeneralizedTransLasso, pretraining_map
from .solver import lambda_max, lasso_path, solve_weighted_lasso, solve_weighted_lasso_gram
from .stages import (
    Prepared,
    SolveOptions,
    check_stage2_identifiable,
    fit_stage1,
    stage2_weights,
)

STRATEGIES = ("full", "dlam0", "kappa0", "trans_lasso", "pretraining_lasso", "target_lasso")


@dataclass(frozen=True)
class StrategyChoice:
    """Best cross-validated point of one strategy (``pt_alpha``: NaN unless Pretraining)."""

    strategy: str
    cv_mse: float
    cv_mse_se: float
    lam1: float
    lam2: float
    kappa: float
    dlam: float
    pt_alpha: float = float("nan")

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _strategy_mask(df: pd.DataFrame, strategy: str) -> np.ndarray:
    """Rows of ``cv_results_`` that belong to ``strategy``."""
    k, d = df["kappa"], df["dlam"]
    masks = {
        "full": lambda: np.ones(len(df), dtype=bool),
        "dlam0": lambda: (d == 0).to_numpy(),
        "kappa0": lambda: (k == 0).to_numpy(),
        "trans_lasso": lambda: ((k == 1) & (d == 0)).to_numpy(),
        "pretraining_lasso": lambda: df["pt_alpha"].notna().to_numpy(),
        "target_lasso": lambda: ((k == 0) & (d == 0)).to_numpy(),
    }
    check_choice(strategy, "strategy", STRATEGIES)
    return masks[strategy]()


# (kappa grid, dlam grid) of the product part of each strategy: None = the searched grid,
# () = no product part; and whether the Pretraining Lasso points are searched
_PRODUCT_PART = {
    "full": (None, None), "dlam0": (None, (0.0,)), "kappa0": ((0.0,), None),
    "trans_lasso": ((1.0,), (0.0,)), "target_lasso": ((0.0,), (0.0,)),
    "pretraining_lasso": ((), ()),
}
_WITH_PRETRAINING = ("full", "pretraining_lasso")


@dataclass(frozen=True)
class Stage2Grid:
    """The stage-2 grid as blocks of one ``kappa`` each: block ``b`` has rows of
    ``dlam[b]`` (shape ``(n_rows, n_lam2)``, one value per lam2) and a Pretraining ``alpha``
    per row (NaN for product-grid rows)."""

    lam2: np.ndarray
    kappa: tuple
    dlam: tuple
    alpha: tuple

    @classmethod
    def build(cls, strategy, lam2, kappa_grid, dlam_grid, alpha_grid) -> Stage2Grid:
        kap_part, dl_part = _PRODUCT_PART[strategy]
        kap = kappa_grid if kap_part is None else np.asarray(kap_part, dtype=float)
        dl = dlam_grid if dl_part is None else np.asarray(dl_part, dtype=float)
        kappa, dlam, alpha = [], [], []
        if dl.size:
            for k in kap:
                kappa.append(float(k))
                dlam.append(np.repeat(dl[:, None], lam2.size, axis=1))
                alpha.append(np.full(dl.size, np.nan))
        if strategy in _WITH_PRETRAINING:
            for a in alpha_grid:
                k, row = pretraining_map(float(a), lam2)
                kappa.append(k)
                dlam.append(row[None, :])
                alpha.append(np.array([a]))
        return cls(lam2, tuple(kappa), tuple(dlam), tuple(alpha))

    def table(self) -> dict:
        """Columns ``lam2, kappa, dlam, pt_alpha`` in the order of the flattened CV errors."""
        cols = {"lam2": [], "kappa": [], "dlam": [], "pt_alpha": []}
        for k, d, a in zip(self.kappa, self.dlam, self.alpha, strict=True):
            n = d.size
            cols["lam2"].append(np.tile(self.lam2, d.shape[0]))
            cols["kappa"].append(np.full(n, k))
            cols["dlam"].append(d.ravel())
            cols["pt_alpha"].append(np.repeat(a, self.lam2.size))
        return {name: np.concatenate(v) for name, v in cols.items()}


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
    show, delay = (progress, 1.0) if isinstance(progress, bool) else (True, float(progress))
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


def _path_errors(path, A_te, b_te, intercept=None):
    """Held-out MSE and non-convergence flag of every point of a Lasso path."""
    mse = np.array([
        np.mean((b_te - A_te @ r.coef - (0.0 if intercept is None else intercept(r.coef))) ** 2)
        for r in path
    ])
    return mse, np.array([not r.converged for r in path], dtype=int)


def _lam1_fold(A_tr, b_tr, A_te, b_te, lams, opts):
    path = lasso_path(A_tr, b_tr, lams, solver=opts.solver, tol=opts.tol,
                      max_iter=opts.max_iter)
    return _path_errors(path, A_te, b_te)


def _lam1_target_fold(target, sources, split, lams, fit_intercept, opts):
    (X0, y0), (train, test) = target, split
    prep = Prepared((X0[train], y0[train]), sources, fit_intercept)
    path = lasso_path(prep.A, prep.b, lams, solver=opts.solver, tol=opts.tol,
                      max_iter=opts.max_iter, col_sq_norms=prep.L)
    return _path_errors(path, X0[test], y0[test], prep.intercept)


def _stage1_fold(target, sources, train, lam1, fit_intercept, opts):
    X0, y0 = target
    prep = Prepared((X0[train], y0[train]), sources, fit_intercept)
    return fit_stage1(prep, lam1, opts)


@dataclass(frozen=True)
class _Fold:
    """Held-in target rows of one fold (centred), its held-out rows, optional Gram form."""

    prep: Prepared
    X_te: np.ndarray
    y_te: np.ndarray
    gram: tuple | None  # (G, A0^T y0)

    @classmethod
    def make(cls, target, split, fit_intercept, use_gram):
        (X0, y0), (train, test) = target, split
        prep = Prepared((X0[train], y0[train]), [], fit_intercept, pooled=False)
        gram = None
        if use_gram:
            gram = (np.ascontiguousarray(prep.A0.T @ prep.A0), prep.A0.T @ prep.y0)
        return cls(prep, X0[test], y0[test], gram)


def _stage2_solver(fold: _Fold, x1, kappa, opts):
    """``solve(w, init)`` for the stage-2 problems of one fold and one kappa."""
    prep = fold.prep
    b = prep.y0 - kappa * (prep.A0 @ x1)
    if fold.gram is None:
        def solve(w, init):
            return solve_weighted_lasso(prep.A0, b, w, solver=opts.solver, tol=opts.tol,
                                        max_iter=opts.max_iter, init=init,
                                        col_sq_norms=prep.L0)
        return solve
    G, c0 = fold.gram
    c = c0 - kappa * (G @ x1) if kappa != 0 else c0
    b2 = float(b @ b)

    def solve(w, init):
        return solve_weighted_lasso_gram(G, c, b2, w, tol=opts.tol, max_iter=opts.max_iter,
                                         init=init)
    return solve


def _stage2_task(fold: _Fold, x1, kappa, dlam_rows, lam2_grid, opts):
    """CV errors on the held-out rows of one fold for one kappa block: every row of
    ``dlam_rows`` (one dlam per lam2) and every lam2. Warm starts: the solution of the
    previous row at the same lam2 (measured: about 30 % fewer epochs than continuing along
    the lam2 path), else the previous lam2."""
    solve = _stage2_solver(fold, x1, kappa, opts)
    support = x1 != 0
    mse = np.empty(dlam_rows.shape)
    unconv = np.zeros(dlam_rows.shape, dtype=int)
    prev = None
    for d in range(dlam_rows.shape[0]):
        cur, x = [], None
        for i, lam2 in enumerate(lam2_grid):
            w = stage2_weights(support, lam2, dlam_rows[d, i])
            check_stage2_identifiable(w, fold.prep.rows0, lam2, dlam_rows[d, i])
            r = solve(w, x if prev is None else prev[i])
            x = r.coef
            cur.append(x)
            coef = kappa * x1 + x
            pred = fold.X_te @ coef + fold.prep.intercept(coef)
            mse[d, i] = np.mean((fold.y_te - pred) ** 2)
            unconv[d, i] = not r.converged
        prev = cur
    return mse, unconv


def _check_int(value, name, lo, hi=None, extra=""):
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} = {value!r}: must be an integer {rng}{extra}")
    return int(value)


def _check_grid(values, name, allow_inf=False, lo=0.0, hi=np.inf):
    """Non-empty 1-D grid of numbers in ``[lo, hi]``, each entry checked by name."""
    if isinstance(values, str) or np.ndim(values) > 1:
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got {values!r}")
    arr = np.atleast_1d(np.asarray(values, dtype=object))
    if arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers")
    if lo == 0:
        out = np.array([check_penalty(v, f"{name}[{i}]", allow_inf=allow_inf)
                        for i, v in enumerate(arr)])
    else:
        out = np.array([check_kappa(v, f"{name}[{i}]") for i, v in enumerate(arr)])
    bad = np.flatnonzero((out < lo) | (out > hi))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] = {out[bad[0]]}: must lie in [{lo}, {hi}]")
    return out


class GeneralizedTransLassoCV(TransferBase):
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
    strategy : {"full", "dlam0", "kappa0", "trans_lasso", "pretraining_lasso", "target_lasso"}
        Which part of the :math:`(\kappa, \Delta\lambda)` plane to search (module docstring;
        the names of ``replica``'s strategies).
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
    pt_alpha_grid : array or None
        Pretraining Lasso's :math:`\alpha\in[0,1]` (``"pretraining_lasso"`` and ``"full"``):
        :math:`\kappa=1-\alpha`, :math:`\Delta\lambda=\lambda_2(1/\alpha-1)`. Default
        ``0, 0.05, 0.1, 0.25, 0.5, 0.75, 1``; ``[]`` with ``"full"``: the product grid
        alone.
    n_lam1, n_lam2 : int
        Sizes (>= 1) of the default ``lam1`` and ``lam2`` grids.
    lam1_eps, lam2_eps : float in (0, 1]
        Ratio of the smallest to the largest penalty of the default grids.
    n_jobs : int or None
        Number of joblib threads (the numba kernels release the GIL; BLAS is pinned to one
        thread while they run). ``-1``: all cores.
    random_state : int, numpy Generator or None
        Seed of the fold splits. Default 0: the same call gives the same numbers; ``None``
        draws fresh folds each call.
    solver : {"fast", "cvxpy"}
    tol : float
        Relative duality-gap tolerance of the CV fits and of the refit.
    max_iter : int
        Maximum coordinate-descent epochs per fit (>= 1).
    fit_intercept : bool
    progress : bool or float
        Show tqdm progress bars (``True``: once a phase has run for 1 s; a number: after that
        many seconds; ``False``: never).
    gram : {"auto", True, False}
        Stage-2 CV fits on the Gram matrix of each target fold (shared by the whole grid of
        that fold; :math:`N^2` floats per fold). Pays off for tall targets: ``"auto"`` uses it
        when the training rows of a fold are at least 2 N and N <= 4000 (measured: for
        N = 2000 and 1600 rows the residual form is about twice as fast).
    target_group : label
        Target label of ``groups`` in the stacked form ``fit(X, y, groups=g)``.

    Attributes
    ----------
    best_params_ : dict
        ``lam1, lam2, kappa, dlam`` at the smallest mean CV error.
    best_score_ : float
        That smallest mean CV **mean squared error** (lower is better).
    cv_results_ : pandas.DataFrame
        One row per grid point: ``lam1, lam2, kappa, dlam, pt_alpha`` (NaN off the
        Pretraining Lasso points), ``mean_test_mse, std_test_mse,
        sem_test_mse, split<k>_test_mse, n_unconverged, rank_test_mse``.
    lam1_cv_results_ : pandas.DataFrame or None
        ``lam1, mean_test_mse, std_test_mse`` of the stage-1 CV.
    best_estimator_ : GeneralizedTransLasso
        Refitted on all data; ``coef_`` etc. are copied from it.
    timings_ : dict
        Wall-clock seconds of the phases (``lam1_cv``, ``stage1_folds``, ``stage2_grid``,
        ``refit``, ``total``).
    """

    #: default kappa grid and dlam multiples of lambda_0,max (owned by the estimator)
    default_kappa_grid = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
    default_dlam_factors = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, np.inf)
    default_pt_alpha_grid = (0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0)
    #: ``gram="auto"``: use the Gram form when fold rows >= ratio * N and N <= max features
    gram_auto_row_ratio = 2.0
    gram_auto_max_features = 4000

    def __init__(
        self, strategy="full", cv=5, *, lam1=None, lam1_grid=None, lam1_cv="pooled",
        lam2_grid=None, kappa_grid=None, dlam_grid=None, pt_alpha_grid=None, n_lam1=15,
        n_lam2=12, lam1_eps=1e-2, lam2_eps=1e-2, n_jobs=None, random_state=0, solver="fast",
        tol=1e-6, max_iter=10_000, fit_intercept=False, progress=True, gram="auto",
        target_group=0,
    ):
        self.strategy = strategy
        self.cv = cv
        self.lam1 = lam1
        self.lam1_grid = lam1_grid
        self.lam1_cv = lam1_cv
        self.lam2_grid = lam2_grid
        self.kappa_grid = kappa_grid
        self.dlam_grid = dlam_grid
        self.pt_alpha_grid = pt_alpha_grid
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
        self.target_group = target_group

    # ------------------------------------------------------------ checks, grids
    def _check_params(self, n0):
        """Validate every constructor argument (each error names its argument)."""
        check_choice(self.strategy, "strategy", STRATEGIES)
        check_choice(self.lam1_cv, "lam1_cv", ("pooled", "target"))
        _check_int(self.cv, "cv", 2, n0, f" (n_target_rows = n_samples = {n0})")
        _check_int(self.n_lam1, "n_lam1", 1)
        _check_int(self.n_lam2, "n_lam2", 1)
        for name in ("lam1_eps", "lam2_eps"):
            v = check_penalty(getattr(self, name), name)
            if not 0 < v <= 1:
                raise ValueError(f"{name} = {v!r}: must lie in (0, 1]")
        if not (self.gram == "auto" or isinstance(self.gram, (bool, np.bool_))):
            raise ValueError(f"gram = {self.gram!r}: must be 'auto', True or False")
        p = self.progress
        if not isinstance(p, (bool, np.bool_)) and not (
                isinstance(p, numbers.Real) and np.isfinite(p) and p >= 0):
            raise ValueError(f"progress = {p!r}: must be a bool or a delay in seconds >= 0")
        j = self.n_jobs
        if j is not None and not (isinstance(j, numbers.Integral) and not isinstance(j, bool)
                                  and j != 0):
            raise ValueError(f"n_jobs = {j!r}: must be a non-zero integer or None")
        if self.lam1 is not None:
            check_penalty(self.lam1, "lam1")
        return SolveOptions.of(self, strict=False)

    def _resolve_grids(self, prep):
        """``(lam2_grid, kappa_grid, dlam_grid, pt_alpha_grid)`` with the defaults filled."""
        lmax0 = lambda_max(prep.A0, prep.y0) or 1.0
        if self.lam2_grid is None:
            lam2 = lmax0 * np.geomspace(1.0, float(self.lam2_eps), self.n_lam2)
        else:
            lam2 = np.sort(_check_grid(self.lam2_grid, "lam2_grid"))[::-1]
        kappa = np.array(self.default_kappa_grid if self.kappa_grid is None
                         else _check_grid(self.kappa_grid, "kappa_grid", lo=-np.inf))
        if self.dlam_grid is None:
            dlam = lmax0 * np.array(self.default_dlam_factors)
        else:
            dlam = np.sort(_check_grid(self.dlam_grid, "dlam_grid", allow_inf=True))
        if self.pt_alpha_grid is None:
            alpha = np.array(self.default_pt_alpha_grid)
        elif np.size(self.pt_alpha_grid) == 0 and self.strategy == "full":
            alpha = np.empty(0)  # the product grid alone
        else:
            alpha = _check_grid(self.pt_alpha_grid, "pt_alpha_grid", hi=1.0)
        return lam2, kappa, dlam, alpha

    def _folds(self, n):
        return list(KFold(self.cv, shuffle=True, random_state=self.random_state).split(
            np.empty((n, 1))))

    # -------------------------------------------------------------------- fit
    def fit(self, X=None, y=None, groups=None, *, target=None, sources=None):
        """Cross-validate, then refit on all data with the best hyperparameters.

        Data: stacked ``X, y`` with ``groups`` (``target_group`` marks the target rows; no
        ``groups``: all rows are target) or ``target = (X0, y0)`` and ``sources = [(X1, y1),
        ...]`` (at least one); see :mod:`lasso.base`.
        """
        target, sources = self._datasets(X, y, groups, target, sources, require_sources=True)
        opts = self._check_params(target[0].shape[0])
        prep = Prepared(target, sources, self.fit_intercept)
        grid = Stage2Grid.build(self.strategy, *self._resolve_grids(prep))
        t_start = time.perf_counter()
        lam1 = self._choose_lam1(target, sources, prep, opts)
        timings = {"lam1_cv": time.perf_counter() - t_start}
        folds = self._folds(target[0].shape[0])
        s1 = self._stage1_folds(target, sources, folds, lam1, opts)
        timings["stage1_folds"] = time.perf_counter() - t_start - sum(timings.values())
        mse, unconv = self._stage2_grid(target, folds, s1, grid, opts)
        timings["stage2_grid"] = time.perf_counter() - t_start - sum(timings.values())
        unconv_s1 = sum(not r.converged for r in s1)
        self.cv_results_ = self._tabulate(lam1, grid, mse, unconv + unconv_s1)
        self._warn_unconverged(int(unconv.sum()) + unconv_s1)
        self._select_best(grid.lam2)
        est = GeneralizedTransLasso(
            **self.best_params_, solver=self.solver, tol=self.tol, max_iter=self.max_iter,
            fit_intercept=self.fit_intercept,
        )
        if sources:
            est.fit(target=target, sources=sources)
        else:  # stacked form without groups: every row is a target row
            est.fit(*target)
        self.best_estimator_ = est
        timings["refit"] = time.perf_counter() - t_start - sum(timings.values())
        timings["total"] = time.perf_counter() - t_start
        self.timings_ = timings
        return self._set_fit(est.fit_)

    def _choose_lam1(self, target, sources, prep, opts) -> float:
        self.lam1_cv_results_ = None
        if self.lam1 is not None:
            return check_penalty(self.lam1, "lam1")
        return self._cv_lam1(target, sources, prep, opts)

    def _stage1_folds(self, target, sources, folds, lam1, opts):
        n0 = target[0].shape[0]
        n_pool = n0 + sum(X.shape[0] for X, _ in sources)
        tasks = [(target, sources, tr, lam1 * (n_pool - te.size) / n_pool, self.fit_intercept,
                  opts) for tr, te in folds]
        return _run_tasks(_stage1_fold, tasks, self.n_jobs, "stage 1 per fold", self.progress)

    def _use_gram(self, n0, n_feat) -> bool:
        tall = (n0 * (self.cv - 1) / self.cv >= self.gram_auto_row_ratio * n_feat
                and n_feat <= self.gram_auto_max_features)
        return self.solver == "fast" and (self.gram is True or (self.gram == "auto" and tall))

    def _stage2_grid(self, target, folds, s1, grid: Stage2Grid, opts):
        """CV errors ``(n_folds, n_points)`` and unconverged counts per point."""
        n0, n_feat = target[0].shape
        use_gram = self._use_gram(n0, n_feat)
        tasks = []
        for f, (tr, te) in enumerate(folds):
            fold = _Fold.make(target, (tr, te), self.fit_intercept, use_gram)
            scale = tr.size / n0
            for kappa, dlam in zip(grid.kappa, grid.dlam, strict=True):
                tasks.append((fold, s1[f].coef, kappa, dlam * scale, grid.lam2 * scale, opts))
        res = _run_tasks(_stage2_task, tasks, self.n_jobs, f"stage 2 grid ({self.strategy})",
                         self.progress)
        per_fold = len(grid.kappa)
        blocks = [res[f * per_fold:(f + 1) * per_fold] for f in range(len(folds))]
        mse = np.array([np.concatenate([m.ravel() for m, _ in b]) for b in blocks])
        unconv = np.array([np.concatenate([u.ravel() for _, u in b]) for b in blocks])
        return mse, unconv.sum(axis=0)

    @staticmethod
    def _tabulate(lam1, grid: Stage2Grid, mse, n_unconverged) -> pd.DataFrame:
        K = mse.shape[0]
        table = {"lam1": np.full(mse.shape[1], lam1), **grid.table(),
                 "mean_test_mse": mse.mean(axis=0), "std_test_mse": mse.std(axis=0),
                 "sem_test_mse": mse.std(axis=0, ddof=1) / np.sqrt(K)}
        for f in range(K):
            table[f"split{f}_test_mse"] = mse[f]
        table["n_unconverged"] = n_unconverged
        df = pd.DataFrame(table)
        df["rank_test_mse"] = df["mean_test_mse"].rank(method="min").astype(int)
        return df

    def _warn_unconverged(self, n_bad):
        if self.lam1_cv_results_ is not None:
            n_bad += int(self.lam1_cv_results_["n_unconverged"].sum())
        if n_bad:
            warnings.warn(
                f"{n_bad} CV fits did not reach tol={self.tol:g}; see the n_unconverged "
                "columns of cv_results_ and lam1_cv_results_", ConvergenceWarning, stacklevel=3,
            )

    def _select_best(self, lam2_grid):
        df = self.cv_results_
        self.best_index_ = int(df["mean_test_mse"].idxmin())
        best = df.loc[self.best_index_]
        if best["lam2"] == lam2_grid.min() and lam2_grid.size > 1:
            warnings.warn(
                f"the best lam2 = {best['lam2']:.4g} is the smallest of lam2_grid; extend the grid "
                "(lam2_eps or lam2_grid)", UserWarning, stacklevel=3,
            )
        self.best_params_ = {k: float(best[k]) for k in ("lam1", "lam2", "kappa", "dlam")}
        self.best_score_ = float(best["mean_test_mse"])

    def _cv_lam1(self, target, sources, prep, opts):
        if self.lam1_grid is None:
            lam1_grid = lambda_max(prep.A, prep.b) * np.geomspace(1.0, float(self.lam1_eps),
                                                                   self.n_lam1)
        else:
            lam1_grid = np.sort(_check_grid(self.lam1_grid, "lam1_grid"))[::-1]
        n_pool = prep.A.shape[0]
        if self.lam1_cv == "pooled":
            tasks = []
            for tr, te in self._folds(n_pool):
                tr = np.sort(tr)
                tasks.append((prep.A[tr], prep.b[tr], prep.A[te], prep.b[te],
                              lam1_grid * tr.size / n_pool, opts))
            fn = _lam1_fold
        else:
            tasks = [(target, sources, (tr, te), lam1_grid * (n_pool - te.size) / n_pool,
                      self.fit_intercept, opts) for tr, te in self._folds(target[0].shape[0])]
            fn = _lam1_target_fold
        res = _run_tasks(fn, tasks, self.n_jobs, f"lam1 CV ({self.lam1_cv})", self.progress)
        mse = np.array([m for m, _ in res])
        self.lam1_cv_results_ = pd.DataFrame({
            "lam1": lam1_grid, "mean_test_mse": mse.mean(axis=0), "std_test_mse": mse.std(axis=0),
            "n_unconverged": np.sum([u for _, u in res], axis=0),
        })
        i = int(np.argmin(mse.mean(axis=0)))
        if i == lam1_grid.size - 1 and lam1_grid.size > 1:
            warnings.warn(
                f"the best lam1 = {lam1_grid[i]:.4g} is the smallest of lam1_grid; extend the grid "
                "(lam1_eps or lam1_grid)", UserWarning, stacklevel=4,
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
                dlam=float(b["dlam"]), pt_alpha=float(b["pt_alpha"]),
            ).to_dict())
        out = pd.DataFrame(rows)
        out["is_best"] = out["cv_mse"] == out["cv_mse"].min()
        return out


def compare_strategies(
    target, sources, strategies=("full", "dlam0", "kappa0"), **cv_kwargs
) -> pd.DataFrame:
    """Best cross-validated MSE and hyperparameters of each strategy, one row per strategy.

    Runs one :class:`GeneralizedTransLassoCV` with ``strategy="full"`` (the product grid
    plus the Pretraining Lasso points; ``kappa_grid`` and ``dlam_grid`` must contain 0, as the
    defaults do, and ``kappa_grid`` 1 for ``"trans_lasso"``) and reads every strategy off the
    same folds. ``cv_kwargs`` go to the CV estimator (``cv``, ``lam2_grid``, ``kappa_grid``,
    ``dlam_grid``, ``n_jobs``, ``random_state``, ...). Columns: ``strategy, cv_mse,
    cv_mse_se, lam1, lam2, kappa, dlam, pt_alpha, is_best``; the recommended restricted
    strategy is the row with the smaller ``cv_mse`` among ``"dlam0"`` and ``"kappa0"``.
    """
    cv_kwargs = dict(cv_kwargs)
    cv_kwargs.pop("strategy", None)
    est = GeneralizedTransLassoCV(strategy="full", **cv_kwargs)
    return est.fit(target=target, sources=sources).strategy_table(strategies)
