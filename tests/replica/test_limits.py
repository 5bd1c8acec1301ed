"""Analytic limits of the equations of state (``docs/translasso_theory.md``)."""

import math

import numpy as np
import pytest
from scipy import integrate, optimize, special

import replica as rp

SQRT2PI = math.sqrt(2 * math.pi)


def _bernoulli_gauss(eps, k=1):
    return rp.support_prior(eps, [0.0] * k) if k > 1 else rp.GaussianMixturePrior(
        [eps, 1 - eps], [[0.0], [0.0]], [[[1.0]], [[0.0]]]
    )


def _amp_state_evolution(eps, alpha, sigma, lam):
    """Independent scalar AMP state evolution of the Lasso (Bayati-Montanari form).

    Unknowns: effective noise tau^2 and threshold theta, with
    tau^2 = (sigma^2 + E[(S_theta(X + tau Z) - X)^2]) / alpha and theta = lam / (alpha - P),
    P = Pr(|X + tau Z| > theta); X ~ (1 - eps) delta_0 + eps N(0, 1). The inner average over Z
    uses scipy.stats textbook formulas, the outer one over X scipy quad; solved by fsolve.
    """

    def given_x(x, tau, theta):
        a, b = (theta - x) / tau, (-theta - x) / tau
        sf_a, cdf_b = special.ndtr(-a), special.ndtr(b)
        pdf_a, pdf_b = math.exp(-a * a / 2) / SQRT2PI, math.exp(-b * b / 2) / SQRT2PI
        p = sf_a + cdf_b
        # E[S] and E[S^2] with S = soft threshold of x + tau Z (textbook forms)
        es = (x - theta) * sf_a + tau * pdf_a + (x + theta) * cdf_b - tau * pdf_b
        es2 = (((x - theta) ** 2 + tau**2) * sf_a + tau * (x - theta) * pdf_a
               + ((x + theta) ** 2 + tau**2) * cdf_b - tau * (x + theta) * pdf_b)
        return es2 - 2 * x * es + x * x, p

    def moments(tau, theta):
        out = []
        for j in (0, 1):
            def f(x, j=j):
                return given_x(x, tau, theta)[j] * math.exp(-x * x / 2) / SQRT2PI

            g = integrate.quad(f, -12, 12, epsabs=1e-14, epsrel=1e-12, limit=200)[0]
            out.append(eps * g + (1 - eps) * given_x(0.0, tau, theta)[j])
        return out

    def equations(z):
        tau, theta = z
        mse, p = moments(tau, theta)
        return [tau**2 - (sigma**2 + mse) / alpha, theta * (alpha - p) - lam]

    tau, theta = optimize.fsolve(equations, [1.0, lam / alpha], xtol=1e-13)
    return moments(tau, theta)


@pytest.mark.parametrize("eps,alpha,sigma,lam", [(0.2, 0.6, 0.3, 0.2), (0.1, 1.5, 0.5, 0.8)])
def test_k1_is_standard_lasso_state_evolution(eps, alpha, sigma, lam):
    sc = rp.TransferScenario((alpha,), (sigma,), _bernoulli_gauss(eps))
    s1 = rp.solve_pretraining(sc, lam, strict=True)
    mse, density = _amp_state_evolution(eps, alpha, sigma, lam)
    assert s1.mse1 == pytest.approx(mse, rel=1e-7)
    assert s1.density1 == pytest.approx(density, rel=1e-7)


def test_pooled_identical_datasets_equal_one_big_dataset():
    """Two datasets with identical truths and noise pool into one with alpha_0 + alpha_1."""
    pr2 = rp.support_prior(0.15, [0.0, 0.0], corr=1.0)
    sc2 = rp.TransferScenario((0.4, 0.9), (0.3, 0.3), pr2)
    sc1 = rp.TransferScenario((1.3,), (0.3,), _bernoulli_gauss(0.15))
    a = rp.solve_pretraining(sc2, 0.25, strict=True)
    b = rp.solve_pretraining(sc1, 0.25, strict=True)
    assert a.mse1 == pytest.approx(b.mse1, rel=1e-9)
    assert a.density1 == pytest.approx(b.density1, rel=1e-9)


def test_kappa0_dlam0_is_target_only_lasso():
    pr = rp.support_prior(0.1, [0.05, 0.05], corr=0.5)
    sc = rp.TransferScenario((0.7, 2.0), (0.2, 0.4), pr)
    res = rp.solve_trans_lasso(sc, rp.TransLassoHyper(lam1=0.4, lam2=0.15), strict=True)
    target = rp.TransferScenario((0.7,), (0.2,), _bernoulli_gauss(0.15))
    ref = rp.solve_pretraining(target, 0.15, strict=True)
    assert abs(res.chi12) < 1e-9 and abs(res.Rh) < 1e-9
    assert res.eps2 == pytest.approx(ref.eps1, rel=1e-8)
    assert res.density2 == pytest.approx(ref.density1, rel=1e-8)


