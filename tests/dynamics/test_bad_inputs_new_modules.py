"""Bad-input table of the newer :mod:`dynamics` modules (issue 8): every row is a call that
must raise ``ValueError`` whose message names the argument (phase boundary, linear-AE
dynamics, reconstruction alignment, shared ``check_data``)."""

import numpy as np
import pytest

from dynamics import denoising_moments as dm
from dynamics import kou_setting as ks
from dynamics import linear_ae_dynamics as ae
from dynamics import linear_reconstruction as lr
from dynamics import phase_boundary as pb
from dynamics import reconstruction_alignment as ra
from dynamics import reconstruction_transfer as rt
from dynamics.linear_reconstruction import reconstruction_objective

NAN = float("nan")
S = np.arange(1.0, 11.0)
D = np.arange(10.0, 60.0, 10.0)
GRID = np.linspace(0.5, 0.0, 10)[None].repeat(5, 0)
GRIDS = GRID[None] + 0.01 * np.random.default_rng(0).random((3, 5, 10))
P43 = {"N": 10, "sigma_p": 1.0}
LAM = np.array([3.0, 2.0, 1.0])
X = np.random.default_rng(1).standard_normal((20, 4))
LAB = np.arange(20) % 3
RNG = np.random.default_rng(3)
KOU = ks.KouSetting.published(20, 1.0)
OBJ = reconstruction_objective(X)
TASK = rt.GaussianTransferTask.low_variance_target(D=8)
PROB = TASK.problem()


def _fit(**kw):
    args = {"grids": GRIDS, "s_values": S, "d_values": D, "level": 0.2, "theorem": "thm43",
            "params": P43, "n_boot": 3}
    args.update(kw)
    return pb.fit_phase(**args)


