r"""MISO downlink beamforming (source) -> UE localization (target) from uplink pilots.

Cui & Yu (arXiv:2404.00505, Sec. V-C). Three base stations at (0,0,50), (0,100,50) and
(100,0,50) m with 4 x 4 planar arrays; one single-antenna UE uniform in [10, 90]^2 at z = 0.
For BS ``b`` with distance :math:`d_b` and direction cosines
:math:`s_b=(x-x_b)/d_b`, :math:`t_b=(y-y_b)/d_b`, antenna :math:`k=4m+n`:

.. math::

    [\mathbf a_b]_k = e^{j(m s_b + n t_b)},\qquad
    \mathbf h_b = 10^{-PL(d_b)/20}\Big(\sqrt{\tfrac{\kappa}{1+\kappa}}\mathbf a_b
    + \sqrt{\tfrac{1}{1+\kappa}}\mathbf h^{\rm NLOS}_b\Big),\quad
    PL(d) = 32.6 + 36.7\log_{10} d\ \text{dB},

with :math:`\kappa=10` and :math:`\mathbf h^{\rm NLOS}_b\sim\mathcal{CN}(0,\mathbf I)`. Uplink
pilots :math:`y_{b,\ell}=\mathbf w_{b,\ell}^H\mathbf h_b x_\ell+n_{b,\ell}` through fixed
unit-norm sensing vectors, ``L = 4`` pilots of power 30 dBm, noise of constant modulus
:math:`\sigma` (a quirk of the released code), :math:`\sigma^2` = -150 dBm/Hz x 5 MHz.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["MISOConfig", "MISOSystem", "MISOSamples", "miso_path_loss_db", "steering",
           "channels", "make_system", "generate_samples", "mrt", "beamforming_gain"]


@dataclass(frozen=True)
class MISOConfig:
    """Geometry and radio parameters (defaults: the paper's setting)."""

    bs_positions: tuple = ((0.0, 0.0, 50.0), (0.0, 100.0, 50.0), (100.0, 0.0, 50.0))
    array_side: int = 4
    ue_low: float = 10.0
    ue_high: float = 90.0
    rician_k: float = 10.0
    n_pilots: int = 4
    ue_power_dbm: float = 30.0
    bs_power_dbm: float = 40.0
    noise_dbm_hz: float = -150.0
    bandwidth_hz: float = 5e6

    def __post_init__(self) -> None:
        pos = np.asarray(self.bs_positions, dtype=float)
        if pos.ndim != 2 or pos.shape[1] != 3 or len(pos) < 1:
            raise ValueError(f"bs_positions has shape {pos.shape}: expected (n_bs, 3)")
        for name in ("array_side", "n_pilots"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} = {v!r}: must be a positive integer")
        if not self.rician_k >= 0:
            raise ValueError(f"rician_k = {self.rician_k!r}: Rician factor must be >= 0")
        if not 0 <= self.ue_low < self.ue_high:
            raise ValueError(f"ue_low, ue_high = {self.ue_low}, {self.ue_high}: need "
                             "0 <= ue_low < ue_high")

    @property
    def n_bs(self) -> int:
        return len(self.bs_positions)

    @property
    def n_antennas(self) -> int:
        return self.array_side**2

    @property
    def noise_power(self) -> float:
        return 10 ** ((self.noise_dbm_hz - 30) / 10) * self.bandwidth_hz


def miso_path_loss_db(d) -> np.ndarray:
    """Path loss ``32.6 + 36.7 log10(d)`` dB of positive distances ``d`` (m)."""
    d = np.asarray(d, dtype=np.float64)
    if np.isnan(d).any() or (d <= 0).any():
        raise ValueError(f"distance d = {np.nanmin(d) if d.size else d!r}: distances must "
                         "be positive (and not NaN)")
    return 32.6 + 36.7 * np.log10(d)


def _geometry(ue: np.ndarray, config: MISOConfig):
    ue = np.asarray(ue, dtype=np.float64)
    if ue.ndim != 2 or ue.shape[1] != 2:
        raise ValueError(f"ue positions have shape {ue.shape}: expected (n, 2)")
    bs = np.asarray(config.bs_positions)
    diff = np.concatenate([ue, np.zeros((len(ue), 1))], axis=1)[:, None, :] - bs[None]
    d = np.linalg.norm(diff, axis=-1)
    return d, diff[..., 0] / d, diff[..., 1] / d


def steering(s, t, array_side: int = 4) -> np.ndarray:
    """Planar-array response ``exp(j(m s + n t))``, ``k = side * m + n``; shape (..., side^2)."""
    m, n = np.divmod(np.arange(array_side**2), array_side)
    s = np.asarray(s, dtype=np.float64)[..., None]
    t = np.asarray(t, dtype=np.float64)[..., None]
    return np.exp(1j * (m * s + n * t))


def channels(ue, config: MISOConfig | None = None, *, seed=None):
    """Rician channels of UE positions ``ue`` (n, 2): ``h`` (n, n_bs, M) and the factors.

    Returns
    -------
    h : complex ndarray, shape (n, n_bs, n_antennas)
    factors : ndarray, shape (n, 3 * n_bs)
        ``(d_b, s_b, t_b)`` per BS, the common information.
    """
    cfg = config or MISOConfig()
    rng = np.random.default_rng(seed)
    d, s, t = _geometry(ue, cfg)
    a = steering(s, t, cfg.array_side)
    shape = a.shape
    nlos = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)
    k = cfg.rician_k
    amp = 10 ** (-miso_path_loss_db(d) / 20)[..., None]
    h = amp * (np.sqrt(k / (1 + k)) * a + np.sqrt(1 / (1 + k)) * nlos)
    factors = np.stack([d, s, t], axis=-1).reshape(len(d), -1)
    return h, factors


