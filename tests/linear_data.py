"""Synthetic data shared by the linear-reconstruction tests (dynamics and validation)."""

import numpy as np


def anisotropic_regression_data(seed=0, N=400, D=16):
    """``X`` with a decaying spectrum in a random basis, and 4 one-hot-plus-linear targets."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    lam = 4 * np.linspace(1.0, 0.1, D) ** 2
    X = rng.standard_normal((N, D)) @ (np.sqrt(lam)[:, None] * Q.T)
    Y = np.eye(4)[rng.integers(0, 4, N)] + 0.3 * X[:, :4]
    return X, Y