CASES = [
    # phase_boundary
    ("isotonic NaN", lambda: pb.isotonic_decreasing([1.0, NAN, 0.0]), "y contains NaN"),
    ("isotonic empty", lambda: pb.isotonic_decreasing([]), "y is empty"),
    ("isotonic 2-d", lambda: pb.isotonic_decreasing(np.ones((2, 2))), "y has shape"),
    ("isotonic str", lambda: pb.isotonic_decreasing("abc"), "y: expected a numeric"),
    ("boundary grid NaN", lambda: pb.boundary(np.where(GRID > 0.3, NAN, GRID), S, 0.2),
     "grid contains NaN"),
    ("boundary s NaN", lambda: pb.boundary(GRID, np.r_[S[:-1], NAN], 0.2),
     "s_values contains NaN"),
    ("boundary empty grid", lambda: pb.boundary(np.ones((0, 10)), S, 0.2), "grid is empty"),
    ("boundary s 2-d", lambda: pb.boundary(GRID, S[None], 0.2), "s_values has shape"),
    ("fit_exponent length mismatch", lambda: pb.fit_exponent(D, S), "s_star has shape"),
    ("fit_exponent d <= 0", lambda: pb.fit_exponent(-D, D), "d = "),
    ("fit_exponent d NaN", lambda: pb.fit_exponent(D * NAN, D), "d contains NaN"),
    ("theorem_constant params missing", lambda: pb.theorem_constant("thm43", D, D, {}),
     "params lacks"),
    ("theorem_constant params None", lambda: pb.theorem_constant("thm43", D, D, None),
     "params = None"),
    ("theorem_constant sigma_p = 0",
     lambda: pb.theorem_constant("thm43", D, D, {"N": 10, "sigma_p": 0}), "params['sigma_p']"),
    ("theorem_constant N str",
     lambda: pb.theorem_constant("thm43", D, D, {"N": "a", "sigma_p": 1}), "params['N']"),
    ("theorem_constant thm42 keys", lambda: pb.theorem_constant("thm42", D, D, {"alpha": 1}),
     "params lacks"),
    ("theorem_constant s mismatch", lambda: pb.theorem_constant("thm43", D, S, P43),
     "s_star has shape"),
    ("cell_noise band reversed", lambda: pb.cell_noise_sd(RNG.random((20, 20)), (0.5, 0.1)),
     "band = "),
    ("cell_noise band str", lambda: pb.cell_noise_sd(RNG.random((20, 20)), "x"), "band = "),
    ("cell_noise 1-d grid", lambda: pb.cell_noise_sd(RNG.random(20)), "grid has shape"),
    ("fit_phase n_boot 0", lambda: _fit(n_boot=0), "n_boot = 0"),
    ("fit_phase n_boot -1", lambda: _fit(n_boot=-1), "n_boot = -1"),
    ("fit_phase n_boot 2.5", lambda: _fit(n_boot=2.5), "n_boot = 2.5"),
    ("fit_phase n_boot str", lambda: _fit(n_boot="5"), "n_boot = '5'"),
    ("fit_phase n_boot huge", lambda: _fit(n_boot=10**9), "n_boot = "),
    ("fit_phase noise_sd < 0", lambda: _fit(grids=GRIDS[0], noise_sd=-1.0), "noise_sd = -1"),
    ("fit_phase noise_sd NaN", lambda: _fit(grids=GRIDS[0], noise_sd=NAN), "noise_sd = nan"),
    ("fit_phase noise_sd str", lambda: _fit(grids=GRIDS[0], noise_sd="a"), "noise_sd = 'a'"),
    ("fit_phase rng str", lambda: _fit(rng="a"), "rng = 'a'"),
    ("fit_phase grids NaN", lambda: _fit(grids=GRIDS * NAN), "grids contains NaN"),
    ("fit_phase d 2-d", lambda: _fit(d_values=D[None]), "d_values has shape"),
    ("fit_phase params missing", lambda: _fit(params={}), "params lacks"),
    ("fit_phase zero seeds", lambda: _fit(grids=GRIDS[:0]), "grids has shape"),
    # linear_ae_dynamics
    ("eigenvalues complex", lambda: ae.mode_strengths(LAM + 1j, [0.0, 1.0]),
     "eigenvalues is complex"),
    ("eigenvalues str", lambda: ae.mode_strengths("abc", [0.0]), "eigenvalues"),
    ("GD steps absurd", lambda: ae.mode_strengths(LAM, [1e12], lr=0.1), "times has a step"),
    ("mode_losses NaN", lambda: ae.mode_losses(LAM, np.full(3, NAN)), "strengths contains NaN"),
    ("mode_losses mismatch", lambda: ae.mode_losses(LAM, np.ones(5)), "strengths has shape"),
    ("subspace variance_fraction str",
     lambda: ae.subspace_loss_curves(LAM, np.zeros((2, 3)), "a"), "variance_fraction"),
    ("subspace strengths NaN", lambda: ae.subspace_loss_curves(LAM, np.full((2, 3), NAN)),
     "strengths contains NaN"),
    # reconstruction_alignment
    ("preprocess constant X", lambda: ra.alignment_preprocess(np.ones((5, 3))),
     "X is constant"),
    ("preprocess 0-d X", lambda: ra.alignment_preprocess(3.0), "X has shape"),
    ("preprocess 1-d X", lambda: ra.alignment_preprocess(np.ones(5)), "X has shape"),
    ("preprocess empty X", lambda: ra.alignment_preprocess(np.ones((0, 3))), "X has shape"),
    ("preprocess jitter NaN", lambda: ra.alignment_preprocess(X, jitter=NAN), "jitter = nan"),
    ("preprocess jitter < 0", lambda: ra.alignment_preprocess(X, jitter=-1.0), "jitter = -1"),
    ("preprocess jitter str", lambda: ra.alignment_preprocess(X, jitter="a"), "jitter = 'a'"),
    ("preprocess seed str", lambda: ra.alignment_preprocess(X, seed="a"), "seed = 'a'"),
    ("one_hot empty", lambda: ra.one_hot([]), "labels has shape"),
    ("one_hot NaN", lambda: ra.one_hot([0.0, NAN, 1.0]), "labels"),
    ("one_hot None", lambda: ra.one_hot([None, 1]), "labels"),
    ("one_hot fractions", lambda: ra.one_hot([0.5, 1.0]), "labels"),
    ("alignment NaN labels", lambda: ra.alignment_curve(X, np.r_[LAB[:-1], NAN]), "labels"),
    ("alignment Ks empty", lambda: ra.alignment_curve(X, LAB, Ks=[]), "Ks = "),
    ("alignment Ks scalar", lambda: ra.alignment_curve(X, LAB, Ks=2), "Ks = "),
    ("alignment zero labels", lambda: ra.alignment_curve(X, np.zeros((20, 2))),
     "label matrix is zero"),
    ("masking_impact clean 0", lambda: ra.masking_impact([1.0], [0.0]), "align_clean contains 0"),
    ("masking_impact NaN", lambda: ra.masking_impact([NAN], [1.0]), "align_noisy contains NaN"),
    ("masking_impact str", lambda: ra.masking_impact("a", "b"), "align_noisy"),
    # kou_setting
    ("sample_kou absurd n", lambda: ks.sample_kou(KOU, 10**12, 0), "n = "),
    ("sample_kou rng str", lambda: ks.sample_kou(KOU, 5, "a"), "rng = 'a'"),
    ("sample_kou setting None", lambda: ks.sample_kou(None, 5, 0), "setting: expected"),
    ("draw_kou rng str", lambda: ks.draw_kou(KOU, 5, "a"), "rng = 'a'"),
    ("draw_kou n 0", lambda: ks.draw_kou(KOU, 0, np.random.default_rng(0)), "n = 0"),
    ("KouSetting d absurd", lambda: KOU.replace(d=10**12), "d = "),
    ("KouSetting n absurd", lambda: KOU.replace(n=10**12), "n = "),
    ("KouSetting steps absurd", lambda: KOU.replace(steps=10**12), "steps = "),
    ("KouSetting n x d absurd", lambda: KOU.replace(n=10**5, d=10**5), "n = 100000, d"),
    ("kou_init rng str", lambda: ks.kou_init(KOU, "a"), "rng = 'a'"),
    # denoising_moments
    ("same_patch_matrix absurd", lambda: dm.same_patch_matrix((1, 1000, 1000), 1),
     "image_shape (D x D"),
    ("sample_masks absurd", lambda: dm.sample_masks(10**9, 0.5, (1, 64, 64), 1), "n = "),
    ("sample_masks seed str", lambda: dm.sample_masks(2, 0.5, (1, 4, 4), 2, seed="a"),
     "seed = 'a'"),
    # linear_reconstruction
    ("solve obj None", lambda: lr.solve(None, 2), "obj: expected"),
    ("optimal_head zero encoder", lambda: lr.optimal_head(OBJ, np.zeros((2, 4))),
     "linearly dependent"),
    ("subspace_distance zero", lambda: lr.subspace_distance(np.zeros((2, 4)), np.eye(4)[:2]),
     "E1 is zero"),
    # reconstruction_transfer
    ("source_encoder rtol NaN", lambda: rt.source_encoder(PROB, 0.1, 2, rtol=NAN), "rtol = nan"),
    ("source_encoder rtol str", lambda: rt.source_encoder(PROB, 0.1, 2, rtol="a"), "rtol = 'a'"),
    ("population_residual zero E", lambda: rt.population_residual(PROB, np.zeros((2, 8))),
     "linearly dependent"),
    ("predict intercept str", lambda: rt.predict_target_error(PROB, 0.1, 2, 20, intercept="no"),
     "intercept = 'no'"),
    ("table alphas empty", lambda: rt.transfer_error_table(PROB, [], [2], [20]), "alphas = "),
    ("table alphas NaN", lambda: rt.transfer_error_table(PROB, [NAN], [2], [20]), "alpha = nan"),
    ("table alphas str", lambda: rt.transfer_error_table(PROB, "ab", [2], [20]), "alphas = "),
    ("table Ks 2.5", lambda: rt.transfer_error_table(PROB, [0.1], [2.5], [20]), "Ks contains"),
    ("table n_ts str", lambda: rt.transfer_error_table(PROB, [0.1], [2], ["a"]), "n_ts contains"),
    ("best_alpha unknown column", lambda: rt.best_alpha(
        rt.transfer_error_table(PROB, [0.1], [2], [20]), "foo"), "error = 'foo'"),
    ("best_alpha not a table", lambda: rt.best_alpha([1, 2]), "table: expected"),
    ("task sample absurd", lambda: TASK.sample(10**12), "n = "),
    ("task sample seed str", lambda: TASK.sample(5, "a"), "seed = 'a'"),
    ("low_variance_target decay str", lambda: rt.GaussianTransferTask.low_variance_target(
        decay="a"), "decay = 'a'"),
    ("low_variance_target noise NaN", lambda: rt.GaussianTransferTask.low_variance_target(
        noise=NAN), "noise = nan"),
    ("low_variance_target seed str", lambda: rt.GaussianTransferTask.low_variance_target(
        seed="a"), "seed = 'a'"),
    ("low_variance_target D absurd", lambda: rt.GaussianTransferTask.low_variance_target(
        D=10**6), "D = 1000000"),
    # shared check_data
    ("objective complex X", lambda: reconstruction_objective(X + 1j), "X is complex"),
    ("objective str X", lambda: reconstruction_objective("abc"), "X: expected a numeric"),
]


@pytest.mark.parametrize("call, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_named_value_error(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


def test_good_inputs_still_work():
    """Valid calls are unchanged: a hand-checkable isotonic fit and a 1-point exponent."""
    np.testing.assert_allclose(pb.isotonic_decreasing([3.0, 1.0, 2.0]), [3.0, 1.5, 1.5])
    d = np.array([10.0, 100.0, 1000.0])
    beta, _ = pb.fit_exponent(d, d ** 0.25)
    assert beta == pytest.approx(0.25, abs=1e-12)
    assert np.isnan(pb.fit_exponent(np.ones(4), np.ones(4))[0])  # no spread in d: no slope
    np.testing.assert_allclose(ra.one_hot(["b", "a", "b"]), [[0, 1], [1, 0], [0, 1]])
