"""Bad-input table of :mod:`replica.design` and :mod:`replica.covariance` (issue 8): every row
must raise ``ValueError`` naming the argument (no numpy/numba traceback, MemoryError,
UnboundLocalError, or a silently "converged" result)."""

import numpy as np
import pytest

import replica
from replica.covariance import MonteCarlo, batched_quadratic_lasso, solve_covariance
from replica.design import (
    CovarianceDesign,
    SpectralDesign,
    Spectrum,
    column_kurtosis,
    haar_orthogonal,
)

NAN = float("nan")
SC = replica.TransferScenario((2.0, 6.0), (0.1, 0.1), replica.support_prior(0.10, [0.02, 0.02]))
SP = Spectrum.geometric(1.0, 5)
CD = CovarianceDesign(np.eye(4))
MC = MonteCarlo(n_samples=20, n_replicates=2)


def _solve(**kw):
    return solve_covariance(SC, CD, kw.pop("hyper", 0.5), **{"mc": MC, **kw})


def _bql(sigma=None, q=None, B=None, W=None, X=None, tol=1e-8, sweeps=10):
    return batched_quadratic_lasso(np.eye(3) if sigma is None else sigma,
                                   np.ones(2) if q is None else q,
                                   np.ones((2, 3)) if B is None else B,
                                   np.ones((2, 3)) if W is None else W,
                                   np.zeros((2, 3)) if X is None else X, tol, sweeps)


