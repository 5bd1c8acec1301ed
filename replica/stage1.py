r"""Stage 1 (pooled pretraining Lasso): replica-symmetric equations of state.

Order parameters :math:`\Theta_1=(Q_1, m_1^{(k)}, \chi_1)` and conjugates
(Okajima & Obuchi 2024, arXiv:2409.17704; ``docs/translasso_theory.md``, stage-1 equations):

.. math::

    \hat Q_1=\frac{\alpha_{\rm tot}}{1+\chi_1},\quad
    \hat m_1^{(k)}=\frac{\alpha_k}{1+\chi_1},\quad
    \hat\chi_1=\sum_k\alpha_k\frac{\rho_k-2m_1^{(k)}+Q_1+\sigma_k^2}{(1+\chi_1)^2},

.. math::

    Q_1=\hat Q_1^{-2}\sum_c w_c M^{(2)}_{\lambda_1}(\eta_c,s_c^2),\quad
    m_1^{(k)}=\hat Q_1^{-1}\sum_c w_c[\mu_{c,k}M^{(1)}_{\lambda_1}+u_{c,k}P_{\lambda_1}],\quad
    \chi_1=\hat Q_1^{-1}\sum_c w_cP_{\lambda_1},

with :math:`\mathbf u_c=\Sigma_c\hat{\mathbf m}_1`,
:math:`\eta_c=\hat{\mathbf m}_1^\top\boldsymbol\mu_c`,
:math:`s_c^2=\hat{\mathbf m}_1^\top\Sigma_c\hat{\mathbf m}_1+\hat\chi_1`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from replica.checks import instance, real
from replica.errors import NotIdentifiableError
from replica.moments import st_moments
from replica.quadrature import default_kernel_args
from replica.scenario import TransferScenario
from replica.solver import initial_state, run_fixed_point, solver_options

__all__ = [
    "PretrainingResult",
    "solve_pretraining",
    "stage1_model",
    "unused_stage1_part",
    "unused_stage2_part",
    "stage1_conjugates",
    "stage1_class_fields",
]


def stage1_model(scenario: TransferScenario, lam1: float) -> tuple:
    """Kernel model of stage 1: ``(1, (w, mu, cov, data, lam1), unused stage-2 part)``.

    ``w, mu, cov`` are the prior's weights (C,), means (C, K) and covariances (C, K, K);
    ``data`` stacks the rows ``alphas, sigmas**2, rho`` (shape (3, K)). Both stages share one
    compiled loop (:func:`replica.kernels.iterate`), so their models have the same layout.
    """
    p = scenario.prior
    data = np.empty((3, scenario.n_datasets))
    data[0] = scenario.alphas
    data[1] = np.asarray(scenario.sigmas, dtype=np.float64) ** 2
    data[2] = p.second_moments
    return (1, (p.weights, p.means, p.covs, data, float(lam1)), unused_stage2_part())


def unused_stage2_part() -> tuple:
    """Placeholder of the stage-2 part of a stage-1 model (same types, never read)."""
    return (_EMPTY_2D, _EMPTY_1D, default_kernel_args())


def unused_stage1_part(prior) -> tuple:
    """Placeholder of the stage-1 part of a stage-2 model (same types, never read)."""
    return (prior.weights, prior.means, prior.covs, _EMPTY_2D, 0.0)


_EMPTY_1D = np.empty(0)
_EMPTY_2D = np.empty((0, 0))


@njit(cache=True, error_model="numpy")
def stage1_conjugates(data, state):
    """Conjugates ``(Qh1, mh1[K], chih1)`` of the state ``(Q1, m1[K], chi1)``."""
    k_data = data.shape[1]
    q1 = state[0]
    denom = 1.0 + state[1 + k_data]
    qh = 0.0
    chih = 0.0
    mh = np.empty(k_data)
    for k in range(k_data):
        alpha = data[0, k]
        qh += alpha
        mh[k] = alpha / denom
        chih += alpha * (data[2, k] - 2.0 * state[1 + k] + q1 + data[1, k])
    return qh / denom, mh, chih / (denom * denom)


@njit(cache=True, error_model="numpy")
def stage1_class_fields(w, mu, cov, mh, chih):
    """Per class c: eta_c, s_c^2 and u_c = Sigma_c mh (law of the stage-1 field h_1 | c)."""
    n_cls, k_data = mu.shape
    eta = np.empty(n_cls)
    s2 = np.empty(n_cls)
    u = np.empty((n_cls, k_data))
    for c in range(n_cls):
        e = 0.0
        q = 0.0
        for k in range(k_data):
            uk = 0.0
            for j in range(k_data):
                uk += cov[c, k, j] * mh[j]
            u[c, k] = uk
            e += mh[k] * mu[c, k]
            q += mh[k] * uk
        eta[c] = e
        s2[c] = q + chih
    return eta, s2, u


@njit(cache=True, error_model="numpy", inline="always")
def stage1_map(model, state):
    """One undamped application of the stage-1 fixed-point map; state = (Q1, m1[K], chi1).

    Inlined into the iteration kernel (``inline="always"``): compiled once, not twice.
    """
    w, mu, cov, data, lam1 = model[1]
    k_data = data.shape[1]
    qh, mh, chih = stage1_conjugates(data, state)
    eta, s2, u = stage1_class_fields(w, mu, cov, mh, chih)
    out = np.empty(k_data + 2)
    for k in range(k_data + 2):
        out[k] = 0.0
    for c in range(w.shape[0]):
        p, m1c, m2c = st_moments(eta[c], s2[c], lam1)
        out[0] += w[c] * m2c
        for k in range(k_data):
            out[1 + k] += w[c] * (mu[c, k] * m1c + u[c, k] * p)
        out[1 + k_data] += w[c] * p
    out[0] /= qh * qh
    for k in range(k_data + 1):
        out[1 + k] /= qh
    return out


@dataclass(frozen=True)
class PretrainingResult:
    r"""Fixed point of the stage-1 equations of state and the observables it predicts.

    Attributes
    ----------
    Q1, m1, chi1
        :math:`Q_1=\|\hat x^{(1st)}\|^2/N`, :math:`m_1^{(k)}=\hat x^{(1st)}\cdot r^{(k)}/N`
        (tuple, index 0 the target) and the susceptibility :math:`\chi_1`.
    Qh1, mh1, chih1
        Conjugates :math:`\hat Q_1, \hat m_1^{(k)}, \hat\chi_1`.
    eps1
        Prediction error on a new target sample (noise included),
        :math:`\sigma_0^2+\rho_0-2m_1^{(0)}+Q_1` (``docs/translasso_theory.md``, observables).
    eps1_pooled
        :math:`\sum_k\alpha_k(\sigma_k^2+\rho_k-2m_1^{(k)}+Q_1)/\alpha_{\rm tot}`.
    mse1
        :math:`\varepsilon^{(1st)}-\sigma_0^2=\|\hat x^{(1st)}-r^{(0)}\|^2/N`.
    density1
        Fraction of non-zeros :math:`\hat Q_1\chi_1`.
    train_error1
        Mean squared training residual per dataset,
        :math:`(\sigma_k^2+\rho_k-2m_1^{(k)}+Q_1)/(1+\chi_1)^2`.
    converged, iterations, residual
        Convergence report of the damped fixed-point iteration (residual = max-norm of
        :math:`F(\Theta)-\Theta`).
    """

    lam1: float
    Q1: float
    m1: tuple
    chi1: float
    Qh1: float
    mh1: tuple
    chih1: float
    eps1: float
    eps1_pooled: float
    mse1: float
    density1: float
    train_error1: tuple
    converged: bool
    iterations: int
    residual: float

    @property
    def state(self) -> np.ndarray:
        """Order parameters as the solver's state vector (Q1, m1..., chi1), for warm starts."""
        return np.array([self.Q1, *self.m1, self.chi1])

    def to_dict(self) -> dict:
        """Flat dict; vector quantities are spread as ``m1_0, m1_1, ...``."""
        return flat_fields(self)


