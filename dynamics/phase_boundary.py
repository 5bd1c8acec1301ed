r"""Phase boundaries read off test-error grids, fitted exponents and theorem constants.

A grid holds the test error over (d, signal norm ``s``).  For each ``d`` the crossing of level
:math:`e` is located on the non-increasing (pool-adjacent-violators) fit of the error in ``s``,
and the **boundary** is where a least-squares parabola through the raw values of the 8 cells
around that crossing decreases through :math:`e` (NaN when the fit does not cross inside the
grid).

Theorem forms (Yuan et al. 2025, Theorems 4.2/4.3; Kou et al. 2023, Theorem 4.2), each with
the statistic :math:`g(d, s)` that the theorem compares with a constant:

* ``"thm43"`` (scratch; Kou): near-optimal if :math:`N\|u+v\|^4 \ge C_1'\sigma_p^4 d`, error
  :math:`\ge p + c` if :math:`N\|u+v\|^4 \le C_3'\sigma_p^4 d`; :math:`g = N\|u+v\|^4/(\sigma_p^4d)`
  and the fitted constant is :math:`C = g` on the boundary.
* ``"thm42"`` (transfer): near-optimal if :math:`d \le C_1 T`, error :math:`\ge 0.1` if
  :math:`d\ge C_3 T` (:math:`T` of :func:`dynamics.transfer_term`); the fitted constant is
  :math:`C = d/T` on the boundary.

The constant of a grid is the geometric mean over ``d`` of its value on the boundary; its
interval comes from a bootstrap (over seeds for simulated grids, parametric with the cell noise
for published means).  A contour at a near-optimal level (e.g. :math:`p + 0.1`) gives
:math:`C_1` / :math:`C_1'`, one at a clearly sub-optimal level (e.g. :math:`p + 0.2`) gives
:math:`C_3` / :math:`C_3'` (the levels are the user's choice and are reported with the fit;
``docs/cnn_phase.md``).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from dynamics.checks import check_count, check_real, float_array
from dynamics.cnn_theory import transfer_term
from dynamics.linear_reconstruction import check_data

__all__ = ["isotonic_decreasing", "boundary", "fit_exponent", "theorem_constant",
           "cell_noise_sd", "PhaseFit", "fit_phase", "THEOREMS"]

THEOREMS = ("thm43", "thm42")
_PARAMS = {"thm43": ("N", "sigma_p"), "thm42": ("alpha", "N1", "N2", "v2_norm", "sigma_p1",
                                                 "sigma_p2")}
MAX_BOOT = 100_000


def _check_level(level: float) -> float:
    if not (isinstance(level, (int, float, np.floating)) and 0 < level < 0.5):
        raise ValueError(f"level = {level!r}: a test-error threshold must lie in (0, 0.5)")
    return float(level)


def _check_d(d, name: str = "d") -> np.ndarray:
    d = check_data(name, d, 1)
    if np.any(d <= 0):
        raise ValueError(f"{name} = {d.tolist()}: dimensions must be positive")
    return d


def _check_params(theorem: str, params) -> dict:
    """``params`` as a dict of finite floats with the keys the theorem needs."""
    if not isinstance(params, dict):
        raise ValueError(f"params = {params!r}: must be a dict with keys {_PARAMS[theorem]}")
    missing = [k for k in _PARAMS[theorem] if k not in params]
    if missing:
        raise ValueError(f"params lacks {missing}: theorem {theorem} needs {_PARAMS[theorem]}")
    out = {k: check_real(f"params[{k!r}]", v) for k, v in params.items()
           if k in _PARAMS[theorem] or k == "v_norm"}
    for k in ("sigma_p", "sigma_p1", "sigma_p2", "N", "N1", "N2"):
        if k in out and out[k] <= 0:
            raise ValueError(f"params[{k!r}] = {out[k]}: must be positive")
    return out


def isotonic_decreasing(y: np.ndarray) -> np.ndarray:
    """Least-squares non-increasing fit of ``y`` (pool adjacent violators)."""
    vals: list[float] = []
    sizes: list[int] = []
    for v in check_data("y", y, 1):
        vals.append(v)
        sizes.append(1)
        while len(vals) > 1 and vals[-2] < vals[-1]:
            w = sizes[-2] + sizes[-1]
            vals[-2] = (vals[-2] * sizes[-2] + vals[-1] * sizes[-1]) / w
            sizes[-2] = w
            vals.pop()
            sizes.pop()
    return np.repeat(vals, sizes)


def _crossing(s: np.ndarray, row: np.ndarray, level: float, half_window: int = 4) -> float:
    """Crossing of ``level``: located on the isotonic fit, refined by a local quadratic fit."""
    fit = isotonic_decreasing(row)
    below = np.flatnonzero(fit <= level)
    if below.size == 0 or below[0] == 0:
        return np.nan
    i = below[0]
    e0, e1 = fit[i - 1], fit[i]
    coarse = float(s[i - 1] + (s[i] - s[i - 1]) * (e0 - level) / (e0 - e1))
    lo, hi = max(0, i - half_window), min(s.size, i + half_window)
    if hi - lo < 4:
        return coarse
    c2, c1, c0 = np.polyfit(s[lo:hi], row[lo:hi], 2)
    roots = np.roots([c2, c1, c0 - level])
    roots = roots[np.isreal(roots)].real
    roots = roots[(roots >= s[lo]) & (roots <= s[hi - 1])
                  & (2 * c2 * roots + c1 < 0)]  # a decreasing crossing inside the window
    if roots.size == 0:
        return coarse
    return float(roots[np.argmin(np.abs(roots - coarse))])


def boundary(grid: np.ndarray, s_values: np.ndarray, level: float) -> np.ndarray:
    """Signal norm where the error falls to ``level``, per row (``d``) of ``grid``.

    Parameters
    ----------
    grid : ndarray, shape (n_d, n_s)
        Test error; columns ordered by increasing ``s_values``.
    s_values : ndarray, shape (n_s,)
    level : float in (0, 0.5)

    Returns
    -------
    ndarray, shape (n_d,)
        NaN where the fitted error does not cross ``level`` inside the grid.
    """
    level = _check_level(level)
    grid = check_data("grid", grid, 2)
    s = check_data("s_values", s_values, 1)
    if grid.ndim != 2 or grid.shape[1] != s.size:
        raise ValueError(f"grid has shape {grid.shape}: expected (n_d, {s.size})")
    if np.any(np.diff(s) <= 0):
        raise ValueError("s_values must be strictly increasing")
    return np.array([_crossing(s, row, level) for row in grid])


def fit_exponent(d: np.ndarray, s_star: np.ndarray) -> tuple[float, float]:
    r"""Least-squares slope :math:`\beta` of :math:`\log s^* = \beta\log d + c` and its se.

    Theorem 4.3's form predicts :math:`\beta = 1/4`.
    """
    d = _check_d(d)
    s_star = float_array("s_star", s_star)
    if s_star.shape != d.shape:
        raise ValueError(f"s_star has shape {np.shape(s_star)}: expected {d.shape} (one per d)")
    ok = np.isfinite(s_star) & (s_star > 0)
    x, y = np.log(d[ok]), np.log(s_star[ok])
    if x.size < 3 or np.ptp(x) == 0:
        return np.nan, np.nan
    A = np.vstack([x, np.ones_like(x)]).T
    coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    s2 = float(resid @ resid) / (x.size - 2)
    se = np.sqrt(s2 / float(((x - x.mean()) ** 2).sum()))
    return float(coef[0]), float(se)


def theorem_constant(theorem: str, d, s_star, params: dict) -> np.ndarray:
    r"""Value of the theorem's constant on the boundary :math:`s^*(d)` (per ``d``).

    Parameters
    ----------
    theorem : {"thm43", "thm42"}
    d, s_star : ndarray
        Dimensions and boundary norms (the varied signal: Kou's :math:`\|\mu\|`, Yuan's
        :math:`\|u\|`).
    params : dict
        ``thm43``: ``N``, ``sigma_p``, ``v_norm`` (fixed task-specific norm, 0 for Kou).
        ``thm42``: ``alpha``, ``N1``, ``N2``, ``v2_norm``, ``sigma_p1``, ``sigma_p2``.
    """
    if theorem not in THEOREMS:
        raise ValueError(f"theorem = {theorem!r}: must be one of {THEOREMS}")
    params = _check_params(theorem, params)
    d = _check_d(d)
    s = float_array("s_star", s_star)
    if s.shape != d.shape:
        raise ValueError(f"s_star has shape {s.shape}: expected {d.shape} (one per d)")
    if theorem == "thm43":
        uv2 = s**2 + params.get("v_norm", 0.0) ** 2
        return params["N"] * uv2**2 / (params["sigma_p"] ** 4 * d)
    if theorem == "thm42":
        T = transfer_term(params["alpha"], params["N1"], params["N2"], s, params["v2_norm"],
                          params["sigma_p1"], params["sigma_p2"])
        return d / T
    raise ValueError(f"theorem = {theorem!r}: must be one of {THEOREMS}")


def cell_noise_sd(grid: np.ndarray, band=(0.15, 0.45)) -> float:
    r"""Noise sd of single cells of a grid of means, from second differences along ``d``.

    :math:`r_{t,s} = x_{t,s} - (x_{t-1,s}+x_{t+1,s})/2` has variance :math:`\tfrac32\sigma^2`
    where the mean is locally linear in ``d``; cells whose value lies in ``band`` are used.
    """
    x = check_data("grid", grid, 2)
    try:
        lo, hi = (check_real("band", b) for b in band)
    except (TypeError, ValueError):
        raise ValueError(f"band = {band!r}: must be a pair (lo, hi) of finite numbers") from None
    if not lo < hi:
        raise ValueError(f"band = {band!r}: need lo < hi")
    band = (lo, hi)
    r = x[1:-1] - 0.5 * (x[:-2] + x[2:])
    mid = x[1:-1]
    sel = (mid > band[0]) & (mid < band[1])
    if sel.sum() < 10:
        raise ValueError(f"only {int(sel.sum())} cells in the band {band}: cannot estimate "
                         "the cell noise")
    return float(np.sqrt(np.mean(r[sel] ** 2) / 1.5))


@dataclass(frozen=True, eq=False)
class PhaseFit:
    """Boundary at one error level, its exponent and the theorem constant, with intervals.

    Attributes are arrays over ``d`` (``boundary``, ``lo``, ``hi``: median-free point
    estimate and 95% bootstrap interval) and scalars (``exponent`` with 95% interval,
    ``constant`` = geometric mean over ``d`` of the theorem's constant on the boundary, with
    its 95% interval).  ``fitted_on`` says which grid.
    """

    level: float
    theorem: str
    d: np.ndarray
    boundary: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    exponent: float
    exponent_lo: float
    exponent_hi: float
    constant: float
    constant_lo: float
    constant_hi: float
    n_boot: int
    fitted_on: str

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in asdict(self).items()}

    def summary(self) -> dict:
        """Scalars only (one table row)."""
        return {k: v for k, v in self.to_dict().items() if not isinstance(v, list)}


def _summaries(grid, s, d, level, theorem, params):
    b = boundary(grid, s, level)
    beta, _ = fit_exponent(d, b)
    c = theorem_constant(theorem, d, b, params)
    ok = np.isfinite(c) & (c > 0)
    const = float(np.exp(np.mean(np.log(c[ok])))) if ok.any() else np.nan
    return b, beta, const


def fit_phase(grids, s_values, d_values, level, theorem, params, *, n_boot=200, rng=0,
              noise_sd=None, fitted_on="") -> PhaseFit:
    """Boundary, exponent and constant of a grid, with bootstrap intervals.

    Parameters
    ----------
    grids : ndarray, shape (n_seeds, n_d, n_s) or (n_d, n_s)
        Per-seed grids (bootstrap over seeds) or one grid of means (parametric bootstrap with
        ``noise_sd``, default :func:`cell_noise_sd` of the grid).
    s_values, d_values : ndarray
    level : float in (0, 0.5)
    theorem : {"thm43", "thm42"}
    params : dict
        See :func:`theorem_constant`.
    n_boot : int
    rng : seed or Generator
    fitted_on : str
        Description of the grid, stored with the fit.
    """
    level = _check_level(level)
    if theorem not in THEOREMS:
        raise ValueError(f"theorem = {theorem!r}: must be one of {THEOREMS}")
    n_boot = check_count("n_boot", n_boot, 1)
    if n_boot > MAX_BOOT:
        raise ValueError(f"n_boot = {n_boot}: must be <= {MAX_BOOT}")
    if noise_sd is not None:
        noise_sd = check_real("noise_sd", noise_sd, positive=True)
    g = float_array("grids", grids)
    d = _check_d(d_values, "d_values")
    s_values = check_data("s_values", s_values, 1)
    if g.ndim == 2:
        g = g[None]
    if g.ndim != 3 or g.shape[1:] != (d.size, np.size(s_values)) or g.shape[0] == 0:
        raise ValueError(f"grids has shape {np.shape(grids)}: expected (n_seeds >= 1, {d.size}, "
                         f"{np.size(s_values)}) or ({d.size}, {np.size(s_values)})")
    check_data("grids", g.reshape(g.shape[0], -1))
    params = _check_params(theorem, params)
    try:
        rng = np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise ValueError(f"rng = {rng!r}: give a non-negative integer seed, a numpy "
                         "Generator or None") from None
    mean = g.mean(axis=0)
    b, beta, const = _summaries(mean, s_values, d, level, theorem, params)
    if g.shape[0] == 1 and noise_sd is None:
        noise_sd = cell_noise_sd(mean)
    boots_b, boots_beta, boots_c = [], [], []
    for _ in range(n_boot):
        if g.shape[0] > 1:
            gb = g[rng.integers(0, g.shape[0], g.shape[0])].mean(axis=0)
        else:
            gb = mean + noise_sd * rng.standard_normal(mean.shape)
        bb, be, cc = _summaries(gb, s_values, d, level, theorem, params)
        boots_b.append(bb)
        boots_beta.append(be)
        boots_c.append(cc)
    with warnings.catch_warnings():  # d without a crossing in every resample: NaN interval
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanpercentile(np.array(boots_b), [2.5, 97.5], axis=0)
        beta_lo, beta_hi = np.nanpercentile(boots_beta, [2.5, 97.5])
        c_lo, c_hi = np.nanpercentile(boots_c, [2.5, 97.5])
    return PhaseFit(level=level, theorem=theorem, d=d, boundary=b, lo=lo, hi=hi,
                    exponent=beta, exponent_lo=float(beta_lo), exponent_hi=float(beta_hi),
                    constant=const, constant_lo=float(c_lo), constant_hi=float(c_hi),
                    n_boot=int(n_boot), fitted_on=fitted_on)
