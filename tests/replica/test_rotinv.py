"""Rotationally invariant single-stage Lasso and stage 1 (replica.rotinv) against the i.i.d.
solver (exact Marchenko-Pastur reduction), closed forms and Haar-rotated simulations."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

import lasso
import replica
from replica.design import SpectralDesign, Spectrum
from replica.rotinv import _small_chi, _spectral_warm, solve_rotinv_pretraining, spectral_r


@pytest.mark.parametrize("lam1", [0.05, 0.3, 1.5])
@pytest.mark.parametrize("alphas", [(0.6,), (0.5, 4.0), (1.3, 0.4, 2.0)])
def test_marchenko_pastur_reproduces_iid_solver(alphas, lam1):
    k = len(alphas)
    prior = replica.support_prior(0.1 if k > 1 else 0.0, [0.05] * k if k > 1 else [0.15],
                                  corr=0.7)
    sc = replica.TransferScenario(alphas, tuple(0.1 + 0.1 * i for i in range(k)), prior)
    iid = replica.solve_pretraining(sc, lam1)
    rot = solve_rotinv_pretraining(
        sc, SpectralDesign(tuple(Spectrum.marchenko_pastur(a) for a in alphas)), lam1)
    assert rot.converged and iid.converged
    assert rot.mse1 == pytest.approx(iid.mse1, abs=1e-6)
    assert rot.density1 == pytest.approx(iid.density1, abs=1e-6)
    np.testing.assert_allclose(rot.m1, iid.m1, atol=1e-6)
    assert rot.chih1 == pytest.approx(iid.chih1, rel=1e-6)


def test_empirical_gaussian_spectrum_close_to_iid():
    """A sampled Gaussian design's spectrum (N = 1500) gives the i.i.d. answer to ~1%."""
    rng = np.random.default_rng(3)
    n = 1500
    sp = Spectrum.from_design(rng.standard_normal((2 * n, n)) / math.sqrt(n))
    sc = replica.TransferScenario((2.0,), (0.2,), replica.support_prior(0.0, [0.2]))
    rot = solve_rotinv_pretraining(sc, sp, 0.4)
    iid = replica.solve_pretraining(sc, 0.4)
    assert rot.mse1 == pytest.approx(iid.mse1, rel=0.01)
    assert rot.mse1 != pytest.approx(iid.mse1, rel=1e-9)  # a different, finite spectrum


def test_r_transform_point_mass_and_two_point_oracle():
    # A^T A = c I: R(z) = c exactly, R' = 0
    c = 2.5
    sp = Spectrum(eigenvalues=np.full(50, c))
    r, rp = sp.r_transform(0.3)
    assert r == pytest.approx(c, rel=1e-12) and abs(rp) < 1e-9
    # two-point spectrum with zeros: brentq oracle for gamma, finite-difference R'
    ev = np.r_[np.zeros(30), np.full(50, 0.5), np.full(20, 4.0)]
    sp = Spectrum(eigenvalues=ev)

    def gam(chi):
        return brentq(lambda g: np.mean(1 / (ev + g)) - chi, 1e-12, 1e6, xtol=1e-15)

    for chi in (0.2, 1.0, 5.0):
        r, rp = sp.r_transform(chi)
        assert r == pytest.approx(1 / chi - gam(chi), rel=1e-10)
        h = 1e-5 * chi
        rfd = ((1 / (chi + h) - gam(chi + h)) - (1 / (chi - h) - gam(chi - h))) / (2 * h)
        assert rp == pytest.approx(-rfd, rel=1e-5)  # R'(-chi) = -d/dchi R(-chi)


def test_spectral_r_warm_start_matches_cold():
    sp = Spectrum.power_law(0.7, 400, 1.0)
    kind, ev, z, mp = sp.kernel_arrays()
    cold = spectral_r(kind, ev, z, mp, 0.8, -1.0)
    warm = spectral_r(kind, ev, z, mp, 0.8, cold[2] * 1.3)
    np.testing.assert_allclose(cold, warm, rtol=1e-12)


