r"""Small-sample expansion of the excess test risk of ordinary least squares, any distribution.

Derivation: ``docs/linear_reconstruction_theory.md``, section 5 ("second order").

Regressors :math:`w=(1,z)\in\mathbb R^d` (or :math:`w=z` without intercept),
:math:`M=\mathbb E[ww^\top]`, population coefficients :math:`\beta^\star` and residual
:math:`e=y-\beta^{\star\top}w` (one column per output), so :math:`\mathbb E[we^\top]=0`.
Whitened regressors :math:`u=M^{-1/2}w`, :math:`q=|u|^2`. The OLS fit on :math:`n` i.i.d. rows
has excess risk :math:`g^\top\hat S^{-2}g` with :math:`\hat S=\frac1n\sum u_iu_i^\top=I+\Delta`,
:math:`g=\frac1n\sum u_ie_i^\top`; expanding :math:`\hat S^{-2}=I-2\Delta+3\Delta^2-\dots` and
pairing indices,

.. math::

    \mathbb E[\text{excess}]=\frac{a_1}{n}+\frac{c_2}{n^2}+O(n^{-3}),\qquad
    a_1=\mathbb E[\|e\|^2q],

.. math::

    c_2=-2\,\mathbb E[\|e\|^2(q^2-q)]+3\big(\mathbb E[\|e\|^2u^\top Cu]+\|v\|^2+\|T\|^2\big),

with :math:`C=\mathbb E[q\,uu^\top]-I`, :math:`v=\mathbb E[q\,ue^\top]` and
:math:`T=\mathbb E[e\otimes u\otimes u\otimes u]` (Frobenius norms, summed over outputs).
For Gaussian :math:`u` with independent noise of variance :math:`\sigma^2`:
:math:`c_2=\sigma^2d(d+1)` (no intercept), :math:`\sigma^2K(K+3)` (intercept, :math:`d=K+1`),
the expansion of the exact Wishart results.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from dynamics.linear_reconstruction import check_data

__all__ = ["OLSExpansion", "ols_expansion", "third_moment_norm"]

_CHUNK = 2_000_000  # floats per block in the third-moment sums
MAX_THIRD_MOMENT_COST = 5e10  # min(N^2 d, N d^3): 6.8e9 took 15 s on one loaded core


@dataclass(frozen=True)
class OLSExpansion:
    r"""Moments of the OLS excess-risk expansion (module doc); all per-sample, summed over outputs.

    Attributes
    ----------
    residual_var : :math:`\sigma^2=\mathbb E\|e\|^2` (population residual).
    a1 : first-order coefficient :math:`\mathbb E[\|e\|^2q]` (White's sandwich trace).
    c2 : second-order coefficient.
    self_term, cov_term, v_term, t_term : the four pieces of ``c2`` (``-2E[e^2(q^2-q)]``,
        ``3E[e^2 u'Cu]``, ``3|v|^2``, ``3|T|^2``).
    dim : number of regressors ``d``.
    max_leverage : largest :math:`q` in the population sample (mean is ``d``).
    """

    residual_var: float
    a1: float
    c2: float
    self_term: float
    cov_term: float
    v_term: float
    t_term: float
    dim: int
    max_leverage: float

    def excess(self, n: int) -> float:
        """Truncated series ``a1/n + c2/n^2`` (no resummation); ``n`` a sample size >= 1."""
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
            raise ValueError(f"n = {n!r}: the sample size must be an integer >= 1")
        return self.a1 / n + self.c2 / n ** 2


def third_moment_norm(U: np.ndarray, e: np.ndarray, method: str = "auto") -> float:
    r""":math:`\sum_o\|\mathbb E[e_o\,u\otimes u\otimes u]\|_F^2` over the rows of ``U`` (N x d).

    ``"gram"`` uses :math:`N^{-2}\sum_{ij}(e_i\cdot e_j)(u_i\cdot u_j)^3` (cost :math:`N^2d`),
    ``"tensor"`` forms the :math:`d^3` moments (cost :math:`Nd^3`); ``"auto"`` takes the cheaper.
    Both run in blocks of about 2e6 floats.
    """
    U = _as_matrix("U", U)
    e = _as_matrix("e", e)
    if len(e) != len(U):
        raise ValueError(f"U has {len(U)} rows but e has {len(e)}: shapes mismatch")
    N, d = U.shape
    if method == "auto":
        method = "gram" if N <= d * d else "tensor"
    cost = N * N * d if method == "gram" else N * d ** 3
    if method in ("gram", "tensor") and cost > MAX_THIRD_MOMENT_COST:
        raise ValueError(
            f"features: N = {N} rows and d = {d} regressors need about {cost:.2g} operations "
            f"for the third-moment term (at most {MAX_THIRD_MOMENT_COST:.0e}, about two "
            "minutes on one core); subsample the population rows or use fewer features")
    if method == "gram":
        B = max(1, _CHUNK // N)
        tot = 0.0
        for s in range(0, N, B):
            G = U[s:s + B] @ U.T
            tot += float(np.sum((e[s:s + B] @ e.T) * G ** 3))
        return tot / N ** 2
    if method != "tensor":
        raise ValueError(f"method = {method!r}: choose 'auto', 'gram' or 'tensor'")
    B = max(1, _CHUNK // d ** 3)
    T = np.zeros((d ** 3, e.shape[1]))
    for s in range(0, N, B):
        u = U[s:s + B]
        phi = (u[:, :, None, None] * u[:, None, :, None] * u[:, None, None, :]).reshape(len(u), -1)
        T += phi.T @ e[s:s + B]
    return float(np.sum(T * T)) / N ** 2


def _as_matrix(name: str, a) -> np.ndarray:
    """2-d float array (a 1-d input is one column), finite; ValueError naming ``name``."""
    a = np.asarray(a)
    return check_data(name, a[:, None] if a.ndim == 1 else a)


def second_moment_factor(W: np.ndarray) -> np.ndarray:
    """Cholesky factor of the regressors' second moment ``W'W/N``; ValueError when it overflows
    (features too large for float64) or is singular."""
    with np.errstate(over="ignore", invalid="ignore"):
        M = W.T @ W / len(W)
    if not np.all(np.isfinite(M)):
        raise ValueError("features: the second moment of the regressors overflows float64 "
                         "(values too large); rescale the features")
    try:
        return np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        raise ValueError("features: the second moment of the regressors is singular "
                         "(linearly dependent or constant features)") from None


def _regressors(Z: np.ndarray, intercept: bool) -> np.ndarray:
    if intercept:
        return np.hstack([np.ones((len(Z), 1)), Z - Z.mean(0)])
    return Z


def ols_expansion(features, y, intercept: bool = True) -> OLSExpansion:
    r"""Coefficients :math:`a_1, c_2` of the OLS excess risk for the population given by rows.

    Parameters
    ----------
    features : (N, K) array
        Samples of the features :math:`z` (the population: with a finite data set, all of it;
        with intercept the features are centred here).
    y : (N,) or (N, c) array
        Targets; centred here (the intercept or the centring absorbs the mean).
    intercept : bool
        Regressors :math:`(1, z)` (``d = K + 1``) or :math:`z` (``d = K``).
    """
    Z = _as_matrix("features", features)
    Y = _as_matrix("y", y)
    if len(Y) != len(Z):
        raise ValueError(f"features have {len(Z)} rows but y has {len(Y)}: shapes mismatch")
    if not isinstance(intercept, bool | np.bool_):
        raise ValueError(f"intercept = {intercept!r}: must be True or False")
    W = _regressors(Z, bool(intercept))
    N, d = W.shape
    if N <= d:
        raise ValueError(f"features have {N} rows: need more than d = {d} regressors")
    L = second_moment_factor(W)
    Yc = Y - Y.mean(0)
    U = np.linalg.solve(L, W.T).T
    e = Yc - U @ (U.T @ Yc / N)  # population residual (U has identity second moment)
    q = np.sum(U * U, axis=1)
    e2 = np.sum(e * e, axis=1)
    C = (U * q[:, None]).T @ U / N - np.eye(d)
    v = U.T @ (q[:, None] * e) / N
    self_term = -2.0 * float(np.mean(e2 * (q * q - q)))
    cov_term = 3.0 * float(np.mean(e2 * np.sum(U * (U @ C), axis=1)))
    v_term = 3.0 * float(np.sum(v * v))
    t_term = 3.0 * third_moment_norm(U, e)
    return OLSExpansion(float(np.mean(e2)), float(np.mean(e2 * q)),
                        self_term + cov_term + v_term + t_term, self_term, cov_term, v_term,
                        t_term, d, float(q.max()))
