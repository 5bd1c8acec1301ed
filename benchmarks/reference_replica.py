r"""Straightforward numpy/scipy reference for the RS equations of the Generalized Trans-Lasso.

This module is the *speed and accuracy reference* for the package's fast solver
(``replica.solve_trans_lasso``). It is written directly from the equations of state and the
numerical scheme of ``docs/translasso_theory.md`` and deliberately does not share any code
with ``replica``: plain numpy and scipy, no numba, a loop over the mixture classes and
vectorisation over the quadrature nodes only.

Conventions (data model): K datasets, **index 0 is the target** (the paper writes k = 1);
design entries of variance 1/N; sample ratios ``alphas``; noise levels ``sigmas``; the true
coefficients follow a finite Gaussian mixture with weights ``w_c``, means ``mu_c`` (K,) and
covariances ``Sigma_c`` (K, K), which may be singular (point masses allowed).

Scheme: stage 1 is solved to convergence first, then stage 2 with the stage-1 order
parameters frozen; damped fixed point :math:`\Theta \leftarrow \eta\Theta +
(1-\eta)\Theta_{new}` with :math:`\eta = 0.5`; stage-2 integrals over the stage-1 field
:math:`h \sim \mathcal N(\eta_c, s_c^2)` by Gauss-Legendre on :math:`[\eta_c - 12 s_c,
\eta_c + 12 s_c]` split at :math:`\pm\lambda_1`, plus the support-flip term of
:math:`\chi_{12}`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

__all__ = ["soft_threshold_moments", "reference_solve"]

_SQRT_2PI = np.sqrt(2.0 * np.pi)
_V_FLOOR = 1e-14  # guard on the conditional variance (numerical scheme)


def _phi(t):
    return np.exp(-0.5 * t * t) / _SQRT_2PI


def soft_threshold_moments(mu, v, lam):
    r"""Gaussian moments of the soft threshold (docs/translasso_theory.md).

    For :math:`X \sim \mathcal N(\mu, v)`, :math:`s=\sqrt v`, :math:`a=(\mu-\lambda)/s`,
    :math:`b=(\mu+\lambda)/s`:

    .. math::
        P = \Phi(a) + \Phi(-b),\\
        M^{(1)} = (\mu-\lambda)\Phi(a) + s\phi(a) + (\mu+\lambda)\Phi(-b) - s\phi(b),\\
        M^{(2)} = [(\mu-\lambda)^2+v]\Phi(a) + s(\mu-\lambda)\phi(a)
                  + [(\mu+\lambda)^2+v]\Phi(-b) - s(\mu+\lambda)\phi(b).

    ``lam = inf`` gives ``P = M1 = M2 = 0`` exactly. Arguments broadcast.

    Returns
    -------
    (P, M1, M2) : tuple of ndarray
    """
    mu, v, lam = np.broadcast_arrays(
        np.asarray(mu, dtype=float), np.asarray(v, dtype=float), np.asarray(lam, dtype=float)
    )
    inf = np.isinf(lam)
    lam_f = np.where(inf, 0.0, lam)
    v = np.maximum(v, _V_FLOOR)
    s = np.sqrt(v)
    a = (mu - lam_f) / s
    b = (mu + lam_f) / s
    Pa, Pb = ndtr(a), ndtr(-b)
    fa, fb = _phi(a), _phi(b)
    dm, dp = mu - lam_f, mu + lam_f
    P = Pa + Pb
    M1 = dm * Pa + s * fa + dp * Pb - s * fb
    M2 = (dm * dm + v) * Pa + s * dm * fa + (dp * dp + v) * Pb - s * dp * fb
    if np.any(inf):
        P = np.where(inf, 0.0, P)
        M1 = np.where(inf, 0.0, M1)
        M2 = np.where(inf, 0.0, M2)
    return P, M1, M2


def _normal_pdf(x, mean, var):
    return np.exp(-0.5 * (x - mean) ** 2 / var) / np.sqrt(2.0 * np.pi * var)


def _stage1_conjugates(alphas, sigmas, rho, Q1, m1, chi1):
    """``docs/translasso_theory.md`` (stage-1 equations): (Qh1, mh1[K], chih1)."""
    d = 1.0 + chi1
    Qh1 = alphas.sum() / d
    mh1 = alphas / d
    chih1 = float(np.sum(alphas * (rho - 2.0 * m1 + Q1 + sigmas**2)) / d**2)
    return Qh1, mh1, chih1


def _stage1_classes(weights, means, covs, mh1, chih1):
    """Per-class law of the stage-1 field: u_c = Sigma_c b, eta_c = b.mu_c, s_c^2."""
    u = covs @ mh1  # (C, K)
    eta = means @ mh1  # (C,)
    s2 = u @ mh1 + chih1  # (C,)
    return u, eta, np.maximum(s2, _V_FLOOR)


def _stage1_map(weights, means, covs, alphas, sigmas, rho, lam1, Q1, m1, chi1):
    Qh1, mh1, chih1 = _stage1_conjugates(alphas, sigmas, rho, Q1, m1, chi1)
    u, eta, s2 = _stage1_classes(weights, means, covs, mh1, chih1)
    P, M1, M2 = soft_threshold_moments(eta, s2, lam1)
    Q1n = float(np.sum(weights * M2)) / Qh1**2
    m1n = (weights[:, None] * (means * M1[:, None] + u * P[:, None])).sum(axis=0) / Qh1
    chi1n = float(np.sum(weights * P)) / Qh1
    return Q1n, m1n, chi1n


def _gauss_legendre_pieces(lo, hi, cuts, x_ref, w_ref):
    """Nodes/weights of Gauss-Legendre on [lo, hi] split at the cut points inside it."""
    edges = [lo] + sorted(c for c in cuts if lo < c < hi) + [hi]
    xs, ws = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        half = 0.5 * (b - a)
        xs.append(0.5 * (a + b) + half * x_ref)
        ws.append(half * w_ref)
    return np.concatenate(xs), np.concatenate(ws)


def reference_solve(
    weights,
    means,
    covs,
    alphas,
    sigmas,
    lam1,
    lam2,
    kappa,
    dlam,
    n_nodes=60,
    tol=1e-12,
    max_iter=2000,
    damping=0.5,
    init=None,
):
    r"""Solve the RS equations of state of the Generalized Trans-Lasso (docs/translasso_theory.md).

    Parameters
    ----------
    weights : array_like, shape (C,)
        Mixture weights (sum to 1).
    means : array_like, shape (C, K)
    covs : array_like, shape (C, K, K)
        Class covariances; singular (even zero) matrices are allowed.
    alphas, sigmas : array_like, shape (K,)
        Sample ratios :math:`M^{(k)}/N` and noise standard deviations; index 0 is the target.
    lam1, lam2, kappa, dlam : float
        Hyperparameters of ``docs/translasso_theory.md`` (estimator) (``dlam`` may be ``inf``).
    n_nodes : int
        Gauss-Legendre nodes per piece of the stage-2 integrals.
    tol : float
        Stop when the undamped update changes the order parameters by less than ``tol``
        in the l1 norm.
    max_iter : int
        Per stage; a ``RuntimeError`` is raised if it is reached.
    damping : float
        :math:`\eta` in :math:`\Theta \leftarrow \eta\Theta + (1-\eta)\Theta_{new}`.
    init : dict, optional
        Warm start, e.g. the result of a neighbouring point (keys ``Q1, m1, chi1, Q2, m2, R,
        chi2, chi12``). Default: the initial values of the numerical scheme, stage 1
        (Q1, m1, chi1) = (1, 0, 1), stage 2 (Q2, m2, R, chi2, chi12) = (0.5, 0.1, 0.1, 0.5, 0).

    Returns
    -------
    dict
        ``Q1, m1 (list), chi1, Q2, m2, R, chi2, chi12, eps1, eps2, mse1, mse2, density1,
        density2, iterations`` (stage 1 + stage 2), ``iterations1``, ``iterations2``.
        :math:`\varepsilon^{(1st)} = \sigma_1^2+\rho_1-2m_1^{(1)}+Q_1`,
        :math:`\varepsilon^{(2nd)} = \sigma_1^2+\rho_1+\kappa^2Q_1+Q_2-2\kappa m_1^{(1)}
        -2m_2+2\kappa R` (``docs/translasso_theory.md``, observables).
    """
    weights = np.asarray(weights, dtype=float)
    means = np.asarray(means, dtype=float)
    covs = np.asarray(covs, dtype=float)
    alphas = np.asarray(alphas, dtype=float)
    sigmas = np.asarray(sigmas, dtype=float)
    C, K = means.shape
    if weights.shape != (C,) or covs.shape != (C, K, K):
        raise ValueError("shapes: weights (C,), means (C, K), covs (C, K, K) expected")
    if alphas.shape != (K,) or sigmas.shape != (K,):
        raise ValueError("alphas and sigmas must have shape (K,)")
    lam1, lam2, kappa, dlam = float(lam1), float(lam2), float(kappa), float(dlam)
    eta_d = float(damping)
    rho = np.einsum("c,ckk->k", weights, covs) + weights @ means**2

    # ---------------- stage 1 ----------------
    Q1, m1, chi1 = 1.0, np.zeros(K), 1.0
    theta = np.array([0.5, 0.1, 0.1, 0.5, 0.0])  # stage 2: Q2, m2, R, chi2, chi12
    if init is not None:
        Q1, m1, chi1 = float(init["Q1"]), np.array(init["m1"], dtype=float), float(init["chi1"])
        theta = np.array([init[k] for k in ("Q2", "m2", "R", "chi2", "chi12")], dtype=float)
    it1 = 0
    for it1 in range(1, max_iter + 1):
        Q1n, m1n, chi1n = _stage1_map(weights, means, covs, alphas, sigmas, rho, lam1, Q1, m1, chi1)
        diff = abs(Q1n - Q1) + np.abs(m1n - m1).sum() + abs(chi1n - chi1)
        if not np.isfinite(diff):
            raise FloatingPointError(f"stage 1: non-finite iterate at iteration {it1}")
        Q1 = eta_d * Q1 + (1 - eta_d) * Q1n
        m1 = eta_d * m1 + (1 - eta_d) * m1n
        chi1 = eta_d * chi1 + (1 - eta_d) * chi1n
        if diff < tol:
            break
    else:
        raise RuntimeError(f"stage 1 did not converge in {max_iter} iterations")

    Qh1, mh1, chih1 = _stage1_conjugates(alphas, sigmas, rho, Q1, m1, chi1)
    u, eta, s2 = _stage1_classes(weights, means, covs, mh1, chih1)
    s = np.sqrt(s2)

    # quadrature over h ~ N(eta_c, s_c^2), fixed for the whole stage-2 iteration
    x_ref, w_ref = np.polynomial.legendre.leggauss(int(n_nodes))
    nodes = []
    for c in range(C):
        h, wq = _gauss_legendre_pieces(
            eta[c] - 12 * s[c], eta[c] + 12 * s[c], (-lam1, lam1), x_ref, w_ref
        )
        dens = wq * _normal_pdf(h, eta[c], s2[c])
        x1 = np.sign(h) * np.maximum(np.abs(h) - lam1, 0.0) / Qh1
        outside = np.abs(h) > lam1
        lam_e = np.where(outside, lam2, lam2 + dlam)
        nodes.append((h, dens, x1, outside, lam_e))
    flip_pdf = [
        (_normal_pdf(lam1, eta[c], s2[c]), _normal_pdf(-lam1, eta[c], s2[c])) for c in range(C)
    ]

    a1 = alphas[0]
    rs1 = rho[0] + sigmas[0] ** 2
    m11 = m1[0]
    S11 = covs[:, 0, 0]
    mu1 = means[:, 0]
    u1 = u[:, 0]

    # ---------------- stage 2 ----------------
    it2 = 0
    for it2 in range(1, max_iter + 1):
        Q2, m2, R, chi2, chi12 = theta
        cy = 1.0 - (kappa * chi1 + chi12) / (1.0 + chi1)
        c1 = (kappa - chi12) / (1.0 + chi1)
        d2 = 1.0 + chi2
        Qh2 = a1 / d2
        mh2 = a1 * cy / d2
        Rh = -a1 * c1 / d2
        G = cy**2 * rs1 + c1**2 * Q1 + Q2 - 2 * cy * c1 * m11 - 2 * cy * m2 + 2 * c1 * R
        chih2 = a1 * G / d2**2
        chih12 = a1 * (cy * rs1 - (cy + c1) * m11 + c1 * Q1 - m2 + R) / ((1.0 + chi1) * d2)

        acc = np.zeros(5)
        for c in range(C):
            h, dens, x1, outside, lam_e = nodes[c]
            vg = mh2**2 * S11[c] + chih2
            nu = mh2 * mu1[c]
            k = mh2 * u1[c] + chih12
            gam = k / s2[c]
            vt = max(vg - k * k / s2[c], _V_FLOOR)
            det = s2[c] * vg - k * k
            rhs_g = mh2 * S11[c]
            if det > 0:
                beta_h = (vg * u1[c] - k * rhs_g) / det
                beta_g = (s2[c] * rhs_g - k * u1[c]) / det
            else:  # degenerate (h and g collinear): least-squares on h alone
                beta_h, beta_g = u1[c] / s2[c], 0.0
            mubar = nu + gam * (h - eta[c])
            mu_h = mubar + Rh * x1
            P, M1, M2 = soft_threshold_moments(mu_h, vt, lam_e)
            # smooth part: P at lam2 off the stage-1 support (lam_e = lam2 there)
            q2 = dens @ M2
            r = dens @ (x1 * M1)
            ch2 = dens @ P
            mm2 = dens @ (
                (mu1[c] + beta_h * (h - eta[c])) * M1 + beta_g * ((mubar - nu) * M1 + vt * P)
            )
            ch12 = Rh / Qh1 * (dens @ np.where(outside, P, 0.0))
            # support-flip term at h = +-lam1, where x1 = 0 and mu_c(h) = mubar(h)
            flip = 0.0
            if dlam != 0.0:
                for sgn, pdf in zip((1.0, -1.0), flip_pdf[c], strict=True):
                    mb = nu + gam * (sgn * lam1 - eta[c])
                    _, M1a, _ = soft_threshold_moments(mb, vt, lam2)
                    _, M1b, _ = soft_threshold_moments(mb, vt, lam2 + dlam)
                    flip += sgn * pdf * float(M1a - M1b)
            acc += weights[c] * np.array([q2, mm2, r, ch2, ch12 + flip])
        new = np.array([acc[0] / Qh2**2, acc[1] / Qh2, acc[2] / Qh2, acc[3] / Qh2, acc[4] / Qh2])
        diff = np.abs(new - theta).sum()
        if not np.isfinite(diff):
            raise FloatingPointError(f"stage 2: non-finite iterate at iteration {it2}")
        theta = eta_d * theta + (1 - eta_d) * new
        if diff < tol:
            break
    else:
        raise RuntimeError(f"stage 2 did not converge in {max_iter} iterations")

    Q2, m2, R, chi2, chi12 = (float(x) for x in theta)
    sig0 = sigmas[0] ** 2
    eps1 = sig0 + rho[0] - 2 * m1[0] + Q1
    eps2 = sig0 + rho[0] + kappa**2 * Q1 + Q2 - 2 * kappa * m1[0] - 2 * m2 + 2 * kappa * R
    # conjugate of stage 2 at the fixed point, for the sparsity of x2
    Qh2 = a1 / (1.0 + chi2)
    return {
        "Q1": float(Q1),
        "m1": [float(x) for x in m1],
        "chi1": float(chi1),
        "Q2": Q2,
        "m2": m2,
        "R": R,
        "chi2": chi2,
        "chi12": chi12,
        "eps1": float(eps1),
        "eps2": float(eps2),
        "mse1": float(eps1 - sig0),
        "mse2": float(eps2 - sig0),
        "density1": float(Qh1 * chi1),
        "density2": float(Qh2 * chi2),
        "iterations": it1 + it2,
        "iterations1": it1,
        "iterations2": it2,
    }
