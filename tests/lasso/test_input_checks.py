"""Bad input raises ValueError naming the problem."""

import numpy as np
import pytest

from lasso import (
    GeneralizedTransLasso,
    NotIdentifiableError,
    PooledLasso,
    PretrainingLasso,
    TargetLasso,
)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X0, y0 = rng.standard_normal((20, 10)), rng.standard_normal(20)
    X1, y1 = rng.standard_normal((40, 10)), rng.standard_normal(40)
    return (X0, y0), [(X1, y1)]


def test_feature_count_mismatch(data):
    target, (src,) = data
    bad = (src[0][:, :7], src[1])
    with pytest.raises(ValueError, match=r"sources\[0\].*7 features.*target has 10"):
        GeneralizedTransLasso(0.1, 0.1).fit(target, [bad])


@pytest.mark.parametrize("where", ["X0", "y0", "X1", "y1"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite(data, where, value):
    (X0, y0), [(X1, y1)] = data
    arrays = {"X0": X0.copy(), "y0": y0.copy(), "X1": X1.copy(), "y1": y1.copy()}
    a = arrays[where]
    a.flat[3] = value
    name = "target" if where.endswith("0") else r"sources\[0\]"
    with pytest.raises(ValueError, match=f"{name}.*{where[0]} contains NaN or inf"):
        GeneralizedTransLasso(0.1, 0.1).fit(
            (arrays["X0"], arrays["y0"]), [(arrays["X1"], arrays["y1"])]
        )


def test_mismatched_lengths(data):
    (X0, y0), sources = data
    with pytest.raises(ValueError, match="target: X has 20 rows but y has 19"):
        GeneralizedTransLasso(0.1, 0.1).fit((X0, y0[:-1]), sources)


@pytest.mark.parametrize("field", ["lam1", "lam2", "dlam"])
def test_negative_penalties(data, field):
    kw = dict(lam1=0.1, lam2=0.1, dlam=0.0)
    kw[field] = -0.5
    with pytest.raises(ValueError, match=f"{field} = -0.5: penalties must be non-negative"):
        GeneralizedTransLasso(**kw).fit(*data)
    with pytest.raises(ValueError, match="lam = -1.0"):
        TargetLasso(-1.0).fit(data[0])


def test_lam1_zero_with_more_features_than_rows():
    rng = np.random.default_rng(1)
    target = (rng.standard_normal((10, 50)), rng.standard_normal(10))
    sources = [(rng.standard_normal((20, 50)), rng.standard_normal(20))]
    with pytest.raises(NotIdentifiableError, match="not identifiable.*lam1 > 0"):
        GeneralizedTransLasso(0.0, 0.1).fit(target, sources)
    with pytest.raises(ValueError, match="50 features and only 30 rows"):
        PooledLasso(0.0).fit(target, sources)


def test_lam1_zero_allowed_with_enough_rows(data):
    est = GeneralizedTransLasso(0.0, 0.5).fit(*data)
    X = np.vstack([data[0][0], data[1][0][0]])
    y = np.concatenate([data[0][1], data[1][0][1]])
    np.testing.assert_allclose(est.coef_stage1_, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-6)


@pytest.mark.parametrize("cls", [GeneralizedTransLasso, PooledLasso, PretrainingLasso])
def test_empty_sources(data, cls):
    with pytest.raises(ValueError, match="sources is empty"):
        cls().fit(data[0], [])


def test_single_pair_instead_of_list(data):
    with pytest.raises(ValueError, match="wrap it in"):
        GeneralizedTransLasso().fit(data[0], data[1][0])


def test_other_bad_values(data):
    with pytest.raises(ValueError, match="kappa"):
        GeneralizedTransLasso(kappa=np.nan).fit(*data)
    with pytest.raises(ValueError, match="alpha = 1.5"):
        PretrainingLasso(alpha=1.5).fit(*data)
    with pytest.raises(ValueError, match="solver"):
        GeneralizedTransLasso(solver="glmnet").fit(*data)
    with pytest.raises(ValueError, match="2-D"):
        TargetLasso().fit((np.ones(5), np.ones(5)))
