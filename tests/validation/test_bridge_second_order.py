"""Bridge experiment with the second-order estimation: refused points become NaN (reported as
disagreeing), other estimations still raise; the synthetic task gets population samples."""

import math

import numpy as np
import pandas as pd

import dynamics.reconstruction_transfer as rt
from validation.experiments.reconstruction_perception import (
    ReconstructionPerceptionConfig,
    _agreement,
    _bridge_setup,
    _moment_problem,
    _predict,
)


def test_refused_second_order_is_nan_and_counts_as_disagreeing():
    cfg = ReconstructionPerceptionConfig()
    pb, *_ = _bridge_setup("digits", cfg)
    # alpha = 100, K = 5, n_t = 30: two images with leverage ~ 60-90 (docs section 6)
    assert math.isnan(_predict(pb, 100.0, 5, 30, "second_order"))
    ok = _predict(pb, 0.3, 5, 30, "second_order")
    assert ok == rt.predict_target_error(pb, 0.3, 5, 30, estimation="second_order").target_error
    df = pd.DataFrame({"trained_mean": [0.1, 0.1], "trained_se": [0.001, 0.001],
                       "p": [np.nan, 0.1005]})
    assert list(_agreement(df, "p")) == [False, True]


def test_synthetic_moment_problem_matches_gaussian_formula():
    cfg = ReconstructionPerceptionConfig(bridge_moment_samples=50_000)
    pb, *_ = _bridge_setup("synthetic", cfg)
    pm = _moment_problem(pb, cfg)
    assert pb.samples is None and pm.samples[0].shape == (50_000, cfg.synthetic_D)
    np.testing.assert_array_equal(pm.cov, pb.cov)  # exact moments kept
    g = rt.predict_target_error(pb, 1.0, 5, 30).estimation_error
    s = rt.predict_target_error(pm, 1.0, 5, 30, estimation="second_order").estimation_error
    assert abs(s / g - 1) < 0.05
