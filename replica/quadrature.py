r"""The outer quadrature of the stage-2 equations: Gauss-Legendre pieces over the stage-1 field.

The stage-2 averages (:mod:`replica.stage2`) are integrals over the standardised stage-1 field
:math:`t=(h_1-\eta_c)/s_c` of a closed-form inner Gaussian average; the integrand has kinks at
:math:`h_1=\pm\lambda_1` and bends where the inner soft threshold switches on. The rule cuts
the range at those points and puts a Gauss-Legendre rule on each piece (derivation and tests in
``docs/translasso_theory.md``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from replica.checks import integer, real, real_array

__all__ = ["QuadratureRule", "default_kernel_args"]


@dataclass(frozen=True)
class QuadratureRule:
    r"""Outer quadrature over the standardised stage-1 field :math:`t=(h_1-\eta_c)/s_c`.

    The range ``[edges[0], edges[-1]]`` is cut at ``edges``, at the two kinks
    :math:`t=(\pm\lambda_1-\eta_c)/s_c`, and where the inner soft threshold switches on
    (:math:`|\mu_c(h)|=\lambda_e(h)`); each piece gets a Gauss-Legendre rule of
    ``max(min_nodes, ceil(n_nodes * L / w_max))`` points (``L`` its width, ``w_max`` the widest
    base piece), at most ``n_nodes``. Where a bend is narrow (conditional variance
    :math:`\tilde v_c\to0`, e.g. nearly equal stage-1 and stage-2 penalties, width
    :math:`w=\sqrt{\tilde v_c}/|d\mu_c/dt|`) graded cuts at :math:`t_k\pm c\,w` for ``c`` in
    ``layers`` (while :math:`c\,w<` ``layer_max``) resolve the boundary layer. The default
    agrees with the reference cases to about 1e-10 relative and with the exact target-only
    limit near :math:`\lambda_2=\lambda_1` to 1e-9 (tested); the mass beyond :math:`|t|=8` is
    below 1e-15.

    Parameters
    ----------
    n_nodes : int
        Most points per piece (``>= 2``).
    edges : tuple of float
        Base cuts, strictly increasing.
    min_nodes : int
        Fewest points per piece (``1 <= min_nodes``; capped at ``n_nodes``).
    layers : tuple of float
        Multiples of the bend width at which graded cuts are placed (positive, increasing).
    layer_max : float
        Graded cuts stop once ``c * width`` reaches this distance (``> 0``).
    variance_floor : float
        Lower bound on the conditional variance :math:`\tilde v_c` of the inner average
        (``> 0``; it vanishes when the two stages' noises become fully correlated).
    """

    n_nodes: int = 12
    edges: tuple = (-8.0, -4.0, -1.5, 1.5, 4.0, 8.0)
    min_nodes: int = 10
    layers: tuple = (2.0, 6.0, 20.0, 60.0)
    layer_max: float = 1.5
    variance_floor: float = 1e-14

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_nodes", integer("n_nodes", self.n_nodes, low=2,
                                                    what="nodes per piece"))
        object.__setattr__(self, "min_nodes", integer("min_nodes", self.min_nodes, low=1))
        e = real_array("edges", self.edges, ndim=1)
        if e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
            raise ValueError(
                f"edges = {self.edges}: must be >= 2 finite, strictly increasing values"
            )
        object.__setattr__(self, "edges", tuple(float(v) for v in e))
        lay = real_array("layers", self.layers, ndim=1)
        if not np.all(np.isfinite(lay)) or np.any(lay <= 0) or np.any(np.diff(lay) <= 0):
            raise ValueError(f"layers = {self.layers}: must be positive and increasing")
        object.__setattr__(self, "layers", tuple(float(v) for v in lay))
        object.__setattr__(self, "layer_max", real("layer_max", self.layer_max, low=0.0,
                                                   low_open=True))
        object.__setattr__(self, "variance_floor", real(
            "variance_floor", self.variance_floor, low=0.0, low_open=True))

    def arrays(self):
        """(edges, nodes, weights): rules with 1..n_nodes points stacked, row n-1 for n points."""
        x, w = _gauss_legendre_table(self.n_nodes)
        return np.array(self.edges), x, w

    def kernel_args(self) -> tuple:
        """``(edges, nodes, weights, layers, tune)`` for the stage-2 kernel (cached, read-only).

        ``tune = (min_nodes, layer_max, variance_floor)`` as a float array.
        """
        return _kernel_args(self)


@functools.lru_cache(maxsize=16)
def _kernel_args(rule: QuadratureRule) -> tuple:
    edges, x, w = rule.arrays()
    tune = np.array([min(rule.min_nodes, rule.n_nodes), rule.layer_max, rule.variance_floor])
    out = (edges, x, w, np.asarray(rule.layers), tune)
    for a in out:
        a.setflags(write=False)
    return out


@functools.lru_cache(maxsize=8)
def _gauss_legendre_table(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes/weights on [-1, 1] for 1..n points (row k: k+1 points, padded)."""
    xs = np.zeros((n, n))
    ws = np.zeros((n, n))
    for k in range(1, n + 1):
        xk, wk = np.polynomial.legendre.leggauss(k)
        xs[k - 1, :k] = xk
        ws[k - 1, :k] = wk
    xs.setflags(write=False)
    ws.setflags(write=False)
    return xs, ws


@functools.lru_cache(maxsize=1)
def default_kernel_args() -> tuple:
    """:meth:`QuadratureRule.kernel_args` of the default rule."""
    return QuadratureRule().kernel_args()
