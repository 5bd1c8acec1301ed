"""Both stages of the Generalized Trans-Lasso for rotationally invariant designs
(replica.rotinv_stage2): exact Marchenko-Pastur reduction to the i.i.d. solver, exact special
cases, Haar-rotated simulations, bad inputs.

``python -m tests.replica.test_rotinv_stage2 N SEEDS`` prints the simulation table of
``docs/translasso_real_designs.md`` (section 6.1) for N features and SEEDS seeds.
"""

import math
import sys

import numpy as np
import pytest

import lasso
import replica
from replica.design import SpectralDesign, Spectrum
from replica.rotinv_stage2 import (
    RotInvTransLassoResult,
    rotinv_stage2_conjugates,
    solve_rotinv_trans_lasso,
    spectral_nodes,
)

H = replica.TransLassoHyper
PRIOR1 = replica.support_prior(0.0, [0.15])
PRIOR2 = replica.support_prior(0.1, [0.05, 0.05], corr=0.8)

MP_CASES = [
    ((0.6,), H(0.3, 0.2, 1.0, 0.5)),
    ((0.6,), H(0.3, 0.2, 0.0, 0.5)),  # kappa = 0
    ((0.6,), H(0.3, 0.15, 1.0, 0.0)),  # dlam = 0
    ((0.6,), H(0.5, 0.1, 0.6, 0.3)),  # general
    ((0.6,), H(0.3, 0.2, 1.0, math.inf)),  # fine-tune on the pretrained support only
    ((0.6,), H(2.0, 0.05, -0.5, 1.0)),
    ((0.5, 2.0), H(0.3, 0.2, 1.0, 0.5)),
    ((0.5, 2.0), H(0.3, 0.2, 0.0, 0.5)),
    ((0.5, 2.0), H(0.3, 0.2, 1.0, 0.0)),
    ((1.5, 2.0), H(0.3, 0.0, 1.0, 0.0)),  # unpenalised stage 2, full-rank target
]


def _scenario(alphas):
    if len(alphas) == 1:
        return replica.TransferScenario(alphas, (0.1,), PRIOR1)
    return replica.TransferScenario(alphas, (0.1, 0.2), PRIOR2)


@pytest.mark.parametrize("alphas, hyper", MP_CASES)
def test_marchenko_pastur_reproduces_iid_solver(alphas, hyper):
    sc = _scenario(alphas)
    iid = replica.solve_trans_lasso(sc, hyper)
    rot = solve_rotinv_trans_lasso(
        sc, SpectralDesign(tuple(Spectrum.marchenko_pastur(a) for a in alphas)), hyper,
        strict=True)
    assert rot.converged and iid.converged
    np.testing.assert_allclose(rot.state, iid.state, atol=1e-9)
    got = [rot.Qh2, rot.mh2, rot.Rh, rot.chih2, rot.chih12, rot.mse2, rot.density2]
    want = [iid.Qh2, iid.mh2, iid.Rh, iid.chih2, iid.chih12, iid.mse2, iid.density2]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_target_block_matches_single_stage_formulas():
    """The (1,1) entries of the 2x2 precision and noise covariance are the rotationally
    invariant stage-1 conjugates (computed by replica.rotinv by other formulas)."""
    sp = Spectrum.power_law(0.6, 400, 1.0)
    sc = _scenario((0.6,))
    res = solve_rotinv_trans_lasso(sc, sp, H(0.3, 0.2, 0.7, 0.4))
    gam, cmat = rotinv_stage2_conjugates(res.state, res.stage1, spectral_nodes(sp), res.gamma2,
                                         (0.7, 0.01, PRIOR1.second_moments[0]))
    assert gam[0, 0] == pytest.approx(res.stage1.Qh1, rel=1e-10)
    assert cmat[0, 0] == pytest.approx(res.stage1.chih1, rel=1e-9)
    assert gam[1, 0] == 0.0 and cmat[0, 1] == cmat[1, 0]


@pytest.mark.parametrize("spectrum", [Spectrum.geometric(0.6, 500, 100.0),
                                      Spectrum.power_law(0.6, 500, 1.0)])
