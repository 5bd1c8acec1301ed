"""Bad inputs to :mod:`nets`: a ValueError naming the argument (NaN named as NaN), and the
seeded default generator (same call, same numbers)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from nets import TwoLayerReLUCNN, extract_coefficients, train_gd, transfer_filters
from nets.checks import as_generator

P = functools.partial
X = torch.ones((4, 2, 3), dtype=torch.float64)
Y = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)


def _model():
    return TwoLayerReLUCNN(3, 2, generator=1)


def _with(t, idx, val):
    t = t.clone()
    t[idx] = val
    return t


W = np.zeros((2, 2, 3))
CASES = [
    # model
    ("d=0", P(TwoLayerReLUCNN, 0, 2), "d = 0"),
    ("d=2.5", P(TwoLayerReLUCNN, 2.5, 2), "d = 2.5"),
    ("d=nan", P(TwoLayerReLUCNN, float("nan"), 2), "d = nan"),
    ("d=str", P(TwoLayerReLUCNN, "3", 2), "d = '3'"),
    ("d=True", P(TwoLayerReLUCNN, True, 2), "d = True"),
    ("m=0", P(TwoLayerReLUCNN, 3, 0), "m = 0"),
    ("m=None", P(TwoLayerReLUCNN, 3, None), "m = None"),
    ("sigma_0=inf", P(TwoLayerReLUCNN, 3, 2, sigma_0=float("inf")), "sigma_0 = inf"),
    ("sigma_0=nan", P(TwoLayerReLUCNN, 3, 2, sigma_0=float("nan")), "sigma_0 = nan"),
    ("sigma_0=0", P(TwoLayerReLUCNN, 3, 2, sigma_0=0.0), "sigma_0 = 0.0"),
    ("sigma_0=str", P(TwoLayerReLUCNN, 3, 2, sigma_0="big"), "sigma_0 = 'big'"),
    ("weight shape", P(TwoLayerReLUCNN, 3, 2, weight=np.zeros((2, 3, 3))), "weight has shape"),
    ("weight nan", P(TwoLayerReLUCNN, 3, 2, weight=np.full((2, 2, 3), np.nan)),
     "weight contains NaN"),
    ("dtype int", P(TwoLayerReLUCNN, 3, 2, dtype=torch.int64), "dtype"),
    ("generator -1", P(TwoLayerReLUCNN, 3, 2, generator=-1), "generator = -1"),
    ("generator str", P(TwoLayerReLUCNN, 3, 2, generator="seed"), "generator = 'seed'"),
    ("forward x shape", lambda: _model()(torch.ones(4, 3)), "x has shape"),
    ("forward x numpy", lambda: _model()(np.ones((4, 2, 3))), "x: expected a torch.Tensor"),
    # trainer
    ("eta=0", lambda: train_gd(_model(), X, Y, 0.0, 3), "eta = 0.0"),
    ("eta=inf", lambda: train_gd(_model(), X, Y, float("inf"), 3), "eta = inf"),
    ("eta=nan", lambda: train_gd(_model(), X, Y, float("nan"), 3), "eta = nan"),
    ("steps=-1", lambda: train_gd(_model(), X, Y, 0.1, -1), "steps = -1"),
    ("steps=2.5", lambda: train_gd(_model(), X, Y, 0.1, 2.5), "steps = 2.5"),
    ("steps=nan", lambda: train_gd(_model(), X, Y, 0.1, float("nan")), "steps = nan"),
    ("steps=True", lambda: train_gd(_model(), X, Y, 0.1, True), "steps = True"),
    ("record_every=0", lambda: train_gd(_model(), X, Y, 0.1, 3, record_every=0),
     "record_every = 0"),
    ("labels 0/1", lambda: train_gd(_model(), X, (Y + 1) / 2, 0.1, 3),
     "labels must be -1 or +1"),
    ("labels 2", lambda: train_gd(_model(), X, 2 * Y, 0.1, 3), "labels must be -1 or +1"),
    ("labels nan", lambda: train_gd(_model(), X, _with(Y, 0, np.nan), 0.1, 3),
     "y contains NaN"),
    ("x nan", lambda: train_gd(_model(), _with(X, (0, 0, 0), np.nan), Y, 0.1, 3),
     "x contains NaN"),
    ("x inf", lambda: train_gd(_model(), _with(X, (0, 0, 0), np.inf), Y, 0.1, 3),
     "x contains infinite"),
    ("zero samples", lambda: train_gd(_model(), X[:0], Y[:0], 0.1, 3),
     "at least one sample"),
    ("y shape", lambda: train_gd(_model(), X, Y[:3], 0.1, 3), "y has shape"),
    ("x wrong d", lambda: train_gd(_model(), torch.ones(4, 2, 5), Y, 0.1, 3), "x has shape"),
    ("x strings", lambda: train_gd(_model(), "abc", Y, 0.1, 3), "x, y"),
    ("model type", lambda: train_gd(torch.nn.Linear(2, 2), X, Y, 0.1, 3), "model"),
    # transfer
    ("alpha=1.5", P(transfer_filters, torch.zeros(2, 3, 4), 1.5), "alpha = 1.5"),
    ("alpha=nan", P(transfer_filters, torch.zeros(2, 3, 4), float("nan")), "alpha = nan"),
    ("alpha=str", P(transfer_filters, torch.zeros(2, 3, 4), "half"), "alpha = 'half'"),
    ("transfer sigma_0=inf", P(transfer_filters, torch.zeros(2, 3, 4), 0.5,
                               sigma_0=float("inf")), "sigma_0 = inf"),
    ("transfer mode", P(transfer_filters, torch.zeros(2, 3, 4), 0.5, mode="layer"), "mode"),
    ("transfer shape", P(transfer_filters, torch.zeros(3, 3, 4), 0.5), "upstream_weight"),
    ("transfer m=0", P(transfer_filters, torch.zeros(2, 0, 4), 0.5), "upstream_weight"),
    ("transfer nan", P(transfer_filters, torch.full((2, 3, 4), float("nan")), 0.5),
     "upstream_weight contains NaN"),
    ("transfer fresh shape", P(transfer_filters, torch.zeros(2, 3, 4), 0.5,
                               fresh=torch.zeros(2, 3, 5)), "fresh has shape"),
    # coefficient extraction
    ("extract W shape", P(extract_coefficients, np.zeros((2, 2)), np.zeros((2, 2)),
                          np.ones((1, 3)), np.ones((2, 3)), [1, -1]), "W"),
    ("extract labels", P(extract_coefficients, W, W, np.ones((1, 3)), np.ones((2, 3)), [1, 0]),
     "labels must be -1 or +1"),
    ("extract nan", P(extract_coefficients, W + np.nan, W, np.ones((1, 3)), np.ones((2, 3)),
                      [1, -1]), "W contains NaN"),
    ("extract noise cols", P(extract_coefficients, W, W, np.ones((1, 3)), np.ones((2, 4)),
                             [1, -1]), "noise"),
    ("extract y shape", P(extract_coefficients, W, W, np.ones((1, 3)), np.ones((2, 3)), [1]),
     "y has shape"),
    ("extract strings", P(extract_coefficients, "W", W, np.ones((1, 3)), np.ones((2, 3)),
                          [1, -1]), "W: expected a numeric array"),
]


@pytest.mark.parametrize("name, call, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input(name, call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


def test_divergence_is_not_called_a_nan_input():
    """Finite inputs with a huge step: the error says GD diverged (and names eta)."""
    from nets import NonFiniteLossError

    model = TwoLayerReLUCNN(3, 2, sigma_0=1.0, generator=0)
    g = torch.Generator().manual_seed(0)
    x = 1e100 * torch.randn((4, 2, 3), generator=g, dtype=torch.float64)
    with pytest.raises(NonFiniteLossError, match="diverged; reduce eta"):
        train_gd(model, x, Y, 1e250, 5)


def test_models_are_deterministic_by_default():
    a = TwoLayerReLUCNN(20, 4).weight.detach().clone()
    torch.manual_seed(12345)  # the global torch seed is not read
    torch.randn(7)
    b = TwoLayerReLUCNN(20, 4).weight.detach().clone()
    assert torch.equal(a, b)
    up = torch.randn((2, 5, 6), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    w1, m1 = transfer_filters(up, 0.4)
    w2, m2 = transfer_filters(up, 0.4)
    assert torch.equal(w1, w2) and torch.equal(m1, m2)
    # an integer seed and a generator with that seed draw the same; other seeds differ
    c = TwoLayerReLUCNN(20, 4, generator=7).weight
    d = TwoLayerReLUCNN(20, 4, generator=torch.Generator().manual_seed(7)).weight
    assert torch.equal(c, d) and not torch.equal(a, c)
    assert as_generator(None).initial_seed() == 0
