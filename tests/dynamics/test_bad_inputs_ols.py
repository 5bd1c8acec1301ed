"""Attacker-style bad inputs of the OLS head-risk modules (dynamics.ols_expansion,
dynamics.ols_leverage) and of the new ``estimation`` options of
dynamics.reconstruction_transfer: each row used to give a raw numpy/Python exception, a silent
NaN or an unbounded loop, and must now raise a ValueError naming the argument."""

import math

import numpy as np
import pytest

import dynamics.reconstruction_transfer as rt
from dynamics.ols_expansion import ols_expansion, third_moment_norm
from dynamics.ols_leverage import gaussian_excess, leverage_excess, resolvent_fixed_point

RNG = np.random.default_rng(0)
Z = RNG.standard_normal((200, 3))
Y = Z.sum(1) + RNG.standard_normal(200)
U50 = RNG.standard_normal((50, 3))
P50 = np.full(50, 1 / 50)


def _problem(zero_residual=False):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 4))
    y = X @ np.ones(4) + (0.0 if zero_residual else 0.1 * rng.standard_normal(300))
    return rt.LinearTransferProblem.from_data(X, y, y)


BAD = [
    # silent NaN (overflow of the second moment) / a misleading "no finite resolvent"
    ("expansion features 1e200", lambda: ols_expansion(Z * 1e200, Y), "overflows float64"),
    ("leverage features 1e200", lambda: leverage_excess(Z * 1e200, Y, 20), "overflows float64"),
    ("encoder 1e200 gaussian", lambda: rt.predict_for_encoder(
        _problem(), np.eye(4)[:2] * 1e200, 20), "encoder: the predicted error is not finite"),
    ("encoder 1e200 sandwich", lambda: rt.predict_for_encoder(
        _problem(), np.eye(4)[:2] * 1e200, 20, estimation="sandwich"), "encoder"),
    ("encoder 1e200 second_order", lambda: rt.predict_for_encoder(
        _problem(), np.eye(4)[:2] * 1e200, 20, estimation="second_order"), "overflows"),
    # third_moment_norm: raw unpacking error / broadcast error
    ("third moment 3-d U", lambda: third_moment_norm(np.ones((3, 2, 2)), np.ones(3)),
     "U has shape"),
    ("third moment rows", lambda: third_moment_norm(np.eye(3), np.ones((4, 1))),
     "shapes mismatch"),
    ("third moment NaN", lambda: third_moment_norm(np.full((3, 2), np.nan), np.ones(3)),
     "U contains NaN"),
    # N = 3e4 rows, d = 121: 5.3e10 operations (minutes) before; refused at once
    ("expansion too costly", lambda: ols_expansion(
        np.random.default_rng(1).standard_normal((30_000, 120)), np.arange(30_000.0)),
     "operations"),
    ("third moment too costly", lambda: third_moment_norm(
        np.broadcast_to(np.ones((1, 1)), (100_000, 300)), np.ones(100_000), "gram"),
     "operations"),
    # leverage_excess: the seed was only looked at above 3000 rows (TypeError there)
    ("leverage seed str", lambda: leverage_excess(Z, Y, 20, seed="a"), "seed = 'a'"),
    ("leverage seed negative", lambda: leverage_excess(Z, Y, 20, seed=-1), "seed = -1"),
    ("leverage seed float", lambda: leverage_excess(Z, Y, 20, seed=1.5), "seed = 1.5"),
    # gaussian_excess: no checks (NaN, ZeroDivisionError, TypeError, a flood of warnings)
    ("gaussian K 0", lambda: gaussian_excess(0, 10), "K = 0"),
    ("gaussian K -1", lambda: gaussian_excess(-1, 10), "K = -1"),
    ("gaussian K str", lambda: gaussian_excess("3", 10), "K = '3'"),
    ("gaussian n = K + 2", lambda: gaussian_excess(3, 5), "n = 5"),
    ("gaussian n < K", lambda: gaussian_excess(3, 2), "n = 2"),
    ("gaussian n float", lambda: gaussian_excess(3, 10.5), "n = 10.5"),
    ("gaussian n bool", lambda: gaussian_excess(3, True), "n = True"),
    ("gaussian intercept str", lambda: gaussian_excess(3, 10, "no"), "intercept = 'no'"),
    # resolvent_fixed_point: IndexError, AttributeError, broadcast error, unbounded memory
    ("resolvent U 1-d", lambda: resolvent_fixed_point(np.ones(5), np.full(5, 0.2), 10),
     "U has shape"),
    ("resolvent U str", lambda: resolvent_fixed_point("a", np.full(5, 0.2), 10), "U"),
    ("resolvent p length", lambda: resolvent_fixed_point(U50, np.full(3, 0.02), 10),
     "p: expected 50"),
    ("resolvent p negative", lambda: resolvent_fixed_point(U50, -P50, 10), "p: expected"),
    ("resolvent p zero", lambda: resolvent_fixed_point(U50, 0 * P50, 10), "p: expected"),
    ("resolvent p NaN", lambda: resolvent_fixed_point(U50, P50 * np.nan, 10), "p contains NaN"),
    ("resolvent m NaN", lambda: resolvent_fixed_point(U50, P50, math.nan), "m = nan"),
    ("resolvent m str", lambda: resolvent_fixed_point(U50, P50, "10"), "m = '10'"),
    ("resolvent tol negative", lambda: resolvent_fixed_point(U50, P50, 10, tol=-1.0),
     "tol = -1.0"),
    ("resolvent max_iter 0", lambda: resolvent_fixed_point(U50, P50, 10, max_iter=0),
     "max_iter = 0"),
    ("resolvent memory 0", lambda: resolvent_fixed_point(U50, P50, 10, memory=0),
     "memory = 0"),
    ("resolvent memory -1", lambda: resolvent_fixed_point(U50, P50, 10, memory=-1),
     "memory = -1"),
    # transfer_error_table turned argument errors into a status string on every row
    ("table estimation", lambda: rt.transfer_error_table(_problem(), [0.1], [2], [20],
                                                         estimation="third_order"),
     "estimation = 'third_order'"),
    ("table intercept", lambda: rt.transfer_error_table(_problem(), [0.1], [2], [20],
                                                        intercept="yes"), "intercept = 'yes'"),
    ("table no samples", lambda: rt.transfer_error_table(
        rt.GaussianTransferTask.low_variance_target(D=8).problem(), [0.1], [2], [20],
        estimation="leverage"), "needs problem.samples"),
    # OLSExpansion.excess: ZeroDivisionError at n = 0, TypeError for a string
    ("excess n 0", lambda: ols_expansion(Z, Y).excess(0), "n = 0"),
    ("excess n -5", lambda: ols_expansion(Z, Y).excess(-5), "n = -5"),
    ("excess n str", lambda: ols_expansion(Z, Y).excess("50"), "n = '50'"),
    ("excess n float", lambda: ols_expansion(Z, Y).excess(50.5), "n = 50.5"),
    # already refused (regression rows)
    ("expansion 3-d", lambda: ols_expansion(Z[:, :, None], Y), "features has shape"),
    ("expansion str", lambda: ols_expansion("abc", Y), "features"),
    ("expansion empty", lambda: ols_expansion(np.empty((0, 3)), np.empty(0)), "empty"),
    ("expansion complex", lambda: ols_expansion(Z + 1j, Y), "complex"),
    ("expansion collinear", lambda: ols_expansion(np.c_[Z, 2 * Z[:, 0]], Y), "singular"),
    ("expansion constant", lambda: ols_expansion(np.c_[Z, np.ones(200)], Y), "singular"),
    ("leverage n str", lambda: leverage_excess(Z, Y, "20"), "n = '20'"),
    ("leverage n bool", lambda: leverage_excess(Z, Y, True), "n = True"),
    ("estimation None", lambda: rt.predict_for_encoder(_problem(), np.eye(4)[:2], 20,
                                                       estimation=None), "estimation = None"),
    ("estimation list", lambda: rt.predict_for_encoder(
        _problem(), np.eye(4)[:2], 20, estimation=["leverage"]), "estimation = ['leverage']"),
]


