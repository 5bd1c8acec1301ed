r"""Replica theory of the Generalized Trans-Lasso against finite-N simulations.

Finite instances are drawn from the scenario's own ensemble
(:meth:`replica.TransferScenario.sample`: :math:`A^{(k)}_{\mu i}\sim\mathcal N(0,1/N)`, true
vectors i.i.d. from the prior), fitted with :class:`lasso.GeneralizedTransLasso`, and the
empirical order parameters are compared with the saddle point of
:func:`replica.solve_trans_lasso` (Okajima & Obuchi 2024,
arXiv:2409.17704; ``docs/translasso_theory.md``).

Empirical observables of one fit (``x1`` = stage-1 vector, ``x2`` = stage-2 vector,
:math:`\hat x=\kappa x_1+x_2` the final estimate, ``r0`` the target's true vector):

============  ===================================  =========================================
observable    empirical                            theory
============  ===================================  =========================================
``mse1``      :math:`\|x_1-r_0\|^2/N`              :math:`\rho_0-2m_1^{(0)}+Q_1`
``mse2``      :math:`\|\hat x-r_0\|^2/N`            :math:`\varepsilon^{(2nd)}-\sigma_0^2`
``density1``  :math:`\|x_1\|_0/N`                   :math:`\hat Q_1\chi_1`
``density2``  :math:`\|x_2\|_0/N`                   :math:`\hat Q_2\chi_2`
``Q1``        :math:`\|x_1\|^2/N`                   :math:`Q_1`
``m1``        :math:`x_1\cdot r_0/N`                :math:`m_1^{(0)}`
``Q2``        :math:`\|x_2\|^2/N`                   :math:`Q_2`
``m2``        :math:`x_2\cdot r_0/N`                :math:`m_2`
``R``         :math:`x_1\cdot x_2/N`                :math:`R`
============  ===================================  =========================================

Every (setting, N, seed) fit is one task of :func:`validation.runner.run_grid`, so the
simulations run in local processes or on a Dask cluster and are cached on disk.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

import lasso
import replica
from validation.errors import count_convergence_warnings, warn_unconverged
from validation.runner import run_grid

__all__ = [
    "OBSERVABLES",
    "Setting",
    "compare_settings",
    "compare_trans_lasso",
    "control_means",
    "empirical_observables",
    "finite_size_scaling",
    "fit_inverse_n",
    "simulate_trans_lasso",
    "summarize_runs",
    "theory_observables",
    "theory_sensitivities",
]

OBSERVABLES = ("mse1", "mse2", "density1", "density2", "Q1", "m1", "Q2", "m2", "R")


class Setting:
    """A named (scenario, hyperparameters) pair of a comparison.

    Parameters
    ----------
    name : str
        Label of the setting (a column of the comparison tables).
    scenario : replica.TransferScenario
    hyper : replica.TransLassoHyper
    tags : mapping, optional
        Extra descriptive columns (e.g. ``{"case": "trans_lasso", "K": 2}``).
    """

    def __init__(self, name: str, scenario: replica.TransferScenario,
                 hyper: replica.TransLassoHyper, tags: Mapping[str, Any] | None = None):
        if not isinstance(name, str) or not name:
            raise ValueError(f"name = {name!r}: must be a non-empty string")
        if not isinstance(scenario, replica.TransferScenario):
            raise ValueError(f"scenario: expected a replica.TransferScenario, got "
                             f"{type(scenario).__name__}")
        if not isinstance(hyper, replica.TransLassoHyper):
            raise ValueError(f"hyper: expected a replica.TransLassoHyper, got "
                             f"{type(hyper).__name__}")
        self.name = name
        self.scenario = scenario
        self.hyper = hyper
        self.tags = dict(tags or {})

    def __repr__(self) -> str:
        return f"Setting({self.name!r}, K={self.scenario.n_datasets}, {self.hyper})"


# ------------------------------------------------------------------------------------------
# empirical and theoretical observables
# ------------------------------------------------------------------------------------------


def empirical_observables(x1: np.ndarray, x2: np.ndarray, kappa: float,
                          r0: np.ndarray) -> dict[str, float]:
    r"""Empirical order parameters of one fit (see the module docstring).

    Parameters
    ----------
    x1, x2 : ndarray (N,)
        Stage-1 and stage-2 vectors; the estimate is :math:`\kappa x_1+x_2`.
    kappa : float
    r0 : ndarray (N,)
        True target vector.
    """
    x1 = np.asarray(x1, dtype=float)
    x2 = np.asarray(x2, dtype=float)
    r0 = np.asarray(r0, dtype=float)
    if not (x1.shape == x2.shape == r0.shape) or x1.ndim != 1:
        raise ValueError(f"x1, x2, r0: expected equal 1-D shapes, got {x1.shape}, {x2.shape}, "
                         f"{r0.shape}")
    n = x1.size
    xhat = kappa * x1 + x2
    return {
        "mse1": float(np.sum((x1 - r0) ** 2) / n),
        "mse2": float(np.sum((xhat - r0) ** 2) / n),
        "density1": float(np.count_nonzero(x1) / n),
        "density2": float(np.count_nonzero(x2) / n),
        "Q1": float(x1 @ x1 / n),
        "m1": float(x1 @ r0 / n),
        "Q2": float(x2 @ x2 / n),
        "m2": float(x2 @ r0 / n),
        "R": float(x1 @ x2 / n),
    }


def theory_observables(scenario: replica.TransferScenario, hyper: replica.TransLassoHyper,
                       *, tol: float = 1e-12, strict: bool = True) -> dict[str, float]:
    """Replica predictions of :data:`OBSERVABLES` (plus ``eps1``, ``eps2``).

    Solved with :func:`replica.solve_trans_lasso`; ``strict=True`` raises
    :class:`replica.ConvergenceError` rather than comparing with an unconverged fixed point.
    """
    res = replica.solve_trans_lasso(scenario, hyper, tol=tol, strict=strict)
    return {
        "mse1": res.mse1, "mse2": res.mse2, "density1": res.density1,
        "density2": res.density2, "Q1": res.Q1, "m1": float(res.m1[0]), "Q2": res.Q2,
        "m2": res.m2, "R": res.R, "eps1": res.eps1, "eps2": res.eps2,
    }


def simulate_trans_lasso(scenario: dict, hyper: dict, N: int, seed: int, solver: str = "fast",
                         tol: float = 1e-12, max_iter: int = 100_000, stream: int = 0) -> dict:
    r"""One finite-N fit (a :func:`~validation.runner.run_grid` task).

    Draws an instance with ``scenario.sample(N, numpy.random.default_rng([seed, N, stream]))``
    (different N or streams give independent draws), fits the Generalized Trans-Lasso with
    the given hyperparameters, and returns the empirical observables, the realised noise and
    signal powers of every dataset (``noise<k>`` :math:`=\|y^{(k)}-A^{(k)}r^{(k)}\|^2/M_k`,
    exact mean :math:`\sigma_k^2`; ``signal<k>`` :math:`=\|r^{(k)}\|^2/N`, exact mean
    :math:`\rho_k`; the control variates of :func:`summarize_runs`) and the convergence flags:
    ``converged`` (both stages converged and no ``ConvergenceWarning`` was raised) and
    ``n_convergence_warnings`` (the solver's warnings, counted here because a worker process
    cannot pass them on; :func:`compare_settings` re-emits them).

    Parameters
    ----------
    scenario : dict
        :meth:`replica.TransferScenario.to_dict` (JSON-like, for the cache key).
    hyper : dict
        :meth:`replica.TransLassoHyper.to_dict`.
    N : int
        Number of features.
    seed : int
    solver : {"fast", "cvxpy"}
    tol, max_iter
        Solver tolerance (duality gap relative to :math:`\|b\|^2`, per stage) and epochs;
        the default is tight so that the stage-1 support is exact.
    stream : int
        Extra entropy of the random stream (settings with different streams get
        independent instances; equal streams give common random numbers).
    """
    sc = replica.TransferScenario.from_dict(scenario)
    hy = replica.TransLassoHyper(**hyper)
    n = int(N)
    sample = sc.sample(n, np.random.default_rng([int(seed), n, int(stream)]))
    est = lasso.GeneralizedTransLasso(
        hy.lam1, hy.lam2, hy.kappa, hy.dlam, solver=solver, tol=tol, max_iter=max_iter)
    est, n_warn = count_convergence_warnings(est.fit, sample.target, sample.sources)
    row = empirical_observables(est.coef_stage1_, est.coef_stage2_, hy.kappa, sample.truth[0])
    for k, (A, y) in enumerate(zip(sample.designs, sample.responses, strict=True)):
        e = y - A @ sample.truth[k]
        row[f"noise{k}"] = float(e @ e / e.size)
        row[f"signal{k}"] = float(sample.truth[k] @ sample.truth[k] / n)
    row["converged"] = bool(est.fit_.converged) and n_warn == 0
    row["n_convergence_warnings"] = int(n_warn)
    row["rel_gap1"] = float(est.fit_.stage1.relative_gap)
    row["rel_gap2"] = float(est.fit_.stage2.relative_gap)
    return row


simulate_trans_lasso.cache_version = 3


# ------------------------------------------------------------------------------------------
# statistics
# ------------------------------------------------------------------------------------------


def _scaled_prior(prior: replica.GaussianMixturePrior, k: int,
                  c: float) -> replica.GaussianMixturePrior:
    r"""Prior of :math:`(r^{(0)},\dots,c\,r^{(k)},\dots)`."""
    d = np.ones(prior.n_datasets)
    d[k] = c
    return replica.GaussianMixturePrior(prior.weights, prior.means * d,
                                        prior.covs * np.outer(d, d))


def theory_sensitivities(scenario: replica.TransferScenario, hyper: replica.TransLassoHyper,
                         observables: Sequence[str] = OBSERVABLES, *, h: float = 1e-3,
                         tol: float = 1e-12) -> dict[str, dict[str, float]]:
    r"""Derivatives of the predictions with respect to the noise and signal powers (derived).

    For every dataset k, ``noise<k>``: :math:`\partial O/\partial\sigma_k^2`; ``signal<k>``:
    :math:`\partial O/\partial\rho_k` along a uniform rescaling :math:`r^{(k)}\to c\,r^{(k)}`
    (:math:`\rho_k\to c^2\rho_k`). Central finite differences with relative step ``h``.
    Datasets with :math:`\sigma_k=0` (or :math:`\rho_k=0`) get no noise (signal) entry.

    Returns
    -------
    dict
        ``{observable: {control: derivative}}``.
    """
    out: dict[str, dict[str, float]] = {o: {} for o in observables}
    rho = scenario.prior.second_moments
    for k in range(scenario.n_datasets):
        s2 = scenario.sigmas[k] ** 2
        if s2 > 0:
            vals = []
            for sign in (-1.0, 1.0):
                sig = list(scenario.sigmas)
                sig[k] = math.sqrt(s2 * (1.0 + sign * h))
                vals.append(theory_observables(scenario.replace(sigmas=tuple(sig)), hyper,
                                               tol=tol))
            for o in observables:
                out[o][f"noise{k}"] = (vals[1][o] - vals[0][o]) / (2.0 * h * s2)
        if rho[k] > 0:
            vals = []
            for sign in (-1.0, 1.0):
                c = math.sqrt(1.0 + sign * h)  # rho_k -> (1 +- h) rho_k
                vals.append(theory_observables(
                    scenario.replace(prior=_scaled_prior(scenario.prior, k, c)), hyper, tol=tol))
            for o in observables:
                out[o][f"signal{k}"] = (vals[1][o] - vals[0][o]) / (2.0 * h * rho[k])
    return out


def control_means(scenario: replica.TransferScenario) -> dict[str, float]:
    """Exact expectations of the control variates ``noise<k>`` and ``signal<k>``."""
    out = {}
    for k in range(scenario.n_datasets):
        out[f"noise{k}"] = scenario.sigmas[k] ** 2
        out[f"signal{k}"] = float(scenario.prior.second_moments[k])
    return out


def summarize_runs(runs: pd.DataFrame, theory: Mapping[str, float],
                   observables: Sequence[str] = OBSERVABLES,
                   sensitivities: Mapping[str, Mapping[str, float]] | None = None,
                   means: Mapping[str, float] | None = None) -> pd.DataFrame:
    r"""Tidy comparison of per-seed runs with the theory.

    Returns one row per observable with ``theory``, ``empirical`` (mean over seeds), ``se``
    (standard error, :math:`s/\sqrt n` with the ``ddof=1`` standard deviation), ``z``
    :math:`=(\text{empirical}-\text{theory})/\text{se}`, ``rel_error``
    :math:`=(\text{empirical}-\text{theory})/|\text{theory}|` and ``n_seeds``.

    With ``sensitivities`` and ``means`` (see :func:`theory_sensitivities`,
    :func:`control_means`) the same four statistics are also given for the control-variate
    estimator (columns ``empirical_adj, se_adj, z_adj, rel_error_adj``): every per-seed value
    :math:`O_s` is replaced by

    .. math:: O_s-\sum_j g_j\,(c_{j,s}-\mathbb E\,c_j),

    with the realised noise and signal powers :math:`c_{j,s}` (``noise<k>``, ``signal<k>``
    columns of ``runs``), their exact expectations :math:`\mathbb E\,c_j` and fixed
    coefficients :math:`g_j=\partial O/\partial\,\mathbb E c_j` from the theory. Since the
    correction has mean exactly zero whatever the coefficients, the adjusted mean estimates
    the same :math:`\mathbb E\,O` without bias. It is a secondary diagnostic, not a
    variance-reduction guarantee: the coefficients are derivatives along a change of the
    *expected* powers (for the signal, a uniform rescaling :math:`r^{(k)}\to c\,r^{(k)}`),
    which need not be the regression slope of :math:`O_s` on the realised powers. For a
    point-mass prior, for instance, :math:`\|r^{(k)}\|^2/N` fluctuates through the number of
    non-zeros, not through their scale, and the correction can add scatter. Measured
    (``validation/experiments/translasso_validate.py``, ``mse2``, 10 seeds, N = 2000; the
    ratio itself is a noisy estimate): :math:`(\mathrm{se_{adj}}/\mathrm{se})^2` from 0.28
    to 1.64, median 0.78, above 1 in 1 of 17 settings; in the quick preset (N = 1000,
    6 seeds) above 1 in 5 of 17.
    """
    rows = []
    for obs in observables:
        vals = runs[obs].to_numpy(dtype=float)
        th = float(theory[obs])
        row = {"observable": obs, "theory": th}
        row.update(_stats(vals, th))
        if sensitivities is not None and means is not None:
            adj = vals.copy()
            for ctrl, g in sensitivities.get(obs, {}).items():
                if ctrl in runs.columns and ctrl in means:
                    adj = adj - g * (runs[ctrl].to_numpy(dtype=float) - means[ctrl])
            row.update({f"{k}_adj": v for k, v in _stats(adj, th).items()})
        row["n_seeds"] = int(vals.size)
        rows.append(row)
    df = pd.DataFrame(rows)
    return df


def _stats(vals: np.ndarray, th: float) -> dict[str, float]:
    n = vals.size
    mean = float(np.mean(vals)) if n else math.nan
    se = float(np.std(vals, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    diff = mean - th
    if n < 2:
        z = math.nan
    elif se > 0:
        z = diff / se
    else:
        z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
    rel = diff / abs(th) if th != 0 else (0.0 if diff == 0 else math.inf)
    return {"empirical": mean, "se": se, "z": z, "rel_error": rel}


def compare_settings(
    settings: Sequence[Setting],
    N: int | Sequence[int],
    seeds: Sequence[int],
    solver: str = "fast",
    *,
    tol: float = 1e-12,
    max_iter: int = 100_000,
    n_jobs: int = -1,
    scheduler: Any = None,
    cache_dir: Any = None,
    progress: bool = True,
    observables: Sequence[str] = OBSERVABLES,
    theory_tol: float = 1e-12,
    paired: bool = False,
    control_variates: bool = True,
) -> pd.DataFrame:
    """Theory vs simulation for several settings and sizes in one sweep.

    All (setting, N, seed) fits form one :func:`~validation.runner.run_grid` call (local
    processes, a Dask cluster with ``scheduler``, disk cache with ``cache_dir``).

    Parameters
    ----------
    settings : sequence of Setting
        Names must be unique.
    N : int or sequence of int
        Problem size(s).
    seeds : sequence of int
    solver, tol, max_iter
        Passed to :func:`simulate_trans_lasso`.
    n_jobs, scheduler, cache_dir, progress
        Passed to :func:`~validation.runner.run_grid`.
    observables : sequence of str
        Subset of :data:`OBSERVABLES`.
    theory_tol : float
        Saddle-point tolerance.
    paired : bool
        ``False`` (default): every setting draws its own instances (random stream keyed by
        the setting's name), so the settings are statistically independent. ``True``: every
        setting draws from one shared stream for a given (N, seed) (common random numbers):
        settings with the same scenario see identical instances (paired comparisons of
        hyperparameters), and settings with *different* scenarios share the underlying
        random numbers too, so their instances are correlated (e.g. two scenarios that
        differ only in ``sigmas`` get the same standard-normal noise, scaled), and their rows
        are not statistically independent. Use ``paired=False`` when rows of different
        scenarios are to be treated as independent tests.
    control_variates : bool
        Also report the control-variate estimator of :func:`summarize_runs`
        (``*_adj`` columns).

    Returns
    -------
    pandas.DataFrame
        One row per (setting, N, observable): ``setting``, the setting's tags, ``N``,
        ``observable``, ``theory``, ``empirical``, ``se``, ``z``, ``rel_error`` (and
        ``empirical_adj, se_adj, z_adj, rel_error_adj``), ``n_seeds``, ``converged``
        (fraction of fits whose both stages converged), ``n_unconverged`` (their number).
        ``attrs``: ``runs`` (one row per fit), ``theory``, ``n_tasks``, ``n_computed``,
        ``n_cached``.
    """
    settings = list(settings)
    names = [s.name for s in settings]
    if len(set(names)) != len(names):
        raise ValueError(f"settings: names must be unique, got {names}")
    unknown = [o for o in observables if o not in OBSERVABLES]
    if unknown:
        raise ValueError(f"observables: unknown {unknown}; choose from {OBSERVABLES}")
    Ns = _check_sizes(N)
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError(f"seeds = {seeds}: need at least two seeds for a standard error")
    _check_fit_options(solver, tol, max_iter)
    runner = {"n_jobs": n_jobs, "scheduler": scheduler, "cache_dir": cache_dir,
              "progress": progress}
    params = [
        {"setting": s.name, "scenario": s.scenario.to_dict(), "hyper": s.hyper.to_dict(),
         "N": n, "solver": solver, "tol": float(tol), "max_iter": int(max_iter),
         "stream": 0 if paired else zlib.crc32(s.name.encode("utf-8"))}
        for s in settings for n in Ns
    ]
    runs = run_grid(_task, params, seeds, desc="trans-lasso fits", **runner)
    attrs = dict(runs.attrs)
    runs = runs.drop(columns=["scenario", "hyper", "solver", "tol", "max_iter"])
    warn_unconverged(runs, "Trans-Lasso fits", stacklevel=3)
    theory = _theory_sweep(settings, observables, theory_tol, control_variates, runner)
    df = pd.concat([_setting_rows(s, n, runs, theory[s.name], observables)
                    for s in settings for n in Ns], ignore_index=True)
    runs.attrs = {}
    df.attrs.update(attrs)
    df.attrs["runs"] = runs
    df.attrs["theory"] = {name: t["theory"] for name, t in theory.items()}
    return df


def _setting_rows(s: Setting, n: int, runs: pd.DataFrame, theory: dict,
                  observables: Sequence[str]) -> pd.DataFrame:
    """Comparison rows of one (setting, N): :func:`summarize_runs` plus tags and convergence."""
    sub = runs[(runs["setting"] == s.name) & (runs["N"] == n)]
    tab = summarize_runs(sub, theory["theory"], observables, theory["sensitivities"],
                         theory["means"])
    tab.insert(0, "N", n)
    for i, (k, v) in enumerate(s.tags.items()):
        tab.insert(1 + i, k, v)
    tab.insert(0, "setting", s.name)
    tab["converged"] = float(sub["converged"].mean())
    tab["n_unconverged"] = int((~sub["converged"].astype(bool)).sum())
    return tab


def _theory_sweep(settings, observables, theory_tol, control_variates, runner) -> dict:
    """Saddle points (and control-variate sensitivities) of every setting, one run_grid call."""
    params = [{"setting": s.name, "scenario": s.scenario.to_dict(), "hyper": s.hyper.to_dict(),
               "observables": list(observables), "theory_tol": float(theory_tol),
               "control_variates": bool(control_variates)} for s in settings]
    df = run_grid(theory_task, params, desc="replica theory", **runner)
    return {r["setting"]: {"theory": r["theory"], "sensitivities": r["sensitivities"],
                           "means": r["means"]} for _, r in df.iterrows()}


def theory_task(setting: str, scenario: dict, hyper: dict, observables: list,
                theory_tol: float, control_variates: bool) -> dict:
    """run_grid task: :func:`theory_observables` (and :func:`theory_sensitivities`,
    :func:`control_means`) of one setting, as one row of dicts."""
    sc = replica.TransferScenario.from_dict(scenario)
    hy = replica.TransLassoHyper(**hyper)
    sens = means = None
    if control_variates:
        sens = theory_sensitivities(sc, hy, observables, tol=theory_tol)
        means = control_means(sc)
    return {"theory": theory_observables(sc, hy, tol=theory_tol), "sensitivities": sens,
            "means": means}


theory_task.cache_version = 1


def _check_sizes(N) -> list[int]:
    """``N`` (an int or a sequence of ints) as a list of sizes >= 2, or a ValueError."""
    vals = [N] if np.ndim(N) == 0 else list(np.ravel(N))
    out = []
    for n in vals:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer, float)) \
                or not math.isfinite(n) or int(n) != n or n < 2:
            raise ValueError(f"N = {n!r}: problem size must be an integer >= 2")
        out.append(int(n))
    return out


def _check_fit_options(solver, tol, max_iter) -> None:
    if solver not in ("fast", "cvxpy"):
        raise ValueError(f"solver = {solver!r}: must be 'fast' or 'cvxpy'")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < 1:
        raise ValueError(f"tol = {tol!r}: relative duality-gap tolerance must lie in (0, 1)")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) \
            or max_iter < 1:
        raise ValueError(f"max_iter = {max_iter!r}: must be a positive integer")


def _task(setting: str, scenario: dict, hyper: dict, N: int, seed: int, solver: str,
          tol: float, max_iter: int, stream: int) -> dict:
    """run_grid task: :func:`simulate_trans_lasso` with a setting label."""
    return simulate_trans_lasso(scenario, hyper, N, seed, solver=solver, tol=tol,
                                max_iter=max_iter, stream=stream)


_task.cache_version = simulate_trans_lasso.cache_version


def compare_trans_lasso(
    scenario: replica.TransferScenario,
    hyper: replica.TransLassoHyper,
    N: int,
    seeds: Sequence[int],
    solver: str = "fast",
    *,
    tol: float = 1e-12,
    max_iter: int = 100_000,
    n_jobs: int = -1,
    scheduler: Any = None,
    cache_dir: Any = None,
    progress: bool = True,
    observables: Sequence[str] = OBSERVABLES,
    control_variates: bool = True,
) -> pd.DataFrame:
    r"""Replica prediction vs finite-N Generalized Trans-Lasso fits for one setting.

    Samples ``len(seeds)`` instances of size ``N`` from the scenario, fits them with
    :class:`lasso.GeneralizedTransLasso` (``solver``, relative duality-gap tolerance ``tol``
    per stage), and compares the mean of each observable with the saddle point of
    :func:`replica.solve_trans_lasso` (``docs/translasso_theory.md``, section 10).

    Parameters
    ----------
    scenario : replica.TransferScenario
    hyper : replica.TransLassoHyper
    N : int
    seeds : sequence of int
        At least two.
    solver : {"fast", "cvxpy"}
    tol : float
    max_iter : int
        Solver epochs per stage; fits that run out are counted in ``n_unconverged`` and
        reported with a :class:`validation.errors.ConvergenceWarning`.
    n_jobs : int
        Local processes (``-1``: all cores, ``1``: inline).
    scheduler : str or distributed.Client, optional
        Dask scheduler; overrides ``n_jobs``.
    cache_dir : path, optional
        Disk cache of the fits (re-runs only compute missing seeds).
    progress : bool
    observables : sequence of str
        Subset of :data:`OBSERVABLES` (default: all).
    control_variates : bool
        Add the control-variate columns ``empirical_adj, se_adj, z_adj, rel_error_adj``
        (:func:`summarize_runs`).

    Returns
    -------
    pandas.DataFrame
        One row per observable: ``observable, theory, empirical, se, z, rel_error``
        (``*_adj``), ``n_seeds, N, converged, n_unconverged``. ``attrs``: ``runs`` (per-seed table),
        ``n_tasks``, ``n_computed``, ``n_cached``.

    Examples
    --------
    >>> prior = replica.support_prior(0.15, [0.05, 0.05], corr=0.8)       # doctest: +SKIP
    >>> sc = replica.TransferScenario((1.0, 2.0), (0.5, 0.5), prior)        # doctest: +SKIP
    >>> hy = replica.TransLassoHyper(lam1=0.3, lam2=0.2, kappa=0.5, dlam=0.5)  # doctest: +SKIP
    >>> compare_trans_lasso(sc, hy, N=2000, seeds=range(10))                 # doctest: +SKIP
    """
    df = compare_settings([Setting("setting", scenario, hyper)], N, seeds, solver, tol=tol,
                          max_iter=max_iter, n_jobs=n_jobs, scheduler=scheduler,
                          cache_dir=cache_dir,
                          progress=progress, observables=observables,
                          control_variates=control_variates)
    out = df.drop(columns=["setting"])
    cols = ["observable", "theory", "empirical", "se", "z", "rel_error"]
    if control_variates:
        cols += ["empirical_adj", "se_adj", "z_adj", "rel_error_adj"]
    cols += ["n_seeds", "N", "converged", "n_unconverged"]
    out = out[cols].reset_index(drop=True)
    out.attrs.update(df.attrs)
    return out


# ------------------------------------------------------------------------------------------
# finite-size scaling
# ------------------------------------------------------------------------------------------


def fit_inverse_n(Ns: Sequence[float], values: Sequence[float],
                  ses: Sequence[float]) -> dict[str, float]:
    r"""Weighted least-squares fit :math:`y(N)=a+b/N` (derived).

    Weights :math:`1/\mathrm{se}_i^2`. The parameter covariance is
    :math:`(X^\top WX)^{-1}`, inflated by :math:`\max(1,\chi^2/\nu)` (:math:`\nu=n-2`) when the
    points scatter more than their error bars allow, so that the uncertainty of the
    extrapolated value :math:`a=y(\infty)` is never smaller than the data support.

    Returns
    -------
    dict
        ``a, a_se, b, b_se, chi2, dof``.
    """
    x = 1.0 / np.asarray(Ns, dtype=float)
    y = np.asarray(values, dtype=float)
    s = np.asarray(ses, dtype=float)
    if not (x.size == y.size == s.size) or x.size < 2:
        raise ValueError("fit_inverse_n: need at least two (N, value, se) triples of equal length")
    if np.unique(x).size < 2:
        raise ValueError("fit_inverse_n: need at least two distinct N")
    if np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"ses = {s.tolist()}: standard errors must be positive and finite")
    w = 1.0 / s**2
    X = np.column_stack([np.ones_like(x), x])
    XtW = X.T * w
    cov = np.linalg.inv(XtW @ X)
    coef = cov @ (XtW @ y)
    resid = y - X @ coef
    chi2 = float(np.sum(w * resid**2))
    dof = x.size - 2
    if dof > 0:
        cov = cov * max(1.0, chi2 / dof)
    return {"a": float(coef[0]), "a_se": float(math.sqrt(cov[0, 0])), "b": float(coef[1]),
            "b_se": float(math.sqrt(cov[1, 1])), "chi2": chi2, "dof": dof}


def finite_size_scaling(
    scenario: replica.TransferScenario,
    hyper: replica.TransLassoHyper,
    Ns: Sequence[int] = (500, 1000, 2000, 4000),
    seeds: Sequence[int] = tuple(range(10)),
    solver: str = "fast",
    *,
    tol: float = 1e-12,
    n_jobs: int = -1,
    scheduler: Any = None,
    cache_dir: Any = None,
    progress: bool = True,
    observables: Sequence[str] = OBSERVABLES,
    adjusted: bool = False,
) -> pd.DataFrame:
    r"""Extrapolate the simulations to :math:`N\to\infty` and compare with the theory.

    Runs :func:`compare_trans_lasso`'s fits at each ``N`` (all sizes in one sweep), fits
    :math:`a+b/N` to the seed means by weighted least squares (:func:`fit_inverse_n`) and
    compares the extrapolated value :math:`a` with the replica prediction:
    :math:`z=(a-\text{theory})/\mathrm{se}(a)`. With ``adjusted=True`` the fit uses the
    control-variate means (``empirical_adj``, ``se_adj`` of :func:`summarize_runs`).

    Returns
    -------
    pandas.DataFrame
        One row per observable: ``observable, theory, extrapolated, extrapolated_se, slope,
        slope_se, z, chi2, dof``. ``attrs["points"]``: the per-N comparison table (as in
        :func:`compare_trans_lasso`, with an ``N`` column); ``attrs["runs"]``: per-fit rows.
    """
    Ns = [int(n) for n in Ns]
    if len(set(Ns)) < 2:
        raise ValueError(f"Ns = {Ns}: need at least two distinct sizes")
    pts = compare_settings([Setting("setting", scenario, hyper)], Ns, seeds, solver, tol=tol,
                           n_jobs=n_jobs, scheduler=scheduler, cache_dir=cache_dir,
                           progress=progress, observables=observables,
                           control_variates=True)
    col, se_col = ("empirical_adj", "se_adj") if adjusted else ("empirical", "se")
    rows = []
    for obs in observables:
        sub = pts[pts["observable"] == obs].sort_values("N")
        th = float(sub["theory"].iloc[0])
        fit = fit_inverse_n(sub["N"], sub[col], sub[se_col])
        rows.append({"observable": obs, "theory": th, "extrapolated": fit["a"],
                     "extrapolated_se": fit["a_se"], "slope": fit["b"],
                     "slope_se": fit["b_se"], "z": (fit["a"] - th) / fit["a_se"],
                     "chi2": fit["chi2"], "dof": fit["dof"],
                     "estimator": "adjusted" if adjusted else "raw"})
    out = pd.DataFrame(rows)
    out.attrs.update({k: v for k, v in pts.attrs.items() if k != "theory"})
    out.attrs["points"] = pts.drop(columns=["setting"]).reset_index(drop=True)
    return out
