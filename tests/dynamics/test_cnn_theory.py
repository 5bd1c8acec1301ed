"""Phase-boundary quantities of Yuan et al. §4 (Theorem 4.2, 4.3, Proposition 4.4)."""

import numpy as np
import pytest

from dynamics import (
    CNNTransferSetting,
    critical_u_norm_scratch,
    critical_u_norm_transfer,
    negative_transfer_ratios,
    predict_regime,
    scratch_ratio,
    sympy_expressions,
    transfer_gamma,
    transfer_term,
)

PARAMS = dict(alpha=0.7, N1=300, N2=25, u_norm=1.3, v2_norm=0.8, sigma_p1=0.9, sigma_p2=1.4)


# Hand-computed cases (exact fractions, worked out on paper from Theorem 4.2 / 4.3 /
# Proposition 4.4 of Yuan et al. 2025, docs/cnn_theory.md):
# T(alpha=1/2, N1=4, N2=2, |u|=1, |v2|=1, s1=s2=1) = (1/4*16 + 4*2^2) / (1/4*4 + 2) = 20/3
# T(alpha=1, N1=2, N2=1, |u|=2, |v2|=0, s1=2, s2=1) = (4*16/16 + 16) / (2/4 + 1) = 40/3
# Gamma(alpha=1/2, N1=4, |u|=2, s1=1, s2=2, d=8) = 1/4*4*16 / (1*4*8) = 1/2
# scratch(N2=3, |u|=1, |v2|=1, s2=1, d=6) = 3*2^2/6 = 2
# ratios(alpha=1/2, N1=4, N2=1, |u|=1, |v2|=2, s1=1, s2=2): |u+v2|^2/|u|^2 = 5, source = 8
HAND_T = [((0.5, 4, 2, 1.0, 1.0, 1.0, 1.0), 20 / 3), ((1.0, 2, 1, 2.0, 0.0, 2.0, 1.0), 40 / 3)]


def test_closed_forms_match_hand_computed_cases():
    for args, val in HAND_T:
        assert transfer_term(*args) == pytest.approx(val, rel=1e-14)
    assert transfer_gamma(0.5, 4, 2.0, 1.0, 2.0, 8) == pytest.approx(0.5, rel=1e-14)
    assert scratch_ratio(3, 1.0, 1.0, 1.0, 6) == pytest.approx(2.0, rel=1e-14)
    sig, src = negative_transfer_ratios(0.5, 4, 1, 1.0, 2.0, 1.0, 2.0)
    assert (float(sig), float(src)) == pytest.approx((5.0, 8.0), rel=1e-14)


def test_sympy_forms_match_hand_computed_cases():
    ex = sympy_expressions()
    sy = ex["symbols"]
    names = ("alpha", "N1", "N2", "u_norm", "v2_norm", "sigma_p1", "sigma_p2")
    for args, val in HAND_T:
        sub = {sy[k]: v for k, v in zip(names, args, strict=True)}
        assert float(ex["T"].subs(sub)) == pytest.approx(val, rel=1e-12)
    sub = {sy["alpha"]: 0.5, sy["N1"]: 4, sy["u_norm"]: 2, sy["sigma_p1"]: 1,
           sy["sigma_p2"]: 2, sy["d"]: 8}
    assert float(ex["Gamma"].subs(sub)) == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize("C", [0.5, 2.0])
def test_critical_u_matches_numeric_root(C):
    """The closed-form and sympy roots of C T(|u|) = d against scipy's brentq on T itself."""
    from scipy.optimize import brentq

    p = PARAMS
    d = 1500.0
    rest = (p["v2_norm"], p["sigma_p1"], p["sigma_p2"])

    def gap(u):
        return C * transfer_term(p["alpha"], p["N1"], p["N2"], u, *rest) - d

    assert gap(0.0) < 0  # so the boundary lies at a positive |u|
    root = brentq(gap, 0.0, 100.0, xtol=1e-14)
    u_c = critical_u_norm_transfer(d, p["alpha"], p["N1"], p["N2"], *rest, C=C)
    assert u_c == pytest.approx(root, rel=1e-9)
    ex = sympy_expressions()
    sy = ex["symbols"]
    sub = {sy["alpha"]: p["alpha"], sy["N1"]: p["N1"], sy["N2"]: p["N2"],
           sy["v2_norm"]: p["v2_norm"], sy["sigma_p1"]: p["sigma_p1"],
           sy["sigma_p2"]: p["sigma_p2"], sy["d"]: d, sy["C1"]: C}
    assert float(ex["u2_critical"].subs(sub)) == pytest.approx(root**2, rel=1e-9)


