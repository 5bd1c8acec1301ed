r"""Leverage-resummed (non-perturbative) excess test risk of ordinary least squares.

Derivation: ``docs/linear_reconstruction_theory.md``, section 5 ("leverage resummation").

Regressors :math:`w=(1,z)` (or :math:`w=z`), whitened :math:`u=M^{-1/2}w\in\mathbb R^d`,
population residual :math:`e` (:math:`\mathbb E[ue^\top]=0`). On :math:`n` i.i.d. rows,
:math:`W=\sum_iu_iu_i^\top` and the excess risk is :math:`|W^{-1}\sum_iu_ie_i|^2`. With the
leave-one-out identity :math:`W^{-1}u_i=Q_{-i}u_i/(1+h_i)`, :math:`h_i=u_i^\top Q_{-i}u_i`
(two rows: the :math:`2\times2` Woodbury form), and the resolvent of the other rows replaced by
its deterministic equivalent (Bai & Zhou 2008; Couillet & Liao 2022, ch. 2; El Karoui 2018
for elliptical designs)

.. math::

    \bar Q=\Big(m\,\mathbb E\Big[\frac{uu^\top}{1+u^\top\bar Qu}\Big]\Big)^{-1},\qquad
    \bar X=\bar Q^2+m\,\bar Q\,\mathbb E\Big[\frac{uu^\top\,u^\top\bar Xu}{(1+u^\top\bar Qu)^2}
    \Big]\bar Q ,

(:math:`m=n-1` other rows, :math:`\bar X\approx\mathbb E[Q_{-i}^2]=\partial_z\bar Q(z)`), the
expected excess is

.. math::

    \mathcal R_n=n\,\mathbb E\Big[\frac{\|e\|^2\,u^\top\bar Xu}{(1+h)^2}\Big]
    +n(n-1)\,\mathbb E_{u,u'}\big[(e\cdot e')\,[M^{-1}PM^{-1}]_{12}\big],

with :math:`h=u^\top\bar Qu`, and for a pair :math:`U_2=[u,u']`: :math:`M=I_2+U_2^\top\bar QU_2`,
:math:`P=U_2^\top\bar XU_2`. A row of leverage :math:`h\gg1` then costs about one degree of
freedom instead of a divergent :math:`1/n` series. Expanded in :math:`1/n` it gives
:math:`a_1/n` at first order and at second order the exact :math:`c_2` of
:mod:`dynamics.ols_expansion` plus :math:`3a_1` (measured; finite-size, Jensen-type terms of
the deterministic equivalent). These are fixed by the factor :math:`\rho_n=\mathcal E^{\rm
exact}_{\rm G}/\mathcal R^{\rm G}_n`, the exact over the resummed excess for Gaussian features
with independent noise (computed by generalised Gauss-Laguerre quadrature over
:math:`|\zeta|^2\sim\chi^2_K`; :math:`\rho_n=1-3/n+O(n^{-2})`), so Gaussian features
reproduce the Wishart results. The calibrated :math:`\rho_n\mathcal R_n` is then exact to
second order (its :math:`1/n^2` coefficient equals :math:`c_2`; checked numerically on
non-Gaussian populations) and, unlike the truncated series, stays finite and saturating when
a leverage exceeds ``n``. It has no finite solution (``ValueError``) when a direction is
carried by rows of total weight below ``1/m``: OLS is then singular with positive probability
(raised as :class:`dynamics.errors.NotIdentifiableError`, a ``ValueError``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynamics.checks import as_rng, check_count, check_real
from dynamics.errors import ConvergenceError, NotIdentifiableError
from dynamics.linear_reconstruction import check_data
from dynamics.ols_expansion import second_moment_factor

__all__ = ["LeverageResummation", "leverage_excess", "gaussian_excess",
           "resolvent_fixed_point"]

_PAIR_CAP = 3000  # rows used for the pair term (a seeded subsample above it)
_BLOCK = 500  # rows per block in the pair sums


@dataclass(frozen=True)
class LeverageResummation:
    r"""Leverage-resummed expected excess risk of OLS on ``n`` rows (module doc).

    Attributes
    ----------
    n : sample size.
    excess : :math:`\rho_n\mathcal R_n` (calibrated; the prediction).
    self_term, pair_term : the one-row and two-row parts of :math:`\mathcal R_n`.
    calibration : :math:`\rho_n` (1 + O(1/n^2)).
    residual_var : :math:`\mathbb E\|e\|^2`.
    dim : number of regressors ``d``.
    max_leverage : largest :math:`h=u^\top\bar Qu` (a row with ``h >~ 1`` is non-perturbative).
    iterations : fixed-point iterations used.
    """

    n: int
    excess: float
    self_term: float
    pair_term: float
    calibration: float
    residual_var: float
    dim: int
    max_leverage: float
    iterations: int


def _resolvent_map(U, p, m, h):
    Q = np.linalg.inv(m * (U * (p / (1 + h))[:, None]).T @ U)
    return Q, np.sum(U * (U @ Q), axis=1)


def resolvent_fixed_point(U: np.ndarray, p: np.ndarray, m: float, tol: float = 1e-11,
                          max_iter: int = 2000, memory: int = 6
                          ) -> tuple[np.ndarray, np.ndarray, int]:
    r"""Deterministic equivalent :math:`\bar Q` of :math:`(\sum_{i\le m}u_iu_i^\top)^{-1}`.

    Solves :math:`\bar Q^{-1}=m\sum_jp_ju_ju_j^\top/(1+h_j)`, :math:`h_j=u_j^\top\bar Qu_j`, for
    the law :math:`\sum_jp_j\delta_{u_j}` (rows ``U``, weights ``p``): the monotone map
    :math:`h\mapsto F(h)` from :math:`h=0`, with Anderson mixing (``memory`` past steps; a
    plain step whenever the mixed one is not positive). A solution needs :math:`m>d`
    (:math:`m\sum_jp_jh_j/(1+h_j)=d`). Returns ``(Q, h, iterations)``; raises
    ``ConvergenceError`` after ``max_iter`` maps.
    """
    U = check_data("U", U)
    p = check_data("p", p, 1)
    if len(p) != len(U) or np.any(p < 0) or not p.sum() > 0:
        raise ValueError(f"p: expected {len(U)} non-negative weights (one per row of U, not "
                         f"all zero), got shape {p.shape}")
    m = check_real("m", m, positive=True)
    tol = check_real("tol", tol, positive=True)
    max_iter = check_count("max_iter", max_iter, 1)
    memory = check_count("memory", memory, 1)
    d = U.shape[1]
    if not m > d:
        raise ValueError(f"m = {m}: the resolvent of m rows in dimension d = {d} needs m > d")
    h = np.zeros(len(U))
    dH, dR = [], []
    h_old = r_old = None
    for it in range(1, max_iter + 1):
        try:
            Q, f = _resolvent_map(U, p, m, h)
        except np.linalg.LinAlgError:
            f = np.full_like(h, np.inf)
        if not np.all(np.isfinite(f)) or f.max() > 1e12:
            raise NotIdentifiableError(
                f"m = {m}: the resolvent has no finite deterministic equivalent (leverage "
                f"u'Qu above 1e12): some direction is carried by too few rows of the "
                "population (a row of weight p needs m p > 1), so the OLS excess risk on "
                "this many rows is not finite")
        r = f - h
        if np.max(np.abs(r) / (1 + f)) < tol:
            return 0.5 * (Q + Q.T), f, it
        if r_old is not None:
            dH.append(h - h_old)
            dR.append(r - r_old)
            del dH[:-memory], dR[:-memory]
        h_old, r_old = h, r
        h = f
        if dR:
            R = np.array(dR).T
            gam, *_ = np.linalg.lstsq(R, r, rcond=None)
            cand = f - (np.array(dH).T + R) @ gam
            if np.all(np.isfinite(cand)) and np.all(cand >= 0):
                h = cand
    raise ConvergenceError(f"resolvent fixed point: no convergence in {max_iter} iterations "
                           f"(m = {m}, d = {d})")


def second_resolvent(U, p, m, Q, h, tol: float = 1e-12, max_iter: int = 5000) -> np.ndarray:
    r""":math:`\bar X` solving :math:`\bar X=\bar Q^2+m\bar Q\,\mathbb E[w\,uu^\top u^\top\bar Xu]
    \bar Q`, :math:`w=(1+h)^{-2}`: a :math:`d^2\times d^2` linear system (built in row blocks)
    for ``d <= 40``, otherwise the fixed-point iteration of this positive map from
    :math:`\bar Q^2` (it converges exactly when a positive solution exists)."""
    d = U.shape[1]
    A = U @ Q
    c = m * p / (1 + h) ** 2
    QQ = Q @ Q
    if d <= 40:
        L = np.zeros((d * d, d * d))
        for s in range(0, len(U), 2000):
            a, u = A[s:s + 2000], U[s:s + 2000]
            aa = (a[:, :, None] * a[:, None, :]).reshape(len(a), -1)
            uu = (u[:, :, None] * u[:, None, :]).reshape(len(u), -1)
            L += (aa * c[s:s + 2000, None]).T @ uu
        try:
            X = np.linalg.solve(np.eye(d * d) - L, QQ.ravel()).reshape(d, d)
        except np.linalg.LinAlgError:
            X = np.full((d, d), np.nan)
    else:
        X = QQ
        for _ in range(max_iter):
            X_new = QQ + (A * (c * np.sum(U * (U @ X), axis=1))[:, None]).T @ A
            if not np.all(np.isfinite(X_new)) or np.abs(X_new).max() > 1e12 * np.abs(QQ).max():
                X = np.full((d, d), np.nan)
                break
            done = np.abs(X_new - X).max() <= tol * np.abs(X_new).max()
            X = X_new
            if done:
                break
        else:
            raise ConvergenceError(f"second resolvent: no convergence in {max_iter} "
                                   f"iterations (m = {m}, d = {d})")
    X = 0.5 * (X + X.T)
    if not np.all(np.isfinite(X)) or np.linalg.eigvalsh(X)[0] <= 0:
        raise NotIdentifiableError(
            f"m = {m}: the derivative of the deterministic equivalent is not positive "
            "definite (the resummed excess risk diverges)")
    return X


def _pair_values(Ua, ea, ha, Ub, eb, hb, Q, X) -> np.ndarray:
    r"""Pair values beyond first order in :math:`k=u_i^\top\bar Qu_j`, for a block of pairs.

    The exact value is :math:`(e_i\cdot e_j)[M^{-1}PM^{-1}]_{12}` (closed :math:`2\times2`
    inverse); returned is it minus its part of order :math:`k^0` and :math:`k^1`
    (:math:`P_{ij}/(c_ic_j)-k\,(p_{ii}c_j+p_{jj}c_i)/(c_ic_j)^2`, :math:`c=1+h`), which
    :func:`_pair_mean` sums exactly over the whole population.
    """
    k = Ua @ Q @ Ub.T
    P = Ua @ X @ Ub.T
    pii = np.sum(Ua * (Ua @ X), axis=1)[:, None]
    pjj = np.sum(Ub * (Ub @ X), axis=1)[None, :]
    a, c = 1 + hb[None, :], 1 + ha[:, None]  # M^{-1} = [[a, -k], [-k, c]] / det
    det = a * c - k * k
    val = (a * (c * P - k * pii) - k * (c * pjj - k * P)) / det ** 2
    low = P / (a * c) - k * (a * pii + c * pjj) / (a * c) ** 2
    return (ea @ eb.T) * (val - low)


def _pair_mean(U, e, h, Q, X, sub) -> float:
    r"""Mean pair value over two independent draws from the population (rows ``U``).

    Orders :math:`k^0, k^1` factorise and are summed over all rows:
    :math:`\operatorname{tr}(b^\top\bar Xb)-2\operatorname{tr}(g^\top\bar Qb)`,
    :math:`b=\mathbb E[ue^\top/(1+h)]`, :math:`g=\mathbb E[u\,p\,e^\top/(1+h)^2]`,
    :math:`p=u^\top\bar Xu`. The remainder (order :math:`k^2` and up) is summed over all pairs,
    or, with ``sub`` (indices of a row subsample), estimated without bias as
    ``(1/N) same-row + (1 - 1/N) distinct-rows`` over the subsample.
    """
    N = len(U)
    c = 1 + h
    pdiag = np.sum(U * (U @ X), axis=1)
    b = U.T @ (e / c[:, None]) / N
    g = U.T @ (e * (pdiag / c ** 2)[:, None]) / N
    low = float(np.sum(b * (X @ b)) - 2 * np.sum(g * (Q @ b)))
    idx = np.arange(N) if sub is None else sub
    Us, es, hs = U[idx], e[idx], h[idx]
    s_n = len(idx)
    tot = diag = 0.0
    for s in range(0, s_n, _BLOCK):
        for t in range(0, s_n, _BLOCK):
            v = _pair_values(Us[s:s + _BLOCK], es[s:s + _BLOCK], hs[s:s + _BLOCK],
                             Us[t:t + _BLOCK], es[t:t + _BLOCK], hs[t:t + _BLOCK], Q, X)
            tot += float(v.sum())
            if s == t:
                diag += float(np.trace(v))
    if sub is None:
        return low + tot / N ** 2
    return low + diag / s_n / N + (1 - 1 / N) * (tot - diag) / (s_n * (s_n - 1))


def whiten_rows(Z: np.ndarray, Y: np.ndarray, intercept: bool):
    """Whitened regressors ``U`` (``E[u u^T] = I`` over the rows, intercept first when asked)
    and the population least-squares residual of ``Y`` on them."""
    W = np.hstack([np.ones((len(Z), 1)), Z - Z.mean(0)]) if intercept else Z
    L = second_moment_factor(W)
    U = np.linalg.solve(L, W.T).T
    Yc = Y - Y.mean(0)
    return U, Yc - U @ (U.T @ Yc / len(U))


def _resummed(U, e, n, p=None, seed=0) -> tuple[float, float, float, int]:
    """(self term, pair term, max h, iterations) of the resummed excess on ``n`` rows."""
    N = len(U)
    p = np.full(N, 1.0 / N) if p is None else p
    Q, h, it = resolvent_fixed_point(U, p, n - 1)
    X = second_resolvent(U, p, n - 1, Q, h)
    e2 = np.sum(e * e, axis=1)
    self_term = n * float(np.sum(p * e2 * np.sum(U * (U @ X), axis=1) / (1 + h) ** 2))
    sub = None
    if N > _PAIR_CAP:
        sub = np.sort(np.random.default_rng(seed).choice(N, _PAIR_CAP, replace=False))
    pair = _pair_mean(U, e, h, Q, X, sub)
    return self_term, n * (n - 1) * pair, float(h.max()), it


def _laguerre(a: float, k: int = 96) -> tuple[np.ndarray, np.ndarray]:
    r"""Generalised Gauss-Laguerre rule for the Gamma(a+1, 1) law (Golub-Welsch): nodes and
    probability weights, exact for polynomials of degree ``< 2k``."""
    j = np.arange(1, k)
    off = np.sqrt(j * (j + a))
    x, V = np.linalg.eigh(np.diag(2 * np.arange(k) + a + 1.0) + np.diag(off, 1)
                         + np.diag(off, -1))
    return x, V[0] ** 2


def gaussian_excess(K: int, n: int, intercept: bool = True) -> tuple[float, float]:
    r"""(exact, resummed) excess for Gaussian features and independent unit-variance noise.

    Exact: :math:`1/n+(1+1/n)K/(n-K-2)` with intercept, :math:`K/(n-K-1)` without. Resummed:
    :math:`\mathcal R_n` for :math:`u=(1,\zeta)` (or :math:`\zeta`),
    :math:`\zeta\sim N(0,I_K)`; by symmetry :math:`\bar Q=\mathrm{diag}(a,bI_K)`,
    :math:`\bar X=\mathrm{diag}(x_0,x_1I_K)`, :math:`h=a+bt`, :math:`t=|\zeta|^2\sim\chi^2_K`
    (quadrature; the pair term vanishes).
    """
    if not isinstance(intercept, bool | np.bool_):
        raise ValueError(f"intercept = {intercept!r}: must be True or False")
    K = check_count("K", K, 1)
    lo = K + 3 if intercept else K + 2
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < lo:
        raise ValueError(f"n = {n!r}: OLS on K = {K} features needs n >= {lo}")
    n = int(n)
    x, wq = _laguerre(K / 2 - 1)
    t = 2 * x
    a0 = 1.0 if intercept else 0.0
    m = n - 1
    a, b = (1 / m if intercept else 0.0), 1 / m
    for _ in range(10_000):
        g = 1 / (1 + a * a0 + b * t)
        a_new = 1 / (m * np.sum(wq * g)) if intercept else 0.0
        b_new = 1 / (m * np.sum(wq * g * t / K))
        done = abs(a_new - a) <= 1e-15 * a_new + 1e-300 and abs(b_new - b) <= 1e-15 * b_new
        a, b = a_new, b_new
        if done:
            break
    w = wq / (1 + a * a0 + b * t) ** 2
    s = t / K
    # x0 = a^2 (1 + m E[w (x0 + x1 t)]), x1 = b^2 (1 + m E[w s (x0 a0 + x1 t)])
    A = np.array([[1 - m * a * a * np.sum(w), -m * a * a * np.sum(w * t)],
                  [-m * b * b * np.sum(w * s) * a0, 1 - m * b * b * np.sum(w * s * t)]])
    if intercept:
        x0, x1 = np.linalg.solve(A, [a * a, b * b])
    else:
        x0, x1 = 0.0, b * b / A[1, 1]
    resummed = n * float(np.sum(w * (a0 * x0 + x1 * t)))
    exact = 1 / n + (1 + 1 / n) * K / (n - K - 2) if intercept else K / (n - K - 1)
    return exact, resummed


def check_ols_inputs(features, y, n, intercept) -> tuple[np.ndarray, np.ndarray]:
    """Checked ``(Z, Y)`` (2-d float arrays) of a population for the OLS-risk estimates: one
    target row per feature row, ``intercept`` a bool, ``n`` an integer the OLS fit can use
    (``n >= K + 3`` with intercept, ``K + 2`` without) and more rows than ``K + 1``."""
    Z = check_data("features", np.asarray(features)[:, None] if np.ndim(features) == 1
                   else features)
    Y = check_data("y", np.asarray(y)[:, None] if np.ndim(y) == 1 else y)
    if len(Y) != len(Z):
        raise ValueError(f"features have {len(Z)} rows but y has {len(Y)}: shapes mismatch")
    if not isinstance(intercept, bool | np.bool_):
        raise ValueError(f"intercept = {intercept!r}: must be True or False")
    K = Z.shape[1]
    lo = K + 3 if intercept else K + 2
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < lo:
        raise ValueError(f"n = {n!r}: OLS on K = {K} features needs n >= {lo}")
    if len(Z) <= K + 1:
        raise ValueError(f"features have {len(Z)} rows: need more than K + 1 = {K + 1}")
    return Z, Y


def leverage_excess(features, y, n: int, intercept: bool = True, seed=0
                    ) -> LeverageResummation:
    r"""Leverage-resummed expected excess risk of OLS fitted on ``n`` rows (module doc).

    Parameters
    ----------
    features : (N, K) array
        Samples of the features (the population; a finite data set: all of it).
    y : (N,) or (N, c) array
        Targets.
    n : int
        Sample size of the fit, ``n >= K + 3`` (intercept) or ``K + 2``.
    intercept : bool
        Regressors ``(1, z)`` or ``z``.
    seed : int, numpy Generator or None
        Seed of the row subsample of the pair term when ``N > 3000`` (``None``: fresh
        entropy, so two calls differ; the default 0 is reproducible).
    """
    Z, Y = check_ols_inputs(features, y, n, intercept)
    K = Z.shape[1]
    as_rng(seed, "seed")  # validated here, not only when the pair term is subsampled
    U, e = whiten_rows(Z, Y, bool(intercept))
    self_term, pair, hmax, it = _resummed(U, e, int(n), seed=seed)
    exact, res = gaussian_excess(K, int(n), bool(intercept))
    rho = exact / res
    return LeverageResummation(int(n), rho * (self_term + pair), self_term, pair, rho,
                               float(np.mean(np.sum(e * e, axis=1))), U.shape[1], hmax, it)