def _oracle_gamma(ev, chi):
    """gamma with mean(1/(ev + gamma)) = chi by brentq to machine precision (slow oracle)."""
    lo = -ev.min() + 1e-300 if ev.min() > 0 else 1e-300
    return brentq(lambda g: np.mean(1 / (ev + g)) - chi, lo + 1e-14 * (1 + abs(lo)),
                  1 / chi + 1.0, xtol=1e-300, rtol=1e-15, maxiter=500)


@pytest.mark.parametrize("zeros", [0, 400])
def test_warm_inversion_along_an_iteration_matches_brentq(zeros):
    """The predictor / Taylor-acceptance inversion, fed a jumpy sequence of chi with one warm
    state (as the outer iteration does), agrees with a cold brentq solve at every step."""
    ev = np.r_[np.zeros(zeros), Spectrum.power_law(0.6, 1000 - zeros, 1.0).positive]
    sp = Spectrum(eigenvalues=ev)
    kind, pos, z, mp = sp.kernel_arrays()
    warm = np.zeros(4)
    chis = [1.0, 0.006, 0.38, 0.23, 0.24, 0.0155, 0.0607, 0.06013, 0.0601265, 0.0601265,
            0.06012655, 3.0, 2.9999]
    for chi in chis:
        r, rp, gam = _spectral_warm(kind, pos, z, mp, chi, warm)
        g_or = _oracle_gamma(ev, chi)
        s2 = np.mean(1 / (ev + g_or) ** 2)
        assert gam == pytest.approx(g_or, rel=1e-13, abs=1e-13), chi
        assert r == pytest.approx(1 / chi - g_or, rel=1e-11), chi
        assert rp == pytest.approx(1 / chi**2 - 1 / s2, rel=1e-9), chi


def test_fixed_point_conjugates_match_oracle_spectral_functionals():
    """At the returned fixed point, Qh1 = R(-chi1), gamma and chih1 equal the brentq values
    (the conjugates come from the solver's warm inversion state)."""
    sc = replica.TransferScenario((0.6,), (0.1,), replica.support_prior(0.0, [0.15]))
    sp = Spectrum.power_law(0.6, 1000, 1.0)
    res = solve_rotinv_pretraining(sc, sp, 1.0)
    ev = sp.eigenvalues
    g_or = _oracle_gamma(ev, res.chi1)
    r = 1 / res.chi1 - g_or
    rp = 1 / res.chi1**2 - 1 / np.mean(1 / (ev + g_or) ** 2)
    assert res.gamma[0] == pytest.approx(g_or, rel=1e-13)
    assert res.Qh1 == pytest.approx(r, rel=1e-12)
    chih = rp * res.mse1 + 0.1**2 * (r - res.chi1 * rp)
    assert res.chih1 == pytest.approx(chih, rel=1e-10)


def _simulate_single(sp, alpha, sigma, prior, lam, seeds, tag):
    n = sp.n_features
    m = int(round(alpha * n))
    out = []
    for s in seeds:
        rng = np.random.default_rng([s, n, tag])
        A = sp.sample_design(m, rng)
        r = prior.sample(n, rng)[0]
        y = A @ r + sigma * rng.standard_normal(m)
        x = lasso.solve_weighted_lasso(A, y, lam, tol=1e-12).coef
        out.append([np.mean((x - r) ** 2), np.mean(x != 0)])
    o = np.asarray(out)
    return o.mean(0), o.std(0, ddof=1) / math.sqrt(len(seeds))


def _check_single(n, seeds, spectra, lam):
    prior = replica.support_prior(0.0, [0.15])
    alpha, sigma = 0.6, 0.1
    sc = replica.TransferScenario((alpha,), (sigma,), prior)
    iid = replica.solve_pretraining(sc, lam)
    for sp in spectra:
        th = solve_rotinv_pretraining(sc, sp, lam, strict=True)
        mean, se = _simulate_single(sp, alpha, sigma, prior, lam, seeds, 1)
        z = (mean - np.array([th.mse1, th.density1])) / se
        assert np.all(np.abs(z) < 2.0), (sp.name, th.mse1, th.density1, mean, se)
        # the i.i.d. theory is rejected on these spectra (the check has power)
        assert abs(mean[0] - iid.mse1) / se[0] > 3.0, (sp.name, iid.mse1, mean, se)