@dataclass(frozen=True, eq=False)
class MISOSystem:
    """Fixed pilots ``x`` (L,) and unit-norm sensing vectors ``w`` (n_bs, L, M)."""

    config: MISOConfig
    pilots: np.ndarray
    sensing: np.ndarray


def make_system(config: MISOConfig | None = None, *, seed=123) -> MISOSystem:
    """Pilots with random phase and modulus ``sqrt(P_UE)``; random unit-norm sensing vectors."""
    cfg = config or MISOConfig()
    rng = np.random.default_rng(seed)
    L, M = cfg.n_pilots, cfg.n_antennas
    p_ue = 10 ** ((cfg.ue_power_dbm - 30) / 10)
    pilots = np.sqrt(p_ue) * np.exp(1j * rng.uniform(0, 2 * np.pi, L))
    w = rng.standard_normal((cfg.n_bs, L, M)) + 1j * rng.standard_normal((cfg.n_bs, L, M))
    w /= np.linalg.norm(w, axis=-1, keepdims=True)
    return MISOSystem(cfg, pilots, w)


@dataclass(frozen=True, eq=False)
class MISOSamples:
    """UE positions (n, 2), channels (n, n_bs, M), factors (n, 3 n_bs), pilots y (n, n_bs, L)."""

    ue: np.ndarray
    h: np.ndarray
    factors: np.ndarray
    y: np.ndarray = field(repr=False)


def generate_samples(n: int, system: MISOSystem, *, seed=None) -> MISOSamples:
    """``n`` random UEs, their channels and received uplink pilots."""
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n = {n!r}: must be a positive integer")
    cfg = system.config
    rng = np.random.default_rng(seed)
    ue = rng.uniform(cfg.ue_low, cfg.ue_high, size=(int(n), 2))
    h, factors = channels(ue, cfg, seed=rng)
    clean = np.einsum("blm,nbm->nbl", system.sensing.conj(), h) * system.pilots
    noise = np.sqrt(cfg.noise_power) * np.exp(1j * rng.uniform(0, 2 * np.pi, clean.shape))
    return MISOSamples(ue, h, factors, clean + noise)


def mrt(h) -> np.ndarray:
    """Maximum-ratio beamformers ``h_b / ||h_b||``."""
    h = np.asarray(h)
    return h / np.linalg.norm(h, axis=-1, keepdims=True)


def beamforming_gain(h, v) -> np.ndarray:
    r"""Per-BS gains :math:`G_b=|\mathbf h_b^H\mathbf v_b|^2`, shape (n, n_bs)."""
    h, v = np.asarray(h), np.asarray(v)
    if h.shape != v.shape:
        raise ValueError(f"beamformers v have shape {v.shape}: expected the channel shape "
                         f"{h.shape}")
    return np.abs(np.sum(h.conj() * v, axis=-1)) ** 2
