r"""Exact full-batch gradient descent of the two-layer ReLU CNN, run in coefficient space.

Network (Kou et al. 2023; Yuan et al. 2025, §3; ``docs/cnn_theory.md``, section 2):

.. math::

    f(W,x) = F_{+1}(W_{+1},x) - F_{-1}(W_{-1},x),\qquad
    F_j(W_j,x) = \frac1m\sum_{r=1}^m\sum_{p=1}^P \sigma(\langle w_{j,r}, x^{(p)}\rangle),

:math:`\sigma(z) = \max(0,z)`, :math:`\sigma'(z) = \mathbb 1(z>0)`, logistic loss
:math:`\ell(z) = \log(1+e^{-z})` and full-batch GD
:math:`w_{j,r}^{(t+1)} = w_{j,r}^{(t)} - \eta\nabla_{w_{j,r}} L_S(W^{(t)})` with

.. math::

    \nabla_{w_{j,r}} L_S = \frac{1}{nm}\sum_i \ell'_i\, j y_i
    \sum_p \sigma'(\langle w_{j,r}, x_i^{(p)}\rangle)\, x_i^{(p)} .

Every increment is a combination of training patches (``docs/cnn_theory.md``, section 4), so
:math:`w_{j,r}^{(t)} = w_{j,r}^{(0)} + \sum_q C^{(t)}_{j,r,q} b_q` over the *distinct* patch
vectors :math:`b_q` (a patch equal to :math:`\pm b_q` is mapped onto it).  With
:math:`H = \langle W^{(0)}, b\rangle + C\,G`, :math:`G = (\langle b_q,b_{q'}\rangle)`, one step
costs :math:`O(m k^2)` with :math:`k\le nP` distinct patches, independent of ``d``
(``docs/cnn_theory.md``, section 4; derived).  In the two-task model :math:`k = n + 1` (layout A).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from dynamics.checks import check_count, check_finite, check_real, float_array

__all__ = [
    "simulate_cnn_gd",
    "CNNTrajectory",
    "CNNCoefficients",
    "cnn_output",
    "logistic_loss",
    "DivergenceError",
]


class DivergenceError(ArithmeticError):
    """A non-finite value (NaN/inf) appeared in the gradient-descent iterates."""


def cnn_output(W: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """Network output :math:`f(W,x_i)` (Kou et al. 2023, §3), numpy.

    Parameters
    ----------
    W : ndarray, shape (2, m, d)
        Filters, index 0 for class ``j = +1`` and 1 for ``j = -1``.
    patches : ndarray, shape (n, P, d)

    Returns
    -------
    ndarray, shape (n,)
    """
    W = float_array("W", W)
    patches = float_array("patches", patches)
    if W.ndim != 3 or W.shape[0] != 2:
        raise ValueError(f"W has shape {W.shape}: expected (2, m, d)")
    if patches.ndim != 3 or patches.shape[2] != W.shape[2]:
        raise ValueError(f"patches have shape {patches.shape}: expected (n, P, {W.shape[2]})")
    n, P, d = patches.shape
    m = W.shape[1]
    Z = patches.reshape(n * P, d) @ W.reshape(2 * m, d).T  # (nP, 2m)
    act = np.maximum(Z, 0.0).reshape(n, P, 2, m).sum(axis=(1, 3)) / m
    return act[:, 0] - act[:, 1]


def logistic_loss(margins: np.ndarray) -> np.ndarray:
    r""":math:`\ell(z) = \log(1+e^{-z})`, computed stably."""
    z = np.asarray(margins, dtype=float)
    return np.logaddexp(0.0, -z)


@njit(cache=True)
def _softplus_neg(z):
    # log(1 + exp(-z))
    if z > 0:
        return np.log1p(np.exp(-z))
    return -z + np.log1p(np.exp(z))


@njit(cache=True)
def _forward(H, q_idx, q_sign, y, m, f, lp):
    """f_i, l'_i and the loss from the inner products H (2m, k); ok=False on NaN/inf."""
    two_m = H.shape[0]
    n, P = q_idx.shape
    for i in range(n):
        f[i] = 0.0
    ok = True
    for jr in range(two_m):
        sgn = 1.0 if jr < m else -1.0
        for i in range(n):
            acc = 0.0
            for p in range(P):
                q = q_idx[i, p]
                if q >= 0:
                    z = q_sign[i, p] * H[jr, q]
                    if z > 0.0:
                        acc += z
                    elif not np.isfinite(z):
                        ok = False  # NaN/-inf would silently count as inactive
            f[i] += sgn * acc / m
    tot = 0.0
    for i in range(n):
        z = y[i] * f[i]
        tot += _softplus_neg(z)
        lp[i] = -1.0 / (1.0 + np.exp(z))
    loss = tot / n
    if not np.isfinite(loss):
        ok = False
    return loss, ok


