"""Bad inputs of the reconstruction/perception code: ValueError naming the field."""

import numpy as np
import pytest

import dynamics.denoising_moments as dm
import dynamics.linear_ae_dynamics as lad
import dynamics.linear_reconstruction as lr
import dynamics.reconstruction_alignment as ral
import dynamics.reconstruction_transfer as rt

_rng = np.random.default_rng(0)
X = _rng.standard_normal((50, 16))
Y = _rng.standard_normal((50, 2))
S = X.T @ X / 50
OBJ = lr.reconstruction_objective(X)
PB = rt.GaussianTransferTask.low_variance_target(D=16).problem()
XNAN = X.copy()
XNAN[3, 2] = np.nan


def _nets_width():
    from nets.autoencoders import LinearAutoencoder

    LinearAutoencoder(4, 5)


def _nets_patch():
    from nets.autoencoders import patch_masks

    patch_masks(2, (4, 4), 3, 0.5)


def _nets_ratio():
    import torch

    from nets.autoencoders import noisy_view

    noisy_view(torch.zeros(2, 16), "mask", mask_ratio=1.0, image_shape=(4, 4), patch_size=2)


def _nets_joint_rows():
    from nets.linear_transfer import train_joint

    train_joint(X, Y[:40], 3, 1.0)


def _nets_head():
    from nets.linear_transfer import fit_ols_head

    fit_ols_head(X[:3, :5], Y[:3])


def _config(**kw):
    from validation.experiments.reconstruction_perception import ReconstructionPerceptionConfig

    ReconstructionPerceptionConfig(**kw)


CASES = [
    ("K > D", lambda: lr.solve(OBJ, 17), "K = 17"),
    ("K = 0", lambda: lr.solve(OBJ, 0), "K = 0"),
    ("mask ratio 1", lambda: dm.masking_second_moment(S, 1.0, (4, 4), 2), "mask_ratio = 1.0"),
    ("mask ratio < 0", lambda: dm.masking_second_moment(S, -0.1, (4, 4), 2), "mask_ratio = -0.1"),
    ("patch not dividing", lambda: lr.masking_dae_objective(X, 0.5, (4, 4), 3),
     "patch_size = 3 does not divide"),
    ("image shape vs D", lambda: lr.masking_dae_objective(X, 0.5, (5, 5), 1), "image_shape"),
    ("X/Y rows", lambda: lr.supervised_objective(X, Y[:40]), "Y has shape"),
    ("encoder columns", lambda: lr.objective_loss(OBJ, np.ones((2, 15))), "encoder has shape"),
    ("second moment shape", lambda: lr.LinearObjective(np.ones((2, 3)), np.eye(4), 1.0),
     "second_moment has shape"),
    ("NaN data", lambda: lr.reconstruction_objective(XNAN), "X contains NaN"),
    ("negative lambda", lambda: lr.joint_objective(X, Y, -1.0), "lam = -1.0"),
    ("negative sigma", lambda: lr.gaussian_dae_objective(X, -1.0), "sigma = -1.0"),
    ("unknown noise", lambda: lr.denoising_objective(X, "salt"), "noise = 'salt'"),
    ("mask without shape", lambda: lr.denoising_objective(X, "mask", mask_ratio=0.5),
     "image_shape is None"),
    ("negative alpha", lambda: rt.source_encoder(PB, -0.5, 3), "alpha = -0.5"),
    ("n_t too small", lambda: rt.predict_target_error(PB, 1.0, 5, 7), "n_t = 7"),
    ("from_data rows", lambda: rt.LinearTransferProblem.from_data(X, Y, Y[:10]),
     "shapes mismatch"),
    ("cov not PD", lambda: rt.LinearTransferProblem(np.zeros((3, 3)), np.ones((1, 3)),
                                                    np.ones((1, 3)), 1.0), "cov is not positive"),
    ("alignment K > D", lambda: ral.alignment_curve(X, np.arange(50) % 3, [20]), "Ks contains"),
    ("mode init", lambda: lad.mode_strengths([1.0], [1.0], init=1.5), "init = 1.5"),
    ("masks n", lambda: dm.sample_masks(0, 0.5, (4, 4), 2), "n = 0"),
    ("nets width > D", _nets_width, "width = K = 5"),
    ("nets patch", _nets_patch, "patch_size = 3"),
    ("nets mask ratio", _nets_ratio, "mask_ratio = 1.0"),
    ("nets joint rows", _nets_joint_rows, "shapes mismatch"),
    ("nets OLS head", _nets_head, "n_t = 3"),
    ("config parts", lambda: _config(parts=("foo",)), "parts"),
    ("config n_t", lambda: _config(bridge_n_ts=(5,)), "bridge_n_ts"),
    ("config estimation", lambda: _config(bridge_estimation="exact"), "bridge_estimation"),
    ("config moment samples", lambda: _config(bridge_moment_samples=5), "bridge_moment_samples"),
    ("config data_dir", lambda: _config(data_dir="/nonexistent/rp-data"), "data_dir"),
    ("config device", lambda: _config(device="tpu"), "device = 'tpu'"),
]


@pytest.mark.parametrize("call,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_value_error_naming_it(call, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(".", r"\.")):
        call()


def test_cli_reports_bad_parts_in_one_line(capsys):
    from validation.cli import main

    rc = main(["reproduce", "reconstruction-perception", "--quick", "--parts", "nope",
               "--out", "/tmp/never-written-rp"])
    err = capsys.readouterr().err
    assert rc != 0 and "parts" in err and "Traceback" not in err
