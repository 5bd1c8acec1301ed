"""Replica-symmetric saddle-point theory of the Generalized Trans-Lasso.

Okajima & Obuchi, arXiv:2409.17704; the equations and what is derived here are in
``docs/translasso_theory.md``
(dataset index 0 is the target).

Public API
----------
GaussianMixturePrior, support_prior
    Law of the K-vector of true coefficients.
TransferScenario, TransLassoHyper
    Data ensemble and hyperparameters (lam1, lam2, kappa, dlam).
solve_pretraining, solve_trans_lasso
    Fixed points of the stage-1 and stage-1+2 equations of state.
sweep, optimize, strategy_table, recommend, NelderMeadOptions
    Curves/grids, hyperparameter optimisation and the kappa=0 / dlam=0 selection rule.
Spectrum, SpectralDesign, CovarianceDesign, solve_rotinv_pretraining, solve_rotinv_trans_lasso,
solve_covariance
    Designs beyond i.i.d. entries: rotationally invariant spectra (single stage, stage 1, both
    stages) and Gaussian rows with a covariance Sigma (both stages),
    docs/translasso_real_designs.md.
QuadratureRule, SolverOptions
    Numerical controls of the stage-2 quadrature and of the fixed-point iteration.
ConvergenceWarning, ConvergenceError, NotIdentifiableError, NonFiniteIterateError
    What the solvers raise or warn (:mod:`replica.errors`).
"""

from replica.covariance import CovarianceResult, MonteCarlo, solve_covariance
from replica.design import CovarianceDesign, SpectralDesign, Spectrum
from replica.errors import (
    ConvergenceError,
    ConvergenceWarning,
    NonFiniteIterateError,
    NotIdentifiableError,
)
from replica.moments import soft_threshold_moments
from replica.optimize import (
    STRATEGIES,
    NelderMeadOptions,
    OptimizationResult,
    Recommendation,
    choose_lam1,
    optimize,
    recommend,
    strategy_table,
)
from replica.prior import GaussianMixturePrior, support_prior
from replica.quadrature import QuadratureRule
from replica.rotinv import RotInvPretrainingResult, solve_rotinv_pretraining
from replica.rotinv_stage2 import RotInvTransLassoResult, solve_rotinv_trans_lasso
from replica.scenario import ScenarioSample, TransferScenario, TransLassoHyper
from replica.solver import SolverOptions
from replica.stage1 import PretrainingResult, solve_pretraining
from replica.stage2 import TransLassoResult, solve_finetuning, solve_trans_lasso
from replica.sweep import sweep

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "NotIdentifiableError",
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
    "SolverOptions",
    "TransLassoResult",
    "solve_finetuning",
    "solve_trans_lasso",
    "sweep",
    "STRATEGIES",
    "OptimizationResult",
    "NelderMeadOptions",
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
    "RotInvTransLassoResult",
    "solve_rotinv_trans_lasso",
    "MonteCarlo",
    "CovarianceResult",
    "solve_covariance",
]