@pytest.mark.parametrize("name, call, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs(name, call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


@pytest.mark.parametrize("estimation", ["gaussian", "sandwich", "second_order", "leverage"])
def test_zero_residual_gives_zero_error(estimation):
    """y an exact linear function of the features and the encoder the identity: OLS recovers
    y exactly from n_t >= K + 3 rows, so the target error is 0 (hand result). The second-order
    estimation used to refuse here ("not controlled", an effective dimension made of rounding
    noise)."""
    pred = rt.predict_for_encoder(_problem(zero_residual=True), np.eye(4), 20,
                                  estimation=estimation)
    assert pred.target_error == pytest.approx(0.0, abs=1e-20)


def test_gaussian_excess_smallest_sizes_are_finite():
    """The smallest allowed n (K + 3 with intercept, K + 2 without): finite and equal to the
    closed forms 1/n + (1 + 1/n) K / (n - K - 2) and K / (n - K - 1) (hand-computed)."""
    ex, res = gaussian_excess(3, 6)
    assert ex == pytest.approx(1 / 6 + 7 / 6 * 3, rel=1e-14) and math.isfinite(res)
    ex, res = gaussian_excess(3, 5, intercept=False)
    assert ex == pytest.approx(3.0, rel=1e-14) and math.isfinite(res)


def test_leverage_seed_reproducible_and_generator_accepted():
    """Above 3000 rows the pair term is subsampled: the same seed gives the same number, a
    Generator is accepted."""
    rng = np.random.default_rng(3)
    Zb = rng.standard_normal((3500, 2))
    yb = Zb.sum(1) + rng.standard_normal(3500)
    a = leverage_excess(Zb, yb, 20, seed=4).excess
    assert a == leverage_excess(Zb, yb, 20, seed=4).excess
    g = leverage_excess(Zb, yb, 20, seed=np.random.default_rng(4)).excess
    assert abs(g / a - 1) < 0.05  # another subsample, same quantity