@njit(cache=True)
def _update(C, H, q_idx, q_sign, y, lp, scale, m):
    """C[jr, q] += -eta/(nm) sum_{(i,p) -> q} l'_i j y_i 1(<w, x_ip> > 0) sign_ip."""
    two_m = H.shape[0]
    n, P = q_idx.shape
    for jr in range(two_m):
        sgn = 1.0 if jr < m else -1.0
        for i in range(n):
            g = scale * lp[i] * sgn * y[i]
            for p in range(P):
                q = q_idx[i, p]
                if q >= 0:
                    sq = q_sign[i, p]
                    if sq * H[jr, q] > 0.0:
                        C[jr, q] += g * sq


def _gd_loop(H0, G, q_idx, q_sign, y, eta, steps, rec_slot, n_rec, m):
    """Coefficient-space GD; H = H0 + C G by BLAS, the rest in numba (short JIT)."""
    two_m, k = H0.shape
    n = q_idx.shape[0]
    C = np.zeros((two_m, k))
    H = H0.copy()
    C_rec = np.zeros((n_rec, two_m, k))
    loss = np.full(steps + 1, np.nan)
    f = np.zeros(n)
    lp = np.zeros(n)
    scale = -eta / (n * m)
    for t in range(steps + 1):
        if t > 0:
            with np.errstate(over="ignore", invalid="ignore"):
                np.matmul(C, G, out=H)
                H += H0
        loss[t], ok = _forward(H, q_idx, q_sign, y, m, f, lp)
        if not ok:
            loss[t] = np.nan
            return C_rec, loss, False
        s = rec_slot[t]
        if s >= 0:
            C_rec[s] = C
        if t < steps:
            _update(C, H, q_idx, q_sign, y, lp, scale, m)
    return C_rec, loss, True


def _distinct_patches(patches: np.ndarray):
    """Distinct patch vectors up to sign: basis (k, d), index (n, P) (-1: zero) and sign."""
    n, P, d = patches.shape
    q_idx = np.full((n, P), -1, dtype=np.int64)
    q_sign = np.zeros((n, P))
    seen: dict[bytes, int] = {}
    rows: list[np.ndarray] = []
    for i in range(n):
        for p in range(P):
            x = patches[i, p]
            nz = np.flatnonzero(x)
            if nz.size == 0:
                continue
            s = 1.0 if x[nz[0]] > 0 else -1.0
            canon = x if s > 0 else -x
            key = canon.tobytes()
            q = seen.get(key)
            if q is None:
                q = len(rows)
                seen[key] = q
                rows.append(canon)
            q_idx[i, p] = q
            q_sign[i, p] = s
    # an all-zero input keeps one unused zero row so that the kernel's arrays are non-empty
    basis = np.array(rows) if rows else np.zeros((1, d))
    return basis, q_idx, q_sign


