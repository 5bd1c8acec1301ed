r"""Generalized Trans-Lasso on real data: semi-artificial MNIST and IMDb (Okajima & Obuchi 2024).

The paper's protocols are not public; these are our reconstructions.

Semi-artificial MNIST (``part "mnist"``)
----------------------------------------
Design matrices are real images: scikit-learn's bundled 8x8 digits (N = 61 non-constant
pixels, 1797 images; the default, no download) or MNIST read from the IDX files in
``data_dir`` (N = 717 non-constant pixels, 60000 images), flattened, centred and scaled so
that every column has variance 1/N (:func:`validation.datasets.design_from_images`), the
normalisation of the replica theory. For every seed the target and source designs are
disjoint random sets of images (``round(alpha_k N)`` rows each), the true vectors are drawn
from a common/unique-support prior (:func:`replica.support_prior`), and
:math:`y^{(k)}=A^{(k)}r^{(k)}+\sigma_k\xi`. Each strategy (full search, dlam = 0, kappa = 0,
Trans-Lasso, Pretraining Lasso, target-only) is fitted at its replica-optimal
hyperparameters, on the image design and, as a control with the same truths and noise, on an
i.i.d. Gaussian design of the same shape. The replica theory assumes i.i.d. entries; pixel
columns are strongly correlated (the spectrum of the empirical column covariance is far from
Marchenko-Pastur; ``mnist_spectrum.csv``/``.png`` record it), so the theory is only an
approximation for the image design, while the Gaussian control measures the finite-N effect
alone.

Real designs (issue 13; ``TransLassoRealDataConfig.real_designs()``): besides the image and
i.i.d. designs, ``mnist_designs`` may add rotated images (rows times a Haar orthogonal
matrix: same spectrum, generic eigenvectors) and Gaussian rows with the pixel covariance;
``theories`` may add the two-stage Sigma theory (:func:`replica.solve_covariance`, with Monte
Carlo errors, columns ``sigma_mse2``, ``sigma_se``, ``z_sigma``, ``ratio_sigma``) and the
rotationally invariant theory of the target-only Lasso (``rotinv_mse2``); ``kurtosis_max``
drops heavy-tailed pixel columns and then also reruns all pixels for the before/after figure
``mnist_before_after.png`` (tables ``mnist_all_pixels*.csv``). See
``docs/translasso_real_designs.md``.

IMDb (``part "imdb"``)
----------------------
Reviews of aclImdb (``data_dir/aclImdb``; Maas et al. 2011), TF-IDF features
(:func:`validation.datasets.imdb_features`, fitted on the training reviews), response = the
review's rating (1-10; an intercept is fitted). Target task = reviews mentioning horror
keywords, source = all other reviews (:func:`validation.datasets.imdb_target_source_split`,
see its docstring for the choice): train split for fitting, the horror reviews of the test
split for the held-out target MSE. Hyperparameters of each strategy are chosen by 5-fold
cross-validation on the target training rows (:class:`lasso.cv.GeneralizedTransLassoCV`, one
grid read by every strategy); the final models are refitted on all training data.
Pretraining Lasso is not part of the CV grid (its (kappa, dlam) lie on a curve, not on the
grid), so it is absent from the IMDb table.

Outputs (:func:`run`): ``mnist.csv`` (theory vs image vs Gaussian design per scenario and
strategy), ``mnist_choice.csv`` (does the theory's better restricted strategy, dlam = 0 or
kappa = 0, also win on the images? paired difference over seeds), ``mnist_runs.csv``,
``mnist_spectrum.csv``, ``imdb.csv`` (strategy, CV MSE, chosen hyperparameters, held-out
MSE +- s.e., paired difference to the target-only Lasso),
``config.json``, figures ``mnist_strategies.png``, ``mnist_spectrum.png``, ``imdb.png``.

Running time (2 shared cores, measured): the MNIST part with the digits ~10 s (quick and
default); the IMDb part was only run on small fixtures here (no data in the development
environment), its cost is dominated by the stage-2 CV grid.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import lasso
import replica
from validation import datasets
from validation.errors import ConvergenceWarning as ConvergenceWarningReport
from validation.errors import count_convergence_warnings, warn_unconverged
from validation.experiments.translasso_validate import as_seeds
from validation.outputs import make_output_dir, save_results
from validation.runner import run_grid

__all__ = [
    "EXPERIMENT_NAME",
    "TransLassoRealDataConfig",
    "design_spectrum",
    "imdb_strategies",
    "mnist_seed",
    "run",
]

EXPERIMENT_NAME = "translasso-realdata"

_MNIST_STRATEGIES = ("full", "dlam0", "kappa0", "trans_lasso", "pretraining_lasso",
                     "target_lasso")
_IMDB_STRATEGIES = _MNIST_STRATEGIES
_MNIST_DESIGNS = ("images", "rotated", "gaussian_sigma", "gaussian")
_LABELS = {"full": "full search", "dlam0": "Δλ=0", "kappa0": "κ=0",
           "trans_lasso": "Trans-Lasso", "pretraining_lasso": "Pretraining Lasso",
           "target_lasso": "target-only", "mean": "mean rating", "pooled": "pooled Lasso"}


def _imdb_hint(data_dir) -> str:
    where = "DIR" if data_dir is None else str(data_dir)
    return (
        f"the IMDb part needs the Large Movie Review Dataset: download aclImdb_v1.tar.gz from "
        f"{datasets.IMDB_URL}, extract it with `tar -xzf aclImdb_v1.tar.gz -C {where}` so "
        f"that {where}/aclImdb/train/pos exists, and pass `--data-dir {where}` "
        f"(config field data_dir); or run only the MNIST part with parts=('mnist',)"
    )


@dataclass(frozen=True)
class TransLassoRealDataConfig:
    r"""Configuration of the real-data experiments.

    Attributes
    ----------
    parts : tuple of str
        ``"mnist"`` and/or ``"imdb"``.
    data_dir : str or None
        Folder with the data: ``aclImdb/`` for IMDb (required for ``"imdb"``) and optionally
        the MNIST IDX files (used instead of the digits when found and
        ``mnist_source="auto"``).
    mnist_source : {"auto", "digits", "mnist"}
    mnist_n_features : int or None
        Random subset of pixels of MNIST (``None``: all non-constant pixels).
    alphas, sigmas
        Sample ratios (target, source) and noise levels of the semi-artificial responses.
    mnist_scenarios : tuple of (name, pi_common, pi_unique, corr)
        Priors of the semi-artificial truths (scenarios A and B of ``docs/results.md`` by default).
    seeds : tuple of int
        Seeds of the semi-artificial repetitions (fresh rows, truths and noise per seed).
    lam1_rule : {"target", "pooled"}
    imdb_max_docs : int or None
        Training reviews read (``None``: all 25000).
    imdb_test_max_docs : int or None
        Test reviews read (``None``: all 25000).
    imdb_max_features : int
        TF-IDF vocabulary size.
    imdb_min_df : int
        Minimal document frequency of a term.
    imdb_n_source : int or None
        Random subset of the source reviews (``None``: all).
    cv : int
        Folds of the IMDb cross-validation.
    cv_n_lam2 : int
        Points of the lam2 grid of the CV.
    n_jobs, scheduler, cache_dir
        Sweep runner options (MNIST part); ``n_jobs`` also sets the CV threads.
    mnist_designs : tuple of str
        Designs fitted per seed (same truths and noise): ``"images"`` (image rows),
        ``"rotated"`` (image rows times a Haar orthogonal N x N matrix: same spectrum,
        generic eigenvectors), ``"gaussian_sigma"`` (Gaussian rows with the pixel
        covariance of the whole pool), ``"gaussian"`` (i.i.d. N(0, 1/N) control).
    theories : tuple of str
        ``"iid"`` (always; its optimal hyperparameters are the ones fitted), ``"sigma"``
        (two-stage Sigma theory, :func:`replica.covariance.solve_covariance`, at the same
        hyperparameters, with Monte Carlo errors), ``"rotinv"`` (target-only Lasso with the
        spectrum of each seed's target design, :mod:`replica.rotinv`).
    kurtosis_max : float or None
        Drop pixel columns whose standardised kurtosis over the pool exceeds this (docs
        ``translasso_real_designs.md`` section 5; 10 for the digits); ``None`` keeps all.
    sigma_replicates : int
        Monte Carlo replicates of the Sigma theory.
    replicate : int
        Replication factor r of the finite-size study (docs ``translasso_real_designs.md``
        section 6.2): every design gets N r columns made of r independent blocks of the N
        (filtered) pixels: image rows are r images drawn independently per block (block j of
        the target/source rows is a fresh random split of the pool), Gaussian-Sigma rows have
        covariance :math:`I_r\otimes\Sigma`, the i.i.d. control has N r columns. The Sigma
        theory is computed with :math:`\Sigma` itself: its effective problem splits into r
        identical blocks (:meth:`replica.CovarianceDesign.replicated`). Default 1; the
        before/after rerun on all pixels (``kurtosis_max``) is made at r = 1 only.
    """

    parts: tuple = ("mnist", "imdb")
    data_dir: str | None = None
    mnist_source: str = "auto"
    mnist_n_features: int | None = None
    alphas: tuple = (0.5, 4.0)
    sigmas: tuple = (0.1, 0.1)
    mnist_scenarios: tuple = (("A", 0.10, 0.02, 1.0), ("B", 0.06, 0.06, 1.0))
    seeds: tuple = tuple(range(200))
    lam1_rule: str = "target"
    imdb_max_docs: int | None = None
    imdb_test_max_docs: int | None = None
    imdb_max_features: int = 2000
    imdb_min_df: int = 5
    imdb_n_source: int | None = 8000
    cv: int = 5
    cv_n_lam2: int = 12
    n_jobs: int = -1
    scheduler: str | None = None
    cache_dir: str | None = None
    preset: str = "full"
    mnist_designs: tuple = ("images", "gaussian")
    theories: tuple = ("iid",)
    kurtosis_max: float | None = None
    sigma_replicates: int = 8
    replicate: int = 1

    def __post_init__(self) -> None:
        parts = tuple(self.parts)
        bad = [p for p in parts if p not in ("mnist", "imdb")]
        if not parts or bad or len(set(parts)) != len(parts):
            raise ValueError(f"parts = {self.parts!r}: choose a non-empty subset of "
                             "('mnist', 'imdb')")
        object.__setattr__(self, "parts", parts)
        if self.mnist_source not in ("auto", "digits", "mnist"):
            raise ValueError(f"mnist_source = {self.mnist_source!r}: must be 'auto', 'digits' "
                             "or 'mnist'")
        if self.mnist_source == "mnist" and self.data_dir is None:
            raise ValueError("mnist_source = 'mnist' needs data_dir (folder with the IDX files)")
        alphas = tuple(float(a) for a in self.alphas)
        sigmas = tuple(float(s) for s in self.sigmas)
        if len(alphas) != 2 or len(sigmas) != 2:
            raise ValueError(f"alphas = {self.alphas!r}, sigmas = {self.sigmas!r}: need two "
                             "values (target, source)")
        object.__setattr__(self, "alphas", alphas)
        object.__setattr__(self, "sigmas", sigmas)
        scen = []
        for i, sc in enumerate(self.mnist_scenarios):
            if len(sc) != 4:
                raise ValueError(f"mnist_scenarios[{i}] = {sc!r}: expected (name, pi_common, "
                                 "pi_unique, corr)")
            name, pc, pu, c = sc
            replica.support_prior(float(pc), [float(pu)] * 2, corr=float(c))  # validates
            scen.append((str(name), float(pc), float(pu), float(c)))
        if not scen or len({s[0] for s in scen}) != len(scen):
            raise ValueError(f"mnist_scenarios = {self.mnist_scenarios!r}: need >= 1 scenario "
                             "with unique names")
        object.__setattr__(self, "mnist_scenarios", tuple(scen))
        replica.TransferScenario(alphas, sigmas, replica.support_prior(0.1, [0.1, 0.1]))
        object.__setattr__(self, "seeds", as_seeds(self.seeds))
        if self.lam1_rule not in ("target", "pooled"):
            raise ValueError(f"lam1_rule = {self.lam1_rule!r}: must be 'target' or 'pooled'")
        for name in ("imdb_max_docs", "imdb_test_max_docs", "imdb_n_source",
                     "mnist_n_features"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 2):
                raise ValueError(f"{name} = {v!r}: must be None or an integer >= 2")
        for name, lo in (("imdb_max_features", 2), ("imdb_min_df", 1), ("cv", 2),
                         ("cv_n_lam2", 2)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name} = {v!r}: must be an integer >= {lo}")
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int) or self.n_jobs == 0:
            raise ValueError(f"n_jobs = {self.n_jobs!r}: must be a non-zero integer")
        self._check_real_designs()

    def _check_real_designs(self) -> None:
        designs = tuple(self.mnist_designs)
        bad = [d for d in designs if d not in _MNIST_DESIGNS]
        if not designs or bad or len(set(designs)) != len(designs):
            raise ValueError(f"mnist_designs = {self.mnist_designs!r}: choose a non-empty subset "
                             f"of {_MNIST_DESIGNS}")
        object.__setattr__(self, "mnist_designs", designs)
        theories = tuple(self.theories)
        bad = [t for t in theories if t not in ("iid", "sigma", "rotinv")]
        if "iid" not in theories or bad or len(set(theories)) != len(theories):
            raise ValueError(f"theories = {self.theories!r}: 'iid' plus any of 'sigma', "
                             "'rotinv'")
        object.__setattr__(self, "theories", theories)
        k = self.kurtosis_max
        if k is not None and (isinstance(k, bool) or not isinstance(k, int | float | np.number)
                              or not (float(k) >= 3.0)):
            raise ValueError(f"kurtosis_max = {k!r}: must be None or >= 3 (a Gaussian column "
                             "has kurtosis 3)")
        v = self.sigma_replicates
        if isinstance(v, bool) or not isinstance(v, int) or v < 2:
            raise ValueError(f"sigma_replicates = {v!r}: must be an integer >= 2")
        v = self.replicate
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 1 <= v <= 64:
            raise ValueError(f"replicate = {v!r}: must be an integer in [1, 64] (copies of "
                             "the pixel block)")
        object.__setattr__(self, "replicate", int(v))

    @classmethod
    def quick(cls) -> TransLassoRealDataConfig:
        """40 seeds of the digits design; IMDb on 4000 training reviews, 1000 source reviews,
        800 TF-IDF terms, 3 folds (needs ``data_dir``; ~1-2 min on 2 cores)."""
        return cls(seeds=tuple(range(40)), mnist_source="digits", imdb_max_docs=4000,
                   imdb_test_max_docs=4000, imdb_max_features=800, imdb_n_source=1000, cv=3,
                   cv_n_lam2=8, preset="quick")

    @classmethod
    def real_designs(cls, kurtosis_max: float | None = None) -> TransLassoRealDataConfig:
        """Digits, every design and theory (issue 13): 200 seeds, alphas (2, 6)
        (``--quick``-sized Sigma theory: ~1-2 min per scenario on 2 cores)."""
        return cls(parts=("mnist",), mnist_source="digits", alphas=(2.0, 6.0),
                   mnist_designs=_MNIST_DESIGNS, theories=("iid", "sigma", "rotinv"),
                   kurtosis_max=kurtosis_max, preset="real_designs")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------------------------------
# semi-artificial MNIST
# ------------------------------------------------------------------------------------------


def _resolve_mnist_source(cfg: TransLassoRealDataConfig) -> str:
    if cfg.mnist_source != "auto":
        return cfg.mnist_source
    if cfg.data_dir is None:
        return "digits"
    try:
        datasets.load_mnist(cfg.data_dir, "train")
    except FileNotFoundError:
        return "digits"
    return "mnist"


@functools.lru_cache(maxsize=4)
def _design(source: str, data_dir: str | None, n_features: int | None) -> datasets.ImageDesign:
    """Image design of the whole pool (cached per process)."""
    if source == "digits":
        return datasets.load_digits_design(n_features, rng=0)
    images, labels = datasets.load_mnist(data_dir, "train")
    return datasets.design_from_images(images, n_features, rng=0, labels=labels)


def design_spectrum(A: np.ndarray) -> dict:
    r"""Spectrum summary of a design normalised to column variance 1/N.

    Eigenvalues of :math:`C=\frac NM A^\top A` (the column correlation matrix, unit diagonal),
    compared with the Marchenko-Pastur law of an i.i.d. design of the same shape, support
    :math:`[(1-\sqrt{N/M})^2,(1+\sqrt{N/M})^2]`. Returns the eigenvalues and ``top`` (largest
    eigenvalue), ``mp_edge``, ``participation_ratio`` :math:`(\mathrm{tr}C)^2/(N\,\mathrm{tr}
    C^2)` (1 for white columns, 1/N for rank one) and ``frac_var_top10`` (variance share of
    the ten largest eigenvalues).
    """
    M, N = A.shape
    C = (N / M) * (A.T @ A)
    ev = np.sort(np.linalg.eigvalsh(C))[::-1]
    q = N / M
    return {
        "eigenvalues": ev, "N": N, "M": M, "top": float(ev[0]),
        "mp_edge": float((1 + math.sqrt(q)) ** 2),
        "participation_ratio": float(np.sum(ev) ** 2 / (N * np.sum(ev**2))),
        "frac_var_top10": float(np.sum(ev[:10]) / np.sum(ev)),
    }


@functools.lru_cache(maxsize=8)
def _pool(source: str, data_dir: str | None, n_features: int | None,
          kurtosis_max: float | None):
    """(pool design, dropped pixel columns, Sigma design) after the heavy-tail filter.

    Columns with standardised kurtosis above ``kurtosis_max`` are dropped and the remaining
    ones rescaled to variance 1/N (the theory normalisation); Sigma is the correlation
    matrix of the kept columns over the whole pool.
    """
    from replica.design import CovarianceDesign, column_kurtosis

    A = _design(source, data_dir, n_features).A
    drop = np.zeros(A.shape[1], dtype=bool)
    if kurtosis_max is not None:
        drop = column_kurtosis(A) > kurtosis_max
        if drop.all():
            raise ValueError(f"kurtosis_max = {kurtosis_max}: every column is heavier-tailed")
        A = A[:, ~drop] * math.sqrt(A.shape[1] / (~drop).sum())
    return A, np.flatnonzero(drop), CovarianceDesign.from_rows(A, name=f"{source} pixels")


def _target_marginal(sc: replica.TransferScenario) -> replica.TransferScenario:
    p = sc.prior
    prior = replica.GaussianMixturePrior(p.weights, p.means[:, :1], p.covs[:, :1, :1])
    return replica.TransferScenario(sc.alphas[:1], sc.sigmas[:1], prior)


def mnist_seed(source: str, data_dir: str | None, n_features: int | None, scenario: dict,
               hypers: dict, seed: int, designs=("images", "gaussian"),
               kurtosis_max: float | None = None, rotinv: bool = False,
               replicate: int = 1) -> list[dict]:
    r"""One semi-artificial repetition (a :func:`~validation.runner.run_grid` task).

    Draws disjoint target/source image rows, a truth from the scenario's prior and the noise;
    fits every strategy of ``hypers`` (``{strategy: hyper dict}``) on each design of
    ``designs`` (see :class:`TransLassoRealDataConfig`) with the same truths and noise. Rows:
    ``design``, ``strategy``, ``mse2`` (:math:`\|\hat x-r^{(0)}\|^2/N`), ``mse1``,
    ``density1``, ``density2`` and, with ``rotinv``, ``rotinv_mse2`` on the target-only rows
    of the image and rotated designs (rotationally invariant theory of the target Lasso with
    this seed's spectrum of :math:`A^{(0)\top}A^{(0)}`). ``replicate`` = r: N r columns,
    r independent blocks (see :class:`TransLassoRealDataConfig`).
    """
    from validation.compare import empirical_observables

    sc = replica.TransferScenario.from_dict(scenario)
    pool = _pool(source, data_dir, n_features, kurtosis_max)[0]
    N = pool.shape[1] * int(replicate)
    rng = np.random.default_rng([int(seed), N, 11])
    Ms = sc.n_samples(N)
    # same draw order as before the real-design options; extra designs use their own streams
    rows_idx = rng.permutation(pool.shape[0])
    truth = sc.prior.sample(N, rng)
    noise = [sc.sigmas[k] * rng.standard_normal(m) for k, m in enumerate(Ms)]
    mats = {"gaussian": [rng.standard_normal((m, N)) / math.sqrt(N) for m in Ms]}
    mats.update(_real_designs(pool, Ms, rows_idx, designs, (source, data_dir, n_features,
                                                            kurtosis_max, int(seed), replicate)))
    out = []
    for design in designs:
        As = mats[design]
        ys = [As[k] @ truth[k] + noise[k] for k in range(len(Ms))]
        for strat, h in hypers.items():
            est = lasso.GeneralizedTransLasso(h["lam1"], h["lam2"], h["kappa"], h["dlam"],
                                              tol=1e-10, max_iter=100_000)
            _, n_warn = count_convergence_warnings(
                est.fit, (As[0], ys[0]), [(As[k], ys[k]) for k in range(1, len(Ms))])
            obs = empirical_observables(est.coef_stage1_, est.coef_stage2_, h["kappa"],
                                        truth[0])
            row = {"design": design, "strategy": strat, "mse2": obs["mse2"],
                   "mse1": obs["mse1"], "density1": obs["density1"],
                   "density2": obs["density2"], "n_convergence_warnings": n_warn}
            if rotinv and strat == "target_lasso" and design in ("images", "rotated"):
                row["rotinv_mse2"], row["rotinv_converged"] = _rotinv_target(sc, As[0],
                                                                             h["lam2"])
            out.append(row)
    return out


def image_rows(pool: np.ndarray, Ms, rows_idx: np.ndarray, replicate: int = 1,
               rng=0) -> list[np.ndarray]:
    r"""Target/source designs made of pool rows: disjoint random rows, r blocks side by side.

    Block 0 uses ``rows_idx`` (a permutation of the pool rows: the first ``Ms[0]`` rows are
    the target, the next ``Ms[1]`` the source, ...); each further block is a fresh
    permutation drawn from ``rng`` (a Generator or seed), independently of the others, so
    that a design row is r independently drawn images. Blocks are divided by
    :math:`\sqrt r` (column variance :math:`1/(N r)`, the theory normalisation). ValueError
    if the pool has fewer rows than ``sum(Ms)``.
    """
    if isinstance(replicate, bool) or not isinstance(replicate, int | np.integer) \
            or not 1 <= replicate <= 64:
        raise ValueError(f"replicate = {replicate!r}: must be an integer in [1, 64] (copies "
                         "of the pixel block)")
    n_pool = pool.shape[0]
    if sum(Ms) > n_pool:
        raise ValueError(f"alphas need {sum(Ms)} images per block but the pool has {n_pool}")
    cuts = np.cumsum((0,) + tuple(Ms))
    rng = np.random.default_rng(rng)
    perms = [rows_idx] + [rng.permutation(n_pool) for _ in range(replicate - 1)]
    order = [np.sort(rows_idx[cuts[k]:cuts[k + 1]]) for k in range(len(Ms))]
    blocks = [[p[cuts[k]:cuts[k + 1]] for p in perms] for k in range(len(Ms))]
    # block 0 keeps the sorted row order of the single-block design (r = 1 unchanged)
    return [np.hstack([pool[order[k]]] + [pool[b] for b in blocks[k][1:]]) / math.sqrt(replicate)
            for k in range(len(Ms))]


@functools.lru_cache(maxsize=8)
def _sigma_design(source, data_dir, n_features, kurtosis_max, replicate):
    return _pool(source, data_dir, n_features, kurtosis_max)[2].replicated(replicate)


def _real_designs(pool, Ms, rows_idx, designs, key) -> dict:
    """Image, rotated-image and Gaussian-Sigma designs of one seed (``key`` = (source,
    data_dir, n_features, kurtosis_max, seed, replicate)), each from its own random stream."""
    *pool_key, seed, r = key
    N = pool.shape[1] * r
    mats = {}
    if "images" in designs or "rotated" in designs:
        mats["images"] = image_rows(pool, Ms, rows_idx, r, np.random.default_rng([seed, N, 14]))
    if "rotated" in designs:
        from replica.design import haar_orthogonal

        W = haar_orthogonal(N, np.random.default_rng([seed, N, 12]))
        mats["rotated"] = [A @ W.T for A in mats["images"]]
    if "gaussian_sigma" in designs:
        r3 = np.random.default_rng([seed, N, 13])
        mats["gaussian_sigma"] = [_sigma_design(*pool_key, r).sample_design(m, r3) for m in Ms]
    return mats


def _rotinv_target(sc, A0, lam2) -> tuple[float, bool]:
    """Rotationally invariant theory of the target-only Lasso with A0's spectrum: (mse,
    converged); non-convergence is reported in the ``rotinv_converged`` column."""
    from replica.design import Spectrum
    from replica.rotinv import solve_rotinv_pretraining

    r, n_warn = count_convergence_warnings(
        solve_rotinv_pretraining, _target_marginal(sc), Spectrum.from_design(A0), lam2)
    return r.mse1, bool(r.converged) and n_warn == 0


mnist_seed.cache_version = 3


def _run_mnist(cfg: TransLassoRealDataConfig):
    source = _resolve_mnist_source(cfg)
    data_dir = cfg.data_dir if source == "mnist" else None
    pool, dropped, _ = _pool(source, data_dir, cfg.mnist_n_features, cfg.kurtosis_max)
    N = pool.shape[1]
    spec = design_spectrum(pool)
    need = sum(replica.TransferScenario(cfg.alphas, cfg.sigmas, replica.support_prior(
        0.1, [0.1, 0.1])).n_samples(N * cfg.replicate))
    if {"images", "rotated"} & set(cfg.mnist_designs) and need > pool.shape[0]:
        raise ValueError(f"replicate = {cfg.replicate}: alphas = {cfg.alphas} need {need} "
                         f"images per block at N = {N * cfg.replicate} but the {source} pool "
                         f"has {pool.shape[0]}; lower replicate or use only the Gaussian designs")
    pool_key = (source, data_dir, cfg.mnist_n_features, cfg.kurtosis_max)
    params, theory_rows = [], []
    for name, pc, pu, c in cfg.mnist_scenarios:
        sc = replica.TransferScenario(cfg.alphas, cfg.sigmas,
                                      replica.support_prior(pc, [pu, pu], corr=c))
        tab, n_warn = count_convergence_warnings(replica.strategy_table, sc, cfg.lam1_rule)
        hypers = {}
        for _, r in tab.iterrows():
            hypers[r["strategy"]] = {k: float(r[k]) for k in ("lam1", "lam2", "kappa", "dlam")}
            row = {"scenario": name, "strategy": r["strategy"],
                   "theory_mse2": float(r["mse2"]), "theory_eps2": float(r["eps2"]),
                   "theory_n_convergence_warnings": n_warn, **hypers[r["strategy"]]}
            if "sigma" in cfg.theories:
                row.update(_sigma_theory(pool_key, sc, hypers[r["strategy"]],
                                         cfg.sigma_replicates))
            theory_rows.append(row)
        params.append({"scenario_name": name, "source": source, "data_dir": data_dir,
                       "n_features": cfg.mnist_n_features, "scenario": sc.to_dict(),
                       "hypers": hypers, "designs": ",".join(cfg.mnist_designs),
                       "kurtosis_max": cfg.kurtosis_max, "rotinv": "rotinv" in cfg.theories,
                       "replicate": cfg.replicate})
    runs = run_grid(_mnist_task, params, cfg.seeds, n_jobs=cfg.n_jobs, scheduler=cfg.scheduler,
                    cache_dir=cfg.cache_dir, desc="semi-artificial MNIST")
    runs = runs.drop(columns=["source", "data_dir", "n_features", "scenario", "hypers",
                              "designs", "kurtosis_max", "rotinv", "replicate"],
                     errors="ignore")
    runs = runs.rename(columns={"scenario_name": "scenario"})
    th = pd.DataFrame(theory_rows)
    warn_unconverged(runs, "Lasso fits on the real-data designs", stacklevel=3)
    warn_unconverged(th, "strategy optimisations", converged="sigma_converged",
                     counts="theory_n_convergence_warnings", stacklevel=3)
    if "rotinv_converged" in runs:
        warn_unconverged(runs[runs["rotinv_converged"].notna()], "rotationally invariant solves",
                         converged="rotinv_converged", stacklevel=3)
    table = _mnist_table(runs, th, source, N * cfg.replicate)
    choice = _restricted_choice(runs, th, source)
    spec_df = pd.DataFrame({"rank": np.arange(1, spec["eigenvalues"].size + 1),
                            "eigenvalue": spec["eigenvalues"]})
    summary = {k: v for k, v in spec.items() if k != "eigenvalues"}
    summary["source"] = source
    summary["kurtosis_max"] = cfg.kurtosis_max
    summary["dropped_columns"] = [int(i) for i in dropped]
    return table, runs, spec_df, summary, choice


def _sigma_theory(pool_key: tuple, sc, h: dict, n_replicates: int) -> dict:
    """Two-stage Sigma theory at one hyperparameter point (mean and Monte Carlo s.e.), with
    the (unreplicated) Sigma of the pool ``pool_key``; memoised per process (the finite-size
    study reuses it for every replication factor)."""
    hyper = (h["lam1"], h["lam2"], h["kappa"], h["dlam"])
    return dict(_sigma_point(pool_key, json.dumps(sc.to_dict(), sort_keys=True), hyper,
                             n_replicates))


@functools.lru_cache(maxsize=256)
def _sigma_point(pool_key: tuple, scenario_json: str, hyper: tuple, n_replicates: int):
    from replica.covariance import MonteCarlo, solve_covariance

    sc = replica.TransferScenario.from_dict(json.loads(scenario_json))
    sigma_design = _pool(*pool_key)[2]
    r, n_warn = count_convergence_warnings(solve_covariance, sc, sigma_design,
                                           replica.TransLassoHyper(*hyper),
                                           mc=MonteCarlo(None, n_replicates, 0))
    return {"sigma_mse2": r.mse2, "sigma_se": r.mse2_se,
            "sigma_converged": bool(r.converged) and n_warn == 0}


def _mnist_table(runs: pd.DataFrame, th: pd.DataFrame, source: str, N: int) -> pd.DataFrame:
    """Theory vs simulation per scenario, strategy and design (one row each)."""
    rows = []
    for (scn, strat, des), g in runs.groupby(["scenario", "strategy", "design"], sort=False):
        t = th[(th["scenario"] == scn) & (th["strategy"] == strat)].iloc[0]
        v = g["mse2"].to_numpy()
        mean, se = float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))
        row = {"scenario": scn, "strategy": strat, "design": design_name(des, source),
               "N": N, "theory_mse2": t["theory_mse2"], "mse2": mean, "se": se,
               "z": (mean - t["theory_mse2"]) / se if se > 0 else math.nan,
               "rel_error": (mean - t["theory_mse2"]) / t["theory_mse2"],
               "ratio_iid": mean / t["theory_mse2"],
               "density2": float(g["density2"].mean()),
               "lam1": t["lam1"], "lam2": t["lam2"], "kappa": t["kappa"],
               "dlam": t["dlam"], "n_seeds": int(v.size),
               "n_unconverged": int((g["n_convergence_warnings"] > 0).sum())}
        if "sigma_mse2" in t:
            comb = math.hypot(se, t["sigma_se"])
            row.update({"sigma_mse2": t["sigma_mse2"], "sigma_se": t["sigma_se"],
                        "z_sigma": (mean - t["sigma_mse2"]) / comb if comb > 0 else math.nan,
                        "ratio_sigma": mean / t["sigma_mse2"],
                        "sigma_converged": bool(t["sigma_converged"])})
        if "rotinv_mse2" in g and g["rotinv_mse2"].notna().any():
            row["rotinv_mse2"] = float(g["rotinv_mse2"].mean())
            row["ratio_rotinv"] = mean / row["rotinv_mse2"]
        rows.append(row)
    return pd.DataFrame(rows)


def _restricted_choice(runs: pd.DataFrame, theory: pd.DataFrame, source: str) -> pd.DataFrame:
    """Does the theory's better restricted strategy (dlam0 or kappa0) also win empirically?

    Per scenario and design: the paired difference ``mse2(dlam0) - mse2(kappa0)`` over the
    seeds (both strategies are fitted on the same instance), its mean and standard error,
    and the strategy the theory picks.
    """
    rows = []
    for (scn, des), g in runs.groupby(["scenario", "design"], sort=False):
        w = g.pivot(index="seed", columns="strategy", values="mse2")
        d = (w["dlam0"] - w["kappa0"]).to_numpy()
        tt = theory[theory["scenario"] == scn].set_index("strategy")
        t = tt["theory_mse2"]
        pick_th = "dlam0" if t["dlam0"] <= t["kappa0"] else "kappa0"
        mean, se = float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))
        row = {"scenario": scn, "design": design_name(des, source),
               "theory_pick": pick_th,
               "theory_diff": float(t["dlam0"] - t["kappa0"]),
               "diff_dlam0_minus_kappa0": mean, "diff_se": se,
               "empirical_pick": "dlam0" if mean <= 0 else "kappa0",
               "agrees": (mean <= 0) == (pick_th == "dlam0")}
        if "sigma_mse2" in tt:
            ts = tt["sigma_mse2"]
            pick_s = "dlam0" if ts["dlam0"] <= ts["kappa0"] else "kappa0"
            row.update({"sigma_pick": pick_s, "sigma_diff": float(ts["dlam0"] - ts["kappa0"]),
                        "agrees_sigma": (mean <= 0) == (pick_s == "dlam0")})
        rows.append(row)
    return pd.DataFrame(rows)


def design_name(design: str, source: str) -> str:
    return {"images": f"{source} images", "rotated": f"rotated {source} images",
            "gaussian_sigma": f"Gaussian rows, {source} covariance",
            "gaussian": "i.i.d. Gaussian"}[design]


def _mnist_task(scenario_name: str, source: str, data_dir, n_features, scenario: dict,
                hypers: dict, seed: int, designs: str = "images,gaussian",
                kurtosis_max: float | None = None, rotinv: bool = False,
                replicate: int = 1) -> list[dict]:
    return mnist_seed(source, data_dir, n_features, scenario, hypers, seed,
                      tuple(designs.split(",")), kurtosis_max, rotinv, replicate)


_mnist_task.cache_version = 3


def _plot_mnist(table: pd.DataFrame, cfg: TransLassoRealDataConfig):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scen = list(dict.fromkeys(table["scenario"]))
    designs = list(dict.fromkeys(table["design"]))
    has_sigma = "sigma_mse2" in table
    n_bars = 1 + int(has_sigma) + len(designs)
    width = 0.8 / n_bars
    colors = ("tab:blue", "tab:orange", "tab:green", "tab:purple")
    fig, axes = plt.subplots(1, len(scen), figsize=(6.5 * len(scen), 4.6), squeeze=False)
    for ax, s in zip(axes[0], scen, strict=True):
        sub = table[table["scenario"] == s]
        strats = [x for x in _MNIST_STRATEGIES if x in set(sub["strategy"])]
        x = np.arange(len(strats))
        first = sub.drop_duplicates("strategy").set_index("strategy").loc[strats]
        off = -0.4 + width / 2
        ax.bar(x + off, first["theory_mse2"], width, color="0.75",
               label="replica theory (i.i.d.)")
        if has_sigma:
            off += width
            ax.bar(x + off, first["sigma_mse2"], width, yerr=first["sigma_se"], color="0.45",
                   capsize=2, label="Σ theory (Monte Carlo ± s.e.)")
        for d, col in zip(designs, colors, strict=False):
            off += width
            dd = sub[sub["design"] == d].set_index("strategy").loc[strats]
            ax.bar(x + off, dd["mse2"], width, yerr=dd["se"], color=col, capsize=2, label=d)
        ax.set_xticks(x)
        ax.set_xticklabels([_LABELS[t] for t in strats], rotation=25, fontsize=8)
        ax.set_ylabel(r"target coefficient error $\|\hat x-r^{(0)}\|^2/N$")
        N = int(sub["N"].iloc[0])
        ax.set_title(f"scenario {s}: N = {N}, α = {cfg.alphas}, σ = {cfg.sigmas[0]:g}; "
                     f"{int(sub['n_seeds'].iloc[0])} seeds", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("Semi-artificial MNIST: strategies at their replica-optimal hyperparameters")
    fig.tight_layout()
    return fig


def plot_before_after(before: pd.DataFrame, after: pd.DataFrame, source: str = "digits"):
    """Simulation/theory ratios of the target error on the image design: i.i.d. theory on all
    pixels (before), Sigma theory with heavy-tailed columns dropped (after), against the band
    of ratios the i.i.d. theory shows on i.i.d. Gaussian designs at the same N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img, gau = design_name("images", source), design_name("gaussian", source)
    scen = list(dict.fromkeys(before["scenario"]))
    fig, axes = plt.subplots(1, len(scen), figsize=(6.2 * len(scen), 4.2), squeeze=False)
    for ax, s in zip(axes[0], scen, strict=True):
        b = before[(before["scenario"] == s)]
        a = after[(after["scenario"] == s)]
        strats = [x for x in _MNIST_STRATEGIES if x in set(b["strategy"])]
        x = np.arange(len(strats))
        band = pd.concat([b[b["design"] == gau], a[a["design"] == gau]])["ratio_iid"]
        ax.axhspan(band.min(), band.max(), color="0.85",
                   label="i.i.d. sim / i.i.d. theory (finite-N band)")
        ax.axhline(1.0, color="k", lw=0.8)
        bi = b[b["design"] == img].set_index("strategy").loc[strats]
        ai = a[a["design"] == img].set_index("strategy").loc[strats]
        ax.plot(x, bi["ratio_iid"], "o", color="tab:red", label="before: all pixels, i.i.d. theory")
        if "ratio_sigma" in bi:
            ax.plot(x, bi["ratio_sigma"], "^", color="tab:orange",
                    label="all pixels, Σ theory")
        col = "ratio_sigma" if "ratio_sigma" in ai else "ratio_iid"
        ax.plot(x, ai[col], "s", color="tab:green",
                label=f"after: heavy-tailed pixels dropped (N = {int(ai['N'].iloc[0])}), "
                      f"{'Σ' if col == 'ratio_sigma' else 'i.i.d.'} theory")
        ax.set_xticks(x)
        ax.set_xticklabels([_LABELS[t] for t in strats], rotation=25, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylim(0.5, 30)
        ax.set_ylabel("image simulation / theory (target error)")
        ax.set_title(f"scenario {s}", fontsize=9)
        ax.legend(fontsize=7, loc="upper right", framealpha=0.9)
    fig.suptitle(f"{source}: theory for real designs, before and after", fontsize=10)
    fig.tight_layout()
    return fig


def _plot_spectrum(spec_df: pd.DataFrame, summary: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    N, M = summary["N"], summary["M"]
    rng = np.random.default_rng(0)
    G = rng.standard_normal((M, N)) / math.sqrt(N)
    ev_g = np.sort(np.linalg.eigvalsh((N / M) * G.T @ G))[::-1]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.semilogy(spec_df["rank"], spec_df["eigenvalue"], "o-", ms=3,
                label=f"{summary['source']} images")
    ax.semilogy(np.arange(1, N + 1), ev_g, "s-", ms=3, color="tab:orange",
                label="i.i.d. Gaussian (same shape)")
    ax.axhline(summary["mp_edge"], color="0.4", ls="--", lw=1, label="Marchenko-Pastur edge")
    ax.set_xlabel("rank")
    ax.set_ylabel(r"eigenvalue of $\frac{N}{M}A^\top A$")
    ax.set_title(f"design spectrum: N = {N}, M = {M}; participation ratio "
                 f"{summary['participation_ratio']:.3f}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------
# IMDb
# ------------------------------------------------------------------------------------------


def _cv_class():
    cls = getattr(lasso, "GeneralizedTransLassoCV", None)
    if cls is None:
        from lasso.cv import GeneralizedTransLassoCV as cls
    return cls


def _check_imdb_data(data_dir) -> None:
    if data_dir is None:
        raise FileNotFoundError("IMDb data directory not given: " + _imdb_hint(None))
    try:
        datasets.load_imdb(data_dir, "train", max_docs=0)
        datasets.load_imdb(data_dir, "test", max_docs=0)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{exc} -- {_imdb_hint(data_dir)}") from exc


def imdb_strategies(cfg: TransLassoRealDataConfig) -> tuple[pd.DataFrame, dict]:
    """Cross-validated strategies on IMDb, scored on the held-out horror reviews.

    Returns
    -------
    table : DataFrame
        One row per strategy (plus the baselines ``mean`` and ``pooled``): ``cv_mse,
        cv_mse_se, lam1, lam2, kappa, dlam, test_mse, test_se, diff_vs_target,
        diff_vs_target_se`` (paired over the test reviews), ``nnz``.
    info : dict
        Sizes and timings.
    """
    _check_imdb_data(cfg.data_dir)
    t0 = time.perf_counter()
    train = datasets.load_imdb(cfg.data_dir, "train", cfg.imdb_max_docs)
    test = datasets.load_imdb(cfg.data_dir, "test", cfg.imdb_test_max_docs)
    t_idx, s_idx = datasets.imdb_target_source_split(train["text"], "keyword")
    rng = np.random.default_rng(0)
    if cfg.imdb_n_source is not None and s_idx.size > cfg.imdb_n_source:
        s_idx = np.sort(rng.choice(s_idx, cfg.imdb_n_source, replace=False))
    X, vec = datasets.imdb_features(train["text"].iloc[np.concatenate([t_idx, s_idx])],
                                    cfg.imdb_max_features, min_df=cfg.imdb_min_df)
    X = X.toarray()
    X0, X1 = X[: t_idx.size], X[t_idx.size:]
    y = train["rating"].to_numpy(dtype=float)
    y0, y1 = y[t_idx], y[s_idx]
    te_idx, _ = datasets.imdb_target_source_split(test["text"], "keyword")
    Xt, _ = datasets.imdb_features(test["text"].iloc[te_idx], vectorizer=vec)
    Xt = Xt.toarray()
    yt = test["rating"].to_numpy(dtype=float)[te_idx]
    if t_idx.size < 2 * cfg.cv or te_idx.size < 2:
        raise ValueError(f"too few target reviews (train {t_idx.size}, test {te_idx.size}) for "
                         f"{cfg.cv}-fold CV; read more reviews (imdb_max_docs)")
    info = {"n_target_train": int(t_idx.size), "n_source": int(s_idx.size),
            "n_target_test": int(te_idx.size), "n_features": int(X.shape[1]),
            "load_s": time.perf_counter() - t0}

    CV = _cv_class()
    t0 = time.perf_counter()
    est = CV(strategy="full", cv=cfg.cv, random_state=0, fit_intercept=True,
             n_lam2=cfg.cv_n_lam2, n_jobs=cfg.n_jobs, progress=False, tol=1e-6)
    _, info["cv_convergence_warnings"] = count_convergence_warnings(est.fit, (X0, y0),
                                                                    [(X1, y1)])
    if info["cv_convergence_warnings"]:
        warnings.warn(f"IMDb CV: {info['cv_convergence_warnings']} ConvergenceWarnings of the "
                      "CV fits (see cv_convergence_warnings in config.json)",
                      ConvergenceWarningReport, stacklevel=2)
    info["cv_s"] = time.perf_counter() - t0
    st = est.strategy_table(_IMDB_STRATEGIES)

    def test_errors(pred):
        return (yt - pred) ** 2

    rows, errs = [], {}
    for _, r in st.iterrows():
        m = lasso.GeneralizedTransLasso(r["lam1"], r["lam2"], r["kappa"], r["dlam"],
                                        fit_intercept=True, tol=1e-8)
        _, n_warn = count_convergence_warnings(m.fit, (X0, y0), [(X1, y1)])
        e = test_errors(m.predict(Xt))
        errs[r["strategy"]] = e
        rows.append({"strategy": r["strategy"], "cv_mse": r["cv_mse"],
                     "cv_mse_se": r["cv_mse_se"], "lam1": r["lam1"], "lam2": r["lam2"],
                     "kappa": r["kappa"], "dlam": r["dlam"],
                     "nnz": int(np.count_nonzero(m.coef_)), "n_convergence_warnings": n_warn})
    errs["mean"] = test_errors(np.full(yt.size, y0.mean()))
    rows.append({"strategy": "mean", "cv_mse": math.nan, "cv_mse_se": math.nan,
                 "lam1": math.nan, "lam2": math.nan, "kappa": math.nan, "dlam": math.nan,
                 "nnz": 0, "n_convergence_warnings": 0})
    base = errs["target_lasso"]
    for row in rows:
        e = errs[row["strategy"]]
        d = e - base
        row["test_mse"] = float(e.mean())
        row["test_se"] = float(e.std(ddof=1) / math.sqrt(e.size))
        row["diff_vs_target"] = float(d.mean())
        row["diff_vs_target_se"] = float(d.std(ddof=1) / math.sqrt(d.size))
    table = pd.DataFrame(rows)
    warn_unconverged(table, "IMDb refits at the CV choice", stacklevel=3)
    return table, info


def _plot_imdb(tab: pd.DataFrame, info: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    x = np.arange(len(tab))
    labels = [_LABELS.get(s, s) for s in tab["strategy"]]
    axes[0].bar(x, tab["test_mse"], yerr=tab["test_se"], color="tab:blue", capsize=3,
                label="held-out target")
    axes[0].plot(x, tab["cv_mse"], "k_", ms=20, mew=2, label="CV estimate")
    axes[0].set_xticks(x)
    axes[0].set_xticklabels(labels, rotation=25, fontsize=8)
    axes[0].set_ylabel("MSE of the rating (1-10)")
    axes[0].legend(fontsize=8)
    sub = tab[tab["strategy"] != "mean"]
    x2 = np.arange(len(sub))
    axes[1].bar(x2, sub["diff_vs_target"], yerr=sub["diff_vs_target_se"], color="tab:green",
                capsize=3)
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set_xticks(x2)
    axes[1].set_xticklabels([_LABELS.get(s, s) for s in sub["strategy"]], rotation=25,
                            fontsize=8)
    axes[1].set_ylabel("held-out MSE − target-only (paired)")
    fig.suptitle(f"IMDb: target = horror reviews ({info['n_target_train']} train, "
                 f"{info['n_target_test']} test), source {info['n_source']} reviews, "
                 f"{info['n_features']} TF-IDF terms", fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------


def run(cfg: TransLassoRealDataConfig | None = None, out_dir=None) -> dict[str, pd.DataFrame]:
    """Run the selected parts, write the outputs into ``out_dir`` and return the tables.

    Raises
    ------
    FileNotFoundError
        If ``"imdb"`` is in ``parts`` and the aclImdb folder is not in ``data_dir`` (raised
        before anything is computed; the message says where to put the data).
    """
    cfg = TransLassoRealDataConfig() if cfg is None else cfg
    if "imdb" in cfg.parts:
        _check_imdb_data(cfg.data_dir)
    out = make_output_dir(out_dir, EXPERIMENT_NAME)
    tables: dict[str, pd.DataFrame] = {}
    figures = {}
    extra: dict = {"experiment": EXPERIMENT_NAME, "timings": {}}
    t_all = time.perf_counter()
    if "mnist" in cfg.parts:
        t0 = time.perf_counter()
        table, runs, spec_df, spec, choice = _run_mnist(cfg)
        tables.update({"mnist": table, "mnist_choice": choice, "mnist_runs": runs,
                       "mnist_spectrum": spec_df})
        figures["mnist_strategies"] = _plot_mnist(table, cfg)
        figures["mnist_spectrum"] = _plot_spectrum(spec_df, spec)
        extra["mnist_design"] = spec
        if cfg.kurtosis_max is not None and cfg.replicate == 1:  # all pixels: before/after
            full = dataclasses.replace(cfg, kurtosis_max=None)
            t_all_px, _, _, _, ch_all = _run_mnist(full)
            tables.update({"mnist_all_pixels": t_all_px, "mnist_all_pixels_choice": ch_all})
            figures["mnist_before_after"] = plot_before_after(t_all_px, table, spec["source"])
        extra["timings"]["mnist_s"] = time.perf_counter() - t0
    if "imdb" in cfg.parts:
        t0 = time.perf_counter()
        tab, info = imdb_strategies(cfg)
        tables["imdb"] = tab
        figures["imdb"] = _plot_imdb(tab, info)
        extra["imdb"] = info
        extra["timings"]["imdb_s"] = time.perf_counter() - t0
    extra["timings"]["total_s"] = time.perf_counter() - t_all
    save_results(out, tables, cfg, figures=figures, extra=extra)
    _print_summary(tables, extra, Path(out))
    return tables


def _print_summary(tables: dict, extra: dict, out: Path) -> None:
    print(f"{EXPERIMENT_NAME}: outputs in {out} ({extra['timings']['total_s']:.0f} s)")
    if "mnist" in tables:
        t = tables["mnist"]
        ch = tables["mnist_choice"].set_index(["scenario", "design"])
        for (scn, des), g in t.groupby(["scenario", "design"], sort=False):
            c = ch.loc[(scn, des)]
            print(f"  MNIST {scn} / {des}: mse2 / theory = "
                  f"{(g['mse2'] / g['theory_mse2']).min():.2f}-"
                  f"{(g['mse2'] / g['theory_mse2']).max():.2f}; restricted pick "
                  f"{c['empirical_pick']} (theory {c['theory_pick']}; dlam0 - kappa0 = "
                  f"{c['diff_dlam0_minus_kappa0']:+.4f} ± {c['diff_se']:.4f})")
            if "ratio_sigma" in g:
                print(f"      Σ theory: mse2 / theory = {g['ratio_sigma'].min():.2f}-"
                      f"{g['ratio_sigma'].max():.2f}, |z| <= {g['z_sigma'].abs().max():.1f}; "
                      f"pick {c['sigma_pick']}")
    if "imdb" in tables:
        t = tables["imdb"]
        for _, r in t.iterrows():
            print(f"  IMDb {r['strategy']:>7}: held-out MSE {r['test_mse']:.4f} ± "
                  f"{r['test_se']:.4f} (CV {r['cv_mse']:.4f})")


if __name__ == "__main__":  # pragma: no cover
    import sys

    if "--real-designs" in sys.argv:
        run(TransLassoRealDataConfig.real_designs(kurtosis_max=10.0), None)
    else:
        run(TransLassoRealDataConfig.quick() if "--quick" in sys.argv
            else TransLassoRealDataConfig(), None)
