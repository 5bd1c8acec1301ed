r"""Problem definitions: the transfer scenario (data ensemble) and the Trans-Lasso hyperparameters.

Data model (``docs/translasso_theory.md``, data model; dataset index 0 is the target):
:math:`y^{(k)}=A^{(k)}r^{(k)}+e^{(k)}`, :math:`A^{(k)}\in\mathbb R^{M_k\times N}` with i.i.d.
:math:`\mathcal N(0,1/N)` entries, :math:`e^{(k)}\sim\mathcal N(0,\sigma_k^2I)`,
:math:`\alpha_k=M_k/N` fixed as :math:`N\to\infty`, and :math:`\mathbf r_i` i.i.d. from the prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from replica.prior import GaussianMixturePrior

__all__ = ["TransferScenario", "TransLassoHyper", "ScenarioSample"]


def _check_nonneg(name: str, value: float, allow_inf: bool = True) -> float:
    v = float(value)
    if math.isnan(v) or (not allow_inf and math.isinf(v)):
        raise ValueError(f"{name} = {value}: must be a finite number")
    if v < 0:
        raise ValueError(f"{name} = {value}: penalties must be >= 0")
    return v


@dataclass(frozen=True)
class TransLassoHyper:
    r"""Hyperparameters of the Generalized Trans-Lasso (``docs/translasso_theory.md``, estimator).

    Parameters
    ----------
    lam1 : float
        Stage-1 (pooled pretraining) penalty :math:`\lambda_1\ge0` (``math.inf`` allowed:
        empty pretrained support).
    lam2 : float
        Stage-2 base penalty :math:`\lambda_2\ge0` (``math.inf``: no fine-tuning).
    kappa : float
        Weight :math:`\kappa` of the pretrained vector in the offset (vector transfer); any
        real value.
    dlam : float
        Extra penalty :math:`\Delta\lambda\ge0` off the pretrained support (support transfer;
        ``math.inf``: fine-tune on the pretrained support only).
    """

    lam1: float
    lam2: float = 0.0
    kappa: float = 0.0
    dlam: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "lam1", _check_nonneg("lam1", self.lam1))
        object.__setattr__(self, "lam2", _check_nonneg("lam2", self.lam2))
        object.__setattr__(self, "dlam", _check_nonneg("dlam", self.dlam))
        k = float(self.kappa)
        if not math.isfinite(k):
            raise ValueError(f"kappa = {self.kappa}: must be a finite real number")
        object.__setattr__(self, "kappa", k)

    def replace(self, **changes) -> TransLassoHyper:
        """Copy with some fields changed."""
        d = self.to_dict()
        d.update(changes)
        return TransLassoHyper(**d)

    def to_dict(self) -> dict[str, float]:
        return {"lam1": self.lam1, "lam2": self.lam2, "kappa": self.kappa, "dlam": self.dlam}


@dataclass(frozen=True)
class ScenarioSample:
    """A finite instance of a :class:`TransferScenario`.

    Attributes
    ----------
    designs : tuple of ndarray
        :math:`A^{(k)}` of shape ``(M_k, N)``, entries :math:`\\mathcal N(0,1/N)`.
    responses : tuple of ndarray
        :math:`y^{(k)}` of shape ``(M_k,)``.
    truth : ndarray, shape (K, N)
        True coefficient vectors, row 0 the target.
    """

    designs: tuple
    responses: tuple
    truth: np.ndarray

    @property
    def target(self) -> tuple[np.ndarray, np.ndarray]:
        """``(A0, y0)``."""
        return self.designs[0], self.responses[0]

    @property
    def sources(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``[(A1, y1), ...]``."""
        return list(zip(self.designs[1:], self.responses[1:], strict=True))

    @property
    def n_features(self) -> int:
        return int(self.truth.shape[1])