def test_single_stage_vs_haar_simulation_small():
    """N = 500, 20 seeds, two non-MP spectra (default suite)."""
    n = 500
    _check_single(n, range(20), [Spectrum.geometric(0.6, n, 100.0),
                                 Spectrum.power_law(0.6, n, 1.0)], 0.3)


@pytest.mark.slow
def test_single_stage_vs_haar_simulation_large():
    n = 1000
    _check_single(n, range(24), [Spectrum.geometric(0.6, n, 100.0),
                                 Spectrum.power_law(0.6, n, 1.0)], 0.2)


def _check_stage1(n, seeds):
    prior = replica.support_prior(0.1, [0.05, 0.05], corr=0.8)
    alphas, sigmas, lam = (0.5, 1.0), (0.1, 0.2), 0.3
    sc = replica.TransferScenario(alphas, sigmas, prior)
    sps = (Spectrum.geometric(alphas[0], n, 30.0), Spectrum.power_law(alphas[1], n, 1.0))
    th = solve_rotinv_pretraining(sc, SpectralDesign(sps), lam, strict=True)
    out = []
    for s in seeds:
        rng = np.random.default_rng([s, n, 2])
        As = [sp.sample_design(int(round(a * n)), rng) for sp, a in zip(sps, alphas, strict=True)]
        r = prior.sample(n, rng)
        ys = [A @ r[k] + sigmas[k] * rng.standard_normal(A.shape[0]) for k, A in enumerate(As)]
        x = lasso.solve_weighted_lasso(np.vstack(As), np.concatenate(ys), lam, tol=1e-12).coef
        out.append([np.mean((x - r[0]) ** 2), np.mean((x - r[1]) ** 2), np.mean(x != 0)])
    o = np.asarray(out)
    mean, se = o.mean(0), o.std(0, ddof=1) / math.sqrt(len(seeds))
    want = np.array([th.mse1_per_dataset[0], th.mse1_per_dataset[1], th.density1])
    z = (mean - want) / se
    assert np.all(np.abs(z) < 2.0), (want, mean, se)
    iid = replica.solve_pretraining(sc, lam)
    assert abs(mean[2] - iid.density1) / se[2] > 3.0  # i.i.d. density rejected


def test_stage1_free_blocks_vs_simulation_small():
    """Two datasets with different spectra and independent Haar rotations, N = 500."""
    _check_stage1(500, range(20))


@pytest.mark.slow
def test_stage1_free_blocks_vs_simulation_large():
    _check_stage1(1000, range(24))


def test_solver_reports_and_warm_start():
    sc = replica.TransferScenario((0.6,), (0.1,), replica.support_prior(0.0, [0.15]))
    sp = Spectrum.geometric(0.6, 300, 50.0)
    a = solve_rotinv_pretraining(sc, sp, 0.3)
    assert a.converged and a.residual <= 1e-11 and a.iterations > 1
    b = solve_rotinv_pretraining(sc, sp, 0.3, init=a)
    assert b.iterations <= 2 and b.mse1 == pytest.approx(a.mse1, abs=1e-12)
    d = a.to_dict()
    assert d["m1_0"] == a.m1[0] and d["gamma_0"] == a.gamma[0]
    with pytest.warns(replica.ConvergenceWarning):
        c = solve_rotinv_pretraining(sc, sp, 0.3, max_iter=2, anderson=0, damping=0.5)
    assert not c.converged
    with pytest.raises(replica.ConvergenceError):
        solve_rotinv_pretraining(sc, sp, 0.3, max_iter=2, strict=True)


