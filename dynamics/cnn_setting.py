r"""Two-task data model of parameter transfer in two-layer ReLU CNNs.

Yuan et al., *Towards Understanding Feature Learning in Parameter Transfer*, arXiv:2509.22056,
Definitions 3.1/3.2 (as summarised in ``docs/cnn_theory.md``, section 1),
built on Kou, Chen, Chen & Gu, ICML 2023 (label-flip noise).

Task :math:`k\in\{1,2\}` has a universal signal :math:`u` shared by both tasks and a
task-specific signal :math:`v_k`, mutually orthogonal.  A sample is drawn as

.. math::

    \hat y\sim\mathrm{Rad}(1/2),\quad y = \hat y\ \text{w.p. } 1-p_k,\ -\hat y\ \text{otherwise},
    \quad \xi\sim N(0, \sigma_{p,k}^2\Pi_k),\quad
    \Pi_k = I - \hat e_u\hat e_u^\top - \hat e_{v_k}\hat e_{v_k}^\top ,

with patches ``[yhat (u + v_k), xi]`` (layout "A", the default) or ``[yhat u, yhat v_k, xi]``
(layout "B", an alternative reading).  The projector uses the unit *directions*
:math:`\hat e` of the signals, which stay defined when a norm is zero (derived convention:
the limit :math:`\|u\|\to 0` of the paper's projector).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from dynamics.checks import check_int, check_real

__all__ = [
    "CNNTransferSetting",
    "TaskSample",
    "sample_task",
    "signal_vectors",
    "LAYOUTS",
    "TRANSFER_MODES",
]

LAYOUTS = ("A", "B")
TRANSFER_MODES = ("filter", "entry")


@dataclass(frozen=True)
class CNNTransferSetting:
    r"""Problem of Yuan et al. (arXiv:2509.22056): two tasks, one two-layer ReLU CNN each.

    Defaults are the paper's synthetic setting where the seed summary gives it (``d = 2000``,
    ``m = 40``, ``eta = 0.01``, ``sigma_0 = 0.01``, ``T1 = 800``, ``T2 = 400``); the sample
    sizes, noise levels and signal norms are not given there and are our choice.

    Parameters
    ----------
    d : int
        Patch dimension (>= 3: ``u``, ``v1``, ``v2`` need three orthogonal directions).
    m : int
        Filters per class (``2m`` filters in total).
    N1, N2 : int
        Training sample sizes of Task 1 (upstream) and Task 2 (downstream).
    sigma_p1, sigma_p2 : float
        Noise standard deviations :math:`\sigma_{p,k}` (``xi ~ N(0, sigma^2 Pi_k)``).
    u_norm, v1_norm, v2_norm : float
        :math:`\|u\|, \|v_1\|, \|v_2\|` (non-negative).
    flip_prob1, flip_prob2 : float
        Label-flip probabilities :math:`p_1, p_2 \in [0, 1/2)`; the Bayes error of task k is p_k.
    sigma_0 : float
        Initialisation scale, ``w ~ N(0, sigma_0^2 I)``.
    eta : float
        Learning rate of full-batch gradient descent (both stages).
    T1, T2 : int
        Gradient steps upstream / downstream.
    alpha : float
        Inherited proportion :math:`\alpha\in[0,1]`; ``alpha = 0`` is training from scratch.
    layout : {"A", "B"}
        "A": patches ``[yhat (u+v_k), xi]``; "B": ``[yhat u, yhat v_k, xi]``.
    v_cos : float
        Cosine between ``v1`` and ``v2`` (0: orthogonal, the paper's setting).
    transfer_mode : {"filter", "entry"}
        Inheritance of ``floor(alpha m)`` whole filters per class (default) or of a
        Bernoulli(alpha) mask of entries (Yuan et al. 2025, Algorithm 1).
    """

    d: int = 2000
    m: int = 40
    N1: int = 200
    N2: int = 20
    sigma_p1: float = 1.0
    sigma_p2: float = 1.0
    u_norm: float = 1.0
    v1_norm: float = 1.0
    v2_norm: float = 1.0
    flip_prob1: float = 0.1
    flip_prob2: float = 0.1
    sigma_0: float = 0.01
    eta: float = 0.01
    T1: int = 800
    T2: int = 400
    alpha: float = 0.5
    layout: str = "A"
    v_cos: float = 0.0
    transfer_mode: str = "filter"

    def __post_init__(self) -> None:
        check_int("d", self.d, 3)
        check_int("m", self.m, 1)
        check_int("N1", self.N1, 1)
        check_int("N2", self.N2, 1)
        check_int("T1", self.T1, 0)
        check_int("T2", self.T2, 0)
        for name in ("sigma_p1", "sigma_p2", "sigma_0", "eta"):
            check_real(name, getattr(self, name), positive=True)
        for name in ("u_norm", "v1_norm", "v2_norm"):
            check_real(name, getattr(self, name), nonneg=True)
        for name in ("flip_prob1", "flip_prob2"):
            v = getattr(self, name)
            check_real(name, v)
            if not 0 <= v < 0.5:
                raise ValueError(f"{name} = {v}: label-flip probability must lie in [0, 1/2)")
        check_real("alpha", self.alpha)
        if not 0 <= self.alpha <= 1:
            raise ValueError(f"alpha = {self.alpha}: inheritance ratio must lie in [0, 1]")
        check_real("v_cos", self.v_cos)
        if not -1 <= self.v_cos <= 1:
            raise ValueError(f"v_cos = {self.v_cos}: a cosine must lie in [-1, 1]")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout = {self.layout!r}: must be one of {LAYOUTS}")
        if self.transfer_mode not in TRANSFER_MODES:
            raise ValueError(
                f"transfer_mode = {self.transfer_mode!r}: must be one of {TRANSFER_MODES}"
            )

    @property
    def n_patches(self) -> int:
        """Number of patches P per input (2 in layout A, 3 in layout B)."""
        return 2 if self.layout == "A" else 3

    def replace(self, **changes) -> CNNTransferSetting:
        """Copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _directions(d: int, v_cos: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e_u = np.zeros(d)
    e_u[0] = 1.0
    e_v1 = np.zeros(d)
    e_v1[1] = 1.0
    e_v2 = np.zeros(d)
    e_v2[1] = v_cos
    e_v2[2] = math.sqrt(max(0.0, 1.0 - v_cos * v_cos))
    return e_u, e_v1, e_v2


def signal_vectors(setting: CNNTransferSetting) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The signals ``u = |u| e_1``, ``v1 = |v1| e_2``, ``v2 = |v2| (c e_2 + s e_3)``.

    ``c = setting.v_cos`` and ``s = sqrt(1 - c^2)``; with ``v_cos = 0`` all three are
    orthogonal (generation recipe of ``docs/cnn_theory.md``, section 1).
    """
    e_u, e_v1, e_v2 = _directions(setting.d, setting.v_cos)
    return setting.u_norm * e_u, setting.v1_norm * e_v1, setting.v2_norm * e_v2


@dataclass(frozen=True, eq=False)
class TaskSample:
    r"""A finite sample of one task.

    Attributes
    ----------
    patches : ndarray, shape (n, P, d)
        Inputs, patch ``P - 1`` is the noise patch.
    y : ndarray, shape (n,)
        Observed (possibly flipped) labels in {-1, +1}.
    y_true : ndarray, shape (n,)
        True labels :math:`\hat y` (the sign carried by the signal patch).
    xi : ndarray, shape (n, d)
        Noise vectors (equal to ``patches[:, -1]``).
    u, v : ndarray, shape (d,)
        Universal and task-specific signal of this task.
    task : int
    layout : str
    """

    patches: np.ndarray
    y: np.ndarray
    y_true: np.ndarray
    xi: np.ndarray
    u: np.ndarray
    v: np.ndarray
    task: int
    layout: str

    @property
    def n(self) -> int:
        return self.y.shape[0]

    @property
    def signals(self) -> np.ndarray:
        """The signal directions ``[u, v]`` of this task, shape (2, d)."""
        return np.stack([self.u, self.v])


def sample_task(
    setting: CNNTransferSetting, task: int, n: int, rng: np.random.Generator | int | None
) -> TaskSample:
    """Draw ``n`` i.i.d. samples of Task ``task`` (``docs/cnn_theory.md``, section 1; derived).

    Parameters
    ----------
    setting : CNNTransferSetting
    task : {1, 2}
    n : int
        Number of samples (>= 1).
    rng : numpy Generator or seed

    Returns
    -------
    TaskSample
    """
    if task not in (1, 2):
        raise ValueError(f"task = {task!r}: must be 1 (upstream) or 2 (downstream)")
    check_int("n", n, 1)
    rng = np.random.default_rng(rng)
    d = setting.d
    e_u, e_v1, e_v2 = _directions(d, setting.v_cos)
    u, v1, v2 = signal_vectors(setting)
    v, e_v = (v1, e_v1) if task == 1 else (v2, e_v2)
    sigma = setting.sigma_p1 if task == 1 else setting.sigma_p2
    p_flip = setting.flip_prob1 if task == 1 else setting.flip_prob2

    y_true = rng.choice(np.array([-1.0, 1.0]), size=n)
    flips = rng.random(n) < p_flip
    y = np.where(flips, -y_true, y_true)
    g = rng.standard_normal((n, d))
    g = g - np.outer(g @ e_u, e_u)
    g = g - np.outer(g @ e_v, e_v)
    xi = sigma * g
    if setting.layout == "A":
        patches = np.empty((n, 2, d))
        patches[:, 0] = y_true[:, None] * (u + v)[None, :]
        patches[:, 1] = xi
    else:
        patches = np.empty((n, 3, d))
        patches[:, 0] = y_true[:, None] * u[None, :]
        patches[:, 1] = y_true[:, None] * v[None, :]
        patches[:, 2] = xi
    return TaskSample(
        patches=patches, y=y, y_true=y_true, xi=xi, u=u, v=v, task=task, layout=setting.layout
    )
