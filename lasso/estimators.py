r"""Two-stage transfer Lasso estimators with a scikit-learn API.

The central estimator is the generalized Trans-Lasso (Okajima & Obuchi 2024,
arXiv:2409.17704; objectives in the unnormalised form for which the
replica predictions hold with :math:`A_{\mu i}\sim\mathcal N(0,1/N)` and no rescaling).
Dataset index 0 is the target, indices 1..K the sources.

Stage 1 (pretraining on all rows, target included):

.. math::

    \hat x^{(1st)} = \arg\min_x\ \tfrac12\sum_{k=0}^{K}\|y^{(k)} - A^{(k)}x\|_2^2
    + \lambda_1\|x\|_1 .

Stage 2 (fine-tuning on the target), with :math:`S=\mathrm{supp}(\hat x^{(1st)})`:

.. math::

    \hat x^{(2nd)} = \arg\min_x\ \tfrac12\|y^{(0)} - \kappa A^{(0)}\hat x^{(1st)} - A^{(0)}x\|_2^2
    + \lambda_2\sum_{i\in S}|x_i| + (\lambda_2+\Delta\lambda)\sum_{i\notin S}|x_i| ,

and the estimate is :math:`\hat x = \kappa\hat x^{(1st)} + \hat x^{(2nd)}`.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import KFold

from .base import TransferBase
from .checks import check_datasets, check_kappa, check_penalty
from .stages import (
    Prepared,
    SolveOptions,
    TransferFit,
    fit_stage1,
    stage2_weights,
    two_stage,
)

__all__ = ["GeneralizedTransLasso", "PooledLasso", "PretrainingLasso", "TargetLasso",
           "TransferFit", "fit_two_stage", "pretraining_map", "stage2_weights"]


def fit_two_stage(
    target, sources, lam1, lam2, kappa, dlam, *, solver="fast", tol=1e-8, max_iter=10_000,
    fit_intercept=False, strict=False,
) -> TransferFit:
    r"""Fit the generalized Trans-Lasso once and return a :class:`TransferFit`.

    Functional form of :class:`GeneralizedTransLasso` (same parameters, dataset form of the
    data); see the module docstring for the objectives (Okajima & Obuchi 2024,
    arXiv:2409.17704).
    """
    opts = SolveOptions(solver, tol, max_iter, strict)
    target, sources = check_datasets(target, sources, require_sources=False)
    return _fit_checked(target, sources, (lam1, lam2, kappa, dlam), opts, fit_intercept)


def _fit_checked(target, sources, params, opts, fit_intercept) -> TransferFit:
    """Two-stage fit on validated data; ``params = (lam1, lam2, kappa, dlam)``."""
    lam1, lam2, kappa, dlam = params
    hyper = (check_penalty(lam2, "lam2"), check_kappa(kappa),
             check_penalty(dlam, "dlam", allow_inf=True))
    lam1 = check_penalty(lam1, "lam1")
    return two_stage(Prepared(target, sources, fit_intercept), lam1, hyper, opts)


def pretraining_map(alpha: float, lam2):
    r"""Pretraining Lasso's :math:`\alpha` as generalized Trans-Lasso parameters:
    :math:`\kappa = 1-\alpha`, :math:`\Delta\lambda = \lambda_2(1/\alpha - 1)` (``inf`` at
    :math:`\alpha = 0`); ``lam2`` may be an array (one ``dlam`` per entry)."""
    lam2 = np.asarray(lam2, dtype=np.float64)
    dlam = np.full(lam2.shape, np.inf) if alpha == 0 else lam2 * (1.0 / alpha - 1.0)
    return 1.0 - alpha, dlam


class GeneralizedTransLasso(TransferBase):
    r"""Generalized Trans-Lasso (Okajima & Obuchi 2024, arXiv:2409.17704; docs/lasso.md).

    Stage 1 pools target and sources,

    .. math::

        \hat x^{(1st)} = \arg\min_x \tfrac12\sum_{k=0}^K\|y^{(k)} - A^{(k)}x\|_2^2
        + \lambda_1\|x\|_1 ,

    stage 2 fine-tunes on the target with offset :math:`\kappa A^{(0)}\hat x^{(1st)}` and extra
    penalty :math:`\Delta\lambda` off :math:`S=\mathrm{supp}(\hat x^{(1st)})`,

    .. math::

        \hat x^{(2nd)} = \arg\min_x \tfrac12\|y^{(0)} - \kappa A^{(0)}\hat x^{(1st)}
        - A^{(0)}x\|_2^2 + \sum_i(\lambda_2 + \Delta\lambda\,\mathbb 1[i\notin S])|x_i| ,

    and :math:`\hat x = \kappa\hat x^{(1st)} + \hat x^{(2nd)}`. Objectives are unnormalised
    (no :math:`1/M`) and nothing is standardised. Special cases: :math:`\kappa=1,
    \Delta\lambda=0` is oracle Trans-Lasso (Li, Cai & Li 2022) with all sources informative;
    :math:`\kappa=1-\alpha, \Delta\lambda=\lambda_2(1/\alpha-1)` is Pretraining Lasso
    (Craig et al. 2024); :math:`\kappa=0,\Delta\lambda=0` is the target-only Lasso.

    Parameters
    ----------
    lam1 : float
        Stage-1 penalty :math:`\lambda_1\ge0` (0 only with at least as many pooled rows as
        features).
    lam2 : float
        Stage-2 base penalty :math:`\lambda_2\ge0`. ``lam2 = 0`` leaves the stage-1 support
        unpenalised (every coordinate when also ``dlam = 0``); that is refused with
        :class:`~lasso.NotIdentifiableError` when the free coordinates outnumber the target
        rows.
    kappa : float
        Weight :math:`\kappa` of the pretrained vector in the offset (any real).
    dlam : float
        Extra penalty :math:`\Delta\lambda\ge0` off the stage-1 support (``inf`` restricts
        stage 2 to the support).
    solver : {"fast", "cvxpy"}
        ``"fast"``: numba working-set coordinate descent; ``"cvxpy"``: CLARABEL oracle.
    tol : float
        Duality-gap tolerance relative to :math:`\|b\|^2`, per stage.
    max_iter : int
        Maximum coordinate-descent epochs per stage.
    fit_intercept : bool
        Fit an unpenalised intercept per dataset (each dataset is centred by its own means).
    strict : bool
        Raise :class:`~lasso.errors.ConvergenceError` instead of warning.
    target_group : label
        In the stacked form ``fit(X, y, groups=g)``, the label of the target rows in ``g``
        (:mod:`lasso.base`).

    Attributes
    ----------
    coef_, coef_stage1_, coef_stage2_ : ndarray (N,)
    support_stage1_ : ndarray of bool (N,)
    intercept_ : float
    fit_ : TransferFit
        Full result, including both stages' objectives and duality gaps.
    n_iter_ : int
        Coordinate-descent epochs of both stages.
    n_features_in_ : int
    """

    def __init__(
        self, lam1=1.0, lam2=1.0, kappa=1.0, dlam=0.0, *, solver="fast", tol=1e-8,
        max_iter=10_000, fit_intercept=False, strict=False, target_group=0,
    ):
        self.lam1 = lam1
        self.lam2 = lam2
        self.kappa = kappa
        self.dlam = dlam
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.strict = strict
        self.target_group = target_group

    def fit(self, X=None, y=None, groups=None, *, target=None, sources=None):
        """Fit on stacked rows ``X, y`` labelled by ``groups`` (``target_group`` marks the
        target; no ``groups``: all rows are target), or on ``target = (X0, y0)`` and
        ``sources = [(X1, y1), ...]`` (at least one), see :mod:`lasso.base`."""
        opts = SolveOptions.of(self)
        target, sources = self._datasets(X, y, groups, target, sources, require_sources=True)
        params = (self.lam1, self.lam2, self.kappa, self.dlam)
        return self._set_fit(_fit_checked(target, sources, params, opts, self.fit_intercept))


class _SingleLasso(TransferBase):
    """One-penalty baselines: shared parameters and fitted attributes."""

    def __init__(self, lam=1.0, *, solver="fast", tol=1e-8, max_iter=10_000,
                 fit_intercept=False, strict=False, target_group=0):
        self.lam = lam
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.strict = strict
        self.target_group = target_group

    def _fit_single(self, target, sources, pooled):
        """Solve the one-penalty Lasso on the target rows (``pooled``: on all rows)."""
        opts = SolveOptions.of(self)
        lam = check_penalty(self.lam, "lam")
        prep = Prepared(target, sources if pooled else [], self.fit_intercept)
        res = fit_stage1(prep, lam, opts, name="lam")
        self.result_ = res
        self.n_iter_ = int(res.epochs)
        return self._set_coef(res.coef, prep.intercept(res.coef))


class TargetLasso(_SingleLasso):
    r"""Target-only Lasso baseline,
    :math:`\arg\min_x \tfrac12\|y^{(0)}-A^{(0)}x\|_2^2+\lambda\|x\|_1` (sources ignored).

    Equals the generalized Trans-Lasso with :math:`\kappa=\Delta\lambda=0`.
    Parameters as in :class:`GeneralizedTransLasso` with ``lam`` the penalty.
    """

    def fit(self, X=None, y=None, groups=None, *, target=None, sources=None):
        """Fit on the target rows (stacked ``X, y, groups`` or ``target = (X0, y0)``);
        sources are accepted and ignored."""
        target, _ = self._datasets(X, y, groups, target, sources, require_sources=False)
        return self._fit_single(target, [], pooled=False)


class PooledLasso(_SingleLasso):
    r"""Pooled Lasso baseline (stage 1 alone),
    :math:`\arg\min_x \tfrac12\sum_{k=0}^K\|y^{(k)}-A^{(k)}x\|_2^2+\lambda\|x\|_1`.

    Equals the generalized Trans-Lasso with :math:`\kappa=1,\lambda_2\to\infty`.
    With ``fit_intercept`` each dataset gets its own intercept; predictions use the target's.
    """

    def fit(self, X=None, y=None, groups=None, *, target=None, sources=None):
        """Fit on all rows (stacked ``X, y, groups`` or ``target``, ``sources``; the dataset
        form needs at least one source)."""
        target, sources = self._datasets(X, y, groups, target, sources, require_sources=True)
        return self._fit_single(target, sources, pooled=True)


class PretrainingLasso(TransferBase):
    r"""Pretraining Lasso (Craig et al. 2024, arXiv:2401.12911), transfer form: one target
    group fine-tuned from an overall model fitted on all rows.

    Overall model :math:`\hat\theta` = stage 1 of :class:`GeneralizedTransLasso` (penalty
    ``lam1``), :math:`\eta = A^{(0)}\hat\theta`, :math:`S=\mathrm{supp}(\hat\theta)`; then

    .. math::

        \hat\beta = \arg\min_\beta \tfrac12\|y^{(0)} - (1-\alpha)\eta - A^{(0)}\beta\|_2^2
        + \lambda_2\sum_j \mathrm{pf}_j|\beta_j|,\qquad
        \mathrm{pf}_j = 1\ (j\in S),\ 1/\alpha\ (j\notin S),

    and :math:`\hat x = (1-\alpha)\hat\theta + \hat\beta`. This is the generalized
    Trans-Lasso with :math:`\kappa=1-\alpha`, :math:`\Delta\lambda=\lambda_2(1/\alpha-1)`
    (``alpha = 0`` restricts stage 2 to :math:`S`). Objectives are unnormalised: the paper's
    :math:`1/(2n_k)`-normalised :math:`\lambda_k` is ``lam2 / n_0``.

    Parameters
    ----------
    alpha : float in [0, 1]
        Craig et al.'s :math:`\alpha` (1: separate target Lasso; 0: overall model refit on S).
    lam1, lam2 : float
        Overall-model and target penalties (unnormalised).
    prevalidate : bool
        Use pre-validated (out-of-fold) overall predictions as the offset on the target rows,
        as the ptLasso R package does: the target rows are split into ``cv`` folds and the
        offset of a fold comes from the overall model fitted without it (with ``lam1``
        rescaled by the fraction of pooled rows kept, i.e. the same :math:`1/(2M)`-normalised
        penalty). :math:`S` and :math:`\hat\theta` in the final estimate come from the full
        overall fit.
    cv : int
        Number of folds for ``prevalidate``.
    random_state : int, numpy Generator or None
        Seed of the fold split of ``prevalidate``. Default 0: the same call gives the same
        numbers; ``None`` draws a fresh split each call.
    solver, tol, max_iter, fit_intercept, strict, target_group
        As in :class:`GeneralizedTransLasso`.
    """

    def __init__(
        self, alpha=0.5, lam1=1.0, lam2=1.0, *, prevalidate=False, cv=5, random_state=0,
        solver="fast", tol=1e-8, max_iter=10_000, fit_intercept=False, strict=False,
        target_group=0,
    ):
        self.alpha = alpha
        self.lam1 = lam1
        self.lam2 = lam2
        self.prevalidate = prevalidate
        self.cv = cv
        self.random_state = random_state
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.strict = strict
        self.target_group = target_group

    def mapped_params(self) -> dict:
        """The generalized Trans-Lasso parameters ``(kappa, dlam)`` of this estimator."""
        a = check_penalty(self.alpha, "alpha")
        if not 0.0 <= a <= 1.0:
            raise ValueError(f"alpha = {self.alpha}: must lie in [0, 1]")
        kappa, dlam = pretraining_map(a, check_penalty(self.lam2, "lam2"))
        return {"kappa": kappa, "dlam": float(dlam)}

    def fit(self, X=None, y=None, groups=None, *, target=None, sources=None):
        """Fit on stacked ``X, y, groups`` or on ``target = (X0, y0)`` and
        ``sources = [(X1, y1), ...]`` (at least one); see :mod:`lasso.base`."""
        opts = SolveOptions.of(self)
        target, sources = self._datasets(X, y, groups, target, sources, require_sources=True)
        m = self.mapped_params()
        lam1 = check_penalty(self.lam1, "lam1")
        hyper = (check_penalty(self.lam2, "lam2"), m["kappa"], m["dlam"])
        prep = Prepared(target, sources, self.fit_intercept)
        offset = None
        if self.prevalidate:
            self._check_cv(target[0].shape[0])

            def offset(x1):
                return self._prevalidated_offset(target, sources, lam1, x1, opts)

        return self._set_fit(two_stage(prep, lam1, hyper, opts, offset=offset))

    def _check_cv(self, n0):
        if not (isinstance(self.cv, (int, np.integer)) and not isinstance(self.cv, bool)
                and 2 <= self.cv <= n0):
            raise ValueError(f"cv = {self.cv!r}: must be an integer in [2, n_target_rows={n0}] "
                             f"(n_samples = {n0})")

    def _prevalidated_offset(self, target, sources, lam1, x1_full, opts):
        """Out-of-fold overall predictions on the target rows (centred as in stage 2)."""
        X0, y0 = target
        n_rows = X0.shape[0] + sum(X.shape[0] for X, _ in sources)
        offset = np.empty(X0.shape[0])
        xm = X0.mean(axis=0) if self.fit_intercept else 0.0
        folds = KFold(self.cv, shuffle=True, random_state=self.random_state).split(X0)
        for train, test in folds:
            p = Prepared((X0[train], y0[train]), sources, self.fit_intercept)
            lam_k = lam1 * (n_rows - test.size) / n_rows
            theta = fit_stage1(p, lam_k, opts,
                               init=x1_full if opts.solver == "fast" else None).coef
            offset[test] = (X0[test] - xm) @ theta
        return offset
