r"""Stage 1 (pooled pretraining Lasso): replica-symmetric equations of state.

Order parameters :math:`\Theta_1=(Q_1, m_1^{(k)}, \chi_1)` and conjugates
(Okajima & Obuchi 2024; spec ``translasso_replica.md`` section 3.2, derived and checked there):

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

import math
from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from replica.errors import IllPosedError, NonFiniteIterateError, report_nonconvergence
from replica.fixed_point import anderson_step, residual
from replica.moments import st_moments
from replica.scenario import TransferScenario

__all__ = ["PretrainingResult", "solve_pretraining"]

# status codes returned by the kernels
_CONVERGED, _MAX_ITER, _NONFINITE = 0, 1, 2


@njit(cache=True)
def stage1_conjugates(alphas, sig2, rho, q1, m1, chi1):
    """Conjugates (Qh1, mh1[K], chih1) of spec section 3.2."""
    k_data = alphas.shape[0]
    denom = 1.0 + chi1
    qh = 0.0
    chih = 0.0
    mh = np.empty(k_data)
    for k in range(k_data):
        qh += alphas[k]
        mh[k] = alphas[k] / denom
        chih += alphas[k] * (rho[k] - 2.0 * m1[k] + q1 + sig2[k])
    return qh / denom, mh, chih / (denom * denom)


@njit(cache=True)
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


@njit(cache=True)
def stage1_map(w, mu, cov, alphas, sig2, rho, lam1, state):
    """One undamped application of the stage-1 fixed-point map; state = (Q1, m1[0..K-1], chi1)."""
    k_data = alphas.shape[0]
    q1 = state[0]
    m1 = state[1 : 1 + k_data]
    chi1 = state[1 + k_data]
    qh, mh, chih = stage1_conjugates(alphas, sig2, rho, q1, m1, chi1)
    eta, s2, u = stage1_class_fields(w, mu, cov, mh, chih)
    out = np.zeros_like(state)
    for c in range(w.shape[0]):
        p, m1c, m2c = st_moments(eta[c], s2[c], lam1)
        out[0] += w[c] * m2c
        for k in range(k_data):
            out[1 + k] += w[c] * (mu[c, k] * m1c + u[c, k] * p)
        out[1 + k_data] += w[c] * p
    out[0] /= qh * qh
    for k in range(k_data):
        out[1 + k] /= qh
    out[1 + k_data] /= qh
    return out


@njit(cache=True)
def stage1_iterate(w, mu, cov, alphas, sig2, rho, lam1, init, damping, tol, max_iter, memory):
    """Damped (Anderson-accelerated) iteration of :func:`stage1_map`.

    Returns (state, iterations, residual, status).
    """
    x = init.copy()
    n = x.shape[0]
    positive = np.zeros(n, dtype=np.bool_)
    positive[0] = True
    positive[n - 1] = True
    hist_dx = np.zeros((memory, n))
    hist_dg = np.zeros((memory, n))
    last_x = np.zeros(n)
    last_g = np.zeros(n)
    count = -1
    res = math.inf
    prev = math.inf
    for it in range(1, max_iter + 1):
        fx = stage1_map(w, mu, cov, alphas, sig2, rho, lam1, x)
        res, finite = residual(x, fx)
        if not finite:
            return x, it, math.inf, _NONFINITE
        if res <= tol:
            return fx, it, res, _CONVERGED
        x, count = anderson_step(x, fx, res, prev, hist_dx, hist_dg, last_x, last_g, count,
                                 1.0 - damping, positive)
        prev = res
    return x, max_iter, res, _MAX_ITER


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
        :math:`\sigma_0^2+\rho_0-2m_1^{(0)}+Q_1` (spec section 3.4).
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
        out = {}
        for f in fields(self):
            key, val = f.name, getattr(self, f.name)
            if isinstance(val, tuple):
                for k, v in enumerate(val):
                    out[f"{key}_{k}"] = v
            else:
                out[key] = val
        return out


def _prior_arrays(scenario: TransferScenario):
    p = scenario.prior
    alphas = np.asarray(scenario.alphas, dtype=np.float64)
    sig2 = np.asarray(scenario.sigmas, dtype=np.float64) ** 2
    return p.weights, p.means, p.covs, alphas, sig2, p.second_moments


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
        :math:`\max(0.9,\eta)` before reporting.
    init : PretrainingResult or array_like, optional
        Warm start (a previous result or the state vector ``(Q1, m1..., chi1)``); default
        :math:`(Q_1,m_1,\chi_1)=(1,0,1)` (spec section 4).
    strict : bool
        Raise :class:`~replica.errors.ConvergenceError` instead of warning.
    anderson : int
        Memory of the Anderson acceleration (:mod:`replica.fixed_point`); 0 gives the plain
        damped iteration. The fallback retry is always plain damped iteration.

    Returns
    -------
    PretrainingResult
    """
    lam1 = float(lam1)
    if math.isnan(lam1) or lam1 < 0:
        raise ValueError(f"lam1 = {lam1}: penalties must be >= 0")
    _check_solver_args(tol, max_iter, damping)
    if lam1 == 0.0 and scenario.alpha_total <= 1.0:
        raise IllPosedError(
            f"lam1 = 0 with alpha_total = {scenario.alpha_total:.4g} <= 1: the pooled "
            "least-squares problem has no unique solution; use lam1 > 0"
        )
    w, mu, cov, alphas, sig2, rho = _prior_arrays(scenario)
    k_data = scenario.n_datasets
    if init is None:
        x0 = np.zeros(k_data + 2)
        x0[0] = 1.0
        x0[-1] = 1.0
    elif isinstance(init, PretrainingResult):
        x0 = init.state
    else:
        x0 = np.asarray(init, dtype=np.float64).copy()
        if x0.shape != (k_data + 2,):
            raise ValueError(
                f"init: expected {k_data + 2} values (Q1, m1..., chi1), got {x0.shape}"
            )
    if int(anderson) < 0:
        raise ValueError(f"anderson = {anderson}: memory must be >= 0")
    state, it, res, status = stage1_iterate(
        w, mu, cov, alphas, sig2, rho, lam1, x0, damping, tol, max_iter, int(anderson)
    )
    total_it = it
    if status != _CONVERGED:
        heavier = max(0.9, damping)
        state, it, res, status = stage1_iterate(
            w, mu, cov, alphas, sig2, rho, lam1, x0, heavier, tol, max_iter, 0
        )
        total_it += it
    if status == _NONFINITE:
        raise NonFiniteIterateError(
            f"stage-1 saddle point: an iterate became NaN/inf (lam1 = {lam1}, "
            f"alphas = {scenario.alphas}); try a larger damping or another init"
        )
    converged = status == _CONVERGED
    if not converged:
        report_nonconvergence("stage-1 saddle point", total_it, res, tol, strict)
    return _pretraining_result(scenario, lam1, state, converged, total_it, res)


def _pretraining_result(scenario, lam1, state, converged, iterations, residual):
    w, mu, cov, alphas, sig2, rho = _prior_arrays(scenario)
    k_data = scenario.n_datasets
    q1 = float(state[0])
    m1 = np.asarray(state[1 : 1 + k_data], dtype=float)
    chi1 = float(state[1 + k_data])
    qh, mh, chih = stage1_conjugates(alphas, sig2, rho, q1, m1, chi1)
    per_data = sig2 + rho - 2.0 * m1 + q1
    eps1_pooled = float(np.dot(alphas, per_data) / alphas.sum())
    return PretrainingResult(
        lam1=lam1,
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
        converged=bool(converged),
        iterations=int(iterations),
        residual=float(residual),
    )


def _check_solver_args(tol, max_iter, damping):
    if not (tol > 0):
        raise ValueError(f"tol = {tol}: must be > 0")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter = {max_iter}: must be >= 1")
    if not (0.0 <= damping < 1.0):
        raise ValueError(f"damping = {damping}: must lie in [0, 1)")
