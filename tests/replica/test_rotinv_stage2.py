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
                             theory=_observables(th), iid=_observables(iid)))
    return rows


def _check(case, n, seeds, hypers=HYPERS):
    for row in _rows(case, n, seeds, hypers):
        mean, se = row["stats"]
        z = (mean - row["theory"]) / se
        assert np.all(np.abs(z) < 2.0), (row["spectra"], row["hyper"], row["theory"], mean, se)
        # the i.i.d. theory is rejected (the check has power): stage-2 error, and the
        # paired stage-2 minus stage-1 error that isolates the stage-2 equations
        z_iid = np.abs(mean - row["iid"]) / se
        assert z_iid[0] > 3.0 or z_iid[2] > 3.0, (row["spectra"], row["hyper"], row["iid"])


def test_target_only_vs_haar_simulation_small():
    """K = 1 (stage 1 and 2 on the same Haar-rotated target design), N = 500, 20 seeds,
    geometric (condition 100) and power-law spectra, kappa in {0, 0.5, 1}, dlam in {0, >0}."""
    _check(CASE_TARGET, 500, range(20))


def test_with_source_vs_haar_simulation_small():
    """One source with an independent rotation and another spectrum (N = 500, 20 seeds)."""
    _check(CASE_SOURCE, 500, range(20), HYPERS[1:3])


@pytest.mark.slow
@pytest.mark.parametrize("case", [CASE_TARGET, CASE_SOURCE], ids=["target", "source"])
def test_vs_haar_simulation_large(case):
    _check(case, 1000, range(60))


def test_solver_reports_and_warm_start():
    sc = _scenario((0.6,))
    sp = Spectrum.geometric(0.6, 300, 50.0)
    h = H(0.3, 0.2, 1.0, 0.5)
    a = solve_rotinv_trans_lasso(sc, sp, h)
    assert isinstance(a, RotInvTransLassoResult)
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
            print(f"| {label} | {row['spectra']} | {h.lam2:g}, {h.kappa:g}, {h.dlam:g} | "
                  + " | ".join(cells) + f" | {iid[0]:.5f} / {iid[1]:.4f} | {z:.1f} | "
                  f"{z_iid:.1f} |", flush=True)


if __name__ == "__main__":  # pragma: no cover
    _print_table(int(sys.argv[1]), int(sys.argv[2]))
