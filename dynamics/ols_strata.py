r"""Leverage resummation conditioned on the composition of the sample (stratified populations).

Derivation and measurements: ``docs/linear_reconstruction_theory.md``, section 5
("composition of the sample").

The population is a mixture of ``G`` known strata (for a labelled data set: the classes) with
weights :math:`\pi_g`. ``n`` rows drawn i.i.d. from it are, exactly, a multinomial composition
:math:`c=(n_1,\dots,n_G)\sim\mathrm{Mult}(n,\pi)` followed by :math:`n_g` i.i.d. rows of each
stratum. The deterministic equivalent of :mod:`dynamics.ols_leverage` is taken *given* the
composition, for the law :math:`p_c=\sum_g(n_g/n)\,\mathrm{law}_g`, and averaged over the
composition exactly (enumerated; a thinned lattice with block weights once the count standard
deviations exceed 4):

.. math::

    \mathcal R^{\rm strat}_n=\rho_n\sum_c\mathrm{Mult}(c;n,\pi)\Big[n\,\mathbb E_{p_c}\Big[
    \frac{\|e\|^2u^\top\bar X_cu}{(1+h)^2}\Big]+\sum_{g,g'}\big(n_gn_{g'}-\delta_{gg'}n_g\big)
    \,\mathbb E_{g}\mathbb E_{g'}\big[(e\cdot e')[M^{-1}PM^{-1}]_{12}\big]\Big],

the pair weights counting ordered pairs of distinct sample rows in strata :math:`(g,g')` (so
the between-strata part of the residual is not counted twice), :math:`\rho_n` the Gaussian
calibration of :mod:`dynamics.ols_leverage`. With one stratum it *is* the leverage resummation.
What it adds is the non-perturbative effect of the fluctuating share of rows that carry a
direction: when a few strata carry distinct directions the resolvent of a sample of
:math:`n\sim 6d` rows depends on how many rows of each it got, a Jensen effect that the
mean-field equivalent misses (it is of third order in :math:`1/n` and depends on the law).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln

from dynamics.ols_leverage import (
    check_ols_inputs,
    gaussian_excess,
    resolvent_fixed_point,
    second_resolvent,
    whiten_rows,
)

__all__ = ["stratified_leverage_excess", "compositions"]

_MAX_GROUPS = 4
_PAIR_ROWS = 1500  # rows per stratum-proportional subsample for the pair sums
_WMIN = 1e-7  # compositions of smaller multinomial probability are left out


def compositions(n: int, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Compositions :math:`c` of ``n`` into ``len(pi)`` parts and their multinomial weights.

    All compositions of probability above 1e-7 are kept; once the smallest count standard
    deviation :math:`s=\min_g\sqrt{n\pi_g(1-\pi_g)}` exceeds 4, only every ``floor(s/2)``-th
    count is kept (a lattice), each point carrying the weight of its block (its probability
    times the block volume). Weights are normalised to sum 1.
    """
    G = len(pi)
    sd = min(math.sqrt(n * q * (1 - q)) for q in pi) if G > 1 else 0.0
    step = max(1, int(sd // 2)) if sd > 4 else 1
    grids = np.meshgrid(*[np.arange(0, n + 1, step)] * (G - 1), indexing="ij")
    C = np.stack([g.ravel() for g in grids], 1) if G > 1 else np.zeros((1, 0), int)
    C = C[C.sum(1) <= n]
    C = np.hstack([C, n - C.sum(1, keepdims=True)])
    with np.errstate(divide="ignore"):
        logw = (gammaln(n + 1) - gammaln(C + 1).sum(1)
                + (C * np.log(np.where(pi > 0, pi, 1.0))).sum(1))
    w = np.exp(logw) * step ** (G - 1)
    keep = w / step ** (G - 1) > _WMIN
    return C[keep], w[keep] / w[keep].sum()


def _pair_matrix(Ua, ea, ha, Ub, eb, hb, Q, X) -> np.ndarray:
    r"""Exact two-row values :math:`(e_i\cdot e_j)[M^{-1}PM^{-1}]_{12}` for blocks of rows."""
    k = Ua @ Q @ Ub.T
    P = Ua @ X @ Ub.T
    pii = np.sum(Ua * (Ua @ X), axis=1)[:, None]
    pjj = np.sum(Ub * (Ub @ X), axis=1)[None, :]
    a, c = 1 + hb[None, :], 1 + ha[:, None]
    det = a * c - k * k
    return (ea @ eb.T) * (a * (c * P - k * pii) - k * (c * pjj - k * P)) / det ** 2


def _given_composition(U, e, lab, cnt, n, sub) -> float:
    """Resummed excess (uncalibrated) given the counts ``cnt`` of the strata."""
    Ng = np.bincount(lab, minlength=len(cnt)).astype(float)
    p = cnt[lab] / n / Ng[lab]
    Q, h, _ = resolvent_fixed_point(U, p, n - 1)
    X = second_resolvent(U, p, n - 1, Q, h)
    c = 1 + h
    self_term = n * float(np.sum(p * np.sum(e * e, 1) * np.sum(U * (U @ X), 1) / c ** 2))
    Us, es, hs, ls = U[sub], e[sub], h[sub], lab[sub]
    Ns = np.bincount(ls, minlength=len(cnt)).astype(float)
    F = _pair_matrix(Us, es, hs, Us, es, hs, Q, X)
    wr = cnt[ls] / Ns[ls]
    pair = float(wr @ F @ wr)
    for g in np.flatnonzero(cnt):
        m = ls == g
        pair -= cnt[g] / Ns[g] ** 2 * float(F[np.ix_(m, m)].sum())
    return self_term + pair


def _check_groups(groups, N) -> np.ndarray:
    g = np.asarray(groups)
    if g.shape != (N,):
        raise ValueError(f"groups has shape {g.shape}: need ({N},), one label per row")
    _, lab = np.unique(g, return_inverse=True)
    if lab.max() + 1 > _MAX_GROUPS:
        raise ValueError(f"groups has {lab.max() + 1} distinct labels: at most {_MAX_GROUPS} "
                         "(the compositions are enumerated)")
    return lab


def stratified_leverage_excess(features, y, groups, n: int, intercept: bool = True,
                               seed=0) -> float:
    r"""Expected OLS excess risk on ``n`` rows, conditioned on the composition (module doc).

    Parameters
    ----------
    features : (N, K) array
        The population's features (all rows of a finite data set).
    y : (N,) or (N, c) array
        Targets.
    groups : (N,) array
        Stratum label of every row (at most 4 distinct labels); one label gives
        :func:`dynamics.ols_leverage.leverage_excess`.
    n : int
        Sample size, ``n >= K + 3`` (intercept) or ``K + 2``.
    intercept : bool
        Regressors ``(1, z)`` or ``z``.
    seed : int
        Seed of the stratum-proportional row subsample of the pair sums (above 1500 rows).
    """
    Z, Y = check_ols_inputs(features, y, n, intercept)
    K = Z.shape[1]
    lab = _check_groups(groups, len(Z))
    U, e = whiten_rows(Z, Y, bool(intercept))
    N = len(U)
    pi = np.bincount(lab) / N
    sub = np.arange(N)
    if N > _PAIR_ROWS:  # stratum-proportional subsample, at least 2 rows per stratum
        rng = np.random.default_rng(seed)
        sub = np.sort(np.concatenate([
            rng.choice(np.flatnonzero(lab == g), max(2, min(int(np.sum(lab == g)),
                       round(_PAIR_ROWS * pi[g]))), replace=False) for g in range(len(pi))]))
    C, w = compositions(int(n), pi)
    tot = sum(wc * _given_composition(U, e, lab, c.astype(float), int(n), sub)
              for c, wc in zip(C, w, strict=True))
    exact, res = gaussian_excess(K, int(n), bool(intercept))
    return exact / res * tot