def _mp_r_transform(ev, chi):
    """(R(-chi), R'(-chi)) in 40-digit arithmetic (bracketed root of g(gamma) = chi)."""
    import mpmath  # a dependency of sympy, always installed
    with mpmath.workdps(40):
        e = [mpmath.mpf(float(v)) for v in ev]
        c = mpmath.mpf(chi)
        n = len(e)

        def f(g):
            return mpmath.fsum(1 / (v + g) for v in e) / n - c

        lo = -min(e) if min(e) > 0 else mpmath.mpf(0)
        g = mpmath.findroot(f, (lo + (1 / c - lo) * mpmath.mpf("1e-30"), 1 / c - lo),
                            solver="anderson")
        s2 = mpmath.fsum(1 / (v + g) ** 2 for v in e) / n
        return float(1 / c - g), float(1 / c**2 - 1 / s2)


@pytest.mark.parametrize("n_zero", [0, 100])
def test_r_transform_accurate_where_the_direct_formulas_cancel(n_zero):
    """Small chi lam_max (nearly empty supports): 1/chi - gamma and 1/chi^2 - 1/s2 cancel; the
    series / two-pass branches keep R and R' to ~1e-13 against 40-digit arithmetic."""
    pos = Spectrum.power_law(0.6, 200, 2.0).positive
    ev = np.r_[np.zeros(n_zero), pos]
    sp = Spectrum(eigenvalues=ev)
    for c in (1e-8, 1e-6, 1e-4, 1e-2, 0.5, 3.0):
        chi = c / ev.max()
        r, rp = sp.r_transform(chi)
        r_mp, rp_mp = _mp_r_transform(ev, chi)
        assert r == pytest.approx(r_mp, rel=1e-13), c
        assert rp == pytest.approx(rp_mp, rel=1e-11), c


def test_small_chi_series_matches_newton_and_zero_chi_limit():
    """chi -> 0 (large lam1: empty support): R -> mean eigenvalue, R' -> their variance."""
    sp = Spectrum.geometric(0.6, 300, 100.0)
    ev = sp.eigenvalues
    kind, pos, z, mp = sp.kernel_arrays()
    chi = 2e-7 / ev.max()  # just above the series threshold: Newton, two-pass R and R'
    newton = spectral_r(kind, pos, z, mp, chi, -1.0)
    series = _small_chi(pos, (1 - z) / pos.size, chi)  # the branch used below the threshold
    assert series[0] == pytest.approx(newton[0], rel=1e-13)
    assert series[1] == pytest.approx(newton[1], rel=1e-11)
    r0, rp0 = sp.r_transform(1e-300)
    assert r0 == pytest.approx(ev.mean(), rel=1e-12) and rp0 == pytest.approx(ev.var(), rel=1e-9)
    sc = replica.TransferScenario((0.6,), (0.1,), replica.support_prior(0.0, [0.15]))
    big = solve_rotinv_pretraining(sc, sp, 50.0)
    assert big.converged and big.density1 < 1e-12 and big.mse1 == pytest.approx(0.15, rel=1e-9)


def test_exact_mp_and_empirical_spectra_mix():
    """An exact Marchenko-Pastur block beside an empirical one (the kernels once rejected the
    mix of array kinds) agrees with the same design whose MP block is a sampled Gaussian
    spectrum (N = 800) to ~1%."""
    n = 800
    prior = replica.support_prior(0.1, [0.05, 0.05], corr=0.7)
    sc = replica.TransferScenario((0.5, 1.0), (0.1, 0.2), prior)
    other = Spectrum.power_law(1.0, n, 1.0)
    exact = solve_rotinv_pretraining(sc, SpectralDesign((Spectrum.marchenko_pastur(0.5), other)),
                                     0.3, strict=True)
    rng = np.random.default_rng(11)
    gauss = Spectrum.from_design(rng.standard_normal((n // 2, n)) / math.sqrt(n))
    sampled = solve_rotinv_pretraining(sc, SpectralDesign((gauss, other)), 0.3, strict=True)
    assert exact.mse1 == pytest.approx(sampled.mse1, rel=0.02)
    assert exact.density1 == pytest.approx(sampled.density1, rel=0.02)
