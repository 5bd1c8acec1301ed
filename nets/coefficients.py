r"""Signal-noise coefficients of trained filters by least squares (docs/cnn_theory.md, sec. 4).

:math:`w_{j,r} - w^{(0)}_{j,r} = B c_{j,r}` with :math:`B=[s_1\dots s_K,\xi_1\dots\xi_n]`;
:math:`c = B^+(w-w^{(0)})`, :math:`\gamma_k = j\,c_k\|s_k\|^2`,
:math:`\rho_i = c_{K+i}\|\xi_i\|^2`, split into :math:`\overline\rho` (``y_i = j``) and
:math:`\underline\rho` (``y_i = -j``) (Kou et al. 2023, Definition 5.1 form).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["extract_coefficients", "ExtractedCoefficients"]


def _np(a, name: str) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().to("cpu").numpy()
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a numeric array, got {type(a).__name__}") from None


@dataclass(frozen=True, eq=False)
class ExtractedCoefficients:
    """``gamma`` (2, m, K), ``rho_bar`` and ``rho_under`` (2, m, n), LS ``residual`` (relative)."""

    gamma: np.ndarray
    rho_bar: np.ndarray
    rho_under: np.ndarray
    residual: float

    @property
    def rho(self) -> np.ndarray:
        return self.rho_bar + self.rho_under

    def to_dict(self) -> dict:
        return {
            "gamma": self.gamma,
            "rho_bar": self.rho_bar,
            "rho_under": self.rho_under,
            "residual": self.residual,
        }


def extract_coefficients(W, W0, signals, noise, y) -> ExtractedCoefficients:
    """Least-squares coefficients of ``W - W0`` on the signal and noise vectors.

    Parameters
    ----------
    W, W0 : tensor or array, shape (2, m, d)
    signals : array, shape (K, d)
        Zero rows are allowed (their gamma is 0).
    noise : array, shape (n, d)
    y : array, shape (n,)
        Labels in {-1, +1}.

    Returns
    -------
    ExtractedCoefficients
    """
    W, W0 = _np(W, "W"), _np(W0, "W0")
    S = np.atleast_2d(_np(signals, "signals"))
    Xi = _np(noise, "noise")
    y = _np(y, "y")
    if W.shape != W0.shape or W.ndim != 3 or W.shape[0] != 2:
        raise ValueError(f"W {W.shape} and W0 {W0.shape} must both have shape (2, m, d)")
    _, m, d = W.shape
    if S.ndim != 2 or S.shape[1] != d or Xi.ndim != 2 or Xi.shape[1] != d:
        raise ValueError(f"signals {S.shape} and noise {Xi.shape} must have {d} columns")
    n = Xi.shape[0]
    if y.shape != (n,):
        raise ValueError(f"y has shape {y.shape}: expected ({n},)")
    for name, a in (("W", W), ("W0", W0), ("signals", S), ("noise", Xi), ("y", y)):
        if not np.all(np.isfinite(a)):
            kind = "NaN" if np.isnan(a).any() else "infinite"
            raise ValueError(f"{name} contains {kind} entries: inputs must be finite")
    if not np.all(np.abs(y) == 1.0):
        raise ValueError(f"y: labels must be -1 or +1, got {np.unique(y)[:3].tolist()}")
    s2 = np.einsum("kd,kd->k", S, S)
    live = np.flatnonzero(s2 > 0)
    B = np.concatenate([S[live], Xi], axis=0).T  # (d, K' + n)
    D = (W - W0).reshape(2 * m, d).T  # (d, 2m)
    c, *_ = np.linalg.lstsq(B, D, rcond=None)
    res = float(np.linalg.norm(B @ c - D) / max(np.linalg.norm(D), 1e-300))
    c = c.T.reshape(2, m, -1)
    jsign = np.array([1.0, -1.0])[:, None, None]
    gamma = np.zeros((2, m, S.shape[0]))
    gamma[..., live] = jsign * c[..., : live.size] * s2[live]
    rho = c[..., live.size :] * np.einsum("id,id->i", Xi, Xi)
    same = (y[None, :] == np.array([1.0, -1.0])[:, None])[:, None, :]
    return ExtractedCoefficients(
        gamma=gamma,
        rho_bar=np.where(same, rho, 0.0),
        rho_under=np.where(same, 0.0, rho),
        residual=res,
    )
