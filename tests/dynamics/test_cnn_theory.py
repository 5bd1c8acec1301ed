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


def test_numeric_matches_sympy():
    ex = sympy_expressions()
    sy = ex["symbols"]
    sub = {sy["alpha"]: 0.7, sy["N1"]: 300, sy["N2"]: 25, sy["u_norm"]: 1.3, sy["v2_norm"]: 0.8,
           sy["sigma_p1"]: 0.9, sy["sigma_p2"]: 1.4, sy["d"]: 1500, sy["C1"]: 2.0}
    p = PARAMS
    assert np.isclose(float(ex["T"].subs(sub)), transfer_term(**p))
    assert np.isclose(float(ex["scratch_ratio"].subs(sub)),
                      scratch_ratio(p["N2"], p["u_norm"], p["v2_norm"], p["sigma_p2"], 1500))
    assert np.isclose(float(ex["Gamma"].subs(sub)),
                      transfer_gamma(p["alpha"], p["N1"], p["u_norm"], p["sigma_p1"],
                                     p["sigma_p2"], 1500))
    sig, src = negative_transfer_ratios(**p)
    assert np.isclose(float(ex["signal_ratio"].subs(sub)), sig)
    assert np.isclose(float(ex["source_ratio"].subs(sub)), src)
    u_c = critical_u_norm_transfer(1500, p["alpha"], p["N1"], p["N2"], p["v2_norm"],
                                   p["sigma_p1"], p["sigma_p2"], C=2.0)
    assert np.isclose(float(ex["u2_critical"].subs(sub)), u_c**2)


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
