"""Torch CNN, GD trainer, transfer and coefficient extraction (no dynamics imports)."""

import numpy as np
import pytest
import torch

from nets import (
    TwoLayerReLUCNN,
    extract_coefficients,
    logistic_risk,
    train_gd,
    transfer_filters,
)


def _data(n=6, P=2, d=9, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, P, d))
    y = rng.choice([-1.0, 1.0], n)
    return X, y


def test_forward_matches_loop():
    X, _ = _data()
    rng = np.random.default_rng(1)
    W = rng.standard_normal((2, 3, 9))
    model = TwoLayerReLUCNN(9, 3, weight=W)
    f = model(torch.from_numpy(X)).detach().numpy()
    ref = [sum(max(0, W[0, r] @ X[i, p]) - max(0, W[1, r] @ X[i, p])
               for r in range(3) for p in range(2)) / 3 for i in range(6)]
    assert np.allclose(f, ref, rtol=1e-13)
    assert model.weight.dtype == torch.float64


def test_one_gd_step_matches_gradient_formula():
    """W1 = W0 - eta/(n m) sum_i l'_i j y_i sum_p 1(<w, x_ip> > 0) x_ip (docs/cnn_theory.md)."""
    X, y = _data(n=8, P=3, d=5, seed=2)
    rng = np.random.default_rng(3)
    W0 = rng.standard_normal((2, 4, 5))
    model = TwoLayerReLUCNN(5, 4, weight=W0)
    res = train_gd(model, torch.from_numpy(X), torch.from_numpy(y), 0.1, 1, record_every=1)
    Z = np.einsum("npd,jrd->jrnp", X, W0)
    f = (np.maximum(Z, 0).sum(axis=(1, 3)) / 4)
    f = f[0] - f[1]
    lp = -1 / (1 + np.exp(y * f))
    grad = np.einsum("n,jrnp,npd->jrd", lp * y, (Z > 0).astype(float), X) / (8 * 4)
    grad *= np.array([1.0, -1.0])[:, None, None]
    assert np.allclose(res.weights[1], W0 - 0.1 * grad, rtol=1e-12, atol=1e-14)
    assert np.isclose(res.loss[0], np.mean(np.log1p(np.exp(-y * f))))
    assert list(res.steps) == [0, 1]


def test_logistic_risk_and_init_seeded():
    f = torch.tensor([0.0, 2.0], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    assert np.isclose(float(logistic_risk(f, y)), (np.log(2) + np.log1p(np.exp(2))) / 2)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    a = TwoLayerReLUCNN(100, 10, sigma_0=0.3, generator=g1).weight
    b = TwoLayerReLUCNN(100, 10, sigma_0=0.3, generator=g2).weight
    assert torch.equal(a, b) and abs(float(a.detach().std()) - 0.3) < 0.02


def test_bad_arguments():
    with pytest.raises(ValueError, match="m = 0"):
        TwoLayerReLUCNN(5, 0)
    with pytest.raises(ValueError, match="sigma_0"):
        TwoLayerReLUCNN(5, 2, sigma_0=-1.0)
    with pytest.raises(ValueError, match="weight"):
        TwoLayerReLUCNN(5, 2, weight=np.zeros((2, 3, 5)))
    model = TwoLayerReLUCNN(5, 2)
    with pytest.raises(ValueError, match="eta"):
        train_gd(model, torch.zeros(3, 2, 5, dtype=torch.float64),
                 torch.ones(3, dtype=torch.float64), 0.0, 1)
    with pytest.raises(ValueError, match="alpha"):
        transfer_filters(torch.zeros(2, 3, 4), 1.5)


@pytest.mark.parametrize("alpha, m", [(0.0, 8), (0.5, 40), (0.3, 10), (1.0, 5)])
def test_transfer_filters(alpha, m):
    g = torch.Generator().manual_seed(0)
    up = torch.randn(2, m, 6, generator=g, dtype=torch.float64)
    fresh = torch.randn(2, m, 6, generator=g, dtype=torch.float64)
    W, mask = transfer_filters(up, alpha, generator=g, fresh=fresh)
    k = int(np.floor(alpha * m + 1e-9))
    assert mask.shape == (2, m) and mask.sum(dim=1).tolist() == [k, k]
    assert torch.equal(W[mask], up[mask]) and torch.equal(W[~mask], fresh[~mask])
    W, mask = transfer_filters(up, alpha, generator=g, mode="entry", sigma_0=0.1)
    assert mask.shape == up.shape and torch.equal(W[mask], up[mask])


def test_extract_coefficients_recovers_planted():
    rng = np.random.default_rng(4)
    d, m, n = 50, 3, 7
    S = np.zeros((2, d))
    S[0, 0], S[1, 1] = 1.5, 0.0  # second signal zero: gamma must come out 0
    Xi = rng.standard_normal((n, d))
    Xi[:, :2] = 0
    y = rng.choice([-1.0, 1.0], n)
    W0 = rng.standard_normal((2, m, d))
    gamma = rng.standard_normal((2, m))
    rho = np.abs(rng.standard_normal((2, m, n)))
    sgn = np.where(y[None, :] == np.array([1.0, -1.0])[:, None], 1.0, -1.0)[:, None, :]
    rho = rho * sgn  # rho-bar >= 0 for y_i = j, rho-under <= 0 otherwise
    j = np.array([1.0, -1.0])[:, None, None]
    W = (W0 + j * gamma[..., None] * S[0] / 1.5**2
         + np.einsum("jri,id->jrd", rho / np.einsum("id,id->i", Xi, Xi), Xi))
    ex = extract_coefficients(torch.from_numpy(W), W0, S, Xi, y)
    assert np.allclose(ex.gamma[..., 0], gamma) and np.all(ex.gamma[..., 1] == 0)
    assert np.allclose(ex.rho, rho) and ex.residual < 1e-12
    assert np.all(ex.rho_bar >= 0) and np.all(ex.rho_under <= 0)
