"""Independent brute-force references used by the CNN tests (d-space numpy GD)."""

import numpy as np


def brute_force_gd(patches, y, W0, eta, steps):
    """Full-batch GD in weight space, straight from the gradient formula (Kou et al. 2023, §3).

    grad_{w_{j,r}} L = (1/(n m)) sum_i l'_i j y_i sum_p 1(<w_{j,r}, x_ip> > 0) x_ip
    """
    n, P, d = patches.shape
    m = W0.shape[1]
    W = W0.copy()
    Ws, losses = [W.copy()], []
    for t in range(steps + 1):
        f = np.zeros(n)
        for j, sgn in ((0, 1.0), (1, -1.0)):
            for r in range(m):
                z = patches @ W[j, r]  # (n, P)
                f += sgn * np.maximum(z, 0).sum(axis=1) / m
        losses.append(np.mean(np.log1p(np.exp(-y * f))))
        if t == steps:
            break
        lp = -1.0 / (1.0 + np.exp(y * f))
        G = np.zeros_like(W)
        for j, sgn in ((0, 1.0), (1, -1.0)):
            for r in range(m):
                ind = (patches @ W[j, r] > 0).astype(float)  # (n, P)
                G[j, r] = np.einsum("i,ip,ipd->d", lp * sgn * y, ind, patches) / (n * m)
        W = W - eta * G
        Ws.append(W.copy())
    return np.array(Ws), np.array(losses)
