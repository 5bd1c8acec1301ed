"""Bad inputs to :mod:`dynamics`: a ValueError naming the argument (NaN named as NaN)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from dynamics import (
    CNNTransferSetting,
    DivergenceError,
    cnn_output,
    iterate_coefficients,
    predict_regime,
    sample_task,
    simulate_cnn_gd,
    transfer_init,
)

P = functools.partial
RNG = np.random.default_rng(0)
PATCHES = RNG.standard_normal((4, 2, 3))
Y = np.array([1.0, -1.0, 1.0, -1.0])
W0 = 0.1 * RNG.standard_normal((2, 2, 3))
ST = CNNTransferSetting(d=20, m=2, N1=4, N2=4, T1=2, T2=2)
SAMPLE = sample_task(ST, 2, 4, 0)


def _set(a, idx, val):
    a = np.array(a, dtype=float)
    a[idx] = val
    return a


def sim(**kw):
    args = {"patches": PATCHES, "y": Y, "W0": W0, "eta": 0.1, "steps": 3}
    args.update(kw)
    return P(simulate_cnn_gd, **args)


CASES = [
    # simulate_cnn_gd
    ("zero samples", sim(patches=PATCHES[:0], y=Y[:0]), "at least one sample"),
    ("zero patches", sim(patches=PATCHES[:, :0]), "at least one sample"),
    ("zero dims", sim(patches=PATCHES[:, :, :0], W0=W0[:, :, :0]), "at least one sample"),
    ("zero filters", sim(W0=W0[:, :0]), "at least one filter"),
    ("patches 2-D", sim(patches=PATCHES[0]), "patches have shape"),
    ("patches strings", sim(patches="abc"), "patches: expected a numeric array"),
    ("patches nan", sim(patches=_set(PATCHES, (0, 0, 0), np.nan)), "patches contains NaN"),
    ("patches inf", sim(patches=_set(PATCHES, (0, 0, 0), np.inf)), "patches contains infinite"),
    ("W0 nan", sim(W0=_set(W0, (0, 0, 0), np.nan)), "W0 contains NaN"),
    ("W0 shape", sim(W0=W0[:1]), "W0 has shape"),
    ("y shape", sim(y=Y[:3]), "y has shape"),
    ("y 0/1", sim(y=(Y + 1) / 2), "labels must be -1 or +1"),
    ("y nan", sim(y=_set(Y, 0, np.nan)), "y contains NaN"),
    ("eta 0", sim(eta=0.0), "eta = 0.0"),
    ("eta inf", sim(eta=np.inf), "eta = inf"),
    ("eta nan", sim(eta=np.nan), "eta = nan"),
    ("eta str", sim(eta="0.1"), "eta = '0.1'"),
    ("steps -1", sim(steps=-1), "steps = -1"),
    ("steps 2.5", sim(steps=2.5), "steps = 2.5"),
    ("steps nan", sim(steps=np.nan), "steps = nan"),
    ("steps True", sim(steps=True), "steps = True"),
    ("record_every 0", sim(record_every=0), "record_every = 0"),
    ("record_every nan", sim(record_every=np.nan), "record_every = nan"),
    # cnn_output
    ("output W shape", P(cnn_output, W0[0], PATCHES), "W has shape"),
    ("output patches d", P(cnn_output, W0, PATCHES[:, :, :2]), "patches have shape"),
    ("output strings", P(cnn_output, "W", PATCHES), "W: expected a numeric array"),
    # transfer_init
    ("transfer alpha 1.5", P(transfer_init, W0, 1.5, 0), "alpha = 1.5"),
    ("transfer alpha nan", P(transfer_init, W0, np.nan, 0), "alpha = nan"),
    ("transfer alpha str", P(transfer_init, W0, "half", 0), "alpha = 'half'"),
    ("transfer sigma_0 inf", P(transfer_init, W0, 0.5, 0, sigma_0=np.inf), "sigma_0 = inf"),
    ("transfer sigma_0 0", P(transfer_init, W0, 0.5, 0, sigma_0=0.0), "sigma_0 = 0.0"),
    ("transfer mode", P(transfer_init, W0, 0.5, 0, mode="layer"), "mode = 'layer'"),
    ("transfer shape", P(transfer_init, W0[0], 0.5, 0), "W_upstream has shape"),
    ("transfer m=0", P(transfer_init, W0[:, :0], 0.5, 0), "W_upstream has shape"),
    ("transfer nan", P(transfer_init, _set(W0, (0, 0, 0), np.nan), 0.5, 0),
     "W_upstream contains NaN"),
    ("transfer fresh", P(transfer_init, W0, 0.5, 0, fresh=W0[:, :1]), "fresh has shape"),
    ("transfer fresh inf", P(transfer_init, W0, 0.5, 0, fresh=_set(W0, (0, 0, 0), np.inf)),
     "fresh contains infinite"),
    # iterate_coefficients
    ("iterate eta", P(iterate_coefficients, SAMPLE, np.zeros((2, 2, 20)), -1.0, 2),
     "eta = -1.0"),
    ("iterate steps", P(iterate_coefficients, SAMPLE, np.zeros((2, 2, 20)), 0.1, -2),
     "steps = -2"),
    ("iterate W0 m=0", P(iterate_coefficients, SAMPLE, np.zeros((2, 0, 20)), 0.1, 2),
     "W0 has shape"),
    ("iterate W0 nan", P(iterate_coefficients, SAMPLE, np.full((2, 2, 20), np.nan), 0.1, 2),
     "W0 contains NaN"),
    # sampler and settings
    ("sample task 3", P(sample_task, ST, 3, 4, 0), "task = 3"),
    ("sample n 0", P(sample_task, ST, 1, 0, 0), "n = 0"),
    ("sample n 2.5", P(sample_task, ST, 1, 2.5, 0), "n = 2.5"),
    ("setting sigma_0 inf", P(CNNTransferSetting, sigma_0=np.inf), "sigma_0 = inf"),
    ("setting eta str", P(CNNTransferSetting, eta="fast"), "eta = 'fast'"),
    ("setting d nan", P(CNNTransferSetting, d=np.nan), "d = nan"),
    ("setting N1 float", P(CNNTransferSetting, N1=10.0), "N1 = 10.0"),
    # phase boundaries
    ("regime C1 0", P(predict_regime, ST, C1=0.0), "C1 = 0.0"),
    ("regime C3 inf", P(predict_regime, ST, C3=np.inf), "C3 = inf"),
    ("regime C4 str", P(predict_regime, ST, C4="1"), "C4 = '1'"),
    ("regime gamma nan", P(predict_regime, ST, gamma_min=np.nan), "gamma_min = nan"),
    ("regime setting", P(predict_regime, {"d": 3}), "setting"),
]


@pytest.mark.parametrize("name, call, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input(name, call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


def test_divergence_is_reported_as_divergence_not_bad_input():
    with pytest.raises(DivergenceError, match="GD diverged; reduce eta"):
        simulate_cnn_gd(1e100 * PATCHES, Y, W0, 1e250, 5)
