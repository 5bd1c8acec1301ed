r"""The box that :func:`replica.optimize` searches, and its unconstrained coordinates.

Each optimised name gets a coordinate :math:`z`: :math:`z=\log\lambda` for ``lam1``, ``lam2``
and ``pt_alpha`` (the Pretraining-Lasso weight :math:`a`, which sets :math:`\kappa=1-a`,
:math:`\Delta\lambda=\lambda_2(1/a-1)`); :math:`z=\kappa`; and :math:`\Delta\lambda=\max(z,0)`,
whose box is extended 5% below 0 when its lower bound is 0 so that the optimiser can reach
:math:`\Delta\lambda=0` exactly (``docs/translasso_theory.md``, numerical scheme).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from replica.checks import real
from replica.scenario import TransferScenario, TransLassoHyper

__all__ = ["NAMES", "LOG_NAMES", "field_scale", "default_bounds", "SearchSpace"]

NAMES = ("lam1", "lam2", "kappa", "dlam", "pt_alpha")
LOG_NAMES = ("lam1", "lam2", "pt_alpha")


def field_scale(scenario: TransferScenario, pooled: bool) -> float:
    """Typical size of the effective field h = mh r + zeta, which sets the scale of penalties."""
    rho = scenario.prior.second_moments
    s2 = np.asarray(scenario.sigmas) ** 2
    a = np.asarray(scenario.alphas)
    if pooled:
        return float(max(np.sqrt(np.dot(a, rho + s2) * a.sum()), 1e-8))
    return float(max(a[0] * math.sqrt(rho[0] + s2[0]), 1e-8))


def default_bounds(scenario: TransferScenario, name: str) -> tuple[float, float]:
    """Default search interval of ``name`` (:attr:`SearchSpace.DEFAULTS`; penalties in units of
    :func:`field_scale`)."""
    if name in ("lam2", "dlam", "lam1"):
        s = field_scale(scenario, pooled=name == "lam1")
        low, high = SearchSpace.DEFAULTS["penalty"]
        return (0.0 if name == "dlam" else low * s, high * s)
    if name in SearchSpace.DEFAULTS:
        return SearchSpace.DEFAULTS[name]
    raise ValueError(f"over: unknown hyperparameter {name!r}; choose from {NAMES}")


def check_bounds(name: str, pair) -> tuple[float, float]:
    """``bounds[name]`` as a checked (low, high) pair of numbers."""
    if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
        raise ValueError(f"bounds[{name!r}] = {pair!r}: expected a pair (low, high)")
    lo = real(f"bounds[{name!r}][0]", pair[0], allow_inf=False)
    hi = real(f"bounds[{name!r}][1]", pair[1], allow_inf=False)
    if name in LOG_NAMES and not 0 < lo < hi:
        raise ValueError(f"bounds[{name!r}] = {(lo, hi)}: need 0 < low < high (log scale)")
    if not lo <= hi:
        raise ValueError(f"bounds[{name!r}] = {(lo, hi)}: need low <= high")
    if name == "dlam" and lo < 0:
        raise ValueError(f"bounds['dlam'] = {(lo, hi)}: dlam must be >= 0")
    return lo, hi


@dataclass(frozen=True)
class SearchSpace:
    """Optimised names, their boxes (natural units) and the hyperparameters held fixed."""

    over: tuple
    boxes: tuple
    base: TransLassoHyper

    #: default boxes: penalties in units of the field scale (dlam from 0), kappa, and the
    #: Pretraining-Lasso a (log scale: a = 1e-4 already means dlam = 1e4 lam2, the a -> 0 limit)
    DEFAULTS: ClassVar[dict] = {"penalty": (1e-3, 30.0), "kappa": (0.0, 1.5),
                                "pt_alpha": (1e-4, 1.0)}
    #: a dlam box starting at 0 is extended by this fraction below 0 (dlam = max(z, 0))
    DLAM_EXTENSION: ClassVar[float] = 0.05

    @classmethod
    def build(cls, scenario, over, base, bounds: Mapping) -> SearchSpace:
        boxes = tuple(check_bounds(n, bounds[n]) if n in bounds else default_bounds(scenario, n)
                      for n in over)
        return cls(tuple(over), boxes, base)

    def z_box(self, name: str, box) -> tuple[float, float]:
        lo, hi = box
        if name in LOG_NAMES:
            return (math.log(lo), math.log(hi))
        if name == "dlam" and lo == 0:  # z below 0 maps to dlam = 0 exactly
            return (lo - self.DLAM_EXTENSION * (hi - lo), hi)
        return (lo, hi)

    @property
    def z_bounds(self) -> list[tuple[float, float]]:
        return [self.z_box(n, b) for n, b in zip(self.over, self.boxes, strict=True)]

    def grids(self, n: int) -> list[np.ndarray]:
        """Coarse grid of each coordinate (values of z)."""
        out = []
        for name, (lo, hi) in zip(self.over, self.boxes, strict=True):
            if name == "pt_alpha":
                # log-spaced towards a -> 0 plus linear coverage of the interior of (0, 1]
                a = np.union1d(np.geomspace(lo, hi, n), np.linspace(max(lo, 0.05), hi, n))
                out.append(np.log(a))
            elif name in LOG_NAMES:
                out.append(np.linspace(math.log(lo), math.log(hi), n))
            elif name == "dlam" and hi <= 0:
                out.append(np.zeros(1))
            elif name == "dlam" and lo > 0:
                out.append(np.geomspace(lo, hi, n))
            elif name == "dlam":  # 0 exactly, then geometric values up to hi
                out.append(np.concatenate([[0.0], np.geomspace(hi * 1e-3, hi, n - 1)]))
            else:
                out.append(np.linspace(lo, hi, n))
        return out

    def hyper(self, z) -> TransLassoHyper:
        """Hyperparameters at the coordinates ``z``."""
        out = {}
        a = None
        for name, v in zip(self.over, np.asarray(z, dtype=float), strict=True):
            if name == "pt_alpha":
                a = float(min(math.exp(v), 1.0))
                out["kappa"] = 1.0 - a
            elif name in LOG_NAMES:
                out[name] = float(math.exp(v))
            else:
                out[name] = float(max(v, 0.0)) if name == "dlam" else float(v)
        if a is not None:
            out["dlam"] = out.get("lam2", self.base.lam2) * (1.0 / a - 1.0)
        return self.base.replace(**out)

    def to_z(self, h: Mapping[str, float]) -> np.ndarray:
        """Coordinates of the hyperparameters ``h`` (a mapping with the four names)."""
        z = []
        for name in self.over:
            if name == "pt_alpha":
                z.append(math.log(max(1.0 - h["kappa"], 1e-300)))
            elif name in LOG_NAMES:
                z.append(math.log(max(h[name], 1e-300)))
            else:
                z.append(h[name])
        return np.array(z)

    def at_bound(self, z) -> list[str]:
        """Names whose optimum sits on an edge of the box that is not a natural limit.

        dlam = 0, kappa = 0 and pt_alpha = 1 are exact special cases, not artefacts of the box.
        """
        out = []
        for name, v, (lo, hi) in zip(self.over, z, self.z_bounds, strict=True):
            tol = 1e-6 * max(1.0, hi - lo)
            low = v <= lo + tol and not (name in ("dlam", "kappa") and v <= 0.0 + tol)
            high = v >= hi - tol and name != "pt_alpha"
            if low or high:
                out.append(name)
        return out
