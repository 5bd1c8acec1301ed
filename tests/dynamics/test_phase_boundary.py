"""Phase boundaries, exponents and theorem constants on grids with a known answer."""

import numpy as np
import pytest

from dynamics import (
    boundary,
    cell_noise_sd,
    critical_u_norm_scratch,
    critical_u_norm_transfer,
    fit_exponent,
    fit_phase,
    isotonic_decreasing,
    theorem_constant,
)

D = np.array([100.0, 200.0, 400.0, 800.0, 1600.0])
S = np.linspace(0.0, 8.0, 161)
N, C_TRUE = 20, 3.0


def _kou_like_grid(noise=0.0, rng=None):
    """err = 0.1 + 0.4 exp(-N s^4 / (C d)): the 0.2 contour is N s^4 / d = C ln 4."""
    g = 0.1 + 0.4 * np.exp(-N * S[None, :] ** 4 / (C_TRUE * D[:, None]))
    if noise:
        g = g + noise * rng.standard_normal(g.shape)
    return g


def test_isotonic_decreasing_by_hand():
    assert np.allclose(isotonic_decreasing([3, 1, 2, 0]), [3, 1.5, 1.5, 0])
    assert np.allclose(isotonic_decreasing([1, 2, 3]), [2, 2, 2])
    assert np.allclose(isotonic_decreasing([5, 4, 4, 1]), [5, 4, 4, 1])


def test_boundary_recovers_the_analytic_contour():
    b = boundary(_kou_like_grid(), S, 0.2)
    want = (C_TRUE * np.log(4.0) * D / N) ** 0.25
    assert np.allclose(b, want, atol=2e-3)
    beta, se = fit_exponent(D, b)
    assert beta == pytest.approx(0.25, abs=2e-3)
    c = theorem_constant("thm43", D, b, {"N": N, "sigma_p": 1.0})
    assert np.allclose(c, C_TRUE * np.log(4.0), rtol=5e-3)


def test_boundary_nan_when_no_crossing():
    g = np.full((2, S.size), 0.45)
    g[1] = 0.05
    assert np.all(np.isnan(boundary(g, S, 0.2)))


def test_thm42_constant_inverts_the_critical_norm():
    p = dict(alpha=0.5, N1=50, N2=20, v2_norm=2.5, sigma_p1=1.0, sigma_p2=1.0)
    d = D[2:]
    u = critical_u_norm_transfer(d, p["alpha"], p["N1"], p["N2"], p["v2_norm"], 1.0, 1.0, C=0.7)
    assert np.all(u > 0)
    assert np.allclose(theorem_constant("thm42", d, u, p), 0.7, rtol=1e-10)
    u3 = critical_u_norm_scratch(d, 20, 2.5, 1.0, C=4.0)
    assert np.allclose(theorem_constant("thm43", d, u3, {"N": 20, "sigma_p": 1.0,
                                                          "v_norm": 2.5}), 4.0, rtol=1e-10)


def test_bootstrap_over_seeds_covers_the_truth():
    rng = np.random.default_rng(0)
    seeds = np.stack([_kou_like_grid(0.03, rng) for _ in range(8)])
    fit = fit_phase(seeds, S, D, 0.2, "thm43", {"N": N, "sigma_p": 1.0}, n_boot=200, rng=1)
    truth = C_TRUE * np.log(4.0)
    assert fit.constant_lo <= truth <= fit.constant_hi
    assert fit.constant_hi - fit.constant_lo < 0.5 * truth
    want = (truth * D / N) ** 0.25
    assert np.mean((fit.lo <= want) & (want <= fit.hi)) >= 0.8


def test_cell_noise_sd_recovers_the_noise():
    rng = np.random.default_rng(2)
    d = np.linspace(100, 1090, 100)
    s = np.linspace(0, 9.9, 100)
    g = 0.1 + 0.4 * np.exp(-N * s[None, :] ** 4 / (6.0 * d[:, None]))
    assert cell_noise_sd(g + 0.02 * rng.standard_normal(g.shape)) == pytest.approx(0.02,
                                                                                   rel=0.1)


@pytest.mark.parametrize("call, fragment", [
    (lambda: boundary(_kou_like_grid(), S, 0.0), "level = 0.0"),
    (lambda: boundary(_kou_like_grid(), S, 0.5), "level = 0.5"),
    (lambda: boundary(_kou_like_grid(), S, -0.2), r"\(0, 0.5\)"),
    (lambda: boundary(_kou_like_grid(), S[:-1], 0.2), "grid has shape"),
    (lambda: boundary(_kou_like_grid(), S[::-1], 0.2), "increasing"),
    (lambda: theorem_constant("thm99", D, D, {}), "theorem"),
    (lambda: fit_phase(_kou_like_grid(), S, D, 0.7, "thm43", {}), "level"),
    (lambda: fit_phase(_kou_like_grid()[:3], S, D, 0.2, "thm43", {}), "grids has shape"),
    (lambda: fit_phase(_kou_like_grid(), S, D, 0.2, "kou", {}), "theorem"),
    (lambda: cell_noise_sd(np.full((5, 5), 0.9)), "band"),
])
def test_phase_bad_inputs(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()
