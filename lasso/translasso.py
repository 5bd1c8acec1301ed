r"""Trans-Lasso of Li, Cai & Li (2022, JRSS-B; arXiv:2006.10593), their oracle and full algorithms.

Oracle Trans-Lasso (informative set :math:`\mathcal A` known), in the unnormalised form of
this package (:math:`\lambda_1 = (n_{\mathcal A}+n_0)\lambda_w`,
:math:`\lambda_2=n_0\lambda_\delta`):

.. math::

    \hat w = \arg\min_w \tfrac12\sum_{k\in\{0\}\cup\mathcal A}\|y^{(k)}-X^{(k)}w\|_2^2
    + \lambda_1\|w\|_1,\qquad
    \hat\delta = \arg\min_\delta \tfrac12\|y^{(0)} - X^{(0)}(\hat w+\delta)\|_2^2
    + \lambda_2\|\delta\|_1,

:math:`\hat\beta=\hat w+\hat\delta`: the generalized Trans-Lasso with :math:`\kappa=1`,
:math:`\Delta\lambda=0` on the informative sources.

Trans-Lasso (:math:`\mathcal A` unknown): the target rows are split into a training part
:math:`I` and a held-out part :math:`\tilde I`; sources are ranked by

.. math::

    \hat R_k = \sum_{j\in\text{top }n_{top}} \Big|\tfrac{1}{n_k}X^{(k)\top}y^{(k)}
    - \tfrac{1}{|I|}X_I^{(0)\top}y_I^{(0)}\Big|_{(j)}^2

(the :math:`n_{top}` largest entries, default :math:`|I|/2`); candidate sets
:math:`\hat G_l` hold the :math:`l` best-ranked sources (:math:`l=0` is the target-only
Lasso with penalty :math:`\lambda_2`); the oracle algorithm is run on :math:`I` for each,
and the candidates are combined by Q-aggregation on :math:`\tilde I` (Dai, Rigollet & Zhang
2012, as used by Li, Cai & Li):

.. math::

    \theta_l \propto \exp\Big(-\frac{\|y_{\tilde I} - X_{\tilde I}\hat\beta_l\|^2}{T}
    + \frac{\|X_{\tilde I}(\hat\beta_\theta - \hat\beta_l)\|^2}{4T}\Big),\qquad
    \hat\beta_\theta \leftarrow \tfrac34\hat\beta_\theta + \tfrac14\sum_l\theta_l\hat\beta_l,

iterated from exponential weights :math:`\theta_l\propto\exp(-\mathrm{RSS}_l/T)`; the
temperature is :math:`T=2\hat\sigma^2` (the authors' code takes unit noise, :math:`T=2`);
by default :math:`\hat\sigma^2=\min_l \mathrm{RSS}_l/|\tilde I|`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold

from .base import TransferBase
from .checks import check_choice, check_penalty
from .solver import lambda_max, lasso_path
from .stages import Prepared, SolveOptions, fit_stage1, fit_stage2


@dataclass(frozen=True)
class QAggregation:
    """Result of :func:`q_aggregate`: weights ``theta`` (sum 1), combined ``coef``, the
    exponential-weights start ``coef_ew``, ``iterations`` and ``converged``."""

    theta: np.ndarray
    coef: np.ndarray
    coef_ew: np.ndarray
    iterations: int
    converged: bool

    def to_dict(self) -> dict:
        return {"iterations": self.iterations, "converged": self.converged,
                "theta": self.theta.tolist()}


def _softmax(v):
    v = v - v.max()
    e = np.exp(v)
    return e / e.sum()


def q_aggregate(B, X, y, temperature, *, total_steps=10, tol=1e-3) -> QAggregation:
    r"""Q-aggregation of candidate coefficient vectors (columns of ``B``) on ``(X, y)``.

    See the module docstring for the update (Li, Cai & Li 2022, Q-aggregation step).
    """
    B = np.asarray(B, dtype=np.float64)
    T = check_penalty(temperature, "temperature")
    if not T > 0:
        raise ValueError(f"temperature = {temperature}: must be positive")
    total_steps = _check_count(total_steps, "total_steps", 1)
    P = X @ B  # predictions of each candidate
    rss = np.sum((y[:, None] - P) ** 2, axis=0)
    theta = _softmax(-rss / T)
    beta = B @ theta
    beta_ew = beta.copy()
    converged = False
    it = 0
    while it < total_steps:
        it += 1
        spread = np.sum(((X @ beta)[:, None] - P) ** 2, axis=0)
        new = _softmax(-rss / T + spread / (4.0 * T))
        beta = 0.75 * beta + 0.25 * (B @ new)
        done = np.sum(np.abs(new - theta)) < tol
        theta = new
        if done:
            converged = True
            break
    return QAggregation(theta=theta, coef=beta, coef_ew=beta_ew, iterations=it,
                        converged=converged)


def _check_count(value, name, lo):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < lo:
        raise ValueError(f"{name} = {value!r}: must be an integer >= {lo}")
    return int(value)


def rank_sources(target, sources, n_top=None):
    r"""Li, Cai & Li's source ranking: :math:`\hat R_k` (module docstring) for every source,
    and the source indices sorted by increasing :math:`\hat R_k` (most similar first)."""
    X0, y0 = target
    n0 = X0.shape[0]
    n_top = max(1, n0 // 2) if n_top is None else _check_count(n_top, "n_top", 1)
    c0 = X0.T @ y0 / n0
    R = np.empty(len(sources))
    for k, (X, y) in enumerate(sources):
        d = np.abs(X.T @ y / X.shape[0] - c0)
        top = np.sort(d)[::-1][: min(n_top, d.size)]
        R[k] = float(np.sum(top**2))
    return R, np.argsort(R, kind="stable")


def _cv_lambda(A, b, cv, seed, opts, grid=(20, 1e-2)):
    """Penalty minimising the K-fold CV error of a Lasso path on (A, b) (rescaled per fold);
    ``grid = (n_lam, eps)``: geometric grid from lambda_max down to eps * lambda_max."""
    n_lam, eps = grid
    lams = lambda_max(A, b) * np.geomspace(1.0, eps, n_lam)
    M = A.shape[0]
    err = np.zeros(n_lam)
    for tr, te in KFold(cv, shuffle=True, random_state=seed).split(A):
        path = lasso_path(A[tr], b[tr], lams * tr.size / M, solver=opts.solver, tol=opts.tol,
                          max_iter=opts.max_iter)
        err += [np.mean((b[te] - A[te] @ r.coef) ** 2) for r in path]
    return float(lams[int(np.argmin(err))])


class TransLasso(TransferBase):
    r"""Trans-Lasso (Li, Cai & Li 2022, arXiv:2006.10593): oracle version with a given
    informative set, or the full method with source ranking and Q-aggregation.

    Objectives, ranking and aggregation: see the module docstring of
    :mod:`lasso.translasso`. Penalties are unnormalised, as everywhere in :mod:`lasso`.

    Parameters
    ----------
    lam1 : float or "cv"
        Stage-1 penalty of every candidate; ``"cv"``: chosen per candidate by ``cv``-fold CV
        of the pooled Lasso path.
    lam2 : float or "cv"
        Stage-2 (and target-only candidate) penalty; ``"cv"``: chosen per candidate by CV on
        the target training rows with that candidate's offset.
    informative : "auto", "all" or sequence of int
        ``"auto"``: rank sources and Q-aggregate (the full method). ``"all"`` or a list of
        source indices (0-based positions in ``sources``): oracle Trans-Lasso on those.
    heldout_fraction : float in (0, 1)
        Fraction of target rows held out for the aggregation (``"auto"`` only).
    n_top : int or None
        Number of largest entries in :math:`\hat R_k` (default half the training rows).
    aggregation : {"q", "select"}
        Q-aggregation, or selection of the candidate with the smallest held-out error.
    temperature : float or None
        :math:`T` of the aggregation; ``None``: :math:`2\min_l\mathrm{RSS}_l/|\tilde I|`.
    total_steps : int
        Q-aggregation iterations.
    cv : int
        Folds for ``"cv"`` penalties.
    random_state : int or None
        Seed of the target split and of the CV folds. Default 0: the same call gives the same
        numbers; ``None`` draws a fresh split each call.
    solver, tol, max_iter, fit_intercept, strict, target_group
        As in :class:`~lasso.GeneralizedTransLasso`.

    Attributes
    ----------
    coef_, intercept_
    ranking_ : ndarray of int
        Source indices from most to least similar (``"auto"``).
    R_hat_ : ndarray
        :math:`\hat R_k` per source (``"auto"``).
    candidates_ : ndarray (N, n_candidates)
        Candidate coefficients (column l uses the l best-ranked sources).
    aggregation_ : QAggregation or None
    n_iter_ : int
        Coordinate-descent epochs of the final solves of every candidate, summed.
    weights_ : ndarray
        Aggregation weights :math:`\theta` (one-hot for ``"select"``; ``[1]`` for the oracle).
    """

    def __init__(
        self, lam1="cv", lam2="cv", informative="auto", *, heldout_fraction=1 / 3, n_top=None,
        aggregation="q", temperature=None, total_steps=10, cv=5, random_state=0,
        solver="fast", tol=1e-8, max_iter=10_000, fit_intercept=False, strict=False,
        target_group=0,
    ):
        self.lam1 = lam1
        self.lam2 = lam2
        self.informative = informative
        self.heldout_fraction = heldout_fraction
        self.n_top = n_top
        self.aggregation = aggregation
        self.temperature = temperature
        self.total_steps = total_steps
        self.cv = cv
        self.random_state = random_state
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.strict = strict
        self.target_group = target_group

    #: default grid ``(n_lam, eps)`` of the ``"cv"`` penalties (owned by the estimator)
    cv_grid = (20, 1e-2)

    def _lam(self, value, name):
        if isinstance(value, str):
            if value != "cv":
                raise ValueError(f"{name} = {value!r}: must be a number or 'cv'")
            return "cv"
        return check_penalty(value, name)

    def _oracle(self, target, sources, lam1, lam2, opts):
        """(coef, intercept) of the oracle Trans-Lasso on target + sources; no sources:
        target-only Lasso with lam2."""
        seed = self.random_state
        prep = Prepared(target, sources, self.fit_intercept)
        if not sources:
            lam = lam2
            if lam == "cv":
                lam = _cv_lambda(prep.A0, prep.y0, self.cv, seed, opts, self.cv_grid)
            res = fit_stage1(prep, lam, opts, name="lam2")
            self.n_iter_ += res.epochs
            return res.coef, prep.intercept(res.coef)
        if lam1 == "cv":
            lam1 = _cv_lambda(prep.A, prep.b, self.cv, seed, opts, self.cv_grid)
        s1 = fit_stage1(prep, lam1, opts)
        offset = prep.A0 @ s1.coef
        if lam2 == "cv":
            lam2 = _cv_lambda(prep.A0, prep.y0 - offset, self.cv, seed, opts, self.cv_grid)
        s2 = fit_stage2(prep, s1.coef, offset, (lam2, 1.0, 0.0), opts)
        self.n_iter_ += s1.epochs + s2.epochs
        coef = s1.coef + s2.coef
        return coef, prep.intercept(coef)

    def _informative_indices(self, n_sources):
        inf = self.informative
        if isinstance(inf, str):
            check_choice(inf, "informative", ("auto", "all"))
            return list(range(n_sources))
        try:
            idx = [int(i) for i in inf]
        except (TypeError, ValueError):
            raise ValueError(f"informative = {inf!r}: 'auto', 'all' or source indices") from None
        bad = [i for i in idx if not 0 <= i < n_sources]
        if bad:
            raise ValueError(f"informative = {inf}: indices {bad} out of range "
                             f"[0, {n_sources - 1}]")
        return idx

    def fit(self, X=None, y=None, groups=None, *, target=None, sources=None):
        """Fit on stacked ``X, y, groups`` (``target_group`` marks the target) or on
        ``target = (X0, y0)`` and ``sources = [(X1, y1), ...]`` (at least one)."""
        opts = SolveOptions.of(self)
        target, sources = self._datasets(X, y, groups, target, sources, require_sources=True)
        lam1 = self._lam(self.lam1, "lam1")
        lam2 = self._lam(self.lam2, "lam2")
        _check_count(self.cv, "cv", 2)
        self.ranking_ = self.R_hat_ = self.aggregation_ = None
        self.n_iter_ = 0  # coordinate-descent epochs of the final solves, summed
        if not (isinstance(self.informative, str) and self.informative == "auto"):
            idx = self._informative_indices(len(sources))
            coef, icpt = self._oracle(target, [sources[i] for i in idx], lam1, lam2, opts)
            self.candidates_ = coef[:, None]
            self.weights_ = np.ones(1)
            return self._set_coef(coef, icpt)
        check_choice(self.aggregation, "aggregation", ("q", "select"))
        held, train = self._split(target[0].shape[0])
        X0, y0 = target
        tgt_tr = (X0[train], y0[train])
        self.R_hat_, self.ranking_ = rank_sources(tgt_tr, sources, self.n_top)
        cands, icpts = [], []
        for l in range(len(sources) + 1):
            coef, icpt = self._oracle(tgt_tr, [sources[i] for i in self.ranking_[:l]],
                                      lam1, lam2, opts)
            cands.append(coef)
            icpts.append(icpt)
        # aggregate coefficient vectors and intercepts together (predictions are linear)
        B = np.vstack([np.array(cands).T, np.array(icpts)[None, :]])
        theta, beta = self._aggregate(B, np.hstack([X0[held], np.ones((held.size, 1))]),
                                      y0[held])
        self.candidates_ = B[:-1]
        self.candidate_intercepts_ = B[-1]
        self.weights_ = theta
        self.heldout_index_ = held
        return self._set_coef(beta[:-1], float(beta[-1]))

    def _split(self, n0):
        """Held-out and training target rows (seeded by ``random_state``)."""
        f = check_penalty(self.heldout_fraction, "heldout_fraction")
        n_held = int(round(f * n0))
        if not (0 < f < 1) or n_held < 1 or n0 - n_held < 2:
            raise ValueError(f"heldout_fraction = {self.heldout_fraction}: must leave at least "
                             f"one held-out and two training rows of the {n0} target rows "
                             f"(n_samples = {n0})")
        perm = np.random.default_rng(self.random_state).permutation(n0)
        return np.sort(perm[:n_held]), np.sort(perm[n_held:])

    def _aggregate(self, B, Xh, yh):
        """``(theta, beta)``: selection or Q-aggregation of the candidates on held-out rows."""
        rss = np.sum((yh[:, None] - Xh @ B) ** 2, axis=0)
        if self.aggregation == "select":
            theta = np.zeros(B.shape[1])
            theta[int(np.argmin(rss))] = 1.0
            return theta, B @ theta
        T = self.temperature
        if T is None:
            T = 2.0 * max(float(rss.min()) / yh.size, np.finfo(float).tiny)
        agg = q_aggregate(B, Xh, yh, T, total_steps=self.total_steps)
        self.aggregation_ = agg
        return agg.theta, agg.coef
