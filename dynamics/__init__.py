"""Gradient-descent coefficient dynamics of two-layer ReLU CNNs with parameter transfer.

Theory side of the CNN part: the two-task data model of
Yuan et al. (arXiv:2509.22056), exact full-batch GD run in coefficient space, the
gamma/rho coefficient iterations, the alpha-proportion transfer initialisation and the phase
boundaries of Theorems 4.2/4.3 and Proposition 4.4.  numpy/scipy/numba/sympy only.
"""

from dynamics.cnn_batched import (
    BatchedResult,
    BatchedRuns,
    pack_runs,
    pack_signal_noise,
    simulate_cnn_gd_batched,
)
from dynamics.cnn_grid import gaussian_test_error, simulate_kou_runs, simulate_transfer_runs
from dynamics.cnn_iterations import CoefficientPath, iterate_coefficients
from dynamics.cnn_setting import (
    LAYOUTS,
    TRANSFER_MODES,
    CNNTransferSetting,
    TaskSample,
    sample_task,
    signal_vectors,
)
from dynamics.cnn_simulator import (
    CNNCoefficients,
    CNNTrajectory,
    DivergenceError,
    cnn_output,
    logistic_loss,
    simulate_cnn_gd,
)
from dynamics.cnn_theory import (
    RegimePrediction,
    critical_u_norm_scratch,
    critical_u_norm_transfer,
    negative_transfer_ratios,
    predict_regime,
    scratch_ratio,
    sympy_expressions,
    transfer_gamma,
    transfer_term,
)
from dynamics.cnn_transfer import TransferInit, n_inherited, transfer_init
from dynamics.kou_setting import KOU_INITS, KOU_POOLS, KouSetting, draw_kou, kou_init, sample_kou
from dynamics.phase_boundary import (
    THEOREMS,
    PhaseFit,
    boundary,
    cell_noise_sd,
    fit_exponent,
    fit_phase,
    isotonic_decreasing,
    theorem_constant,
)

__all__ = [
    "CNNTransferSetting",
    "TaskSample",
    "sample_task",
    "signal_vectors",
    "LAYOUTS",
    "TRANSFER_MODES",
    "simulate_cnn_gd",
    "CNNTrajectory",
    "CNNCoefficients",
    "cnn_output",
    "logistic_loss",
    "DivergenceError",
    "iterate_coefficients",
    "CoefficientPath",
    "transfer_init",
    "TransferInit",
    "n_inherited",
    "transfer_term",
    "scratch_ratio",
    "transfer_gamma",
    "negative_transfer_ratios",
    "critical_u_norm_transfer",
    "critical_u_norm_scratch",
    "sympy_expressions",
    "predict_regime",
    "RegimePrediction",
    "simulate_cnn_gd_batched",
    "pack_runs",
    "pack_signal_noise",
    "BatchedRuns",
    "BatchedResult",
    "gaussian_test_error",
    "simulate_kou_runs",
    "simulate_transfer_runs",
    "KouSetting",
    "KOU_INITS",
    "KOU_POOLS",
    "sample_kou",
    "kou_init",
    "draw_kou",
    "PhaseFit",
    "THEOREMS",
    "boundary",
    "cell_noise_sd",
    "fit_exponent",
    "fit_phase",
    "isotonic_decreasing",
    "theorem_constant",
]
