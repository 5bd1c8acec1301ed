"""Attacker-style bad inputs of :func:`replica.solve_rotinv_trans_lasso` (review of the
rotationally invariant stage 2): each row is an input that used to give a silently wrong
number or a raw exception, and must now raise the documented error naming the argument."""

import math

import numpy as np
import pytest

import replica
from replica.design import SpectralDesign, Spectrum
from replica.errors import NonFiniteIterateError
from replica.rotinv_stage2 import (
    rotinv_stage2_conjugates,
    solve_rotinv_trans_lasso,
    spectral_nodes,
)

H = replica.TransLassoHyper
PRIOR1 = replica.support_prior(0.0, [0.15])
PRIOR2 = replica.support_prior(0.1, [0.05, 0.05], corr=0.8)
SC = replica.TransferScenario((0.6,), (0.1,), PRIOR1)
SP = Spectrum.geometric(0.6, 50, 10.0)
HY = H(0.3, 0.2, 1.0, 0.5)
MP = Spectrum.marchenko_pastur(0.6)


def _stage1(scenario=SC, design=SP):
    return replica.solve_rotinv_pretraining(scenario, design, 0.3)


BAD = [
    # a stage 1 of another problem was accepted and gave a wrong stage 2
    ("stage1 of another noise level",
     lambda: solve_rotinv_trans_lasso(SC, SP, HY, stage1=_stage1(
         replica.TransferScenario((0.6,), (0.5,), PRIOR1))), ValueError,
     "stage1: not the stage-1 fixed point"),
    ("stage1 of another spectrum",
     lambda: solve_rotinv_trans_lasso(SC, SP, HY, stage1=_stage1(
         design=Spectrum.geometric(0.6, 50, 1000.0))), ValueError,
     "stage1: not the stage-1 fixed point"),
    ("stage1 of another prior",
     lambda: solve_rotinv_trans_lasso(SC, SP, HY, stage1=_stage1(
         replica.TransferScenario((0.6,), (0.1,), replica.support_prior(0.0, [0.4])))),
     ValueError, "stage1: not the stage-1 fixed point"),
    ("stage1 with two datasets",
     lambda: solve_rotinv_trans_lasso(SC, SP, HY, stage1=_stage1(
         replica.TransferScenario((0.6, 1.0), (0.1, 0.2), PRIOR2), SpectralDesign((SP, SP)))),
     ValueError, "stage1: solved for 2 datasets but the scenario has 1"),
    # numba TypingError (a raw compiler traceback)
    ("max_iter 1e30", lambda: solve_rotinv_trans_lasso(SC, SP, HY, max_iter=10**30),
     ValueError, "max_iter = 1000000000000000019884624838656: must be <="),
    ("max_iter 2**63", lambda: solve_rotinv_trans_lasso(SC, SP, HY, max_iter=2**63),
     ValueError, "max_iter"),
    # ZeroDivisionError from the compiled stage-1 kernel
    ("eigenvalues 1e-300",
     lambda: solve_rotinv_trans_lasso(SC, Spectrum(eigenvalues=np.full(50, 1e-300)), HY),
     NonFiniteIterateError, "division by zero"),
    ("eigenvalues 1e-200",
     lambda: solve_rotinv_trans_lasso(SC, Spectrum(eigenvalues=np.full(50, 1e-200)), HY),
     NonFiniteIterateError, "rescale the design"),
    # spectral_nodes: ZeroDivisionError, TypeError, MemoryError, AttributeError
    ("n_quad -1", lambda: spectral_nodes(MP, -1), ValueError, "n_quad = -1"),
    ("n_quad 0", lambda: spectral_nodes(MP, 0), ValueError, "n_quad = 0"),
    ("n_quad None", lambda: spectral_nodes(MP, None), ValueError, "n_quad = None"),
    ("n_quad 2.5", lambda: spectral_nodes(MP, 2.5), ValueError, "n_quad = 2.5"),
    ("n_quad 1e10", lambda: spectral_nodes(MP, 10**10), ValueError, "n_quad = 10000000000"),
    ("spectral_nodes str", lambda: spectral_nodes("x"), ValueError, "spectrum"),
    # rotinv_stage2_conjugates: raw unpacking / attribute errors
    ("conjugates state 4", lambda: rotinv_stage2_conjugates(
        [1, 1, 1, 1], _stage1(), spectral_nodes(SP), 1.0, (1.0, 0.01, 0.15)), ValueError,
     "state = [1, 1, 1, 1]"),
    ("conjugates state NaN", lambda: rotinv_stage2_conjugates(
        [1, 1, 1, math.nan, 0], _stage1(), spectral_nodes(SP), 1.0, (1.0, 0.01, 0.15)),
     ValueError, "state"),
    ("conjugates stage1", lambda: rotinv_stage2_conjugates(
        [0.1, 0.1, 0.1, 0.5, 0.0], "s1", spectral_nodes(SP), 1.0, (1.0, 0.01, 0.15)),
     ValueError, "stage1"),
    ("conjugates par", lambda: rotinv_stage2_conjugates(
        [0.1, 0.1, 0.1, 0.5, 0.0], _stage1(), spectral_nodes(SP), 1.0, 1.0), ValueError,
     "par = 1.0"),
    ("conjugates nodes", lambda: rotinv_stage2_conjugates(
        [0.1, 0.1, 0.1, 0.5, 0.0], _stage1(), None, 1.0, (1.0, 0.01, 0.15)), ValueError,
     "nodes"),
    # already refused (kept as a regression table)
    ("eigenvalues all zero",
     lambda: solve_rotinv_trans_lasso(SC, Spectrum(eigenvalues=np.zeros(50)), HY),
     ValueError, "eigenvalues: all zero"),
    ("one eigenvalue",
     lambda: solve_rotinv_trans_lasso(SC, Spectrum(eigenvalues=np.array([2.0])), HY),
     ValueError, "eigenvalues"),
    ("design None", lambda: solve_rotinv_trans_lasso(SC, None, HY), ValueError,
     "design: expected"),
    ("kappa NaN", lambda: solve_rotinv_trans_lasso(SC, SP, H(0.3, 0.2, math.nan, 0.5)),
     ValueError, "kappa = nan"),
    ("kappa inf", lambda: solve_rotinv_trans_lasso(SC, SP, H(0.3, 0.2, math.inf, 0.5)),
     ValueError, "kappa = inf"),
    ("kappa str", lambda: solve_rotinv_trans_lasso(SC, SP, H(0.3, 0.2, "1", 0.5)),
     ValueError, "kappa = '1'"),
    ("dlam negative", lambda: solve_rotinv_trans_lasso(SC, SP, H(0.3, 0.2, 1.0, -1.0)),
     ValueError, "dlam = -1.0"),
    ("lam1 negative", lambda: solve_rotinv_trans_lasso(SC, SP, H(-0.3, 0.2, 1.0, 0.5)),
     ValueError, "lam1"),
    ("init bool", lambda: solve_rotinv_trans_lasso(SC, SP, HY, init=True), ValueError,
     "init: expected 5 values"),
    ("init str", lambda: solve_rotinv_trans_lasso(SC, SP, HY, init="abc"), ValueError,
     "init: expected"),
    ("init inf", lambda: solve_rotinv_trans_lasso(SC, SP, HY, init=[1, 1, 1, math.inf, 0]),
     ValueError, "init: contains NaN or infinite"),
    ("init 3-d", lambda: solve_rotinv_trans_lasso(SC, SP, HY, init=np.ones((5, 1, 1))),
     ValueError, "init: expected 5 values"),
    ("init stage-1 result", lambda: solve_rotinv_trans_lasso(SC, SP, HY, init=_stage1()),
     ValueError, "init: expected"),
    ("tol None", lambda: solve_rotinv_trans_lasso(SC, SP, HY, tol=None), ValueError,
     "tol = None"),
    ("max_iter bool", lambda: solve_rotinv_trans_lasso(SC, SP, HY, max_iter=True),
     ValueError, "max_iter = True"),
    ("max_iter 2.5", lambda: solve_rotinv_trans_lasso(SC, SP, HY, max_iter=2.5), ValueError,
     "max_iter = 2.5"),
    ("strict str", lambda: solve_rotinv_trans_lasso(SC, SP, HY, strict="yes"), ValueError,
     "strict = 'yes'"),
    ("damping NaN", lambda: solve_rotinv_trans_lasso(SC, SP, HY, damping=math.nan),
     ValueError, "damping = nan"),
    ("empty design", lambda: solve_rotinv_trans_lasso(SC, SpectralDesign(()), HY),
     ValueError, "spectra"),
]


