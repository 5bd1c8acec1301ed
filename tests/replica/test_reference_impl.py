"""The numpy reference of ``benchmarks/reference_replica.py`` against theory_reference.json.

``tests/data/translasso/theory_reference.json`` was produced by a third, independent
implementation of the equations of state (``docs/translasso_theory.md``; 200 Gauss-Legendre
nodes per piece); the benchmark's reference (60 nodes per piece) must reproduce its 13 cases
to 1e-6 relative.
"""

import sys
from pathlib import Path

import pytest

from .conftest import load_reference_cases

_REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(_REPO / "benchmarks"))
from reference_replica import reference_solve, soft_threshold_moments  # noqa: E402

QUANTITIES = ("eps1", "eps2", "Q1", "Q2", "R", "m2", "chi1", "chi2", "chi12")
RTOL = 1e-6


_CASES = load_reference_cases()


def test_reference_file_has_13_cases():
    assert len(_CASES) == 13


@pytest.mark.parametrize("case", _CASES, ids=[c["name"] for c in _CASES])
def test_reference_reproduces_theory_reference(case):
    prior, hyper, want = case["prior"], case["hyper"], case["theory"]
    got = reference_solve(
        prior["weights"],
        prior["means"],
        prior["covs"],
        case["alphas"],
        case["sigmas"],
        hyper["lam1"],
        hyper["lam2"],
        hyper["kappa"],
        hyper["dlam"],
    )
    rel = {q: abs(got[q] - want[q]) / abs(want[q]) for q in QUANTITIES}
    rel["m1"] = max(abs(a - b) / abs(b) for a, b in zip(got["m1"], want["m1"], strict=True))
    bad = {q: r for q, r in rel.items() if not r <= RTOL}
    assert not bad, f"relative differences above {RTOL}: {bad}"


def test_moments_infinite_threshold_and_mean_zero_form():
    # lam = inf gives exact zeros; mu = 0 matches the simplified closed forms
    P, M1, M2 = soft_threshold_moments(0.3, 0.5, float("inf"))
    assert (float(P), float(M1), float(M2)) == (0.0, 0.0, 0.0)
    from scipy.stats import norm

    v, lam = 0.7, 0.4
    s = v**0.5
    P, M1, M2 = soft_threshold_moments(0.0, v, lam)
    assert float(P) == pytest.approx(2 * norm.cdf(-lam / s), rel=1e-13)
    assert float(M1) == pytest.approx(0.0, abs=1e-15)
    want_m2 = 2 * ((v + lam**2) * norm.cdf(-lam / s) - lam * s * norm.pdf(lam / s))
    assert float(M2) == pytest.approx(want_m2, rel=1e-12)
