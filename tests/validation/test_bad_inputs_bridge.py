"""Bridge experiment (reconstruction_perception): a refused estimation becomes NaN, but a bad
input must still raise. ``_predict`` used to turn every ValueError of the "second_order" and
"leverage" estimations (a negative alpha, a wrong K, a too small n_t) into a NaN prediction,
i.e. a silently "disagreeing" row instead of an error."""

import math

import numpy as np
import pytest

import dynamics.reconstruction_transfer as rt
from dynamics.errors import NotIdentifiableError
from validation.experiments.reconstruction_perception import (
    ReconstructionPerceptionConfig,
    _predict,
)


def _problem(one_row_direction=False):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 5))
    if one_row_direction:  # a pixel carried by one image: the exact OLS excess is infinite
        X[:, 4] = 0.0
        X[0, 4] = 1.0
    ys = X @ rng.standard_normal((5, 2)) + 0.1 * rng.standard_normal((300, 2))
    yt = X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(300)
    return rt.LinearTransferProblem.from_data(X - X.mean(0), ys, yt)


BAD = [
    ("alpha negative", lambda est: _predict(_problem(), -1.0, 2, 30, est), "alpha"),
    ("alpha NaN", lambda est: _predict(_problem(), math.nan, 2, 30, est), "alpha"),
    ("K too large", lambda est: _predict(_problem(), 0.5, 9, 30, est), "K"),
    ("n_t too small", lambda est: _predict(_problem(), 0.5, 2, 4, est), "n_t = 4"),
    ("n_t str", lambda est: _predict(_problem(), 0.5, 2, "30", est), "n_t = '30'"),
]


@pytest.mark.parametrize("estimation", ["second_order", "leverage"])
@pytest.mark.parametrize("name, call, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_instead_of_nan(name, call, fragment, estimation):
    with pytest.raises(ValueError) as info:
        call(estimation)
    assert fragment in str(info.value)


def test_refusal_is_nan_and_is_not_identifiable():
    """The leverage resummation refuses a direction carried by one row (no finite expected
    excess): NotIdentifiableError from the library, NaN in the bridge table."""
    pb = _problem(one_row_direction=True)
    with pytest.raises(NotIdentifiableError, match="carried by too few rows"):
        rt.scratch_target_error(pb, 40, estimation="leverage")
    assert math.isnan(_predict(pb, None, pb.dim, 40, "leverage"))
    # the sandwich has no refusal: its errors are never turned into NaN
    assert math.isfinite(_predict(pb, None, pb.dim, 40, "sandwich"))


@pytest.mark.parametrize("kw, fragment", [
    ({"bridge_estimation": "third_order"}, "bridge_estimation = 'third_order'"),
    ({"bridge_estimation": None}, "bridge_estimation = None"),
    ({"bridge_moment_samples": 10}, "bridge_moment_samples"),
    ({"bridge_moment_samples": 10**9}, "bridge_moment_samples"),
    ({"bridge_moment_samples": 2.0}, "bridge_moment_samples"),
])
def test_bridge_config_bad_inputs(kw, fragment):
    with pytest.raises(ValueError) as info:
        ReconstructionPerceptionConfig(**kw)
    assert fragment in str(info.value)