def flat_fields(result) -> dict:
    """The fields of a result dataclass as a flat dict; tuples spread as ``name_0, name_1, ...``."""
    out = {}
    for f in fields(result):
        key, val = f.name, getattr(result, f.name)
        if isinstance(val, tuple):
            for k, v in enumerate(val):
                out[f"{key}_{k}"] = v
        else:
            out[key] = val
    return out


def solve_pretraining(
    scenario: TransferScenario,
    lam1: float,
    *,
    tol: float = 1e-11,
    max_iter: int = 5000,
    damping: float = 0.0,
    init=None,
    strict: bool = False,
    anderson: int = 4,
) -> PretrainingResult:
    r"""Solve the stage-1 (pooled Lasso) equations of state.

    Parameters
    ----------
    scenario : TransferScenario
        Data ensemble.
    lam1 : float
        Penalty :math:`\lambda_1\ge0` of
        :math:`\frac12\sum_k\|y^{(k)}-A^{(k)}x\|^2+\lambda_1\|x\|_1`; ``math.inf`` allowed.
    tol : float
        Stop when :math:`\|F(\Theta)-\Theta\|_\infty\le` ``tol``.
    max_iter : int
        Maximum number of iterations.
    damping : float in [0, 1)
        :math:`\eta` in :math:`\Theta\leftarrow\eta\Theta+(1-\eta)F(\Theta)` (the mixing of the
        Anderson step is :math:`1-\eta`). The default 0 (full Anderson steps) was the fastest
        and converged on 150 random scenarios; if the iteration fails (no convergence or a
        non-finite iterate) it is retried once with plain iteration and damping
        :math:`\max(0.9,\eta)` before reporting (:class:`~replica.solver.SolverOptions`).
    init : PretrainingResult or array_like, optional
        Warm start (a previous result or the state vector ``(Q1, m1..., chi1)``); default
        :math:`(Q_1,m_1,\chi_1)=(1,0,1)` (``docs/translasso_theory.md``, numerical scheme).
    strict : bool
        Raise :class:`~replica.errors.ConvergenceError` instead of warning.
    anderson : int
        Memory of the Anderson acceleration (:mod:`replica.fixed_point`); 0 gives the plain
        damped iteration. The fallback retry is always plain damped iteration.

    Returns
    -------
    PretrainingResult
    """
    instance("scenario", scenario, TransferScenario)
    lam1 = real("lam1", lam1, low=0.0, allow_inf=True, what="penalty")
    options = solver_options(tol, max_iter, damping, anderson, strict)
    if lam1 == 0.0 and scenario.alpha_total <= 1.0:
        raise NotIdentifiableError(
            f"lam1 = 0 with alpha_total = {scenario.alpha_total:.4g} <= 1: the pooled "
            "least-squares problem has no unique solution; use lam1 > 0"
        )
    k_data = scenario.n_datasets
    default = np.zeros(k_data + 2)
    default[0] = default[-1] = 1.0
    x0 = initial_state(init, PretrainingResult, default, "(Q1, m1..., chi1)")
    from replica.kernels import iterate  # the loop of both stages (imports this module)

    model = stage1_model(scenario, lam1)
    fp = run_fixed_point(
        iterate, model, x0, options,
        lambda: f"stage-1 saddle point (lam1 = {lam1}, alphas = {scenario.alphas})",
    )
    return _pretraining_result(model, fp)


def _pretraining_result(model, fp) -> PretrainingResult:
    data = model[1][3]
    alphas, sig2, rho = data
    state = fp.state
    k_data = data.shape[1]
    q1 = float(state[0])
    m1 = np.asarray(state[1 : 1 + k_data], dtype=float)
    chi1 = float(state[1 + k_data])
    qh, mh, chih = stage1_conjugates(data, state)
    per_data = sig2 + rho - 2.0 * m1 + q1
    eps1_pooled = float(np.dot(alphas, per_data) / alphas.sum())
    return PretrainingResult(
        lam1=model[1][4],
        Q1=q1,
        m1=tuple(float(v) for v in m1),
        chi1=chi1,
        Qh1=float(qh),
        mh1=tuple(float(v) for v in mh),
        chih1=float(chih),
        eps1=float(per_data[0]),
        eps1_pooled=eps1_pooled,
        mse1=float(per_data[0] - sig2[0]),
        density1=float(qh * chi1),
        train_error1=tuple(float(v) for v in per_data / (1.0 + chi1) ** 2),
        converged=fp.converged,
        iterations=fp.iterations,
        residual=fp.residual,
    )
