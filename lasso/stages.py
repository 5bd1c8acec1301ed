r"""The two stages of the generalized Trans-Lasso as reusable parts (internal module shared by
:mod:`lasso.estimators`, :mod:`lasso.cv` and :mod:`lasso.translasso`).

Stage 1 (Okajima & Obuchi 2024, arXiv:2409.17704, eq. of the pretraining step), pooled rows:

.. math::

    \hat x^{(1st)} = \arg\min_x\ \tfrac12\sum_{k=0}^{K}\|y^{(k)} - A^{(k)}x\|_2^2
    + \lambda_1\|x\|_1 .

Stage 2 (fine-tuning on the target), :math:`S=\mathrm{supp}(\hat x^{(1st)})`:

.. math::

    \hat x^{(2nd)} = \arg\min_x\ \tfrac12\|y^{(0)} - \kappa A^{(0)}\hat x^{(1st)} - A^{(0)}x\|_2^2
    + \sum_i(\lambda_2 + \Delta\lambda\,\mathbb 1[i\notin S])|x_i| ,

:math:`\hat x = \kappa\hat x^{(1st)} + \hat x^{(2nd)}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .checks import check_choice, check_identifiable, check_max_iter, check_tol
from .data import center, stack_fortran
from .solver import SOLVERS, LassoResult, column_sq_norms, solve_weighted_lasso


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings shared by every Lasso solve of one fit."""

    solver: str = "fast"
    tol: float = 1e-8
    max_iter: int = 10_000
    strict: bool = False

    def __post_init__(self):
        check_choice(self.solver, "solver", SOLVERS)
        object.__setattr__(self, "tol", check_tol(self.tol))
        object.__setattr__(self, "max_iter", check_max_iter(self.max_iter))

    @classmethod
    def of(cls, est, strict=None) -> SolveOptions:
        """The options held by estimator ``est`` (its ``solver, tol, max_iter, strict``)."""
        return cls(est.solver, est.tol, est.max_iter,
                   bool(getattr(est, "strict", False) if strict is None else strict))


@dataclass(frozen=True)
class TransferFit:
    """Result of one two-stage fit.

    Attributes
    ----------
    coef : ndarray (N,)
        :math:`\\kappa\\hat x^{(1st)} + \\hat x^{(2nd)}`.
    coef_stage1, coef_stage2 : ndarray (N,)
        :math:`\\hat x^{(1st)}` and :math:`\\hat x^{(2nd)}`.
    support_stage1 : ndarray of bool (N,)
        :math:`S`.
    intercept : float
        Target intercept (0 without ``fit_intercept``).
    stage1, stage2 : LassoResult
        Solver results of the two stages (objective, duality gap, convergence).
    """

    coef: np.ndarray
    coef_stage1: np.ndarray
    coef_stage2: np.ndarray
    support_stage1: np.ndarray
    intercept: float
    stage1: LassoResult
    stage2: LassoResult

    @property
    def converged(self) -> bool:
        return self.stage1.converged and self.stage2.converged

    def to_dict(self) -> dict:
        d = {f"stage1_{k}": v for k, v in self.stage1.to_dict().items()}
        d.update({f"stage2_{k}": v for k, v in self.stage2.to_dict().items()})
        d["intercept"] = self.intercept
        d["converged"] = self.converged
        return d


def stage2_weights(support, lam2: float, dlam: float) -> np.ndarray:
    r"""Stage-2 penalties :math:`\lambda_2 + \Delta\lambda\,\mathbb 1[i\notin S]`
    (``dlam = inf`` restricts the fit to :math:`S`)."""
    support = np.asarray(support, dtype=bool)
    w = np.full(support.shape, float(lam2))
    w[~support] = np.inf if np.isinf(dlam) else lam2 + dlam
    return w


