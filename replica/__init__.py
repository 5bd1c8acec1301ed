"""Replica-symmetric saddle-point theory of the Generalized Trans-Lasso.

Okajima & Obuchi, arXiv:2409.17704; equations as in ``shared/specs/translasso_replica.md``
(dataset index 0 is the target).

Public API
----------
GaussianMixturePrior, support_prior
    Law of the K-vector of true coefficients.
TransferScenario, TransLassoHyper
    Data ensemble and hyperparameters (lam1, lam2, kappa, dlam).
solve_pretraining, solve_trans_lasso
    Fixed points of the stage-1 and stage-1+2 equations of state.
sweep, optimize, strategy_table, recommend
    Curves/grids, hyperparameter optimisation and the kappa=0 / dlam=0 selection rule.
Spectrum, SpectralDesign, CovarianceDesign, solve_rotinv_pretraining, solve_covariance
    Designs beyond i.i.d. entries: rotationally invariant spectra (single stage, stage 1) and
    Gaussian rows with a covariance Sigma (both stages), docs/translasso_real_designs.md.
"""

from replica.covariance import CovarianceResult, MonteCarlo, solve_covariance
from replica.design import CovarianceDesign, SpectralDesign, Spectrum
from replica.errors import (
    ConvergenceError,
    ConvergenceWarning,
    IllPosedError,
    NonFiniteIterateError,
)
from replica.moments import soft_threshold_moments
from replica.optimize import (
    STRATEGIES,
    OptimizationResult,
    Recommendation,
    choose_lam1,
    optimize,
    recommend,
    strategy_table,
)
from replica.prior import GaussianMixturePrior, support_prior
from replica.rotinv import RotInvPretrainingResult, solve_rotinv_pretraining
from replica.scenario import ScenarioSample, TransferScenario, TransLassoHyper
from replica.stage1 import PretrainingResult, solve_pretraining
from replica.stage2 import QuadratureRule, TransLassoResult, solve_finetuning, solve_trans_lasso
from replica.sweep import sweep

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "IllPosedError",
    "NonFiniteIterateError",
    "soft_threshold_moments",
    "GaussianMixturePrior",
    "support_prior",
    "ScenarioSample",
    "TransferScenario",
    "TransLassoHyper",
    "PretrainingResult",
    "solve_pretraining",
    "QuadratureRule",
    "TransLassoResult",
    "solve_finetuning",
    "solve_trans_lasso",
    "sweep",
    "STRATEGIES",
    "OptimizationResult",
    "Recommendation",
    "choose_lam1",
    "optimize",
    "recommend",
    "strategy_table",
    # real designs (docs/translasso_real_designs.md)
    "Spectrum",
    "SpectralDesign",
    "CovarianceDesign",
    "RotInvPretrainingResult",
    "solve_rotinv_pretraining",
    "MonteCarlo",
    "CovarianceResult",
    "solve_covariance",
]
