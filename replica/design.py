r"""Design descriptions beyond i.i.d. Gaussian entries (docs ``docs/translasso_real_designs.md``).

The i.i.d. theory (:mod:`replica.stage1`, :mod:`replica.stage2`) assumes
:math:`A^{(k)}_{\mu i}\sim\mathcal N(0,1/N)`. Two richer ensembles are described here:

* :class:`Spectrum` / :class:`SpectralDesign`: right-rotationally invariant designs
  :math:`A^{(k)}=U_kS_kV_k^\top` with Haar :math:`V_k` independent across datasets ("free
  blocks"). The theory only needs the N eigenvalues :math:`\{\lambda_i\}` of
  :math:`A^{(k)\top}A^{(k)}` (zeros included), through their Stieltjes transform
  :math:`g(\gamma)=\frac1N\sum_i(\lambda_i+\gamma)^{-1}` and the R-transform
  :math:`R(-\chi)=1/\chi-\gamma` where :math:`g(\gamma)=\chi`. An exact Marchenko-Pastur law
  (:math:`R(z)=\alpha/(1-z)`) is available as a named ensemble and reduces the theory to the
  i.i.d. one.
* :class:`CovarianceDesign`: rows :math:`a\sim\mathcal N(0,\Sigma/N)` with one covariance
  :math:`\Sigma` shared by all datasets (Celentano, Montanari & Wei, arXiv:2007.13716, for one
  stage; :mod:`replica.covariance` for both stages).

Both can draw finite instances of their ensemble (numpy only), for simulations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from replica import checks

__all__ = [
    "Spectrum",
    "SpectralDesign",
    "CovarianceDesign",
    "haar_orthogonal",
    "column_kurtosis",
]


def _readonly(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


MAX_ENTRIES = 500_000_000
"""Largest dense array (entries, 4 GB of float64) a design function agrees to allocate."""


def check_count(name: str, value, low: int = 1) -> int:
    """``value`` as an int >= ``low`` (``3`` or ``3.0``; not ``2.5``, a bool, a string or NaN)."""
    return checks.integer(name, value, low=low)


def check_number(name: str, value) -> float:
    """``value`` as a float: a real number (not a bool, string, complex or NaN); inf allowed."""
    return checks.real(name, value, allow_inf=True)


MAX_REPLICATED_FEATURES = 8192  # CovarianceDesign.replicated: ~2 min of eigh on one core


def check_size(what: str, *shape: int) -> None:
    """Refuse a dense array of more than :data:`MAX_ENTRIES` entries (name the shape)."""
    if math.prod(shape) > MAX_ENTRIES:
        raise ValueError(f"{what}: an array of shape {shape} ({math.prod(shape):.3g} entries) is "
                         f"too large (at most {MAX_ENTRIES:.0e})")


def as_rng(rng) -> np.random.Generator:
    """``numpy.random.default_rng(rng)`` for a Generator, a seed or None, or a ValueError."""
    return checks.as_generator(rng)


def real_matrix(name: str, value) -> np.ndarray:
    """``value`` as a float64 array of real numbers (strings, complex, objects refused)."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a regular array of numbers") from None
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected real numbers, got {raw.dtype} entries")
    return raw.astype(np.float64)


def haar_orthogonal(n: int, rng=None) -> np.ndarray:
    """A Haar-distributed ``n x n`` orthogonal matrix (QR of a Gaussian matrix, sign-fixed)."""
    n = check_count("n", n)
    check_size("haar_orthogonal", n, n)
    rng = as_rng(rng)
    z = rng.standard_normal((n, n))
    q, r = np.linalg.qr(z)
    return q * np.sign(np.diag(r))


