r"""Single-task setting of Kou et al. (2023): label flips, unprojected noise, two patches.

Kou, Chen, Chen & Gu, *Benign Overfitting in Two-layer ReLU Convolutional Neural Networks*,
ICML 2023, §3 and their synthetic experiment (released code ``uclaml/Benign_ReLU_CNN``):

.. math::

    \hat y\sim\mathrm{Rad}(1/2),\quad y = \hat y \text{ w.p. } 1-p,\ -\hat y \text{ otherwise},
    \quad \xi\sim N(0,\sigma_p^2 I_d),\quad x = [\hat y\mu,\ \xi],\quad \mu = \|\mu\| e_1 .

The noise is *not* projected orthogonally to :math:`\mu` (their code leaves it unprojected).
The Bayes error is :math:`p`.

Their network differs from ours (``docs/cnn_theory.md`` §2) by its scaling: it averages over
the two patches and sums over the ``m`` filters, so its output is :math:`m/2` times ours for the
same weights.  Since
our :math:`f` is 1-homogeneous in the weights, their gradient descent on weights :math:`W` with
learning rate :math:`\eta_K` is our gradient descent on :math:`V = (m/2)W` with learning rate
:math:`\eta = (m/2)^2\eta_K`.  Their ``Conv1d`` (kernel ``d``, one input channel) uses PyTorch's
default initialisation :math:`W\sim U(-1/\sqrt d, 1/\sqrt d)`, i.e. :math:`V\sim
U(-(m/2)/\sqrt d, (m/2)/\sqrt d)` in our units (their bias is dropped: our network has none).
With ``m = 10`` and :math:`\eta_K = 0.1`: :math:`\eta = 2.5` and a uniform initialisation of
half-width :math:`5/\sqrt d` (see ``docs/cnn_phase.md``).  Their released test-error grid is
reproduced instead with a sum over the two patches (output :math:`m` times ours: ``pool="sum"``
in :meth:`KouSetting.published`, :math:`\eta = 10`, half-width :math:`10/\sqrt d`).

Their ``Conv1d`` also has a trained bias :math:`b_{j,r}` (initialised like the weights).  A bias
is exactly an extra input coordinate equal to 1 in every patch:
:math:`\sigma(\langle w,x^{(p)}\rangle + b) = \sigma(\langle [w,b],[x^{(p)},1]\rangle)`, and
gradient descent on :math:`b` is gradient descent on that coordinate; with ``bias=True`` the
patches are augmented that way (dimension ``d + 1``) and the same simulator runs unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from dynamics.checks import as_rng
from dynamics.cnn_setting import TaskSample

__all__ = ["KouSetting", "KOU_INITS", "KOU_POOLS", "sample_kou", "draw_kou", "kou_init"]

KOU_INITS = ("pytorch", "gaussian")
KOU_POOLS = ("mean", "sum")


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} = {value!r}: must be an integer >= {minimum}")


def _check_real(name: str, value, *, positive: bool = False, nonneg: bool = False) -> None:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.number))
    if not ok or not np.isfinite(value):
        raise ValueError(f"{name} = {value!r}: must be a finite real number")
    if (positive and not value > 0) or (nonneg and not value >= 0):
        raise ValueError(f"{name} = {value}: must be {'positive' if positive else '>= 0'}")


@dataclass(frozen=True)
class KouSetting:
    r"""One cell of Kou et al.'s synthetic experiment, in this package's units.

    Defaults are their released script's values mapped into our units (see the module
    docstring): ``n = 20``, ``m = 10``, ``p = 0.1``, ``sigma_p = 1``, 100 full-batch steps at
    ``eta = 2.5``, PyTorch's default initialisation scaled by ``m/2``.

    Parameters
    ----------
    d : int
        Patch dimension (>= 2).
    mu_norm : float
        Signal strength :math:`\|\mu\|` (>= 0).
    n : int
        Training sample size.
    m : int
        Filters per class.
    sigma_p : float
        Noise standard deviation.
    flip_prob : float
        Label-flip probability in [0, 1/2).
    eta : float
        Learning rate in our units.
    steps : int
        Full-batch GD steps.
    init : {"pytorch", "gaussian"}
        ``"pytorch"``: :math:`U(-s/\sqrt d, s/\sqrt d)` with ``s = init_scale``;
        ``"gaussian"``: :math:`N(0, \sigma_0^2)`.
    init_scale : float
        Scale ``s`` of the PyTorch initialisation (their ``m/2 = 5``).
    sigma_0 : float
        Standard deviation of the Gaussian initialisation.
    bias : bool
        Trained bias per filter (their ``Conv1d``), as an extra input coordinate equal to 1
        (initialised like the weights; 0 with the Gaussian initialisation).
    """

    d: int = 500
    mu_norm: float = 3.0
    n: int = 20
    m: int = 10
    sigma_p: float = 1.0
    flip_prob: float = 0.1
    eta: float = 2.5
    steps: int = 100
    init: str = "pytorch"
    init_scale: float = 5.0
    sigma_0: float = 0.01
    bias: bool = False

    def __post_init__(self) -> None:
        _check_int("d", self.d, 2)
        _check_int("n", self.n, 1)
        _check_int("m", self.m, 1)
        _check_int("steps", self.steps, 0)
        for name, cap in (("d", 10**7), ("n", 10**7), ("m", 10**5), ("steps", 10**7)):
            if getattr(self, name) > cap:
                raise ValueError(f"{name} = {getattr(self, name)}: at most {cap:.0e}")
        if self.n * self.d > MAX_ENTRIES:
            raise ValueError(f"n = {self.n}, d = {self.d}: {self.n} x {self.d} noise draws are "
                             f"over the {MAX_ENTRIES:.0e} entries allowed")
        _check_real("mu_norm", self.mu_norm, nonneg=True)
        for name in ("sigma_p", "eta", "init_scale", "sigma_0"):
            _check_real(name, getattr(self, name), positive=True)
        _check_real("flip_prob", self.flip_prob)
        if not 0 <= self.flip_prob < 0.5:
            raise ValueError(f"flip_prob = {self.flip_prob}: label-flip probability must lie "
                             "in [0, 1/2)")
        if not isinstance(self.bias, (bool, np.bool_)):
            raise ValueError(f"bias = {self.bias!r}: must be True or False")
        if self.init not in KOU_INITS:
            raise ValueError(f"init = {self.init!r}: must be one of {KOU_INITS}")

    @classmethod
    def published(cls, d: int, mu_norm: float, *, lr: float = 0.1, m: int = 10,
                  pool: str = "mean", **changes) -> KouSetting:
        r"""Kou et al.'s script (``lr``, ``m``, PyTorch init, bias) mapped into our units.

        With their output :math:`c` times ours for the same weights, :math:`\eta = c^2\,
        \mathrm{lr}`, ``init_scale = c`` and ``bias = True``.  ``pool="mean"`` (their released
        ``syntheticrelu.py``: ``torch.mean`` over the two patches) gives :math:`c = m/2`;
        ``pool="sum"`` (a sum over the patches, i.e. an output twice as large) gives
        :math:`c = m`.  The released test-error grid matches ``"sum"``, not the released
        script (``docs/cnn_phase.md``, "Agreement with the published grid").
        """
        _check_int("m", m, 1)
        _check_real("lr", lr, positive=True)
        if pool not in KOU_POOLS:
            raise ValueError(f"pool = {pool!r}: must be one of {KOU_POOLS} (their patch "
                             "pooling)")
        c = m / 2 if pool == "mean" else float(m)
        kw = dict(d=d, mu_norm=mu_norm, m=m, eta=c**2 * lr, init_scale=c, bias=True)
        return cls(**{**kw, **changes})

    def replace(self, **changes) -> KouSetting:
        """Copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def signal(self) -> np.ndarray:
        r""":math:`\mu = \|\mu\| e_1`, shape (d,)."""
        mu = np.zeros(self.d)
        mu[0] = self.mu_norm
        return mu