def test_transfer_term_hand_value():
    # alpha = 1, N1 = N2 = 1, sigma = 1, |u| = 1, |v2| = 1: (1 + 4) / (1 + 1) = 2.5
    assert transfer_term(1.0, 1, 1, 1.0, 1.0, 1.0, 1.0) == 2.5
    # alpha = 0 reduces to N2 |u+v2|^4 / sigma^4: Theorem 4.2 -> Theorem 4.3
    d = 700.0
    assert np.isclose(transfer_term(0.0, 50, 20, 1.1, 0.6, 1.0, 1.3) / d,
                      scratch_ratio(20, 1.1, 0.6, 1.3, d))


@pytest.mark.parametrize("C", [0.5, 1.0, 3.0])
def test_critical_u_solves_boundary(C):
    p = PARAMS
    for d in (200.0, 1000.0, 5000.0):
        u = critical_u_norm_transfer(d, p["alpha"], p["N1"], p["N2"], p["v2_norm"],
                                     p["sigma_p1"], p["sigma_p2"], C=C)
        T = transfer_term(p["alpha"], p["N1"], p["N2"], u, p["v2_norm"], p["sigma_p1"],
                          p["sigma_p2"])
        if u > 0:
            assert np.isclose(C * T, d)
        else:
            assert C * T >= d
        us = critical_u_norm_scratch(d, p["N2"], p["v2_norm"], p["sigma_p2"], C=C)
        r = scratch_ratio(p["N2"], us, p["v2_norm"], p["sigma_p2"], d)
        assert np.isclose(r, C) if us > 0 else r >= C


def test_transfer_term_monotone_in_alpha_N1_sigma_u():
    """At strong u the paper's direction: more alpha, N1, |u|, less sigma_p1 help."""
    base = dict(alpha=0.5, N1=200, N2=20, u_norm=2.0, v2_norm=1.0, sigma_p1=1.0, sigma_p2=1.0)
    T0 = transfer_term(**base)
    assert transfer_term(**{**base, "alpha": 0.9}) > T0
    assert transfer_term(**{**base, "N1": 800}) > T0
    assert transfer_term(**{**base, "u_norm": 3.0}) > T0
    assert transfer_term(**{**base, "sigma_p1": 0.5}) > T0


def test_predict_regime_cases():
    st = CNNTransferSetting(d=2000, N1=200, N2=20, u_norm=0.0, v2_norm=2.5, alpha=0.5)
    p = predict_regime(st)
    assert p.negative_transfer and p.signal_ratio == np.inf and p.Gamma == 0
    assert p.transfer_regime == "sub-optimal"
    p = predict_regime(st.replace(u_norm=3.0))
    assert p.transfer_regime == "near-optimal" and p.scratch_regime == "near-optimal"
    assert not p.negative_transfer
    p = predict_regime(st.replace(u_norm=3.0, d=4000, v2_norm=0.5))
    assert p.scratch_regime == "sub-optimal" and p.transfer_regime == "near-optimal"
    assert p.transfer_helps
    p = predict_regime(st, C1=0.5, C3=2.0)
    assert p.transfer_regime in ("sub-optimal", "undetermined")
    assert not predict_regime(st.replace(alpha=0.0)).negative_transfer
    assert p.to_dict()["Gamma"] == 0
    with pytest.raises(ValueError, match="C4"):
        predict_regime(st, C4=0.0)