@dataclass(frozen=True, eq=False)
class Spectrum:
    r"""Spectrum of :math:`A^\top A` for one dataset (N eigenvalues, zeros included).

    Parameters
    ----------
    eigenvalues : array_like, shape (N,), optional
        Eigenvalues of :math:`A^\top A` for a design normalised like the i.i.d. theory
        (entries of variance :math:`1/N`, so that :math:`\frac1N\mathrm{tr}A^\top A\approx
        M/N`). Must be finite and :math:`\ge0`. Exactly one of ``eigenvalues`` and
        ``mp_ratio`` is given.
    mp_ratio : float, optional
        Use the exact Marchenko-Pastur law of an i.i.d. :math:`\mathcal N(0,1/N)` design with
        :math:`M/N=` ``mp_ratio`` (R-transform :math:`\alpha/(1-z)`).
    name : str
        Label (for tables).
    """

    eigenvalues: np.ndarray | None = None
    mp_ratio: float | None = None
    name: str = "empirical"
    n_zero: int = field(init=False, repr=False, default=0)
    positive: np.ndarray | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        if (self.eigenvalues is None) == (self.mp_ratio is None):
            raise ValueError("Spectrum: give exactly one of eigenvalues and mp_ratio")
        if self.mp_ratio is not None:
            a = check_number("mp_ratio", self.mp_ratio)
            if not (math.isfinite(a) and a > 0):
                raise ValueError(f"mp_ratio = {self.mp_ratio}: must be positive and finite")
            object.__setattr__(self, "mp_ratio", a)
            if self.name == "empirical":
                object.__setattr__(self, "name", "marchenko_pastur")
            return
        ev = real_matrix("eigenvalues", self.eigenvalues)
        if ev.ndim != 1 or ev.size < 2:
            raise ValueError(f"eigenvalues: expected a 1-D array of N >= 2 values, got shape "
                             f"{ev.shape}")
        if np.any(np.isnan(ev)):
            raise ValueError(f"eigenvalues: {int(np.isnan(ev).sum())} NaN values; the spectrum "
                             "of A^T A must be finite")
        if not np.all(np.isfinite(ev)):
            raise ValueError("eigenvalues: infinite values; the spectrum of A^T A must be finite")
        scale = max(1.0, float(np.max(np.abs(ev))))
        if ev.min() < -1e-9 * scale:
            raise ValueError(f"eigenvalues: smallest value {ev.min():.3g} < 0; eigenvalues of "
                             "A^T A must be >= 0")
        ev = np.sort(np.clip(ev, 0.0, None))
        if ev[-1] <= 0:
            raise ValueError("eigenvalues: all zero (an empty design)")
        tiny = 1e-12 * ev[-1]
        object.__setattr__(self, "eigenvalues", _readonly(ev))
        object.__setattr__(self, "n_zero", int(np.sum(ev <= tiny)))
        object.__setattr__(self, "positive", _readonly(ev[ev > tiny]))

    # constructors ---------------------------------------------------------------------
    @classmethod
    def marchenko_pastur(cls, alpha: float) -> Spectrum:
        """Exact Marchenko-Pastur law of an i.i.d. design with ``M/N = alpha``."""
        return cls(mp_ratio=alpha)

    @classmethod
    def from_design(cls, A, name: str = "empirical") -> Spectrum:
        r"""Eigenvalues of :math:`A^\top A` of a design ``A`` of shape ``(M, N)`` (as given:
        normalise columns to variance :math:`1/N` first to match the i.i.d. convention)."""
        A = real_matrix("design", A)
        if A.ndim != 2 or A.size == 0:
            raise ValueError(f"design: expected a non-empty 2-D array (M, N), got shape "
                             f"{A.shape}")
        if not np.all(np.isfinite(A)):
            raise ValueError("design: contains NaN or infinite entries")
        s = np.linalg.svd(A, compute_uv=False)
        ev = np.zeros(A.shape[1])
        ev[: s.size] = s**2
        return cls(eigenvalues=ev, name=name)

    @classmethod
    def geometric(cls, alpha: float, n_features: int, condition: float = 100.0) -> Spectrum:
        r"""``M = round(alpha N)`` non-zero eigenvalues spaced geometrically over a range of
        ratio ``condition``, scaled to :math:`\frac1N\sum\lambda_i=M/N` (as an i.i.d. design)."""
        n, m = cls._sizes(alpha, n_features)
        if not (check_number("condition", condition) >= 1) or math.isinf(condition):
            raise ValueError(f"condition = {condition}: must be >= 1")
        ev = np.zeros(n)
        ev[:m] = np.geomspace(1.0, 1.0 / condition, m)
        ev *= m / ev.sum()
        return cls(eigenvalues=ev, name=f"geometric(cond={condition:g})")

    @classmethod
    def power_law(cls, alpha: float, n_features: int, exponent: float = 1.0) -> Spectrum:
        r"""``M`` non-zero eigenvalues :math:`\propto j^{-\text{exponent}}`, ``j = 1..M``,
        scaled to :math:`\frac1N\sum\lambda_i=M/N`."""
        n, m = cls._sizes(alpha, n_features)
        if not (check_number("exponent", exponent) >= 0) or math.isinf(exponent):
            raise ValueError(f"exponent = {exponent}: must be >= 0")
        ev = np.zeros(n)
        ev[:m] = np.arange(1, m + 1, dtype=float) ** (-float(exponent))
        ev *= m / ev.sum()
        return cls(eigenvalues=ev, name=f"power_law({exponent:g})")

    @staticmethod
    def _sizes(alpha, n_features):
        n = check_count("n_features", n_features, 2)
        check_size("n_features", n)
        a = check_number("alpha", alpha)
        if not (math.isfinite(a) and a > 0):
            raise ValueError(f"alpha = {alpha}: must be positive and finite")
        return n, min(n, max(1, int(round(a * n))))

    # properties -----------------------------------------------------------------------
    @property
    def is_exact_mp(self) -> bool:
        return self.mp_ratio is not None

    @property
    def n_features(self) -> int | None:
        return None if self.eigenvalues is None else int(self.eigenvalues.size)

    @property
    def alpha(self) -> float:
        r""":math:`\frac1N\mathrm{tr}A^\top A` (equals M/N for an i.i.d.-normalised design)."""
        if self.mp_ratio is not None:
            return self.mp_ratio
        return float(self.eigenvalues.mean())

    def kernel_arrays(self):
        """(kind, positive eigenvalues, zero fraction, mp ratio) for the numba kernels."""
        if self.mp_ratio is not None:
            return 1, np.zeros(1), 0.0, self.mp_ratio
        n = self.eigenvalues.size
        return 0, np.ascontiguousarray(self.positive), self.n_zero / n, 0.0

    def r_transform(self, chi: float):
        r"""Return :math:`(R(-\chi), R'(-\chi))` (docs, section 1).

        :math:`\gamma>0` solves :math:`\frac1N\sum_i(\lambda_i+\gamma)^{-1}=\chi`,
        :math:`R=1/\chi-\gamma`, :math:`R'=1/\chi^2-1/s_2` with
        :math:`s_2=\frac1N\sum_i(\lambda_i+\gamma)^{-2}`.
        """
        from replica.rotinv import spectral_r

        chi = check_number("chi", chi)
        if not (0 < chi < math.inf):
            raise ValueError(f"chi = {chi}: must be positive and finite")
        kind, ev, z, a = self.kernel_arrays()
        r, rp, _ = spectral_r(kind, ev, z, a, float(chi), -1.0)
        return float(r), float(rp)

    def sample_design(self, n_rows: int, rng=None) -> np.ndarray:
        r"""A finite instance :math:`A=U\,\mathrm{diag}(\sqrt\lambda)\,V^\top` with Haar U, V.

        ``n_rows`` = M must be at least the number of non-zero eigenvalues.
        """
        if self.eigenvalues is None:
            raise ValueError("sample_design: an exact Marchenko-Pastur spectrum has no finite "
                             "instance; use Spectrum.from_design of a Gaussian matrix")
        m = check_count("n_rows", n_rows)
        rng = as_rng(rng)
        n = self.eigenvalues.size
        pos = self.positive[::-1]
        if m < pos.size:
            raise ValueError(f"n_rows = {n_rows}: fewer than the {pos.size} non-zero "
                             "eigenvalues of the spectrum")
        v = haar_orthogonal(n, rng)
        u = haar_orthogonal(m, rng)[:, : pos.size]
        return (u * np.sqrt(pos)) @ v[:, : pos.size].T