@dataclass(frozen=True, eq=False)
class CNNCoefficients:
    r"""Signal-noise coefficients along a trajectory (Kou et al. 2023, Def. 5.1 form).

    :math:`w^{(t)}_{j,r} = w^{(0)}_{j,r} + j\sum_k \gamma^{(k,t)}_{j,r} s_k/\|s_k\|^2
    + \sum_i \rho^{(t)}_{j,r,i} \xi_i/\|\xi_i\|^2`, with
    :math:`\overline\rho = \rho\,\mathbb 1(y_i = j)` and
    :math:`\underline\rho = \rho\,\mathbb 1(y_i = -j)`.

    Attributes
    ----------
    steps : ndarray, shape (T,)
    gamma : ndarray, shape (T, 2, m, K)
        Signal learning per signal direction (0 for a zero signal).
    rho_bar, rho_under : ndarray, shape (T, 2, m, n)
    """

    steps: np.ndarray
    gamma: np.ndarray
    rho_bar: np.ndarray
    rho_under: np.ndarray

    @property
    def rho(self) -> np.ndarray:
        return self.rho_bar + self.rho_under

    def to_dict(self) -> dict:
        return {
            "steps": self.steps,
            "gamma": self.gamma,
            "rho_bar": self.rho_bar,
            "rho_under": self.rho_under,
        }

    def summary(self):
        """Tidy table per recorded step: max gamma_k, max rho_bar, min rho_under over filters."""
        import pandas as pd

        rows = []
        for a, t in enumerate(self.steps):
            row = {"step": int(t)}
            for k in range(self.gamma.shape[-1]):
                row[f"gamma{k}_max"] = float(self.gamma[a, ..., k].max())
            row["rho_bar_max"] = float(self.rho_bar[a].max()) if self.rho_bar.size else 0.0
            row["rho_under_min"] = float(self.rho_under[a].min()) if self.rho_under.size else 0.0
            rows.append(row)
        return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class CNNTrajectory:
    """Result of :func:`simulate_cnn_gd`.

    Attributes
    ----------
    steps : ndarray of int, shape (T,)
        Recorded step numbers (always includes 0 and the last step).
    coef : ndarray, shape (T, 2, m, k)
        Coefficients of :math:`w - w^{(0)}` on the distinct patch vectors ``basis``.
    basis : ndarray, shape (k, d)
    patch_index, patch_sign : ndarray, shape (n, P)
        Patch ``(i, p)`` equals ``patch_sign[i, p] * basis[patch_index[i, p]]`` (index -1:
        zero patch).
    W0 : ndarray, shape (2, m, d)
    y : ndarray, shape (n,)
    loss : ndarray, shape (steps + 1,)
        Training loss :math:`L_S(W^{(t)})` at every step ``t = 0..steps``.
    eta : float
    """

    steps: np.ndarray
    coef: np.ndarray
    basis: np.ndarray
    patch_index: np.ndarray
    patch_sign: np.ndarray
    W0: np.ndarray
    y: np.ndarray
    loss: np.ndarray
    eta: float

    def _slot(self, step: int) -> int:
        if step < 0:
            step = int(self.steps[-1]) + 1 + step
        hits = np.flatnonzero(self.steps == step)
        if hits.size == 0:
            raise ValueError(f"step = {step}: not recorded (recorded: {self.steps[:5]}...)")
        return int(hits[0])

    def weights(self, step: int = -1) -> np.ndarray:
        """Filters :math:`W^{(t)}` at a recorded step, shape (2, m, d) (O(m k d))."""
        C = self.coef[self._slot(step)]
        two, m, k = C.shape
        return self.W0 + (C.reshape(2 * m, k) @ self.basis).reshape(self.W0.shape)

    def inner_products(self, step: int = -1) -> np.ndarray:
        r""":math:`\langle w_{j,r}^{(t)}, b_q\rangle` for the distinct patches, shape (2, m, k)."""
        C = self.coef[self._slot(step)]
        H0 = np.einsum("jrd,qd->jrq", self.W0, self.basis)
        return H0 + C @ (self.basis @ self.basis.T)

    def coefficients(
        self, signals: np.ndarray, noise: np.ndarray | None = None, *, tol: float = 1e-8
    ) -> CNNCoefficients:
        """Signal-noise coefficients (Kou et al. 2023, Def. 5.1 form) at every recorded step.

        Parameters
        ----------
        signals : ndarray, shape (K, d)
            Signal directions :math:`s_k` (zero rows allowed: their gamma is 0).
        noise : ndarray, shape (n, d), optional
            Noise vector of each training sample.  By default, the distinct patches that do not
            lie in the span of ``signals`` are taken as the noise of the samples that contain
            them (one such patch per sample at most).
        tol : float
            Relative tolerance of the span tests.

        Returns
        -------
        CNNCoefficients
        """
        signals = np.atleast_2d(np.asarray(signals, dtype=float))
        d = self.W0.shape[2]
        if signals.shape[1] != d:
            raise ValueError(f"signals have shape {signals.shape}: expected (K, {d})")
        n = self.y.shape[0]
        K = signals.shape[0]
        s2 = np.einsum("kd,kd->k", signals, signals)
        live = np.flatnonzero(s2 > 0)
        S = signals[live]
        bnorm = np.linalg.norm(self.basis, axis=1)
        if noise is None:
            # which distinct patches lie in span(signals)?
            if S.shape[0]:
                Q, _ = np.linalg.qr(S.T)
                resid = self.basis - (self.basis @ Q) @ Q.T
            else:
                resid = self.basis
            is_noise = np.linalg.norm(resid, axis=1) > tol * np.maximum(bnorm, 1e-300)
            noise_q = np.flatnonzero(is_noise)
            owner = np.full(noise_q.size, -1)
            owner_sign = np.ones(noise_q.size)
            sample_noise = np.full(n, -1)
            pos = {int(q): a for a, q in enumerate(noise_q)}
            for i in range(n):
                for p in range(self.patch_index.shape[1]):
                    q = int(self.patch_index[i, p])
                    if q in pos:
                        if sample_noise[i] >= 0 and sample_noise[i] != pos[q]:
                            raise ValueError(
                                f"sample {i} has two patches outside span(signals); pass noise="
                            )
                        sample_noise[i] = pos[q]
                        if owner[pos[q]] < 0:
                            owner[pos[q]] = i
                            owner_sign[pos[q]] = self.patch_sign[i, p]
            # the noise vector of a sample is the patch itself, not its sign-canonical form
            Xi = self.basis[noise_q] * owner_sign[:, None]
        else:
            Xi = np.asarray(noise, dtype=float)
            if Xi.shape != (n, d):
                raise ValueError(f"noise has shape {Xi.shape}: expected ({n}, {d})")
            owner = np.arange(n)
        B = np.concatenate([S, Xi], axis=0)  # (K' + n', d)
        if B.shape[0] == 0:
            T = np.zeros((0, self.basis.shape[0]))
        else:
            T, *_ = np.linalg.lstsq(B.T, self.basis.T, rcond=None)
            err = np.linalg.norm(B.T @ T - self.basis.T, axis=0)
            bad = err > 1e-6 * np.maximum(bnorm, 1e-300)
            if np.any(bad):
                raise ValueError(
                    f"{int(bad.sum())} distinct patches do not lie in span(signals, noise)"
                )
        coef_B = self.coef @ T.T  # (T, 2, m, K' + n')
        jsign = np.array([1.0, -1.0])[None, :, None, None]
        nT, _, m, _ = self.coef.shape
        gamma = np.zeros((nT, 2, m, K))
        gamma[..., live] = jsign * coef_B[..., : live.size] * s2[live]
        xi2 = np.einsum("id,id->i", Xi, Xi)
        rho_noise = coef_B[..., live.size :] * xi2
        rho = np.zeros((nT, 2, m, n))
        for a, i in enumerate(owner):
            if i >= 0:
                rho[..., i] = rho_noise[..., a]
        same = (self.y[None, :] == np.array([1.0, -1.0])[:, None])[None, :, None, :]
        rho_bar = np.where(same, rho, 0.0)
        rho_under = np.where(same, 0.0, rho)
        return CNNCoefficients(
            steps=self.steps.copy(), gamma=gamma, rho_bar=rho_bar, rho_under=rho_under
        )

    def to_dict(self) -> dict:
        return {
            "steps": self.steps,
            "loss": self.loss,
            "eta": self.eta,
            "n": int(self.y.shape[0]),
            "m": int(self.W0.shape[1]),
            "d": int(self.W0.shape[2]),
            "distinct_patches": int(self.basis.shape[0]),
        }


