"""Empirical l1 transfer estimators: generalized Trans-Lasso and the methods it contains.

Okajima & Obuchi 2024 (arXiv:2409.17704) for the generalized Trans-Lasso; Li, Cai & Li 2022
(arXiv:2006.10593) for Trans-Lasso; Craig et al. 2024 (arXiv:2401.12911) for Pretraining Lasso.
Dataset index 0 is the target; objectives are unnormalised, ``1/2 ||y - A x||^2 + lam ||x||_1``,
nothing is standardised, so designs with N(0, 1/N) entries match the replica theory as they are.

Example::

    import lasso
    est = lasso.GeneralizedTransLasso(lam1=0.3, lam2=0.09, kappa=1.0, dlam=0.0)
    est.fit(target=(X0, y0), sources=[(X1, y1)])
    est.coef_, est.coef_stage1_, est.support_stage1_, est.fit_.stage2.relative_gap

    # the same in scikit-learn's stacked form: groups labels each row's dataset
    est.fit(np.vstack([X0, X1]), np.concatenate([y0, y1]), groups=[0] * n0 + [1] * n1)

    cv = lasso.GeneralizedTransLassoCV(strategy="full", cv=5, n_jobs=2, random_state=0)
    cv.fit(target=(X0, y0), sources=[(X1, y1)])
    cv.best_params_, cv.best_score_, cv.cv_results_        # tidy DataFrame
    cv.strategy_table(lasso.STRATEGIES)                   # best CV MSE per strategy
"""

from .base import TransferBase
from .cv import STRATEGIES, GeneralizedTransLassoCV, StrategyChoice, compare_strategies
from .errors import ConvergenceError, ConvergenceWarning, NotIdentifiableError
from .estimators import (
    GeneralizedTransLasso,
    PooledLasso,
    PretrainingLasso,
    TargetLasso,
    TransferFit,
    fit_two_stage,
    pretraining_map,
    stage2_weights,
)
from .solver import (
    CDSettings,
    LassoResult,
    duality_gap,
    lambda_max,
    lasso_objective,
    lasso_path,
    solve_weighted_lasso,
    solve_weighted_lasso_gram,
    weighted_lasso_path,
)
from .stages import SolveOptions
from .translasso import QAggregation, TransLasso, q_aggregate, rank_sources

__all__ = [
    "STRATEGIES",
    "CDSettings",
    "SolveOptions",
    "TransferBase",
    "GeneralizedTransLassoCV",
    "QAggregation",
    "StrategyChoice",
    "TransLasso",
    "compare_strategies",
    "q_aggregate",
    "rank_sources",
    "ConvergenceError",
    "ConvergenceWarning",
    "GeneralizedTransLasso",
    "LassoResult",
    "NotIdentifiableError",
    "PooledLasso",
    "PretrainingLasso",
    "TargetLasso",
    "TransferFit",
    "duality_gap",
    "fit_two_stage",
    "lambda_max",
    "lasso_objective",
    "lasso_path",
    "pretraining_map",
    "solve_weighted_lasso",
    "solve_weighted_lasso_gram",
    "stage2_weights",
    "weighted_lasso_path",
]