@dataclass(frozen=True, eq=False)
class TransferScenario:
    r"""K datasets sharing N features in the proportional limit (``docs/translasso_theory.md``).

    Parameters
    ----------
    alphas : sequence of float
        Sample ratios :math:`\alpha_k=M_k/N>0`; index 0 is the target.
    sigmas : sequence of float
        Noise standard deviations :math:`\sigma_k\ge0`.
    prior : GaussianMixturePrior
        Law of the K-vector of true coefficients at one coordinate.
    """

    alphas: tuple
    sigmas: tuple
    prior: GaussianMixturePrior
    alpha_total: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        alphas = tuple(float(a) for a in np.atleast_1d(np.asarray(self.alphas, dtype=float)))
        sigmas = tuple(float(s) for s in np.atleast_1d(np.asarray(self.sigmas, dtype=float)))
        if not isinstance(self.prior, GaussianMixturePrior):
            raise ValueError(
                f"prior: expected a GaussianMixturePrior, got {type(self.prior).__name__}"
            )
        for k, a in enumerate(alphas):
            if not (math.isfinite(a) and a > 0):
                raise ValueError(f"alphas[{k}] = {a}: sample ratios must be positive and finite")
        for k, s in enumerate(sigmas):
            if not (math.isfinite(s) and s >= 0):
                raise ValueError(f"sigmas[{k}] = {s}: noise levels must be >= 0 and finite")
        if len(sigmas) != len(alphas):
            raise ValueError(
                f"sigmas: got {len(sigmas)} noise levels for {len(alphas)} datasets (alphas)"
            )
        if self.prior.n_datasets != len(alphas):
            raise ValueError(
                f"prior: describes K = {self.prior.n_datasets} datasets but alphas has "
                f"{len(alphas)} entries"
            )
        object.__setattr__(self, "alphas", alphas)
        object.__setattr__(self, "sigmas", sigmas)
        object.__setattr__(self, "alpha_total", float(sum(alphas)))

    @property
    def n_datasets(self) -> int:
        """K."""
        return len(self.alphas)

    def replace(self, **changes) -> TransferScenario:
        """Copy with some fields changed."""
        d = {"alphas": self.alphas, "sigmas": self.sigmas, "prior": self.prior}
        d.update(changes)
        return TransferScenario(**d)

    def to_dict(self) -> dict:
        return {
            "alphas": list(self.alphas),
            "sigmas": list(self.sigmas),
            "prior": self.prior.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> TransferScenario:
        """Inverse of :meth:`to_dict`."""
        p = d["prior"]
        prior = GaussianMixturePrior(p["weights"], p["means"], p["covs"])
        return cls(alphas=d["alphas"], sigmas=d["sigmas"], prior=prior)

    def n_samples(self, n_features: int) -> tuple[int, ...]:
        r"""Rows :math:`M_k=\mathrm{round}(\alpha_k N)` of each dataset at size N."""
        return tuple(max(1, int(round(a * n_features))) for a in self.alphas)

    def sample(
        self, n_features: int, rng: np.random.Generator | int | None = None
    ) -> ScenarioSample:
        r"""Draw a finite instance at size N (numpy only).

        Designs have i.i.d. :math:`\mathcal N(0,1/N)` entries, the true vectors are drawn
        coordinate-wise from the prior, and :math:`y^{(k)}=A^{(k)}r^{(k)}+\sigma_k\xi`.

        Parameters
        ----------
        n_features : int
            N.
        rng : numpy Generator or int seed
            Source of randomness (``numpy.random.default_rng(rng)``).
        """
        n = int(n_features)
        if n < 1:
            raise ValueError(f"n_features = {n_features}: must be a positive integer")
        rng = np.random.default_rng(rng)
        truth = self.prior.sample(n, rng)
        designs, responses = [], []
        for k, m in enumerate(self.n_samples(n)):
            a = rng.standard_normal((m, n)) / math.sqrt(n)
            y = a @ truth[k] + self.sigmas[k] * rng.standard_normal(m)
            designs.append(a)
            responses.append(y)
        return ScenarioSample(tuple(designs), tuple(responses), truth)
