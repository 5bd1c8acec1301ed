"""extrapolation_table of the finite-size study against an independent weighted fit
(numpy.polyfit), on a hand-made points table: the default-suite run of the study only has two
factors and the i.i.d. control (theory_se = 0), so neither the drop-smallest fit nor the
theory's Monte Carlo error in z_extrapolated was exercised there."""

import math

import numpy as np
import pandas as pd
import pytest

from validation.experiments import translasso_finite_size as FS


def _points():
    rows = []
    rng = np.random.default_rng(0)
    for design, theory_se in (("Gaussian Sigma", 0.0004), ("i.i.d. Gaussian", 0.0)):
        for N in (244, 61, 488, 122):  # unsorted on purpose
            se = 0.0002 * math.sqrt(488 / N)
            mse2 = 0.010 + 0.3 / N + se * rng.standard_normal()
            theory = 0.0103
            rows.append(dict(scenario="A", design=design, strategy="trans_lasso", N=N,
                             mse2=mse2, se=se, theory=theory, theory_se=theory_se,
                             ratio=mse2 / theory, ratio_se=se / theory,
                             z_theory=(mse2 - theory) / math.hypot(se, theory_se)))
    return pd.DataFrame(rows)


def _oracle(g):
    g = g.sort_values("N")
    x, y, s = 1.0 / g["N"].to_numpy(), g["mse2"].to_numpy(), g["se"].to_numpy()
    (b, a), cov = np.polyfit(x, y, 1, w=1.0 / s, cov="unscaled")
    return a, math.sqrt(cov[1, 1]), b, math.sqrt(cov[0, 0])


def test_extrapolation_matches_independent_weighted_fit():
    pts = _points()
    ex = FS.extrapolation_table(pts)
    assert len(ex) == 2
    for _, row in ex.iterrows():
        g = pts[pts["design"] == row["design"]]
        a, a_se, b, b_se = _oracle(g)
        assert row["a"] == pytest.approx(a, rel=1e-9)
        assert row["a_se"] == pytest.approx(a_se, rel=1e-9)
        assert row["b"] == pytest.approx(b, rel=1e-9)
        assert row["b_se"] == pytest.approx(b_se, rel=1e-9)
        th, th_se = 0.0103, float(g["theory_se"].iloc[0])
        assert row["z_extrapolated"] == pytest.approx((a - th) / math.hypot(a_se, th_se),
                                                      rel=1e-9)
        # without the smallest N (= 61): the fit of N = 122, 244, 488
        a2, a2_se, _, _ = _oracle(g[g["N"] > 61])
        assert row["a_drop_smallest"] == pytest.approx(a2, rel=1e-9)
        assert row["z_extrapolated_drop_smallest"] == pytest.approx(
            (a2 - th) / math.hypot(a2_se, th_se), rel=1e-9)
        # smallest / largest N read from the sorted points, not the row order
        small, large = g[g["N"] == 61].iloc[0], g[g["N"] == 488].iloc[0]
        assert row["N_values"] == "61,122,244,488"
        assert row["rel_offset_smallest_N"] == pytest.approx(small["mse2"] / th - 1, rel=1e-12)
        assert row["z_largest_N"] == pytest.approx(large["z_theory"], rel=1e-12)