def test_refit_with_same_penalty_equals_stage1(spectrum):
    """kappa = dlam = 0 and lam2 = lam1 (K = 1): stage 2 solves the stage-1 problem again,
    so x2 = x1 exactly (hand-derived); chi1 = chi2 is the confluent case of the 2x2 matrix
    functions."""
    sc = _scenario((0.6,))
    res = solve_rotinv_trans_lasso(sc, spectrum, H(0.4, 0.4, 0.0, 0.0), strict=True)
    s1 = res.stage1
    assert res.chi2 == pytest.approx(s1.chi1, rel=1e-9)
    assert res.chi12 == pytest.approx(0.0, abs=1e-10)
    assert res.Q2 == pytest.approx(s1.Q1, rel=1e-9)
    assert res.R == pytest.approx(s1.Q1, rel=1e-9)  # x1 . x2 / N = |x1|^2 / N
    assert res.mse2 == pytest.approx(s1.mse1, rel=1e-9)
    assert res.density2 == pytest.approx(s1.density1, rel=1e-9)


@pytest.mark.parametrize("dlam", [0.0, 0.2])
@pytest.mark.parametrize("spectrum", [Spectrum.geometric(0.6, 500, 100.0),
                                      Spectrum.power_law(0.6, 500, 1.0)])
def test_residual_refit_with_larger_penalty_is_empty(spectrum, dlam):
    """kappa = 1, lam2 >= lam1 (K = 1): the stage-1 KKT conditions |A^T(y - A x1)| <= lam1 make
    x2 = 0 the stage-2 solution (hand-derived), so density2 = 0 and mse2 = mse1. This pins
    the off-diagonal entry of R_0(-X): the matrix function of the lower-triangular
    [[chi1, 0], [chi12 - kappa, chi2]] (the earlier conjecture) violates it for non-MP
    spectra. Here chi2 = 0 is reached exactly (the eigenbasis branch with gamma2 = inf)."""
    res = solve_rotinv_trans_lasso(_scenario((0.6,)), spectrum, H(0.3, 0.5, 1.0, dlam),
                                   strict=True)
    assert res.density2 == 0.0 and res.Q2 == 0.0
    assert res.mse2 == pytest.approx(res.stage1.mse1, rel=1e-12)
    assert res.Rh == pytest.approx(-res.stage1.Qh1, rel=1e-9)


@pytest.mark.parametrize("hyper", [H(0.3, 0.2, 1.0, 0.5), H(0.3, 0.2, 0.0, 0.5),
                                   H(0.5, 0.1, 0.6, 0.3), H(0.3, 0.15, 1.0, 0.0)])
def test_point_spectrum_matches_separable_monte_carlo(hyper):
    """A^T A = c I (a one-point spectrum, far from Marchenko-Pastur): both stages are
    separable, x1 = S_lam1(b)/c and x2 = S_lam_e(b - c kappa x1)/c with b = c r + sqrt(c) sigma
    xi, so Monte Carlo of these closed forms gives the exact mse2 and density2. (The earlier
    conjecture gives Rhat = 0 here instead of -kappa c.)"""
    c, sigma = 1.5, 0.3
    sc = replica.TransferScenario((1.0,), (sigma,), replica.support_prior(0.0, [0.2]))
    th = solve_rotinv_trans_lasso(sc, Spectrum(eigenvalues=np.full(400, c)), hyper,
                                  strict=True)
    rng = np.random.default_rng(11)
    n = 400_000
    r = sc.prior.sample(n, rng)[0]
    b = c * r + math.sqrt(c) * sigma * rng.standard_normal(n)

    def soft(x, lam):
        return np.sign(x) * np.maximum(np.abs(x) - lam, 0.0)

    x1 = soft(b, hyper.lam1) / c
    x2 = soft(b - c * hyper.kappa * x1, hyper.lam2 + hyper.dlam * (x1 == 0)) / c
    err = (hyper.kappa * x1 + x2 - r) ** 2
    nz = x2 != 0
    assert abs(th.mse2 - err.mean()) < 4 * err.std() / math.sqrt(n)
    assert abs(th.density2 - nz.mean()) < 4 * nz.std() / math.sqrt(n)
    assert th.Rh == pytest.approx(-hyper.kappa * c, abs=1e-9)


