"""Closed forms of the linear reconstruction lemma against independent oracles and Monte Carlo."""

import numpy as np
import pytest

import dynamics.denoising_moments as dm
import dynamics.linear_reconstruction as lr
from tests.linear_data import anisotropic_regression_data as _data


def _pca(X, K):
    w, V = np.linalg.eigh(X.T @ X)
    return V[:, ::-1][:, :K].T


def test_patch_labels_hand_case():
    lab = dm.patch_labels((4, 4), 2)
    expected = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]).ravel()
    np.testing.assert_array_equal(lab, expected)
    lab2 = dm.patch_labels((2, 2, 2), 1)  # channels never share a patch
    assert len(np.unique(lab2)) == 8


def test_reconstruction_is_pca_and_loss_is_tail_sum():
    X, _ = _data()
    obj = lr.reconstruction_objective(X)
    sol = lr.solve(obj, 5)
    assert lr.subspace_distance(sol.encoder, _pca(X, 5)) < 1e-8
    lam = np.linalg.eigvalsh(X.T @ X / len(X))[::-1]
    assert sol.loss == pytest.approx(lam[5:].sum(), rel=1e-10)
    assert lr.objective_loss(obj, sol.encoder) == pytest.approx(sol.loss, rel=1e-10)


def test_optimal_head_matches_least_squares():
    X, Y = _data(1)
    obj = lr.supervised_objective(X, Y)
    E = np.random.default_rng(3).standard_normal((3, X.shape[1]))
    H, *_ = np.linalg.lstsq(X @ E.T, Y, rcond=None)
    np.testing.assert_allclose(lr.optimal_head(obj, E), H.T, rtol=1e-9, atol=1e-12)
    direct = np.mean(np.sum((Y - X @ E.T @ H) ** 2, 1))
    assert lr.objective_loss(obj, E) == pytest.approx(direct, rel=1e-10)


def test_supervised_full_rank_is_ols():
    X, Y = _data(2)
    sol = lr.solve(lr.supervised_objective(X, Y), 4)  # K = C: no bottleneck
    B, *_ = np.linalg.lstsq(X, Y, rcond=None)
    assert sol.loss == pytest.approx(np.mean(np.sum((Y - X @ B) ** 2, 1)), rel=1e-9)


def test_closed_form_beats_random_encoders():
    X, Y = _data(4)
    obj = lr.joint_objective(X, Y, 0.7)
    sol = lr.solve(obj, 3)
    rng = np.random.default_rng(0)
    worst = min(lr.objective_loss(obj, rng.standard_normal((3, 16))) for _ in range(50))
    assert sol.loss < worst


def test_joint_interpolates_supervised_and_pca():
    X, Y = _data(5)
    K = 4
    big = lr.solve(lr.joint_objective(X, Y, 1e8), K).encoder
    assert lr.subspace_distance(big, _pca(X, K)) < 1e-5
    small = lr.solve(lr.joint_objective(X, Y, 1e-10), K).encoder
    sup = lr.solve(lr.supervised_objective(X, Y), K).encoder
    assert lr.subspace_distance(small, sup) < 1e-5


@pytest.mark.parametrize("sigma", [1e-3, 0.1, 0.5, 1.0, 3.0, 10.0])
def test_gaussian_dae_subspace_is_pca_for_every_noise_level(sigma):
    X, _ = _data(6)
    E = lr.solve(lr.gaussian_dae_objective(X, sigma), 5).encoder
    assert lr.subspace_distance(E, _pca(X, 5)) < 1e-8


def test_gaussian_eigenvalues_hand_formula():
    X, _ = _data(7)
    s2 = 0.8
    mu = lr.solve(lr.gaussian_dae_objective(X, np.sqrt(s2)), 4).eigenvalues
    lam = np.linalg.eigvalsh(X.T @ X / len(X))[::-1][:4]
    np.testing.assert_allclose(mu, lam ** 2 / (lam + s2), rtol=1e-9)


def test_masking_second_moment_monte_carlo():
    X, _ = _data(8, N=50)
    S = X.T @ X / len(X)
    m = dm.sample_masks(40000, 0.3, (4, 4), 2, seed=1)
    # E[(m x)(m x)^T] = S * E[m m^T] for masks independent of x
    mm = m.T @ m / len(m)
    mc = S * mm
    exact = dm.masking_second_moment(S, 0.3, (4, 4), 2)
    np.testing.assert_allclose(mc, exact, atol=0.02 * np.abs(S).max())


def test_masking_changes_subspace_and_beats_pca_by_monte_carlo():
    X, _ = _data(9)
    p, K = 0.5, 3
    obj = lr.masking_dae_objective(X, p, (4, 4), 2)
    sol = lr.solve(obj, K)
    E_pca = _pca(X, K)
    assert lr.subspace_distance(sol.encoder, E_pca) > 1e-2
    H_pca = lr.optimal_head(obj, E_pca)  # best decoder for the PCA encoder, masked inputs
    rng = np.random.default_rng(2)
    reps = 200
    diff, own = [], []
    for _ in range(reps):
        Xm = X * dm.sample_masks(len(X), p, (4, 4), 2, seed=rng)
        l_mask = np.mean(np.sum((X - Xm @ sol.encoder.T @ sol.head.T) ** 2, 1))
        l_pca = np.mean(np.sum((X - Xm @ E_pca.T @ H_pca.T) ** 2, 1))
        diff.append(l_pca - l_mask)
        own.append(l_mask)
    diff, own = np.array(diff), np.array(own)
    se = diff.std(ddof=1) / np.sqrt(reps)
    assert diff.mean() > 5 * se  # masking closed form wins, paired Monte Carlo
    assert abs(own.mean() - sol.loss) < 3 * own.std(ddof=1) / np.sqrt(reps) + 1e-9