@dataclass(frozen=True, eq=False)
class SpectralDesign:
    """One :class:`Spectrum` per dataset (index 0: target), rotations independent across
    datasets ("free blocks", docs section 2)."""

    spectra: tuple

    def __post_init__(self) -> None:
        if isinstance(self.spectra, Spectrum):
            sp = (self.spectra,)
        elif isinstance(self.spectra, list | tuple):
            sp = tuple(self.spectra)
        else:
            raise ValueError(f"spectra = {self.spectra!r}: expected a Spectrum or a tuple of "
                             "them (index 0: target)")
        if not sp:
            raise ValueError("spectra: need at least one Spectrum")
        for k, s in enumerate(sp):
            if not isinstance(s, Spectrum):
                raise ValueError(f"spectra[{k}]: expected a Spectrum, got {type(s).__name__}")
        sizes = {s.n_features for s in sp if s.n_features is not None}
        if len(sizes) > 1:
            raise ValueError(f"spectra: eigenvalue counts differ across datasets ({sorted(sizes)});"
                             " every spectrum must have N eigenvalues")
        object.__setattr__(self, "spectra", sp)

    @property
    def n_datasets(self) -> int:
        return len(self.spectra)

    def check_scenario(self, scenario) -> None:
        """ValueError if the number of spectra differs from the scenario's datasets."""
        if not hasattr(scenario, "n_datasets"):
            raise ValueError(f"scenario: expected a TransferScenario, got "
                             f"{type(scenario).__name__}")
        if scenario.n_datasets != self.n_datasets:
            raise ValueError(f"design: {self.n_datasets} spectra for a scenario with "
                             f"{scenario.n_datasets} datasets (alphas = {scenario.alphas})")