def test_noise_paths_agree():
    """The eigenbasis and triangular evaluations of the noise covariance (each used in its
    own range of chi2 / chi1) agree where both are well conditioned."""
    from replica.rotinv_stage2 import _means, _noise_eigenbasis, _noise_triangular, _resolvents

    sp = Spectrum.power_law(0.6, 500, 1.0)
    nodes = spectral_nodes(sp)
    e = np.array([[0.05, 0.03], [0.03, 0.04]])
    for a, d, x12 in ((0.8, 1.3, 0.2), (2.0, 0.9, -0.1), (0.5, 0.6, 0.3)):
        lam, w, ra, rd = _resolvents(nodes, a, d)
        chi1, chi2 = np.mean(1 / (sp.eigenvalues + a)), np.mean(1 / (sp.eigenvalues + d))
        mu = _means(lam, w, ra, rd)
        tri = _noise_triangular(lam, w, 1 / (lam + a), 1 / (lam + d), mu, x12, e, 0.01)
        eig = _noise_eigenbasis(lam, w, ra, rd, mu, x12 / (chi2 - chi1), e, 0.01)
        np.testing.assert_allclose(eig, tri, rtol=1e-9)


def _simulate(sps, alphas, sigmas, prior, hypers, seeds):
    """Seed means and standard errors of (mse2, density2, mse2 - mse1, density2 - density1)
    per hyper (all hypers share lam1: one stage-1 fit per seed)."""
    n = sps[0].n_features
    out = {h: [] for h in hypers}
    for s in seeds:
        rng = np.random.default_rng([s, n, 77])
        As = [sp.sample_design(int(round(a * n)), rng) for sp, a in zip(sps, alphas, strict=True)]
        r = prior.sample(n, rng)
        ys = [A @ r[k] + sigmas[k] * rng.standard_normal(A.shape[0]) for k, A in enumerate(As)]
        x1 = lasso.solve_weighted_lasso(np.vstack(As), np.concatenate(ys), hypers[0].lam1,
                                        tol=1e-12).coef
        e1, d1 = np.mean((x1 - r[0]) ** 2), np.mean(x1 != 0)
        for h in hypers:
            wts = h.lam2 + h.dlam * (x1 == 0)
            x2 = lasso.solve_weighted_lasso(As[0], ys[0] - h.kappa * (As[0] @ x1), wts,
                                            tol=1e-12).coef
            e2 = np.mean((h.kappa * x1 + x2 - r[0]) ** 2)
            d2 = np.mean(x2 != 0)
            out[h].append([e2, d2, e2 - e1, d2 - d1])
    stats = {}
    for h in hypers:
        o = np.asarray(out[h])
        stats[h] = (o.mean(0), o.std(0, ddof=1) / math.sqrt(len(seeds)))
    return stats


CASE_TARGET = ((0.6,), (0.1,), PRIOR1,
               lambda n: [(Spectrum.geometric(0.6, n, 100.0),), (Spectrum.power_law(0.6, n, 1.0),)])
CASE_SOURCE = ((0.5, 1.0), (0.1, 0.2), PRIOR2,
               lambda n: [(Spectrum.geometric(0.5, n, 30.0), Spectrum.power_law(1.0, n, 1.0)),
                          (Spectrum.power_law(0.5, n, 1.0), Spectrum.geometric(1.0, n, 30.0))])
HYPERS = (H(0.3, 0.2, 0.0, 0.5), H(0.3, 0.2, 1.0, 0.5), H(0.3, 0.15, 1.0, 0.0),
          H(0.3, 0.2, 0.5, 0.3))


# --- ablations: wrong stage-2 equations the simulations must reject (the tests' power) -------
def _old_conjecture(gam, cmat, state, stage1, par):
    """Earlier conjecture: R0(-.) of [[chi1, 0], [chi12 - kappa, chi2]] (variables (x1, x2)):
    Qh2 = f(chi2), Rh = (kappa - chi12) f[chi1, chi2], mh2 = (1 - kappa) f(chi2) - Rh."""
    kappa, chi1, chi2, chi12 = par[0], stage1.chi1, float(state[3]), float(state[4])
    x12 = kappa * chi1 + chi12
    dd = gam[0, 1] / x12 if x12 != 0.0 else (gam[1, 1] - gam[0, 0]) / (chi2 - chi1)
    g = gam.copy()
    g[0, 1] = (chi12 - kappa) * dd - kappa * gam[1, 1]  # so that Rh = -(kappa g22 + g12)
    return g, cmat


