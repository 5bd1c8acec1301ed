r"""D2D power control: layouts, channel model, rates and the classical baselines.

Setting A of Cui & Yu (arXiv:2404.00505, Sec. V; see ``docs/reconstruction_transfer.md``):
``N = 10`` links in a 150 m x 150 m square, direct links of 5-25 m, carrier 50 GHz, antenna
heights 1.5 m, bandwidth 5 MHz, noise -150 dBm/Hz, maximum power 30 dBm, 0 dB SINR gap.

Convention: ``g[..., i, j]`` is the linear gain from transmitter ``j`` to receiver ``i``;
powers ``p`` are fractions of the maximum power ``P`` in ``[0, 1]``.

.. math::

    \mathrm{SINR}_i = \frac{g_{ii} p_i P}{\sum_{j\ne i} g_{ij} p_j P + \sigma^2},\qquad
    R_i = B\log_2(1+\mathrm{SINR}_i).

Baselines: fractional programming (quadratic transform, Shen & Yu 2018) for the sum-rate,
max-min rate (the geometric program of the paper) by bisection over the common SINR (fast
path) or cvxpy's disciplined geometric programming (reference oracle), full and random power.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = [
    "D2DConfig",
    "path_loss_db",
    "generate_layouts",
    "channel_gains",
    "sinr",
    "rates",
    "sum_rate",
    "min_rate",
    "fp_power",
    "gp_power",
    "gp_power_cvxpy",
    "full_power",
    "random_power",
    "load_test_set",
]

_C_LIGHT = 2.998e8


@dataclass(frozen=True)
class D2DConfig:
    """Radio and geometry parameters (defaults: the paper's setting A).

    Attributes
    ----------
    n_links : int
        Number of D2D pairs ``N``.
    field : float
        Side of the square field in metres.
    d_min, d_max : float
        Range of direct-link lengths in metres (uniform).
    cross_min : float
        Minimum transmitter-to-other-receiver distance in metres.
    carrier_hz, tx_height, rx_height : float
        Carrier frequency and antenna heights (m) of the path-loss model.
    antenna_gain_db : float
        Gain added on direct links only.
    bandwidth_hz : float
    noise_dbm_hz : float
        Noise power spectral density.
    tx_power_dbm : float
        Maximum transmit power ``P``.
    shadowing_db : float
        Std of log-normal shadowing, applied only with ``fading=True``.
    fading : bool
        Add shadowing and Rayleigh fading. Off by default: the released data are path loss only.
    """

    n_links: int = 10
    field: float = 150.0
    d_min: float = 5.0
    d_max: float = 25.0
    cross_min: float = 5.0
    carrier_hz: float = 50e9
    tx_height: float = 1.5
    rx_height: float = 1.5
    antenna_gain_db: float = 6.0
    bandwidth_hz: float = 5e6
    noise_dbm_hz: float = -150.0
    tx_power_dbm: float = 30.0
    shadowing_db: float = 8.0
    fading: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.n_links, bool) or not isinstance(self.n_links, int) \
                or self.n_links < 2:
            raise ValueError(f"n_links = {self.n_links!r}: must be an integer >= 2")
        for name in ("field", "carrier_hz", "tx_height", "rx_height", "bandwidth_hz"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} = {v!r}: must be a positive finite number")
        for name in ("d_min", "cross_min", "shadowing_db"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} = {v!r}: distances and std must be >= 0")
        if not (self.d_max > self.d_min and self.d_max < self.field):
            raise ValueError(f"d_max = {self.d_max!r}: must lie in (d_min, field)")

    @property
    def noise_power(self) -> float:
        """Noise power ``sigma^2`` in watts (``-150 dBm/Hz x 5 MHz = 5e-12 W``)."""
        return 10 ** ((self.noise_dbm_hz - 30) / 10) * self.bandwidth_hz

    @property
    def tx_power(self) -> float:
        """Maximum transmit power ``P`` in watts."""
        return 10 ** ((self.tx_power_dbm - 30) / 10)


def path_loss_db(d, config: D2DConfig | None = None) -> np.ndarray:
    r"""Short-range LOS path loss in dB (ITU-R P.1411 two-slope form, as in the paper's code).

    .. math::

        R_{bp} = \frac{4h_th_r}{\lambda},\quad
        L_{bp} = \Big|20\log_{10}\frac{\lambda^2}{8\pi h_th_r}\Big|,\quad
        PL(d) = L_{bp} + 6 + 20\log_{10}\frac{d}{R_{bp}}
        + \mathbb 1[d > R_{bp}]\,20\log_{10}\frac{d}{R_{bp}} .

    Parameters
    ----------
    d : array_like
        Distances in metres, all positive.
    """
    cfg = config or D2DConfig()
    d = np.asarray(d, dtype=np.float64)
    if np.isnan(d).any():
        raise ValueError("distance d contains NaN")
    if (d <= 0).any():
        raise ValueError(f"distance d = {d.min()!r}: distances must be positive")
    lam = _C_LIGHT / cfg.carrier_hz
    r_bp = 4 * cfg.tx_height * cfg.rx_height / lam
    l_bp = abs(20 * np.log10(lam**2 / (8 * np.pi * cfg.tx_height * cfg.rx_height)))
    slope = 20 * np.log10(d / r_bp)
    return l_bp + 6 + slope + np.where(d > r_bp, slope, 0.0)


def generate_layouts(n_layouts: int, config: D2DConfig | None = None, *, seed=None):
    """Random layouts: transmitter and receiver positions and the distance matrices.

    Transmitters uniform in the square; each receiver at distance ``U[d_min, d_max]`` and
    uniform angle from its transmitter, redrawn until inside the square; all receivers of a
    layout are redrawn until every cross distance is at least ``cross_min``.

    Returns
    -------
    tx, rx : ndarray, shape (n_layouts, N, 2)
    dist : ndarray, shape (n_layouts, N, N)
        ``dist[s, i, j]`` = distance from transmitter ``j`` to receiver ``i``.
    """
    cfg = config or D2DConfig()
    n = _positive_int(n_layouts, "n_layouts")
    rng = np.random.default_rng(seed)
    N, L = cfg.n_links, cfg.field
    tx = rng.uniform(0, L, size=(n, N, 2))
    rx = np.empty_like(tx)
    todo = np.arange(n)
    for _ in range(10_000):
        rx[todo] = _draw_receivers(tx[todo], cfg, rng)
        dist = np.linalg.norm(rx[todo][:, :, None, :] - tx[todo][:, None, :, :], axis=-1)
        off = ~np.eye(N, dtype=bool)
        bad = (dist[:, off] < cfg.cross_min).any(axis=1)
        todo = todo[bad]
        if todo.size == 0:
            break
    else:  # pragma: no cover - needs a nearly infeasible geometry
        raise ValueError(f"cross_min = {cfg.cross_min}: could not place receivers")
    dist = np.linalg.norm(rx[:, :, None, :] - tx[:, None, :, :], axis=-1)
    return tx, rx, dist


def _draw_receivers(tx, cfg: D2DConfig, rng) -> np.ndarray:
    rx = np.empty_like(tx)
    mask = np.ones(tx.shape[:2], dtype=bool)
    while mask.any():
        k = int(mask.sum())
        r = rng.uniform(cfg.d_min, cfg.d_max, size=k)
        a = rng.uniform(0, 2 * np.pi, size=k)
        cand = tx[mask] + np.stack([r * np.cos(a), r * np.sin(a)], axis=-1)
        rx[mask] = cand
        inside = ((cand >= 0) & (cand <= cfg.field)).all(axis=-1)
        new_mask = np.zeros_like(mask)
        new_mask[mask] = ~inside
        mask = new_mask
    return rx


def channel_gains(dist, config: D2DConfig | None = None, *, seed=None) -> np.ndarray:
    r"""Linear channel gains ``g = 10^{(-PL(d) + G_a 1[i=j]) / 10}`` of distance matrices.

    With ``config.fading`` the gains are multiplied by log-normal shadowing (``shadowing_db``)
    and Rayleigh fading ``|h|^2``, ``h ~ CN(0, 1)``.

    Parameters
    ----------
    dist : array_like, shape (..., N, N)
        Positive distances; ``dist[..., i, j]`` from transmitter ``j`` to receiver ``i``.
    """
    cfg = config or D2DConfig()
    dist = np.asarray(dist, dtype=np.float64)
    N = cfg.n_links
    if dist.ndim < 2 or dist.shape[-2:] != (N, N):
        raise ValueError(f"dist has shape {dist.shape}: expected (..., {N}, {N})")
    gain_db = -path_loss_db(dist, cfg) + cfg.antenna_gain_db * np.eye(N)
    g = 10 ** (gain_db / 10)
    if cfg.fading:
        rng = np.random.default_rng(seed)
        shadow = 10 ** (rng.normal(0, cfg.shadowing_db, size=g.shape) / 10)
        fade = (rng.standard_normal(g.shape) ** 2 + rng.standard_normal(g.shape) ** 2) / 2
        g = g * shadow * fade
    return g


def _check_gains(g, config: D2DConfig) -> np.ndarray:
    g = np.asarray(g, dtype=np.float64)
    N = config.n_links
    if g.ndim < 2 or g.shape[-2:] != (N, N):
        raise ValueError(f"channel gains g have shape {g.shape}: expected (..., {N}, {N})")
    if np.isnan(g).any():
        raise ValueError("channel gains g contain NaN")
    if (g < 0).any():
        raise ValueError(f"channel gains g: min = {g.min()!r}, gains must be >= 0")
    if (np.diagonal(g, axis1=-2, axis2=-1) <= 0).any():
        raise ValueError("channel gains g: direct gains g[i, i] must be positive")
    return g


def _check_power(p, g: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    try:
        p = np.broadcast_to(p, g.shape[:-1])
    except ValueError:
        raise ValueError(f"powers p have shape {p.shape}: expected {g.shape[:-1]}") from None
    if np.isnan(p).any():
        raise ValueError("powers p contain NaN")
    if (p < 0).any() or (p > 1 + 1e-9).any():
        raise ValueError(f"powers p in [{p.min()!r}, {p.max()!r}]: powers must lie in [0, 1]")
    return p


def sinr(g, p, config: D2DConfig | None = None) -> np.ndarray:
    """SINR of every link, shape ``g.shape[:-1]`` (see the module docstring)."""
    cfg = config or D2DConfig()
    g = _check_gains(g, cfg)
    p = _check_power(p, g)
    P = cfg.tx_power
    rx = g * (p[..., None, :] * P)
    direct = np.diagonal(rx, axis1=-2, axis2=-1)
    return direct / (rx.sum(axis=-1) - direct + cfg.noise_power)


def rates(g, p, config: D2DConfig | None = None) -> np.ndarray:
    r"""Link rates :math:`B\log_2(1+\mathrm{SINR}_i)` in bit/s."""
    cfg = config or D2DConfig()
    return cfg.bandwidth_hz * np.log2(1 + sinr(g, p, cfg))


def sum_rate(g, p, config: D2DConfig | None = None) -> np.ndarray:
    """Sum of the link rates per layout (bit/s)."""
    return rates(g, p, config).sum(axis=-1)


def min_rate(g, p, config: D2DConfig | None = None) -> np.ndarray:
    """Smallest link rate per layout (bit/s)."""
    return rates(g, p, config).min(axis=-1)


def full_power(g) -> np.ndarray:
    """All links at maximum power."""
    return np.ones(np.shape(g)[:-1])


def random_power(g, *, seed=None) -> np.ndarray:
    """Powers drawn uniformly in ``[0, 1]``."""
    return np.random.default_rng(seed).uniform(size=np.shape(g)[:-1])


def fp_power(g, config: D2DConfig | None = None, *, n_iter: int = 150, init=None,
             return_history: bool = False):
    r"""Sum-rate power control by fractional programming (quadratic transform).

    Iterates, with unit weights and :math:`x_i\le 1` (Shen & Yu 2018; the paper's benchmark):

    .. math::

        z_i = \mathrm{SINR}_i(x),\quad
        y_i = \frac{\sqrt{(1+z_i)g_{ii}x_iP}}{\sum_j g_{ij}x_jP+\sigma^2},\quad
        x_i = \min\Big(1, \frac{y_i^2(1+z_i)g_{ii}P}{(\sum_j g_{ji}y_j^2P)^2}\Big).

    Each step maximises a concave surrogate that touches the sum-rate (in nats) at the current
    point, so the sum-rate never decreases.

    Parameters
    ----------
    g : array_like, shape (..., N, N)
    n_iter : int
        Number of iterations (150 as in the paper).
    init : array_like, optional
        Starting powers (default: full power).
    return_history : bool
        Also return the sum-rate (bit/s) after every iteration, shape ``(n_iter + 1, ...)``.
    """
    cfg = config or D2DConfig()
    g = _check_gains(g, cfg)
    n_iter = _positive_int(n_iter, "n_iter")
    x = full_power(g) if init is None else _check_power(init, g).copy()
    P, s2 = cfg.tx_power, cfg.noise_power
    gd = np.diagonal(g, axis1=-2, axis2=-1)
    hist = [sum_rate(g, x, cfg)] if return_history else None
    for _ in range(n_iter):
        total = (g * (x[..., None, :] * P)).sum(axis=-1) + s2
        z = gd * x * P / (total - gd * x * P)
        y = np.sqrt((1 + z) * gd * x * P) / total
        denom = np.einsum("...ji,...j->...i", g, y**2) * P
        x = np.minimum(1.0, y**2 * (1 + z) * gd * P / denom**2)
        if hist is not None:
            hist.append(sum_rate(g, x, cfg))
    return (x, np.stack(hist)) if return_history else x


def gp_power(g, config: D2DConfig | None = None, *, tol: float = 1e-10,
             max_iter: int = 200) -> np.ndarray:
    r"""Max-min SINR power control (the paper's GP), solved by bisection on the common SINR.

    For a target SINR :math:`\gamma` the smallest powers meeting it solve
    :math:`(I-\gamma F)p = \gamma u` with :math:`F_{ij}=g_{ij}/g_{ii}` (``i != j``) and
    :math:`u_i=\sigma^2/(P g_{ii})`; :math:`\gamma` is feasible iff the solution is positive
    and at most 1. The optimum equalises all SINRs and has ``max p = 1``. Same optimum as the
    geometric program ``max t s.t. t(sum_{j!=i} g_ij x_j + sigma^2/P) <= g_ii x_i, x <= 1``
    (:func:`gp_power_cvxpy` solves that GP directly).

    Returns
    -------
    ndarray, shape ``g.shape[:-1]``
        Optimal powers in ``(0, 1]``.
    """
    cfg = config or D2DConfig()
    g = _check_gains(g, cfg)
    N = cfg.n_links
    gd = np.diagonal(g, axis1=-2, axis2=-1)
    F = g / gd[..., :, None] * (1 - np.eye(N))
    u = cfg.noise_power / (cfg.tx_power * gd)
    lo = np.zeros(g.shape[:-2])
    hi = (1.0 / u).min(axis=-1)  # interference-free SINR of the weakest link at full power
    eye = np.eye(N)
    for _ in range(max_iter):
        mid = np.sqrt(lo * hi) if (lo > 0).all() else (lo + hi) / 2
        p = _powers_for(mid, F, u, eye)
        ok = np.isfinite(p).all(axis=-1) & (p > 0).all(axis=-1) & (p <= 1).all(axis=-1)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
        if ((hi - lo) <= tol * hi).all():
            break
    p = _powers_for(lo, F, u, eye)
    return np.clip(p / p.max(axis=-1, keepdims=True), 0.0, 1.0)


def _powers_for(gamma, F, u, eye):
    A = eye - gamma[..., None, None] * F
    with np.errstate(all="ignore"):
        try:
            return np.linalg.solve(A, (gamma[..., None] * u)[..., None])[..., 0]
        except np.linalg.LinAlgError:
            out = np.empty(u.shape)
            for idx in np.ndindex(u.shape[:-1]):
                try:
                    out[idx] = np.linalg.solve(A[idx], gamma[idx] * u[idx])
                except np.linalg.LinAlgError:
                    out[idx] = np.nan
            return out


def gp_power_cvxpy(g, config: D2DConfig | None = None, *, solver: str | None = None):
    """Max-min SINR powers of ONE layout by cvxpy's disciplined geometric programming.

    Solves ``max t`` s.t. ``t (sum_{j != i} g_ij x_j + sigma^2/P) <= g_ii x_i``, ``0 < x <= 1``
    (the paper's GP). Reference oracle for :func:`gp_power`.

    Parameters
    ----------
    g : array_like, shape (N, N)
    """
    import cvxpy as cp

    cfg = config or D2DConfig()
    g = _check_gains(g, cfg)
    N = cfg.n_links
    if g.shape != (N, N):
        raise ValueError(f"channel gains g have shape {g.shape}: expected ({N}, {N})")
    x = cp.Variable(N, pos=True)
    t = cp.Variable(pos=True)
    s = cfg.noise_power / cfg.tx_power
    cons = [x <= 1]
    for i in range(N):
        interf = sum(g[i, j] * x[j] for j in range(N) if j != i) + s
        cons.append(t * interf / (g[i, i] * x[i]) <= 1)
    prob = cp.Problem(cp.Maximize(t), cons)
    prob.solve(gp=True, solver=solver)
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise ArithmeticError(f"cvxpy GP status {prob.status}")
    return np.clip(np.asarray(x.value, dtype=np.float64), 0.0, 1.0)


def load_test_set() -> tuple[np.ndarray, np.ndarray]:
    """The authors' 2000 released test layouts and their GP powers (package data).

    Returns
    -------
    gains : ndarray, shape (2000, 10, 10)
        Linear gains, ``gains[s, i, j]`` from transmitter ``j`` to receiver ``i``
        (path loss only).
    gp_power : ndarray, shape (2000, 10)
        The authors' geometric-programming max-min powers (fractions of ``P``).
    See ``nets/reconstruction/data/README.md`` for the provenance.
    """
    root = resources.files("nets.reconstruction") / "data"
    with resources.as_file(root / "d2d_test_gains.npy") as f:
        gains = np.load(f)
    with resources.as_file(root / "d2d_gp_power.npy") as f:
        gp = np.load(f)
    return gains, gp


def _positive_int(v, name: str) -> int:
    if isinstance(v, bool) or int(v) != v or v < 1:
        raise ValueError(f"{name} = {v!r}: must be a positive integer")
    return int(v)
