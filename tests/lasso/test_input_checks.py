"""Unpenalised fits are allowed exactly when identifiable (the refusals are in the bad-input
table, ``test_bad_inputs.py``); answers compared with numpy least squares."""

import numpy as np
import pytest

from lasso import GeneralizedTransLasso, NotIdentifiableError, TargetLasso


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X0, y0 = rng.standard_normal((20, 10)), rng.standard_normal(20)
    X1, y1 = rng.standard_normal((40, 10)), rng.standard_normal(40)
    return (X0, y0), [(X1, y1)]


def test_lam1_zero_allowed_with_enough_rows(data):
    est = GeneralizedTransLasso(0.0, 0.5).fit(*data)
    X = np.vstack([data[0][0], data[1][0][0]])
    y = np.concatenate([data[0][1], data[1][0][1]])
    np.testing.assert_allclose(est.coef_stage1_, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-6)


@pytest.mark.parametrize("kappa", [0.0, 0.6, 1.0])
def test_lam2_zero_dlam_zero_is_least_squares_on_tall_target(data, kappa):
    """Stage 2 with no penalty at all is the least-squares fit of the target residual."""
    (X0, y0), sources = data
    est = GeneralizedTransLasso(0.3, 0.0, kappa, 0.0, tol=1e-14).fit((X0, y0), sources)
    x1 = est.coef_stage1_
    x2 = np.linalg.lstsq(X0, y0 - kappa * X0 @ x1, rcond=None)[0]
    np.testing.assert_allclose(est.coef_, kappa * x1 + x2, atol=1e-6)
    assert est.fit_.converged


def test_identifiability_boundary_rows_equal_features():
    """As many target rows as free coordinates: unique (allowed); one fewer: refused."""
    rng = np.random.default_rng(3)
    X0, y0 = rng.standard_normal((12, 12)), rng.standard_normal(12)
    X1, y1 = rng.standard_normal((30, 12)), rng.standard_normal(30)
    est = GeneralizedTransLasso(0.3, 0.0, 1.0, 0.0, tol=1e-14).fit((X0, y0), [(X1, y1)])
    x2 = np.linalg.solve(X0, y0 - X0 @ est.coef_stage1_)
    np.testing.assert_allclose(est.coef_stage2_, x2, atol=1e-6)
    with pytest.raises(NotIdentifiableError, match="12 features and only 11 rows"):
        GeneralizedTransLasso(0.3, 0.0, 1.0, 0.0).fit((X0[:11], y0[:11]), [(X1, y1)])
    with pytest.raises(NotIdentifiableError, match="12 features and only 11 rows"):
        TargetLasso(0.0, fit_intercept=True).fit((X0, y0))  # centring costs one rank