def _iid_noise(gam, cmat, state, stage1, par, alpha0=0.6):
    """Derived signal part, i.i.d. noise part alpha0 (I+X)^-T (E + sigma0^2 1 1^T)(I+X)^-1."""
    kappa, sig0sq, rho0 = par
    q2, m2, r, chi2, chi12 = (float(v) for v in state)
    q1, m1 = stage1.Q1, stage1.m1[0]
    e12 = kappa * q1 + r - (1.0 + kappa) * m1 - m2 + rho0
    e22 = kappa * kappa * q1 + q2 + rho0 + 2.0 * kappa * r - 2.0 * kappa * m1 - 2.0 * m2
    e = np.array([[rho0 - 2.0 * m1 + q1, e12], [e12, e22]])
    ix = np.linalg.inv(np.array([[1.0 + stage1.chi1, kappa * stage1.chi1 + chi12],
                                 [0.0, 1.0 + chi2]]))
    return gam, alpha0 * ix.T @ (e + sig0sq * np.ones((2, 2))) @ ix


def _solve_ablation(sc, design, hyper, change):
    """solve_rotinv_trans_lasso with the conjugates modified by ``change``."""
    import replica.rotinv_stage2 as rs

    orig = rs.rotinv_stage2_conjugates

    def patched(state, stage1, nodes, gamma2, par):
        return change(*orig(state, stage1, nodes, gamma2, par), state, stage1, par)

    rs.rotinv_stage2_conjugates = patched
    try:
        return rs.solve_rotinv_trans_lasso(sc, design, hyper, strict=True)
    finally:
        rs.rotinv_stage2_conjugates = orig


def _iid_stage2_on_rotinv_stage1(sc, design, hyper):
    """The i.i.d. stage-2 equations on top of the rotationally invariant stage 1."""
    from replica.kernels import iterate
    from replica.solver import run_fixed_point, solver_options
    from replica.stage2 import stage2_conjugates, stage2_model

    st1 = replica.solve_rotinv_pretraining(sc, design, hyper.lam1)
    model = stage2_model(sc, hyper, st1)
    fp = run_fixed_point(iterate, model, np.array([0.5, 0.1, 0.1, 0.5, 0.0]),
                         solver_options(1e-11, 5000, 0.0, 4, True), lambda: "hybrid")
    q2, m2, r, chi2, _ = fp.state
    k = hyper.kappa
    mse2 = sc.prior.second_moments[0] + k * k * st1.Q1 + q2 - 2 * k * st1.m1[0] - 2 * m2 \
        + 2 * k * r
    dens2 = stage2_conjugates(model[2][1], fp.state)[0] * chi2
    return np.array([mse2, dens2, mse2 - st1.mse1, dens2 - st1.density1])


def _ablations(sc, design, hyper):
    out = {"iid stage 2 on rotinv stage 1": _iid_stage2_on_rotinv_stage1(sc, design, hyper),
           "iid noise part": _observables(_solve_ablation(sc, design, hyper, _iid_noise))}
    if hyper.kappa != 0.0:  # identical to the derived equations at kappa = 0
        out["earlier conjecture"] = _observables(
            _solve_ablation(sc, design, hyper, _old_conjecture))
    return out


def _observables(res):
    return np.array([res.mse2, res.density2, res.mse2 - res.mse1,
                     res.density2 - res.density1])


def _rows(case, n, seeds, hypers=HYPERS):
    """One row per (spectra, hyper): theory, i.i.d. theory and simulation statistics."""
    alphas, sigmas, prior, spectra = case
    sc = replica.TransferScenario(alphas, sigmas, prior)
    rows = []
    for sps in spectra(n):
        stats = _simulate(sps, alphas, sigmas, prior, hypers, seeds)
        for h in hypers:
            th = solve_rotinv_trans_lasso(sc, SpectralDesign(sps), h, strict=True)
            iid = replica.solve_trans_lasso(sc, h)
            rows.append(dict(spectra=" + ".join(s.name for s in sps), hyper=h, stats=stats[h],
                             theory=_observables(th), iid=_observables(iid),
                             ablations=_ablations(sc, SpectralDesign(sps), h)
                             if len(sps) == 1 else {}))
    return rows


