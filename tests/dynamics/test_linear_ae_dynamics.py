"""Mode dynamics of a linear autoencoder against ODE integration and matrix gradient descent."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import dynamics.linear_ae_dynamics as lad


def test_logistic_flow_matches_ode_integration():
    lam = np.array([3.0, 1.0, 0.2])
    t = np.linspace(0, 6, 13)
    sol = solve_ivp(lambda _, u: 2 * lam * u * (1 - u ** 2), (0, 6), np.full(3, 0.01),
                    t_eval=t, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(lad.mode_strengths(lam, t, init=1e-4), sol.y.T ** 2, atol=1e-8)


def test_gd_recursion_matches_matrix_gradient_descent():
    rng = np.random.default_rng(0)
    D = 6
    V, _ = np.linalg.qr(rng.standard_normal((D, D)))
    lam = np.array([2.0, 1.5, 1.0, 0.5, 0.2, 0.05])
    S = (V * lam) @ V.T
    p0, eta, T = 1e-3, 0.1, 300
    E = np.sqrt(p0) * V.T
    Z = np.sqrt(p0) * V
    for _ in range(T):
        R = (np.eye(D) - Z @ E) @ S
        E, Z = E + 2 * eta * Z.T @ R, Z + 2 * eta * R @ E.T
    loss_dirs = lad.per_direction_loss(S, V, Z @ E)
    theory = lad.mode_losses(lam, lad.mode_strengths(lam, [T], init=p0, lr=eta))[0]
    np.testing.assert_allclose(loss_dirs, theory, rtol=1e-8, atol=1e-12)


def test_half_times_and_order():
    lam = np.array([4.0, 1.0, 0.25])
    ht = lad.half_times(lam, init=1e-4)
    p = lad.mode_strengths(lam, ht, init=1e-4)
    np.testing.assert_allclose(np.diag(p), 0.5, rtol=1e-9)
    assert ht[0] < ht[1] < ht[2]
    assert ht[2] / ht[0] == pytest.approx(16.0)


def test_subspace_curves_bottom_learned_last():
    lam = 0.7 ** np.arange(20)
    t = np.geomspace(0.1, 1e4, 50)
    top, bottom = lad.subspace_loss_curves(lam, lad.mode_strengths(lam, t, init=1e-6))
    # time at which each subspace loss halves: the bottom takes much longer
    t_top = t[np.argmax(top < 0.5)]
    t_bot = t[np.argmax(bottom < 0.5)]
    assert t_bot > 3 * t_top
