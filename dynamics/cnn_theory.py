r"""Phase boundaries of parameter transfer in two-layer ReLU CNNs (Yuan et al. 2025, §4).

As given in the seed summary of arXiv:2509.22056 (the full text was not available; the
constants :math:`C_1, C_3, C_1', C_3', C_4` are unknown and are parameters, default 1):

* Theorem 4.2 (with transfer): near Bayes-optimal test error if :math:`d\le C_1 T`,
  error :math:`\ge 0.1` if :math:`d\ge C_3 T`, where

  .. math:: T = \frac{\alpha^2N_1^2\|u\|^4/\sigma_{p,1}^4 + N_2^2\|u+v_2\|^4/\sigma_{p,2}^4}
                     {\alpha^2\sigma_{p,2}^2N_1/\sigma_{p,1}^2 + N_2}.

* Theorem 4.3 (scratch; Kou et al. 2023, Thm 4.2): near-optimal if
  :math:`N_2\|u+v_2\|^4\ge C_1'\sigma_{p,2}^4 d`, error :math:`\ge 0.1` if
  :math:`N_2\|u+v_2\|^4\le C_3'\sigma_{p,2}^4 d`.

* Proposition 4.4: :math:`\Gamma = \alpha^2N_1\|u\|^4/(\sigma_{p,1}^2\sigma_{p,2}^2 d)`; transfer
  lifts a sub-optimal scratch run when :math:`\Gamma` is large and
  :math:`d > C_1'N_2\|u+v_2\|^4/\sigma_{p,2}^4`; negative transfer when
  :math:`\|u+v_2\|^2/\|u\|^2\ge\alpha N_1\sigma_{p,2}^2/(N_2\sigma_{p,1}^2)\ge C_4`.

:math:`\|u+v_2\|^2 = \|u\|^2+\|v_2\|^2` since :math:`u\perp v_2`.  All functions broadcast
over numpy arrays.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from numbers import Real

import numpy as np

from dynamics.cnn_setting import CNNTransferSetting

__all__ = [
    "transfer_term",
    "scratch_ratio",
    "transfer_gamma",
    "negative_transfer_ratios",
    "critical_u_norm_transfer",
    "critical_u_norm_scratch",
    "sympy_expressions",
    "predict_regime",
    "RegimePrediction",
]


def transfer_term(alpha, N1, N2, u_norm, v2_norm, sigma_p1, sigma_p2):
    r"""Threshold :math:`T` of Theorem 4.2 (Yuan et al. 2025): near-optimal iff :math:`d\lesssim T`.

    .. math:: T = \frac{\alpha^2N_1^2\|u\|^4/\sigma_{p,1}^4 + N_2^2\|u+v_2\|^4/\sigma_{p,2}^4}
                       {\alpha^2\sigma_{p,2}^2N_1/\sigma_{p,1}^2 + N_2}
    """
    u2 = np.square(u_norm)
    uv2 = u2 + np.square(v2_norm)
    num = alpha**2 * N1**2 * u2**2 / sigma_p1**4 + N2**2 * uv2**2 / sigma_p2**4
    den = alpha**2 * sigma_p2**2 * N1 / sigma_p1**2 + N2
    return num / den


def scratch_ratio(N2, u_norm, v2_norm, sigma_p2, d):
    r""":math:`N_2\|u+v_2\|^4/(\sigma_{p,2}^4 d)` of Theorem 4.3 (Kou et al. 2023, Thm 4.2).

    Near-optimal when it is :math:`\ge C_1'`, error :math:`\ge 0.1` when :math:`\le C_3'`.
    """
    uv2 = np.square(u_norm) + np.square(v2_norm)
    return N2 * uv2**2 / (sigma_p2**4 * d)


def transfer_gamma(alpha, N1, u_norm, sigma_p1, sigma_p2, d):
    r""":math:`\Gamma = \alpha^2 N_1\|u\|^4/(\sigma_{p,1}^2\sigma_{p,2}^2 d)` (Proposition 4.4)."""
    return alpha**2 * N1 * np.power(u_norm, 4) / (sigma_p1**2 * sigma_p2**2 * d)


def negative_transfer_ratios(alpha, N1, N2, u_norm, v2_norm, sigma_p1, sigma_p2):
    r"""The two sides of the negative-transfer condition of Proposition 4.4.

    Returns
    -------
    signal_ratio : :math:`\|u+v_2\|^2/\|u\|^2` (``inf`` at ``u = 0``)
    source_ratio : :math:`\alpha N_1\sigma_{p,2}^2/(N_2\sigma_{p,1}^2)`

    Negative transfer is predicted when ``signal_ratio >= source_ratio >= C4``.
    """
    u2 = np.square(np.asarray(u_norm, dtype=float))
    uv2 = u2 + np.square(v2_norm)
    with np.errstate(divide="ignore", invalid="ignore"):
        signal = np.where(u2 > 0, uv2 / np.where(u2 > 0, u2, 1.0), np.inf)
    source = alpha * N1 * sigma_p2**2 / (N2 * sigma_p1**2)
    return signal, source


def critical_u_norm_transfer(d, alpha, N1, N2, v2_norm, sigma_p1, sigma_p2, C=1.0):
    r"""Smallest :math:`\|u\|` with :math:`C\,T(\|u\|)\ge d` (boundary of Theorem 4.2; derived).

    With :math:`x=\|u\|^2`, :math:`A=\alpha^2N_1^2/\sigma_{p,1}^4`, :math:`B=N_2^2/\sigma_{p,2}^4`,
    :math:`D` the denominator of :math:`T`: :math:`(A+B)x^2 + 2B\|v_2\|^2x + B\|v_2\|^4 - dD/C = 0`,
    whose non-negative root is returned (0 when the setting is near-optimal already at u = 0).
    """
    d = np.asarray(d, dtype=float)
    v2 = np.square(v2_norm)
    A = alpha**2 * N1**2 / sigma_p1**4
    B = N2**2 / sigma_p2**4
    D = alpha**2 * sigma_p2**2 * N1 / sigma_p1**2 + N2
    c0 = B * v2**2 - d * D / C
    disc = (B * v2) ** 2 - (A + B) * c0
    x = (-B * v2 + np.sqrt(np.maximum(disc, 0.0))) / (A + B)
    return np.sqrt(np.maximum(x, 0.0))


def critical_u_norm_scratch(d, N2, v2_norm, sigma_p2, C=1.0):
    r"""Smallest :math:`\|u\|` with :math:`N_2\|u+v_2\|^4\ge C\sigma_{p,2}^4 d` (Theorem 4.3)."""
    x = sigma_p2**2 * np.sqrt(C * np.asarray(d, dtype=float) / N2) - np.square(v2_norm)
    return np.sqrt(np.maximum(x, 0.0))


def sympy_expressions() -> dict:
    r"""Sympy forms of the quantities above, for display and scaling analysis.

    Returns a dict with the symbols (``"symbols"``) and the expressions ``"T"`` (Theorem 4.2),
    ``"scratch_ratio"`` (Theorem 4.3), ``"Gamma"`` (Proposition 4.4), ``"signal_ratio"``,
    ``"source_ratio"`` (negative-transfer condition), ``"u2_critical"`` (the root
    :math:`\|u\|^2` of :math:`C_1T = d`) and ``"d_critical"`` (:math:`C_1 T`).
    """
    import sympy as sp

    alpha, N1, N2, s1, s2, d, C1 = sp.symbols(
        "alpha N_1 N_2 sigma_p1 sigma_p2 d C_1", positive=True
    )
    u, v2 = sp.symbols("u v_2", nonnegative=True)  # norms
    x = sp.Symbol("x", nonnegative=True)
    uv2 = u**2 + v2**2
    T = (alpha**2 * N1**2 * u**4 / s1**4 + N2**2 * uv2**2 / s2**4) / (
        alpha**2 * s2**2 * N1 / s1**2 + N2
    )
    Tx = T.subs(u, sp.sqrt(x))
    roots = sp.solve(sp.Eq(C1 * Tx, d), x)
    # the larger root is the non-negative one
    u2_crit = max(roots, key=lambda r: r.subs({alpha: 1, N1: 1, N2: 1, s1: 1, s2: 1, v2: 1,
                                                  d: 10, C1: 1}))
    return {
        "symbols": {
            "alpha": alpha, "N1": N1, "N2": N2, "sigma_p1": s1, "sigma_p2": s2, "d": d,
            "u_norm": u, "v2_norm": v2, "C1": C1,
        },
        "T": T,
        "scratch_ratio": N2 * uv2**2 / (s2**4 * d),
        "Gamma": alpha**2 * N1 * u**4 / (s1**2 * s2**2 * d),
        "signal_ratio": uv2 / u**2,
        "source_ratio": alpha * N1 * s2**2 / (N2 * s1**2),
        "u2_critical": sp.simplify(u2_crit),
        "d_critical": C1 * T,
    }


@dataclass(frozen=True)
class RegimePrediction:
    """Which side of each boundary of Yuan et al. §4 a setting lies on (constants as given).

    Regimes are ``"near-optimal"``, ``"sub-optimal"`` or ``"undetermined"`` (between the two
    constants).
    """

    transfer_term: float
    transfer_regime: str
    scratch_ratio: float
    scratch_regime: str
    Gamma: float
    transfer_helps: bool
    signal_ratio: float
    source_ratio: float
    negative_transfer: bool

    def to_dict(self) -> dict:
        return asdict(self)


def predict_regime(
    setting: CNNTransferSetting,
    *,
    C1: float = 1.0,
    C3: float = 1.0,
    C1p: float = 1.0,
    C3p: float = 1.0,
    C4: float = 1.0,
    gamma_min: float = 1.0,
) -> RegimePrediction:
    """Classify a setting by Theorem 4.2, Theorem 4.3 and Proposition 4.4 (Yuan et al. 2025).

    Parameters
    ----------
    setting : CNNTransferSetting
    C1, C3 : float
        Constants of Theorem 4.2 (near-optimal if ``d <= C1 T``, sub-optimal if ``d >= C3 T``).
    C1p, C3p : float
        Constants of Theorem 4.3.
    C4 : float
        Constant of the negative-transfer condition.
    gamma_min : float
        What "Gamma is large" means: ``Gamma >= gamma_min``.
    """
    for name, v in (("C1", C1), ("C3", C3), ("C1p", C1p), ("C3p", C3p), ("C4", C4),
                    ("gamma_min", gamma_min)):
        if isinstance(v, bool) or not isinstance(v, Real) or not (0 < v < math.inf):
            raise ValueError(f"{name} = {v!r}: constants must be positive finite numbers")
    if not isinstance(setting, CNNTransferSetting):
        raise ValueError(f"setting: expected a CNNTransferSetting, got {type(setting).__name__}")
    st = setting
    T = float(transfer_term(st.alpha, st.N1, st.N2, st.u_norm, st.v2_norm, st.sigma_p1,
                            st.sigma_p2))
    if st.d <= C1 * T:
        tr = "near-optimal"
    elif st.d >= C3 * T:
        tr = "sub-optimal"
    else:
        tr = "undetermined"
    sr = float(scratch_ratio(st.N2, st.u_norm, st.v2_norm, st.sigma_p2, st.d))
    if sr >= C1p:
        sc = "near-optimal"
    elif sr <= C3p:
        sc = "sub-optimal"
    else:
        sc = "undetermined"
    G = float(transfer_gamma(st.alpha, st.N1, st.u_norm, st.sigma_p1, st.sigma_p2, st.d))
    sig, src = negative_transfer_ratios(st.alpha, st.N1, st.N2, st.u_norm, st.v2_norm,
                                        st.sigma_p1, st.sigma_p2)
    sig, src = float(sig), float(src)
    return RegimePrediction(
        transfer_term=T,
        transfer_regime=tr,
        scratch_ratio=sr,
        scratch_regime=sc,
        Gamma=G,
        transfer_helps=bool(G >= gamma_min and sr < C1p),
        signal_ratio=sig,
        source_ratio=src,
        negative_transfer=bool(st.alpha > 0 and sig >= src >= C4),
    )