def _check(case, n, seeds, hypers=HYPERS, z_marginal=2.0):
    """|z| < 2 for the paired stage-2 minus stage-1 differences (they isolate the stage-2
    equations: the stage-1 fluctuations of a seed cancel) and < ``z_marginal`` for mse2 and
    density2 themselves; the i.i.d. theory must be rejected (> 3 s.e.) in every setting and,
    with the target only, each ablation of :func:`_ablations` in some setting per spectrum."""
    power = {}
    for row in _rows(case, n, seeds, hypers):
        mean, se = row["stats"]
        z = np.abs(mean - row["theory"]) / se
        assert np.all(z[2:] < 2.0) and np.all(z[:2] < z_marginal), (
            row["spectra"], row["hyper"], row["theory"], mean, se)
        # the check has power: the i.i.d. theory is rejected on some observable of every
        # setting; each ablation on a paired difference of some setting of every spectrum
        assert np.max(np.abs(mean - row["iid"]) / se) > 3.0, (row["spectra"], row["iid"])
        for name, pred in row["ablations"].items():
            key = (row["spectra"], name)
            power[key] = max(power.get(key, 0.0), np.max(np.abs(mean[2:] - pred[2:]) / se[2:]))
    assert all(v > 3.0 for v in power.values()), power


def test_target_only_vs_haar_simulation_small():
    """K = 1 (stage 1 and 2 on the same Haar-rotated target design), N = 500, 20 seeds,
    geometric (condition 100) and power-law spectra, kappa in {0, 0.5, 1}, dlam in {0, >0}."""
    _check(CASE_TARGET, 500, range(20))


def test_with_source_vs_haar_simulation_small():
    """One source with an independent rotation and another spectrum (N = 500, 40 seeds). The
    marginal mse2 and density2 inherit the finite-size offsets of the (separately tested)
    stage-1 theory, up to 2.4-2.9 s.e. at these sizes (docs, section 6.1): gated at 3 s.e.,
    the paired differences at 2. (With seeds 0-19 one paired difference is at 2.06 s.e.; at
    N = 1000 with 150 seeds the same setting is at 0.4.)"""
    _check(CASE_SOURCE, 500, range(40), z_marginal=3.0)


@pytest.mark.slow
@pytest.mark.parametrize("case, z_marginal", [(CASE_TARGET, 2.0), (CASE_SOURCE, 3.0)],
                         ids=["target", "source"])
def test_vs_haar_simulation_large(case, z_marginal):
    _check(case, 1000, range(60), z_marginal=z_marginal)


def test_solver_reports_and_warm_start():
    sc = _scenario((0.6,))
    sp = Spectrum.geometric(0.6, 300, 50.0)
    h = H(0.3, 0.2, 1.0, 0.5)
    a = solve_rotinv_trans_lasso(sc, sp, h)
    assert isinstance(a, RotInvTransLassoResult)
    assert replica.solve_rotinv_trans_lasso is solve_rotinv_trans_lasso  # re-exported
    assert a.converged and a.residual <= 1e-11 and a.iterations > 1
    b = solve_rotinv_trans_lasso(sc, sp, h, init=a)
    assert b.iterations <= 2 and b.mse2 == pytest.approx(a.mse2, abs=1e-12)
    c = solve_rotinv_trans_lasso(sc, sp, h, stage1=a.stage1)
    assert c.mse2 == pytest.approx(a.mse2, abs=1e-12)
    d = a.to_dict()
    assert d["mse2"] == a.mse2 and d["m1_0"] == a.stage1.m1[0] and d["converged1"]
    with pytest.warns(replica.ConvergenceWarning):
        w = solve_rotinv_trans_lasso(sc, sp, h, stage1=a.stage1, max_iter=2)
    assert not w.converged
    with pytest.raises(replica.ConvergenceError):
        solve_rotinv_trans_lasso(sc, sp, h, stage1=a.stage1, max_iter=2, strict=True)


SC1 = _scenario((0.6,))
SP = Spectrum.geometric(0.6, 50, 10.0)
SP_FULL = Spectrum.geometric(1.0, 50, 10.0)
HY = H(0.3, 0.2, 1.0, 0.5)


def _stage1():
    return replica.solve_rotinv_pretraining(SC1, SP, 0.3)


