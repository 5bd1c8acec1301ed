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

from replica.checks import as_generator, instance, integer, real, real_array
from replica.prior import GaussianMixturePrior

__all__ = ["TransferScenario", "TransLassoHyper", "ScenarioSample"]


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
        for name in ("lam1", "lam2", "dlam"):
            v = real(name, getattr(self, name), low=0.0, allow_inf=True, what="penalty")
            object.__setattr__(self, name, v)
        object.__setattr__(self, "kappa", real("kappa", self.kappa, what="offset weight"))

    def replace(self, **changes) -> TransLassoHyper:
        """Copy with some fields changed."""
        d = self.to_dict()
        unknown = sorted(set(changes) - set(d))
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown hyperparameter; use lam1, lam2, kappa, dlam")
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
        alphas = tuple(float(a) for a in real_array("alphas", self.alphas, ndim=1, scalar=True))
        sigmas = tuple(float(v) for v in real_array("sigmas", self.sigmas, ndim=1, scalar=True))
        instance("prior", self.prior, GaussianMixturePrior)
        if not alphas:
            raise ValueError("alphas: need at least one dataset (index 0 is the target)")
        for k, a in enumerate(alphas):
            if not (math.isfinite(a) and a > 0):
                raise ValueError(f"alphas[{k}] = {a}: sample ratios must be positive and finite")
        for k, v in enumerate(sigmas):
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"sigmas[{k}] = {v}: noise levels must be >= 0 and finite")
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
        unknown = sorted(set(changes) - set(d))
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown scenario field; use alphas, sigmas, prior")
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
        instance("scenario", d, dict)
        for key in ("alphas", "sigmas", "prior"):
            if key not in d:
                raise ValueError(f"{key}: missing from the scenario dict")
        p = d["prior"]
        instance("prior", p, dict)
        for key in ("weights", "means", "covs"):
            if key not in p:
                raise ValueError(f"prior.{key}: missing from the scenario dict")
        prior = GaussianMixturePrior(p["weights"], p["means"], p["covs"])
        return cls(alphas=d["alphas"], sigmas=d["sigmas"], prior=prior)

    def n_samples(self, n_features: int) -> tuple[int, ...]:
        r"""Rows :math:`M_k=\mathrm{round}(\alpha_k N)` of each dataset at size N."""
        n_features = integer("n_features", n_features, low=1)
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
        n = integer("n_features", n_features, low=1)
        rng = as_generator(rng)
        truth = self.prior.sample(n, rng)
        designs, responses = [], []
        for k, m in enumerate(self.n_samples(n)):
            a = rng.standard_normal((m, n)) / math.sqrt(n)
            y = a @ truth[k] + self.sigmas[k] * rng.standard_normal(m)
            designs.append(a)
            responses.append(y)
        return ScenarioSample(tuple(designs), tuple(responses), truth)