@pytest.mark.parametrize("name, call, err, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs(name, call, err, fragment):
    with pytest.raises(err) as info:
        call()
    assert fragment in str(info.value)


def test_matching_stage1_is_still_accepted_and_gives_the_same_stage2():
    """The fixed-point check must not refuse the intended reuse (a stage 1 of the same
    problem), and reusing it gives the stage 2 of the cold solve to solver precision."""
    cold = solve_rotinv_trans_lasso(SC, SP, HY)
    warm = solve_rotinv_trans_lasso(SC, SP, HY, stage1=cold.stage1)
    assert warm.converged
    np.testing.assert_allclose(warm.state, cold.state, rtol=1e-9, atol=1e-12)


def test_stage1_solved_with_a_looser_tolerance_is_accepted():
    loose = replica.solve_rotinv_pretraining(SC, SP, 0.3, tol=1e-5)
    assert loose.converged
    res = solve_rotinv_trans_lasso(SC, SP, HY, stage1=loose)
    assert res.mse2 == pytest.approx(solve_rotinv_trans_lasso(SC, SP, HY).mse2, rel=1e-3)


def test_stage1_of_another_noise_level_changes_stage2():
    """Why the check matters: the stage 2 built on a wrong stage 1 differs by far more than
    solver precision (so accepting it silently was a wrong number, not a harmless one)."""
    other = _stage1(replica.TransferScenario((0.6,), (0.5,), PRIOR1))
    assert abs(other.mse1 - _stage1().mse1) > 1e-2


def test_same_call_twice_same_numbers_and_to_dict_holds_parameters():
    a = solve_rotinv_trans_lasso(SC, SP, HY)
    b = solve_rotinv_trans_lasso(SC, SP, HY)
    assert a.to_dict() == b.to_dict()
    d = a.to_dict()
    assert (d["lam1"], d["lam2"], d["kappa"], d["dlam"]) == (0.3, 0.2, 1.0, 0.5)
    for key in ("mse1", "mse2", "density2", "converged", "converged1", "iterations1"):
        assert key in d


# --- boundary: stage 1 selects nothing (lam1 large) ---------------------------------------
# chi1 underflows (6.8e-200 at lam1 = 20, exactly 0 at lam1 = 100) and the two-column
# equations divided 0 by 0: ZeroDivisionError. Stage 2 is then the target Lasso with
# lam2 + dlam (the chi1 -> 0 limit).
FIELDS = ("Q2", "m2", "R", "chi2", "chi12", "Qh2", "mh2", "Rh", "chih2", "chih12", "mse2",
          "density2")


@pytest.mark.parametrize("kappa, dlam", [(1.0, 0.5), (0.7, 0.3), (0.0, 0.0)])
def test_empty_stage1_marchenko_pastur_equals_iid_solver(kappa, dlam):
    """Exact MP law: the i.i.d. solver (independent code, handles chi1 = 0) gives the same
    stage 2."""
    h = H(100.0, 0.2, kappa, dlam)
    rot = solve_rotinv_trans_lasso(SC, MP, h, strict=True)
    iid = replica.solve_trans_lasso(SC, h)
    assert rot.stage1.density1 == 0.0 and rot.converged
    for f in FIELDS:
        assert getattr(rot, f) == pytest.approx(getattr(iid, f), rel=1e-8, abs=1e-12), f


def test_empty_stage1_with_a_source_equals_iid_solver():
    """Two datasets (the target marginal of a correlated prior is used in stage 2)."""
    sc = replica.TransferScenario((0.5, 2.0), (0.1, 0.2), PRIOR2)
    design = SpectralDesign((Spectrum.marchenko_pastur(0.5), Spectrum.marchenko_pastur(2.0)))
    h = H(100.0, 0.2, 1.0, 0.5)
    rot = solve_rotinv_trans_lasso(sc, design, h, strict=True)
    iid = replica.solve_trans_lasso(sc, h)
    assert rot.stage1.density1 == 0.0
    for f in FIELDS:
        assert getattr(rot, f) == pytest.approx(getattr(iid, f), rel=1e-8, abs=1e-12), f


@pytest.mark.parametrize("lam1", [20.0, 100.0])
@pytest.mark.parametrize("kappa, dlam", [(1.0, 0.5), (0.0, 0.0)])
def test_empty_stage1_is_the_limit_of_the_full_equations(lam1, kappa, dlam):
    """Geometric spectrum: lam1 = 5 still runs the two-column equations (chi1 = 1.3e-14); the
    empty-stage-1 answer at lam1 = 20 and 100 must be their limit (differences O(chi1))."""
    sp = Spectrum.geometric(0.6, 50, 10.0)
    near = solve_rotinv_trans_lasso(SC, sp, H(5.0, 0.2, kappa, dlam), strict=True)
    assert 0.0 < near.stage1.chi1 < 1e-13
    far = solve_rotinv_trans_lasso(SC, sp, H(lam1, 0.2, kappa, dlam), strict=True)
    assert far.converged and far.density2 > 0.01  # a non-trivial stage 2
    for f in FIELDS:
        assert getattr(far, f) == pytest.approx(getattr(near, f), rel=1e-9, abs=1e-12), f


@pytest.mark.parametrize("hyper, fragment", [
    (H(100.0, 0.0, 1.0, 0.0), "lam2 + dlam = 0.0"),
    (H(100.0, 0.2, 1.0, math.inf), "lam2 + dlam = inf"),
])
def test_empty_stage1_with_degenerate_stage2_penalty(hyper, fragment):
    full = Spectrum.geometric(1.0, 50, 10.0)
    sc = replica.TransferScenario((1.0,), (0.1,), PRIOR1)
    with pytest.raises(ValueError) as info:
        solve_rotinv_trans_lasso(sc, full, hyper)
    assert fragment in str(info.value) and "stage 1 selects no feature" in str(info.value)