class Prepared:
    """Centred target and (optionally) pooled design, kept for repeated fits.

    ``rows0`` and ``rows`` are the rank bounds of the target and pooled designs: the number of
    rows, less one per dataset centred for an intercept.
    """

    def __init__(self, target, sources, fit_intercept, pooled=True):
        (X0, y0) = target
        X0c, y0c, self.x0_mean, self.y0_mean = center(X0, y0, fit_intercept)
        self.A0 = np.asfortranarray(X0c)
        self.y0 = np.ascontiguousarray(y0c)
        self.L0 = column_sq_norms(self.A0)
        self.n_features = X0.shape[1]
        self.rows0 = X0.shape[0] - int(bool(fit_intercept))
        if pooled and not sources:  # the target alone: no copy
            self.A, self.b, self.L, self.rows = self.A0, self.y0, self.L0, self.rows0
        elif pooled:
            cs = [center(X, y, fit_intercept) for X, y in sources]
            self.A = stack_fortran([X0c] + [c[0] for c in cs])
            self.b = np.concatenate([y0c] + [c[1] for c in cs])
            self.L = column_sq_norms(self.A)
            self.rows = self.A.shape[0] - (1 + len(cs)) * int(bool(fit_intercept))

    def intercept(self, coef) -> float:
        return float(self.y0_mean - self.x0_mean @ coef)


def fit_stage1(prep: Prepared, lam1: float, opts: SolveOptions, init=None, name="lam1"):
    """Stage 1 on the pooled rows of ``prep``; refuses ``lam1 = 0`` when not identifiable
    (``name``: the argument named in that error). Returns a :class:`LassoResult`."""
    if lam1 == 0:
        check_identifiable(prep.n_features, prep.rows, f"{name} = 0", f"use {name} > 0")
    return solve_weighted_lasso(
        prep.A, prep.b, lam1, solver=opts.solver, tol=opts.tol, max_iter=opts.max_iter,
        init=init, strict=opts.strict, col_sq_norms=prep.L,
    )


def check_stage2_identifiable(weights, rows: int, lam2: float, dlam: float) -> None:
    """Stage 2 is not identifiable when its zero-weight coordinates outnumber the target rows
    (:func:`lasso.checks.check_identifiable`): ``lam2 = 0`` frees the stage-1 support,
    and with ``dlam = 0`` every coordinate."""
    n_free = int(np.count_nonzero(weights == 0))
    if n_free:
        where = "every coordinate" if dlam == 0 else "the stage-1 support"
        check_identifiable(
            n_free, rows, f"lam2 = 0 with dlam = {dlam:g} (stage 2, on {where})",
            "use lam2 > 0" + (" or dlam > 0" if dlam == 0 else ""),
        )


def fit_stage2(prep: Prepared, x1, offset, hyper, opts: SolveOptions, init=None):
    """Stage 2 given the stage-1 vector ``x1``; ``hyper = (lam2, kappa, dlam)``; ``offset`` is
    the target prediction used for the offset (``A0 @ x1`` in-sample, or pre-validated)."""
    lam2, kappa, dlam = hyper
    w = stage2_weights(x1 != 0, lam2, dlam)
    check_stage2_identifiable(w, prep.rows0, lam2, dlam)
    b = prep.y0 - kappa * offset if kappa != 0 else prep.y0
    return solve_weighted_lasso(
        prep.A0, b, w, solver=opts.solver, tol=opts.tol, max_iter=opts.max_iter, init=init,
        strict=opts.strict, col_sq_norms=prep.L0,
    )


def two_stage(prep: Prepared, lam1, hyper, opts: SolveOptions, offset=None) -> TransferFit:
    """Both stages on ``prep``; ``offset``: stage-2 offset predictions (default in-sample)."""
    s1 = fit_stage1(prep, lam1, opts)
    x1 = s1.coef
    s2 = fit_stage2(prep, x1, prep.A0 @ x1 if offset is None else offset(x1), hyper, opts)
    coef = hyper[1] * x1 + s2.coef
    return TransferFit(
        coef=coef, coef_stage1=x1, coef_stage2=s2.coef, support_stage1=x1 != 0,
        intercept=prep.intercept(coef), stage1=s1, stage2=s2,
    )