@pytest.mark.parametrize("kappa", [0.0, 0.5, 1.0, 1.3])
def test_unpenalised_stage2_is_ols(kappa):
    a0, s0 = 1.8, 0.3
    sc = rp.TransferScenario((a0, 2.0), (s0, 0.5), rp.support_prior(0.1, [0.05, 0.05]))
    res = rp.solve_trans_lasso(sc, rp.TransLassoHyper(0.3, 0.0, kappa, 0.0), strict=True)
    assert res.mse2 == pytest.approx(s0**2 / (a0 - 1.0), rel=1e-8)
    assert res.chi12 == pytest.approx(-kappa * res.chi1, abs=1e-9)


def test_kappa1_infinite_lam2_returns_pretrained():
    sc = rp.TransferScenario((0.5, 3.0), (0.1, 0.2), rp.support_prior(0.1, [0.02, 0.03]))
    res = rp.solve_trans_lasso(sc, rp.TransLassoHyper(0.3, math.inf, 1.0, 0.0), strict=True)
    assert res.eps2 == pytest.approx(res.eps1, rel=1e-12)
    assert res.Q2 == 0.0 and res.density2 == 0.0
    # and continuity as lam2 grows
    big = rp.solve_trans_lasso(sc, rp.TransLassoHyper(0.3, 1e4, 1.0, 0.0), strict=True)
    assert big.eps2 == pytest.approx(res.eps1, rel=1e-6)


def test_infinite_lam1_and_dlam():
    sc = rp.TransferScenario((0.8, 3.0), (0.1, 0.2), rp.support_prior(0.1, [0.02, 0.03]))
    res = rp.solve_trans_lasso(sc, rp.TransLassoHyper(math.inf, 0.2, 0.7, 0.5), strict=True)
    assert res.Q1 == 0.0 and res.chi1 == 0.0
    # empty support: the penalty is lam2 + dlam everywhere -> target-only Lasso at 0.7
    target = rp.TransferScenario((0.8,), (0.1,), rp.GaussianMixturePrior(
        [0.12, 0.88], [[0.0], [0.0]], [[[1.0]], [[0.0]]]))
    ref = rp.solve_pretraining(target, 0.7, strict=True)
    assert res.eps2 == pytest.approx(ref.eps1, rel=1e-8)
    # dlam = inf: fine-tuning only on the pretrained support
    r2 = rp.solve_trans_lasso(sc, rp.TransLassoHyper(0.3, 0.1, 0.0, math.inf), strict=True)
    assert r2.density2 <= r2.density1 + 1e-12
    assert math.isfinite(r2.eps2)


def test_sign_symmetry():
    covs = np.zeros((3, 2, 2))
    covs[0] = [[0.2, 0.1], [0.1, 0.2]]
    covs[1, 0, 0] = 0.1
    means = np.array([[1.0, 0.5], [-0.7, 0.0], [0.0, 0.0]])
    w = [0.15, 0.05, 0.80]
    sc_p = rp.TransferScenario((1.0, 2.0), (0.3, 0.3), rp.GaussianMixturePrior(w, means, covs))
    sc_m = rp.TransferScenario((1.0, 2.0), (0.3, 0.3), rp.GaussianMixturePrior(w, -means, covs))
    hy = rp.TransLassoHyper(0.25, 0.1, 0.6, 0.4)
    a = rp.solve_trans_lasso(sc_p, hy, strict=True)
    b = rp.solve_trans_lasso(sc_m, hy, strict=True)
    for q in ("Q1", "Q2", "m2", "R", "chi2", "chi12", "eps2"):
        assert getattr(a, q) == pytest.approx(getattr(b, q), rel=1e-9, abs=1e-13), q


@pytest.mark.parametrize("lam2", [0.06, 0.09, 0.1, 0.1000001, 0.101, 0.11, 0.14])
def test_target_only_limit_near_lam1_equals_lam2(lam2):
    """K = 1, kappa = dlam = 0: stage 2 is the Lasso at lam2 on the same data. Near
    lam2 = lam1 the two stages' noises are almost fully correlated (conditional variance -> 0):
    a degenerate corner for the stage-2 integrals that must still converge and be exact."""
    sc = rp.TransferScenario([0.8], [0.3], rp.support_prior(0.2, [0.1], n_datasets=1))
    res = rp.solve_trans_lasso(sc, rp.TransLassoHyper(0.1, lam2), strict=True)
    ref = rp.solve_pretraining(sc, lam2, strict=True)
    assert res.iterations < 100
    assert res.eps2 == pytest.approx(ref.eps1, rel=1e-9)
    assert res.density2 == pytest.approx(ref.density1, rel=1e-9)
