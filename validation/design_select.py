r"""Strategy selection for a user's own design matrix (``transfer-theory select --design``).

The file holds the target design :math:`A^{(0)}` (rows = samples, columns = features), as
``.npy`` or ``.csv`` (comma-separated numbers, an optional header line). Sources are assumed
to have rows from the same population. Steps (docs ``docs/translasso_real_designs.md``):

1. read and check the file; its shape must match the scenario: ``round(alphas[0] N) = M``;
2. drop constant columns and, optionally, heavy-tailed ones (standardised kurtosis above
   ``kurtosis_max``; such columns break every Gaussian or spectral theory); centre and scale
   the rest to variance :math:`1/N` (the theory normalisation);
3. choose the theory: the i.i.d. one when the design is white (top eigenvalue of the column
   correlation within 25% of the Marchenko-Pastur edge of the same shape and participation
   ratio above 0.5), otherwise the Sigma theory (:mod:`replica.covariance`) with the column
   correlation matrix (Ledoit-Wolf shrinkage when there are fewer than ``2N`` rows);
4. hyperparameters of every strategy from the i.i.d. optimiser (:func:`replica.recommend`);
   with the Sigma theory each strategy is re-evaluated there (Monte Carlo error bars) and the
   restricted strategy (``dlam0`` or ``kappa0``) with the lower predicted error is recommended.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DesignReport", "load_design_file", "prepare_design", "select_for_design"]

WHITE_EDGE_FACTOR = 1.25
WHITE_PARTICIPATION = 0.5


def load_design_file(path, scenario=None) -> np.ndarray:
    """Read a design matrix from ``.npy`` or ``.csv`` and check it against the scenario.

    Raises ``ValueError`` naming the problem: unreadable file, not 2-D, non-finite entries,
    fewer than 2 rows or columns, or ``round(alphas[0] * N) != M`` (shape vs scenario).
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"design: file not found: {path}")
    suffix = path.suffix.lower()
    if path.is_dir():
        raise ValueError(f"design: {path.name}: expected a .npy or .csv file, got a directory")
    try:
        if suffix == ".npy":
            A = np.load(path, allow_pickle=False)
        elif suffix in (".csv", ".txt"):
            with warnings.catch_warnings():  # an empty file: reported below by its shape
                warnings.simplefilter("ignore", UserWarning)
                try:
                    A = np.loadtxt(path, delimiter=",", ndmin=2)
                except ValueError:
                    A = np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)
        else:
            raise ValueError(f"design: {path.name}: expected a .npy or .csv file")
    except (OSError, ValueError, EOFError) as err:
        if str(err).startswith("design:"):
            raise
        raise ValueError(f"design: cannot read {path.name} ({err})") from err
    if not isinstance(A, np.ndarray) or A.dtype.kind not in "biuf":
        raise ValueError(f"design: {path.name} holds {getattr(A, 'dtype', type(A))} entries; "
                         "expected real numbers")
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] < 2 or A.shape[1] < 2:
        raise ValueError(f"design: {path.name} has shape {A.shape}; expected a 2-D matrix "
                         "(rows = samples, columns = features) with >= 2 of each")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"design: {path.name} contains {int((~np.isfinite(A)).sum())} NaN or "
                         "infinite entries")
    if scenario is not None:
        check_shape(A.shape, scenario, path.name)
    return A


def check_shape(shape, scenario, name="design") -> None:
    """``round(alphas[0] N)`` must equal the number of rows M."""
    M, N = shape
    want = int(round(scenario.alphas[0] * N))
    if want != M:
        raise ValueError(
            f"design: {name} has shape (M, N) = ({M}, {N}), i.e. alphas[0] = M/N = {M / N:.4g}, "
            f"but the scenario has alphas[0] = {scenario.alphas[0]:.4g} ({want} rows at N = {N}); "
            f"pass --alphas {M / N:.6g},... to match the file")


@dataclass(frozen=True)
class DesignReport:
    """What the preparation found and which theory it chose (and why)."""

    n_rows: int
    n_features: int
    dropped_constant: tuple
    dropped_heavy: tuple
    kurtosis_max: float | None
    top_eigenvalue: float
    mp_edge: float
    participation_ratio: float
    theory: str
    reason: str
    table: pd.DataFrame | None = field(default=None, repr=False)
    recommendation: str | None = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "table"}