MAX_ENTRIES = 500_000_000
"""Largest ``n x d`` draw (entries) :func:`sample_kou` agrees to allocate."""


def _check_draw(setting, n) -> None:
    if not isinstance(setting, KouSetting):
        raise ValueError(f"setting: expected a KouSetting, got {type(setting).__name__}")
    _check_int("n", n, 1)
    if n * (setting.d + 1) * 2 > MAX_ENTRIES:
        raise ValueError(f"n = {n}: {n} x 2 x {setting.d + 1} patches are over the "
                         f"{MAX_ENTRIES:.0e} entries allowed")


def sample_kou(setting: KouSetting, n: int, rng) -> TaskSample:
    """Draw ``n`` samples ``[yhat mu, xi]`` with flipped labels (Kou et al. 2023, §3).

    Returns a :class:`dynamics.TaskSample` with ``u = mu`` and ``v = 0``; with
    ``setting.bias`` the patches carry an extra last coordinate equal to 1 (shape
    ``(n, 2, d + 1)``; ``xi`` stays ``(n, d)``).
    """
    _check_draw(setting, n)
    rng = as_rng(rng, "rng")
    mu = setting.signal
    y_true, y, xi = draw_kou(setting, n, rng)
    patches = np.ones((n, 2, setting.d + int(setting.bias)))
    patches[:, 0, : setting.d] = y_true[:, None] * mu[None, :]
    patches[:, 1, : setting.d] = xi
    return TaskSample(patches=patches, y=y, y_true=y_true, xi=xi, u=mu, v=np.zeros(setting.d),
                      task=1, layout="A")


def draw_kou(setting: KouSetting, n: int, rng: np.random.Generator):
    """The random part of :func:`sample_kou` (same draws): true labels, labels, noises."""
    _check_draw(setting, n)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng = {rng!r}: expected a numpy.random.Generator")
    y_true = rng.choice(np.array([-1.0, 1.0]), size=n)
    y = np.where(rng.random(n) < setting.flip_prob, -y_true, y_true)
    xi = setting.sigma_p * rng.standard_normal((n, setting.d))
    return y_true, y, xi


def kou_init(setting: KouSetting, rng) -> np.ndarray:
    r"""Initial filters: scaled PyTorch default or :math:`N(0,\sigma_0^2)`.

    Shape (2, m, d), or (2, m, d + 1) with ``setting.bias`` (last coordinate: the bias; PyTorch
    draws it like the weights, :math:`U(-s/\sqrt d, s/\sqrt d)`; 0 with the Gaussian init).
    """
    if not isinstance(setting, KouSetting):
        raise ValueError(f"setting: expected a KouSetting, got {type(setting).__name__}")
    rng = as_rng(rng, "rng")
    shape = (2, setting.m, setting.d + int(setting.bias))
    if setting.init == "gaussian":
        W = setting.sigma_0 * rng.standard_normal(shape)
        if setting.bias:
            W[..., -1] = 0.0
        return W
    half = setting.init_scale / np.sqrt(setting.d)
    return rng.uniform(-half, half, size=shape)