def _check_sigma(sigma) -> np.ndarray:
    s = real_matrix("sigma", sigma)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or s.shape[0] < 2:
        raise ValueError(f"sigma: expected a square (N, N) matrix with N >= 2, got shape {s.shape}")
    if np.any(np.isnan(s)):
        raise ValueError("sigma: contains NaN entries")
    if not np.all(np.isfinite(s)):
        raise ValueError("sigma: contains infinite entries")
    scale = max(1e-300, float(np.max(np.abs(s))))
    asym = float(np.max(np.abs(s - s.T)))
    if asym > 1e-10 * scale:
        raise ValueError(f"sigma: not symmetric (max |S - S^T| = {asym:.3g}); a covariance must "
                         "be symmetric positive semi-definite")
    return 0.5 * (s + s.T)


@dataclass(frozen=True, eq=False)
class CovarianceDesign:
    r"""Rows :math:`a\sim\mathcal N(0,\Sigma/N)`, one :math:`\Sigma` for every dataset.

    Parameters
    ----------
    sigma : array_like, shape (N, N)
        Symmetric positive semi-definite covariance (a correlation matrix, unit diagonal,
        matches the i.i.d. normalisation; :math:`\Sigma=I` is the i.i.d. design).
    name : str
        Label.
    """

    sigma: np.ndarray
    name: str = "covariance"
    eigvals: np.ndarray = field(init=False, repr=False)
    root: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        s = _check_sigma(self.sigma)
        ev, vec = np.linalg.eigh(s)
        if ev.min() < -1e-8 * max(1.0, ev.max()):
            raise ValueError(f"sigma: not positive semi-definite (smallest eigenvalue "
                             f"{ev.min():.3g})")
        ev = np.clip(ev, 0.0, None)
        if ev.max() <= 0:
            raise ValueError("sigma: the zero matrix is not a usable covariance")
        object.__setattr__(self, "sigma", _readonly(s))
        object.__setattr__(self, "eigvals", _readonly(ev))
        object.__setattr__(self, "root", _readonly((vec * np.sqrt(ev)) @ vec.T))

    @property
    def n_features(self) -> int:
        return int(self.sigma.shape[0])

    @classmethod
    def from_rows(cls, X, name: str = "empirical covariance") -> CovarianceDesign:
        """Correlation matrix of the columns of ``X`` (rows = samples); constant columns are
        rejected (their correlation is undefined)."""
        X = real_matrix("design", X)
        if X.ndim != 2 or X.shape[0] < 2:
            raise ValueError(f"design: expected a 2-D array with >= 2 rows, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("design: contains NaN or infinite entries")
        sd = X.std(axis=0)
        bad = np.flatnonzero(sd <= 1e-12 * max(1.0, float(np.abs(X).max())))
        if bad.size:
            raise ValueError(f"design: {bad.size} constant columns (e.g. column {bad[0]}); drop "
                             "them first")
        return cls(np.corrcoef(X, rowvar=False), name=name)

    def replicated(self, r: int) -> CovarianceDesign:
        r"""Block-diagonal :math:`\Sigma_r=I_r\otimes\Sigma` (N r features, r independent copies).

        A row of :math:`\Sigma_r` is r independent rows of :math:`\Sigma` side by side. In the
        Sigma theory (docs ``translasso_real_designs.md`` section 4) the N r-dimensional
        effective Lasso problems then split into r independent N-dimensional ones with the
        same conjugate parameters, so every per-coordinate prediction is that of
        :math:`\Sigma`, while finite-size effects of a simulation at N r features are smaller
        (docs section 6.2, finite-size study). ``r = 1`` returns ``self``.
        """
        r = check_count("r", r)
        if r == 1:
            return self
        n = self.n_features * r
        check_size(f"replicated (r = {r})", n, n)
        if n > MAX_REPLICATED_FEATURES:  # the dense eigendecomposition would take many minutes
            raise ValueError(f"r = {r}: N r = {n} features exceeds {MAX_REPLICATED_FEATURES} "
                             f"(the {n} x {n} eigendecomposition would take many minutes; the "
                             "Sigma theory of I_r x Sigma is that of Sigma anyway)")
        return CovarianceDesign(np.kron(np.eye(r), self.sigma), name=f"{self.name} x{r}")

    def check_scenario(self, scenario, n_features: int | None = None) -> None:
        """ValueError if ``n_features`` (when given) differs from Sigma's size."""
        if n_features is not None and check_count("n_features", n_features) != self.n_features:
            raise ValueError(f"design: Sigma is {self.n_features} x {self.n_features} but "
                             f"N = {n_features} features were asked for")

    def sample_design(self, n_rows: int, rng=None) -> np.ndarray:
        r"""``n_rows`` rows :math:`a=\Sigma^{1/2}z/\sqrt N`, :math:`z\sim\mathcal N(0,I)`."""
        m = check_count("n_rows", n_rows)
        n = self.n_features
        check_size("sample_design", m, n)
        rng = as_rng(rng)
        return rng.standard_normal((m, n)) @ self.root / math.sqrt(n)


def column_kurtosis(X) -> np.ndarray:
    r"""Standardised (non-excess) kurtosis :math:`\mathbb E[(x-\bar x)^4]/\mathrm{Var}(x)^2`
    of each column (3 for a Gaussian column; constant columns give ``inf``)."""
    X = real_matrix("design", X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"design: expected a 2-D array with rows, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("design: contains NaN or infinite entries")
    c = X - X.mean(axis=0)
    v = (c**2).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = (c**4).mean(axis=0) / v**2
    return np.where(v > 0, k, np.inf)