def prepare_design(A: np.ndarray, kurtosis_max: float | None = 10.0):
    """Drop constant / heavy-tailed columns, normalise to variance 1/N, choose the theory.

    Returns ``(A_normalised, sigma_design or None, DesignReport)``.
    """
    from replica.design import CovarianceDesign, column_kurtosis

    M, N0 = A.shape
    sd = A.std(axis=0)
    const = np.flatnonzero(sd <= 1e-12 * max(1.0, float(np.abs(A).max())))
    keep = np.setdiff1d(np.arange(N0), const)
    heavy = np.array([], dtype=int)
    if kurtosis_max is not None:
        if isinstance(kurtosis_max, bool) or not isinstance(kurtosis_max, int | float) or not (
                3.0 <= kurtosis_max < float("inf")):
            raise ValueError(f"kurtosis_max = {kurtosis_max}: must be >= 3 (Gaussian value)")
        k = column_kurtosis(A[:, keep])
        heavy = keep[k > kurtosis_max]
        keep = keep[k <= kurtosis_max]
    if keep.size < 2:
        raise ValueError(f"design: only {keep.size} usable columns left after dropping "
                         f"{const.size} constant and {heavy.size} heavy-tailed ones")
    X = A[:, keep]
    N = keep.size
    Z = (X - X.mean(0)) / X.std(0)
    An = Z / math.sqrt(N)
    C = Z.T @ Z / M
    ev = np.linalg.eigvalsh(C)
    top = float(ev[-1])
    edge = (1 + math.sqrt(N / M)) ** 2
    pr = float(ev.sum() ** 2 / (N * np.sum(ev**2)))
    white = top <= WHITE_EDGE_FACTOR * edge and pr >= WHITE_PARTICIPATION
    if white:
        theory, reason, sig = "iid", (
            f"the column correlation looks white: top eigenvalue {top:.3g} within "
            f"{WHITE_EDGE_FACTOR:g}x of the Marchenko-Pastur edge {edge:.3g}, participation "
            f"ratio {pr:.2f}"), None
    else:
        if M < 2 * N:
            from sklearn.covariance import LedoitWolf

            S = LedoitWolf().fit(Z).covariance_
            d = np.sqrt(np.diag(S))
            S = S / np.outer(d, d)
            how = f"Ledoit-Wolf shrinkage ({M} rows < 2N = {2 * N})"
        else:
            S, how = C, f"sample correlation of {M} rows"
        sig = CovarianceDesign(0.5 * (S + S.T), name="design covariance")
        theory, reason = "sigma", (
            f"the columns are correlated (top eigenvalue {top:.3g} vs Marchenko-Pastur edge "
            f"{edge:.3g}, participation ratio {pr:.2f}): Sigma theory with the {how}")
    rep = DesignReport(M, N, tuple(int(i) for i in const), tuple(int(i) for i in heavy),
                       kurtosis_max, top, edge, pr, theory, reason)
    return An, sig, rep


def _reemit_others(caught, category) -> int:
    """Re-emit recorded warnings other than ``category``; return how many were ``category``."""
    n = 0
    for w in caught:
        if issubclass(w.category, category):
            n += 1
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return n


def select_for_design(A: np.ndarray, scenario, lam1="target", *, kurtosis_max=10.0,
                      n_grid: int = 7, mc_replicates: int = 4, seed: int = 0) -> DesignReport:
    """Strategy table and recommendation for the design ``A`` (see the module docstring)."""
    import dataclasses

    import replica as rp
    from replica.covariance import MonteCarlo, solve_covariance

    for name, v, low in (("mc_replicates", mc_replicates, 2), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
            raise ValueError(f"{name} = {v!r}: must be an integer >= {low}")
    if not (isinstance(lam1, str) and lam1 in ("target", "pooled")) and (
            isinstance(lam1, bool) or not isinstance(lam1, numbers.Real)
            or not 0 < lam1 < math.inf):
        raise ValueError(f"lam1 = {lam1!r}: 'target', 'pooled' or a positive finite number")
    check_shape(A.shape, scenario)
    An, sig, rep = prepare_design(A, kurtosis_max)
    if rep.n_features != A.shape[1]:  # alpha_0 = M / N changes with the dropped columns
        alphas = (rep.n_rows / rep.n_features,) + tuple(scenario.alphas[1:])
        scenario = scenario.replace(alphas=alphas)
    if lam1 in ("target", "pooled"):
        lam1 = rp.choose_lam1(scenario, lam1).lam1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", rp.ConvergenceWarning)
        rec = rp.recommend(scenario, lam1=float(lam1), n_grid=n_grid)
    n_warn = _reemit_others(caught, rp.ConvergenceWarning)
    tab = rec.table.copy()
    tab = tab.rename(columns={"eps2": "iid_eps2", "mse2": "iid_mse2"})
    pick = rec.strategy
    if rep.theory == "sigma":
        vals, errs, conv = [], [], []
        for _, r in tab.iterrows():
            h = rp.TransLassoHyper(r["lam1"], r["lam2"], r["kappa"], r["dlam"])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", rp.ConvergenceWarning)
                res = solve_covariance(scenario, sig, h, mc=MonteCarlo(None, mc_replicates, seed))
            n_warn += _reemit_others(caught, rp.ConvergenceWarning)
            vals.append(res.eps2)
            errs.append(res.eps2_se)
            conv.append(bool(res.converged))
        tab["sigma_eps2"], tab["sigma_eps2_se"], tab["sigma_converged"] = vals, errs, conv
        s = tab.set_index("strategy")["sigma_eps2"]
        pick = "dlam0" if s["dlam0"] <= s["kappa0"] else "kappa0"
    if n_warn:  # counted per solve, reported once (never swallowed)
        warnings.warn(f"select --design: {n_warn} theory solves did not converge (see the "
                      "table's converged columns)", rp.ConvergenceWarning, stacklevel=2)
    row = tab.set_index("strategy").loc[pick]
    text = (f"use strategy {pick} (lam1={row['lam1']:.4g}, lam2={row['lam2']:.4g}, "
            f"kappa={row['kappa']:.4g}, dlam={row['dlam']:.4g}) -- theory: {rep.theory}")
    return dataclasses.replace(rep, table=tab, recommendation=text)