CASES = [
    # design
    ("haar n 0", lambda: haar_orthogonal(0), "n = 0"),
    ("haar n -1", lambda: haar_orthogonal(-1), "n = -1"),
    ("haar n 2.5", lambda: haar_orthogonal(2.5), "n = 2.5"),
    ("haar n str", lambda: haar_orthogonal("a"), "n = 'a'"),
    ("haar n absurd", lambda: haar_orthogonal(10**6), "too large"),
    ("haar rng str", lambda: haar_orthogonal(3, "a"), "rng = 'a'"),
    ("mp_ratio str", lambda: Spectrum(mp_ratio="a"), "mp_ratio = 'a'"),
    ("mp_ratio bool", lambda: Spectrum(mp_ratio=True), "mp_ratio = True"),
    ("mp_ratio complex", lambda: Spectrum(mp_ratio=1j), "mp_ratio = 1j"),
    ("eigenvalues str", lambda: Spectrum(eigenvalues="abc"), "eigenvalues"),
    ("eigenvalues complex", lambda: Spectrum(eigenvalues=np.array([1.0, 2.0]) + 1j),
     "eigenvalues: expected real"),
    ("from_design str", lambda: Spectrum.from_design("abc"), "design"),
    ("from_design empty", lambda: Spectrum.from_design(np.ones((0, 3))), "design: expected"),
    ("geometric n 2.5", lambda: Spectrum.geometric(1.0, 2.5), "n_features = 2.5"),
    ("geometric n absurd", lambda: Spectrum.geometric(1.0, 10**10), "n_features"),
    ("geometric alpha str", lambda: Spectrum.geometric("a", 5), "alpha = 'a'"),
    ("geometric condition str", lambda: Spectrum.geometric(1.0, 5, "a"), "condition = 'a'"),
    ("geometric condition inf", lambda: Spectrum.geometric(1.0, 5, float("inf")), "condition"),
    ("power_law n str", lambda: Spectrum.power_law(1.0, "a"), "n_features = 'a'"),
    ("power_law exponent str", lambda: Spectrum.power_law(1.0, 5, "a"), "exponent = 'a'"),
    ("r_transform NaN", lambda: SP.r_transform(NAN), "chi = nan"),
    ("r_transform str", lambda: SP.r_transform("a"), "chi = 'a'"),
    ("r_transform < 0", lambda: SP.r_transform(-5.0), "chi = -5.0"),
    ("sample_design n 2.5", lambda: SP.sample_design(2.5), "n_rows = 2.5"),
    ("sample_design n str", lambda: SP.sample_design("a"), "n_rows = 'a'"),
    ("sample_design rng str", lambda: SP.sample_design(5, "a"), "rng = 'a'"),
    ("sample_design absurd", lambda: SP.sample_design(10**12), "too large"),
    ("SpectralDesign None", lambda: SpectralDesign(None), "spectra = None"),
    ("check_scenario None", lambda: SpectralDesign((SP,)).check_scenario(None), "scenario"),
    ("sigma str", lambda: CovarianceDesign("abc"), "sigma"),
    ("sigma complex", lambda: CovarianceDesign(np.eye(3) * 1j), "sigma: expected real"),
    ("from_rows str", lambda: CovarianceDesign.from_rows("abc"), "design"),
    ("from_rows complex", lambda: CovarianceDesign.from_rows(np.ones((5, 3)) + 1j),
     "design: expected real"),
    ("cov check_scenario n 4.5", lambda: CD.check_scenario(SC, 4.5), "n_features = 4.5"),
    ("cov check_scenario n str", lambda: CD.check_scenario(SC, "a"), "n_features = 'a'"),
    ("cov sample n -1", lambda: CD.sample_design(-1), "n_rows = -1"),
    ("cov sample n 2.5", lambda: CD.sample_design(2.5), "n_rows = 2.5"),
    ("cov sample absurd", lambda: CD.sample_design(10**12), "too large"),
    ("cov sample rng str", lambda: CD.sample_design(3, "a"), "rng = 'a'"),
    ("kurtosis NaN", lambda: column_kurtosis(np.full((3, 3), NAN)), "design: contains NaN"),
    ("kurtosis empty", lambda: column_kurtosis(np.ones((0, 3))), "design: expected"),
    ("kurtosis str", lambda: column_kurtosis("abc"), "design"),
    # covariance: MonteCarlo
    ("mc n_samples 2.5", lambda: MonteCarlo(n_samples=2.5), "n_samples = 2.5"),
    ("mc n_samples str", lambda: MonteCarlo(n_samples="a"), "n_samples = 'a'"),
    ("mc n_replicates 2.5", lambda: MonteCarlo(n_replicates=2.5), "n_replicates = 2.5"),
    ("mc n_replicates str", lambda: MonteCarlo(n_replicates="a"), "n_replicates = 'a'"),
    ("mc seed -1", lambda: MonteCarlo(seed=-1), "seed = -1"),
    ("mc seed str", lambda: MonteCarlo(seed="a"), "seed = 'a'"),
    ("mc seed 2.5", lambda: MonteCarlo(seed=2.5), "seed = 2.5"),
    ("solve absurd Monte Carlo", lambda: _solve(mc=MonteCarlo(n_samples=10**12)), "mc (draws"),
    # covariance: solve_covariance
    ("solve hyper str", lambda: _solve(hyper="a"), "hyper (lam1) = 'a'"),
    ("solve hyper None", lambda: _solve(hyper=None), "hyper (lam1) = None"),
    ("solve tol str", lambda: _solve(tol="a"), "tol = 'a'"),
    ("solve max_iter 0", lambda: _solve(max_iter=0), "max_iter = 0"),
    ("solve max_iter -1", lambda: _solve(max_iter=-1), "max_iter = -1"),
    ("solve max_iter 2.5", lambda: _solve(max_iter=2.5), "max_iter = 2.5"),
    ("solve damping str", lambda: _solve(damping="a"), "damping = 'a'"),
    ("solve stall_tol NaN", lambda: _solve(stall_tol=NAN), "stall_tol = nan"),
    ("solve stall_tol < 0", lambda: _solve(stall_tol=-1.0), "stall_tol = -1.0"),
    ("solve cd_tol NaN", lambda: _solve(cd_tol=NAN), "cd_tol = nan"),
    ("solve cd_max_sweeps 0", lambda: _solve(cd_max_sweeps=0), "cd_max_sweeps = 0"),
    ("solve cd_max_sweeps 2.5", lambda: _solve(cd_max_sweeps=2.5), "cd_max_sweeps = 2.5"),
    ("solve mc str", lambda: _solve(mc="a"), "mc: expected a MonteCarlo"),
    ("solve strict str", lambda: _solve(strict="yes"), "strict = 'yes'"),
    # covariance: batched_quadratic_lasso
    ("bql sigma NaN", lambda: _bql(sigma=np.eye(3) * NAN), "sigma contains NaN"),
    ("bql sigma str", lambda: _bql(sigma="a"), "sigma: expected real"),
    ("bql sigma not square", lambda: _bql(sigma=np.ones((3, 2))), "sigma has shape"),
    ("bql q mismatch", lambda: _bql(q=np.ones(4)), "q has shape"),
    ("bql B mismatch", lambda: _bql(B=np.ones((2, 4))), "B has shape"),
    ("bql W < 0", lambda: _bql(W=-np.ones((2, 3))), "W >= 0"),
    ("bql X not float64", lambda: _bql(X=np.zeros((2, 3), dtype=int)), "X: expected a float64"),
    ("bql max_sweeps 0", lambda: _bql(sweeps=0), "max_sweeps = 0"),
    ("bql tol NaN", lambda: _bql(tol=NAN), "tol = nan"),
]


@pytest.mark.parametrize("call, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_named_value_error(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


def test_checked_cd_wrapper_solves_a_hand_case():
    """Sigma = I: the solution is soft-thresholding, x_i = sign(b_i) max(|b_i| - w_i, 0) / q."""
    B = np.array([[2.0, -0.5, -3.0]])
    X = np.zeros((1, 3))
    sweeps = batched_quadratic_lasso(np.eye(3), np.array([2.0]), B, np.ones((1, 3)), X,
                                     1e-12, 100)
    assert sweeps > 0
    np.testing.assert_allclose(X, [[0.5, 0.0, -1.0]], atol=1e-14)
