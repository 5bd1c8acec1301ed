"""Design descriptions (replica.design): bad-input table, finite instances."""

import math

import numpy as np
import pytest

import replica
from replica.covariance import MonteCarlo, solve_covariance
from replica.design import CovarianceDesign, SpectralDesign, Spectrum, column_kurtosis
from replica.rotinv import solve_rotinv_pretraining

_SC1 = replica.TransferScenario((0.5,), (0.1,), replica.support_prior(0.0, [0.1]))
_SC2 = replica.TransferScenario((0.5, 2.0), (0.1, 0.1), replica.support_prior(0.1, [0.0, 0.0]))
_NONSYM = np.array([[1.0, 0.5], [0.1, 1.0]])
_NOTPSD = np.array([[1.0, 2.0], [2.0, 1.0]])

BAD = [
    (lambda: Spectrum(eigenvalues=[1.0, -0.5, 2.0]), "eigenvalues"),
    (lambda: Spectrum(eigenvalues=[1.0, math.nan, 2.0]), "NaN"),
    (lambda: Spectrum(eigenvalues=[1.0, math.inf]), "infinite"),
    (lambda: Spectrum(eigenvalues=[0.0, 0.0]), "all zero"),
    (lambda: Spectrum(eigenvalues=[[1.0, 2.0]]), "1-D"),
    (lambda: Spectrum(), "exactly one"),
    (lambda: Spectrum(eigenvalues=[1.0, 2.0], mp_ratio=1.0), "exactly one"),
    (lambda: Spectrum(mp_ratio=-1.0), "mp_ratio"),
    (lambda: Spectrum.from_design(np.array([[1.0, np.nan]])), "design"),
    (lambda: Spectrum.geometric(0.5, 100, condition=0.5), "condition"),
    (lambda: SpectralDesign(()), "spectra"),
    (lambda: SpectralDesign((Spectrum(eigenvalues=[1.0, 2.0]),
                             Spectrum(eigenvalues=[1.0, 2.0, 3.0]))), "spectra"),
    (lambda: solve_rotinv_pretraining(_SC2, Spectrum.marchenko_pastur(0.5), 0.3), "design"),
    (lambda: solve_rotinv_pretraining(_SC1, Spectrum.marchenko_pastur(0.5), -1.0), "lam1"),
    (lambda: CovarianceDesign(_NONSYM), "symmetric"),
    (lambda: CovarianceDesign(_NOTPSD), "positive semi-definite"),
    (lambda: CovarianceDesign(np.array([[1.0, np.nan], [np.nan, 1.0]])), "NaN"),
    (lambda: CovarianceDesign(np.ones((2, 3))), "square"),
    (lambda: CovarianceDesign(np.zeros((2, 2))), "zero matrix"),
    (lambda: CovarianceDesign.from_rows(np.c_[np.ones(5), np.arange(5.0)]), "constant"),
    (lambda: CovarianceDesign(np.eye(3)).check_scenario(_SC1, n_features=4), "N = 4"),
    (lambda: solve_covariance(_SC1, np.eye(3), 0.3), "design"),
    (lambda: solve_covariance(_SC1, CovarianceDesign(np.diag([1.0, 0.0, 1.0])), 0.3),
     "diagonal"),
    (lambda: solve_covariance(_SC1, CovarianceDesign(np.eye(3)), 0.0), "lam1"),
    (lambda: MonteCarlo(n_replicates=1), "n_replicates"),
    (lambda: MonteCarlo(n_samples=0), "n_samples"),
]


@pytest.mark.parametrize("make, fragment", BAD)
def test_bad_input_names_the_field(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()


def test_sampled_designs_have_the_described_law():
    sp = Spectrum.power_law(0.5, 80, 1.0)
    A = sp.sample_design(40, rng=0)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(A.T @ A)), sp.eigenvalues,
                               atol=1e-10)
    assert sp.alpha == pytest.approx(0.5)  # tr(A^T A)/N = M/N
    S = np.array([[1.0, 0.6], [0.6, 1.0]])
    d = CovarianceDesign(S)
    A = d.sample_design(200_000, rng=1)
    np.testing.assert_allclose(A.T @ A / 200_000 * 2, S, atol=0.01)


def test_column_kurtosis_hand_values():
    x = np.c_[np.r_[np.ones(5), -np.ones(5)], np.r_[np.zeros(9), 1.0]]
    k = column_kurtosis(x)
    assert k[0] == pytest.approx(1.0)  # symmetric +-1: E x^4 / (E x^2)^2 = 1
    # Bernoulli(0.1): E(x-p)^4 / var^2 = (1 - 3 p q) / (p q)
    assert k[1] == pytest.approx((1 - 3 * 0.09) / 0.09)