BAD = [
    ("scenario", lambda: solve_rotinv_trans_lasso("sc", SP, HY), ValueError, "scenario"),
    ("design type", lambda: solve_rotinv_trans_lasso(SC1, np.ones(5), HY), ValueError,
     "design: expected"),
    ("design count", lambda: solve_rotinv_trans_lasso(SC1, SpectralDesign((SP, SP)), HY),
     ValueError, "design: 2 spectra"),
    ("hyper type", lambda: solve_rotinv_trans_lasso(SC1, SP, 0.3), ValueError, "hyper"),
    ("lam1 inf", lambda: solve_rotinv_trans_lasso(SC1, SP, H(math.inf, 0.2)), ValueError,
     "hyper.lam1 = inf"),
    ("lam1 0", lambda: solve_rotinv_trans_lasso(SC1, SP, H(0.0, 0.2)), ValueError,
     "hyper.lam1 = 0"),
    ("lam2 inf", lambda: solve_rotinv_trans_lasso(SC1, SP, H(0.3, math.inf)), ValueError,
     "hyper.lam2 = inf"),
    ("stage1 type", lambda: solve_rotinv_trans_lasso(SC1, SP, HY, stage1="x"), ValueError,
     "stage1"),
    ("stage1 lam1", lambda: solve_rotinv_trans_lasso(SC1, SP, H(0.5, 0.2), stage1=_stage1()),
     ValueError, "stage1.lam1 = 0.3"),
    ("tol", lambda: solve_rotinv_trans_lasso(SC1, SP, HY, tol=-1.0), ValueError, "tol"),
    ("max_iter", lambda: solve_rotinv_trans_lasso(SC1, SP, HY, max_iter=0), ValueError,
     "max_iter"),
    ("damping", lambda: solve_rotinv_trans_lasso(SC1, SP, HY, damping=1.5), ValueError,
     "damping"),
    ("anderson", lambda: solve_rotinv_trans_lasso(SC1, SP, HY, anderson=-1), ValueError,
     "anderson"),
    ("init shape", lambda: solve_rotinv_trans_lasso(SC1, SP, HY, init=[1.0, 2.0]), ValueError,
     "init"),
    ("init NaN", lambda: solve_rotinv_trans_lasso(SC1, SP, HY, init=[math.nan] * 5),
     ValueError, "init: contains NaN"),
    ("quadrature", lambda: solve_rotinv_trans_lasso(SC1, SP, HY, quadrature=3), ValueError,
     "quadrature"),
    ("unpenalised, rank deficient",
     lambda: solve_rotinv_trans_lasso(SC1, SP, H(0.3, 0.0, 1.0, 0.0)),
     replica.NotIdentifiableError, "rank fraction 0.6"),
    ("unpenalised support too large",
     lambda: solve_rotinv_trans_lasso(_scenario((0.6, 1.0)), SpectralDesign((SP, SP_FULL)),
                                      H(0.01, 0.0, 1.0, 0.5)),
     replica.NotIdentifiableError, "lam2 = 0"),
]


@pytest.mark.parametrize("name, call, err, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs(name, call, err, fragment):
    with pytest.raises(err, match=fragment.replace("(", r"\(").replace(".", r"\.")):
        call()


def test_unpenalised_stage2_full_rank_target_is_allowed():
    res = solve_rotinv_trans_lasso(SC1, SP_FULL, H(0.3, 0.0, 1.0, 0.0))
    assert res.converged and res.density2 == pytest.approx(1.0, rel=1e-9)


def _cell(th, mean, se):
    return f"{th:.5f} / {mean:.5f}({round(se * 1e5)})"


def _print_table(n, n_seeds):  # pragma: no cover - documentation helper
    """Markdown rows: theory / simulation mean(s.e. in units of 1e-5) of mse2, density2 and the
    paired differences to stage 1; i.i.d. theory; largest |z| of both theories."""
    for label, case in (("target only", CASE_TARGET), ("one source", CASE_SOURCE)):
        for row in _rows(case, n, range(n_seeds)):
            h = row["hyper"]
            mean, se = row["stats"]
            th, iid = row["theory"], row["iid"]
            cells = [_cell(th[j], mean[j], se[j]) for j in range(4)]
            z = np.max(np.abs(mean - th) / se)
            z_iid = np.max(np.abs(mean - iid) / se)
            z_abl = [f"{k}: {np.max(np.abs(mean[2:] - v[2:]) / se[2:]):.1f}"
                     for k, v in row["ablations"].items()]
            print(f"| {label} | {row['spectra']} | {h.lam2:g}, {h.kappa:g}, {h.dlam:g} | "
                  + " | ".join(cells) + f" | {iid[0]:.5f} / {iid[1]:.4f} | {z:.1f} | "
                  f"{z_iid:.1f} | " + "; ".join(z_abl) + " |", flush=True)


if __name__ == "__main__":  # pragma: no cover
    _print_table(int(sys.argv[1]), int(sys.argv[2]))
