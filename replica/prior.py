r"""Priors on the K-vector of true coefficients.

Each coordinate :math:`i` carries a K-vector :math:`\mathbf r_i=(r^{(0)}_i,\dots,r^{(K-1)}_i)`
(index 0 is the target) drawn i.i.d. from a finite Gaussian mixture

.. math::

    p(\mathbf r)=\sum_c w_c\,\mathcal N(\mathbf r;\boldsymbol\mu_c,\Sigma_c),\qquad \sum_c w_c=1,

with possibly singular covariances (point masses included; ``docs/translasso_theory.md``,
priors). The common/unique-support family of the same page is built by :func:`support_prior`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from replica.checks import as_generator, integer, real, real_array

__all__ = ["GaussianMixturePrior", "support_prior"]


def _as_readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class GaussianMixturePrior:
    r"""Finite Gaussian mixture law of the K-vector of true coefficients.

    Parameters
    ----------
    weights : array_like, shape (C,)
        Class weights :math:`w_c\ge0`, summing to one.
    means : array_like, shape (C, K)
        Class means :math:`\boldsymbol\mu_c`.
    covs : array_like, shape (C, K, K)
        Class covariances :math:`\Sigma_c`: symmetric positive semi-definite (singular allowed,
        zero gives a point mass).

    Notes
    -----
    :math:`\rho_k=\mathbb E[(r^{(k)})^2]=\sum_c w_c[(\Sigma_c)_{kk}+\mu_{c,k}^2]`
    (``docs/translasso_theory.md``, data model) is available as :attr:`second_moments`.
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    second_moments: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        w = real_array("weights", self.weights)
        mu = real_array("means", self.means)
        cov = real_array("covs", self.covs)
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"weights: expected a non-empty 1-D array, got shape {w.shape}")
        n_classes = w.size
        if mu.ndim == 1 and n_classes == 1:
            mu = mu[None, :]
        if mu.ndim != 2 or mu.shape[0] != n_classes:
            raise ValueError(
                f"means: expected shape (C, K) with C = {n_classes} classes, got {mu.shape}"
            )
        k = mu.shape[1]
        if k < 1:
            raise ValueError("means: K (number of datasets) must be at least 1")
        if cov.shape != (n_classes, k, k):
            raise ValueError(
                f"covs: expected shape (C, K, K) = ({n_classes}, {k}, {k}), got {cov.shape}"
            )
        for name, arr in (("weights", w), ("means", mu), ("covs", cov)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}: entries must be finite")
        for c in range(n_classes):
            if w[c] < 0:
                raise ValueError(f"weights[{c}] = {w[c]}: weights must be >= 0")
        if abs(w.sum() - 1.0) > 1e-10:
            raise ValueError(f"weights: must sum to 1, got sum = {w.sum():.12g}")
        for c in range(n_classes):
            s = cov[c]
            scale = max(1.0, float(np.max(np.abs(s))))
            if np.max(np.abs(s - s.T)) > 1e-12 * scale:
                raise ValueError(f"covs[{c}]: covariance must be symmetric, got {s.tolist()}")
            ev = np.linalg.eigvalsh(0.5 * (s + s.T))
            if ev.min() < -1e-12 * scale:
                raise ValueError(
                    f"covs[{c}]: covariance must be positive semi-definite "
                    f"(smallest eigenvalue {ev.min():.3g})"
                )
        object.__setattr__(self, "weights", _as_readonly(w))
        object.__setattr__(self, "means", _as_readonly(mu))
        object.__setattr__(self, "covs", _as_readonly(0.5 * (cov + cov.transpose(0, 2, 1))))
        rho = np.einsum("c,ckk->k", w, cov) + np.einsum("c,ck->k", w, mu**2)
        object.__setattr__(self, "second_moments", _as_readonly(rho))

    @property
    def n_classes(self) -> int:
        """Number of mixture classes C."""
        return int(self.weights.size)

    @property
    def n_datasets(self) -> int:
        """Number of datasets K (length of the coefficient vector at one coordinate)."""
        return int(self.means.shape[1])

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Draw ``n`` i.i.d. K-vectors; returns an array of shape ``(K, n)`` (row 0: target)."""
        n = integer("n", n, low=1)
        rng = as_generator(rng)
        cls = rng.choice(self.n_classes, size=n, p=self.weights)
        out = np.empty((n, self.n_datasets))
        for c in range(self.n_classes):
            idx = np.flatnonzero(cls == c)
            if idx.size == 0:
                continue
            # eigh works for singular covariances (Cholesky would not).
            ev, vec = np.linalg.eigh(self.covs[c])
            root = vec * np.sqrt(np.clip(ev, 0.0, None))
            z = rng.standard_normal((idx.size, self.n_datasets))
            out[idx] = self.means[c] + z @ root.T
        return out.T.copy()

    def to_dict(self) -> dict:
        """JSON-friendly representation."""
        return {
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covs": self.covs.tolist(),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GaussianMixturePrior):
            return NotImplemented
        return (
            np.array_equal(self.weights, other.weights)
            and np.array_equal(self.means, other.means)
            and np.array_equal(self.covs, other.covs)
        )

    def __hash__(self) -> int:
        return hash((self.weights.tobytes(), self.means.tobytes(), self.covs.tobytes()))


def support_prior(
    pi_common: float,
    pi_unique,
    corr: float = 1.0,
    scale: float = 1.0,
    n_datasets: int | None = None,
) -> GaussianMixturePrior:
    r"""Common/unique-support Bernoulli-Gaussian prior (``docs/translasso_theory.md``, priors).

    With probability :math:`\pi_c` a coordinate is in the common support,
    :math:`\mathbf r\sim\mathcal N(0,\sigma_x^2[(1-\varrho)I+\varrho\mathbf 1\mathbf 1^\top])`;
    with probability :math:`\pi_k` it is unique to dataset k,
    :math:`r^{(k)}\sim\mathcal N(0,\sigma_x^2)` and the others are zero; otherwise
    :math:`\mathbf r=0`. This is a mixture with K + 2 classes (classes of zero weight dropped).

    Parameters
    ----------
    pi_common : float
        Probability :math:`\pi_c` of the common support.
    pi_unique : float or sequence of float
        Probabilities :math:`\pi_k` of a support unique to dataset k (index 0: target). A scalar
        is used for every dataset and then ``n_datasets`` is required.
    corr : float
        Correlation :math:`\varrho\in[-1/(K-1), 1]` of the common-support values
        (1: identical values).
    scale : float
        Variance :math:`\sigma_x^2` of a non-zero coefficient.
    n_datasets : int, optional
        K, needed only when ``pi_unique`` is a scalar.
    """
    pi_common = real("pi_common", pi_common, low=0.0, high=1.0, what="a probability")
    if np.ndim(pi_unique) == 0:
        if n_datasets is None:
            raise ValueError("n_datasets: required when pi_unique is a scalar")
        n = integer("n_datasets", n_datasets, low=1)
        pis = np.full(n, real("pi_unique", pi_unique, low=0.0, high=1.0))
    else:
        pis = real_array("pi_unique", pi_unique, ndim=1)
        if pis.size == 0:
            raise ValueError("pi_unique: need one probability per dataset, got none")
        if n_datasets is not None and pis.size != integer("n_datasets", n_datasets, low=1):
            raise ValueError(f"pi_unique: expected {n_datasets} entries, got {pis.size}")
    k = pis.size
    for i, p in enumerate(pis):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"pi_unique[{i}] = {p}: must lie in [0, 1]")
    total = pi_common + pis.sum()
    if total > 1.0 + 1e-12:
        raise ValueError(f"pi_common + sum(pi_unique) = {total:.6g}: must be <= 1")
    scale = real("scale", scale, low=0.0, low_open=True, what="variance of non-zero coefficients")
    corr = real("corr", corr)
    lo = -1.0 / (k - 1) if k > 1 else -1.0
    if not lo - 1e-12 <= corr <= 1.0:
        raise ValueError(f"corr = {corr}: must lie in [{lo:.6g}, 1] for K = {k}")
    weights, means, covs = [], [], []
    if pi_common > 0:
        weights.append(pi_common)
        means.append(np.zeros(k))
        covs.append(scale * ((1.0 - corr) * np.eye(k) + corr * np.ones((k, k))))
    for i in range(k):
        if pis[i] > 0:
            c = np.zeros((k, k))
            c[i, i] = scale
            weights.append(pis[i])
            means.append(np.zeros(k))
            covs.append(c)
    zero = max(0.0, 1.0 - total)
    if zero > 0:
        weights.append(zero)
        means.append(np.zeros(k))
        covs.append(np.zeros((k, k)))
    w = np.asarray(weights)
    return GaussianMixturePrior(w / w.sum(), np.asarray(means), np.asarray(covs))
