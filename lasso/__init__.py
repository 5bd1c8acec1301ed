"""Empirical l1 transfer estimators: generalized Trans-Lasso and the methods it contains.

See ``../shared/DESIGN.md`` (conventions) and spec ``translasso_replica.md`` sections 1.3, 2, 7.
Dataset index 0 is the target; objectives are unnormalised, ``1/2 ||y - A x||^2 + lam ||x||_1``.
"""

from .cv import STRATEGIES, GeneralizedTransLassoCV, StrategyChoice, compare_strategies
from .errors import ConvergenceError, ConvergenceWarning, NotIdentifiableError
from .estimators import (
    GeneralizedTransLasso,
    PooledLasso,
    PretrainingLasso,
    TargetLasso,
    TransferFit,
    fit_two_stage,
    stage2_weights,
)
from .solver import (
    LassoResult,
    duality_gap,
    lambda_max,
    lasso_objective,
    lasso_path,
    solve_weighted_lasso,
    solve_weighted_lasso_gram,
    weighted_lasso_path,
)
from .translasso import QAggregation, TransLasso, q_aggregate, rank_sources

__all__ = [
    "STRATEGIES",
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
    "solve_weighted_lasso",
    "solve_weighted_lasso_gram",
    "stage2_weights",
    "weighted_lasso_path",
]