def simulate_cnn_gd(
    patches: np.ndarray,
    y: np.ndarray,
    W0: np.ndarray,
    eta: float,
    steps: int,
    record_every: int | None = 1,
) -> CNNTrajectory:
    """Run exact full-batch GD of the two-layer ReLU CNN in coefficient space.

    Implements the GD of Kou et al. 2023, §3 and Yuan et al. 2025, §3 through the
    coefficient representation of ``docs/cnn_theory.md``, section 4 (derived): the per-step cost is
    :math:`O(m k^2 + m n P)`, independent of ``d``; ``d`` enters only the one-off Gram matrix
    :math:`O(k^2 d)`.

    Parameters
    ----------
    patches : ndarray, shape (n, P, d)
        Training inputs.
    y : ndarray, shape (n,)
        Labels in {-1, +1}.
    W0 : ndarray, shape (2, m, d)
        Initial filters, index 0 for ``j = +1``.
    eta : float
        Learning rate (> 0).
    steps : int
        Number of GD steps (>= 0).
    record_every : int or None
        Record the coefficients every this many steps (the last step is always recorded);
        ``None`` records only steps 0 and ``steps``.

    Returns
    -------
    CNNTrajectory

    Raises
    ------
    DivergenceError
        If the training loss becomes NaN or infinite.
    """
    patches = float_array("patches", patches)
    y = float_array("y", y)
    W0 = float_array("W0", W0)
    if patches.ndim != 3:
        raise ValueError(f"patches have shape {patches.shape}: expected (n, P, d)")
    n, P, d = patches.shape
    if min(n, P, d) < 1:
        raise ValueError(f"patches have shape {patches.shape}: need at least one sample (n), "
                         "one patch (P) and one dimension (d)")
    if y.shape != (n,):
        raise ValueError(f"y has shape {y.shape}: expected ({n},)")
    if W0.ndim != 3 or W0.shape[0] != 2 or W0.shape[2] != d:
        raise ValueError(f"W0 has shape {W0.shape}: expected (2, m, {d})")
    if W0.shape[1] < 1:
        raise ValueError(f"W0 has shape {W0.shape}: needs at least one filter per class (m)")
    check_finite("patches", patches)
    check_finite("W0", W0)
    check_finite("y", y)
    if not np.all(np.abs(y) == 1.0):
        raise ValueError(f"y: labels must be -1 or +1, got {np.unique(y)[:3].tolist()}")
    eta = check_real("eta", eta, positive=True)
    steps = check_count("steps", steps, 0)
    record_every = max(steps, 1) if record_every is None else check_count(
        "record_every", record_every, 1)
    m = W0.shape[1]

    basis, q_idx, q_sign = _distinct_patches(patches)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported by the kernel
        G = np.ascontiguousarray(basis @ basis.T)
        H0 = np.ascontiguousarray(W0.reshape(2 * m, d) @ basis.T)
    rec_steps = np.arange(0, steps + 1, int(record_every))
    if rec_steps[-1] != steps:
        rec_steps = np.append(rec_steps, steps)
    rec_slot = np.full(steps + 1, -1, dtype=np.int64)
    rec_slot[rec_steps] = np.arange(rec_steps.size)
    C_rec, loss, ok = _gd_loop(
        H0, G, q_idx, q_sign, y, float(eta), steps, rec_slot, rec_steps.size, m
    )
    if not ok:
        bad = int(np.flatnonzero(~np.isfinite(loss))[0])
        raise DivergenceError(
            f"non-finite inner products or training loss at step {bad} (inputs are finite): "
            f"GD diverged; reduce eta = {eta:g}"
        )
    k = basis.shape[0]
    return CNNTrajectory(
        steps=rec_steps,
        coef=C_rec.reshape(rec_steps.size, 2, m, k),
        basis=basis,
        patch_index=q_idx,
        patch_sign=q_sign,
        W0=W0,
        y=y,
        loss=loss,
        eta=float(eta),
    )
