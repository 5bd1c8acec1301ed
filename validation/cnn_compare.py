"""Torch gradient descent vs the coefficient-space simulator on the same data and init.

The simulator (:func:`dynamics.simulate_cnn_gd`) claims to be *exact* full-batch GD of the
two-layer ReLU CNN (``docs/cnn_theory.md``, section 4). This module trains
:class:`nets.TwoLayerReLUCNN` with ``torch.optim.SGD`` from the same initial filters on the same
Task-2 sample and compares the final weights, the training losses, and the signal/noise
coefficients: the simulator's own coefficients against the least-squares extraction from the
torch weights (:func:`nets.extract_coefficients`). Both scratch and transfer initialisations are
supported; the upstream run of a transfer initialisation is made by the simulator.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

import dynamics
import nets

__all__ = ["compare_torch_simulator", "TorchSimulatorComparison", "relative_error"]


def relative_error(a: np.ndarray, ref: np.ndarray) -> float:
    r"""Relative error :math:`\|a-b\|_F/\|b\|_F` with ``b = ref`` (0 if both vanish)."""
    num = float(np.linalg.norm(np.asarray(a) - np.asarray(ref)))
    den = float(np.linalg.norm(ref))
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return num / den


@dataclass(frozen=True)
class TorchSimulatorComparison:
    """Relative differences torch vs simulator after ``steps`` GD steps.

    ``rel_weights`` is relative to the total update :math:`\\|W^{(T)}-W^{(0)}\\|` (stricter than
    relative to :math:`\\|W^{(T)}\\|`); the coefficient errors are relative to the simulator's
    coefficients; ``max_loss_diff`` is the largest absolute difference of the loss curves.
    """

    init: str
    d: int
    m: int
    n: int
    steps: int
    rel_weights: float
    rel_gamma: float
    rel_rho_bar: float
    rel_rho_under: float
    max_loss_diff: float
    final_loss: float
    time_simulator: float
    time_torch: float

    @property
    def max_rel(self) -> float:
        return max(self.rel_weights, self.rel_gamma, self.rel_rho_bar, self.rel_rho_under)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["max_rel"] = self.max_rel
        return out


def compare_torch_simulator(
    setting: dynamics.CNNTransferSetting,
    *,
    init: str = "scratch",
    n: int | None = None,
    steps: int | None = None,
    seed: int = 0,
    torch_threads: int | None = 1,
) -> TorchSimulatorComparison:
    """Train the same downstream CNN by torch GD and by the simulator; compare.

    Parameters
    ----------
    setting : dynamics.CNNTransferSetting
        Problem (``d``, ``m``, ``eta``, ``sigma_0``, ``alpha``, ``T1`` for the upstream stage).
    init : {"scratch", "transfer"}
        Fresh :math:`N(0,\\sigma_0^2)` filters, or Algorithm 1's transfer initialisation from an
        upstream model trained (by the simulator) for ``setting.T1`` steps on ``setting.N1``
        Task-1 samples.
    n : int, optional
        Downstream sample size (default ``setting.N2``).
    steps : int, optional
        Downstream GD steps (default ``setting.T2``).
    seed : int
    torch_threads : int or None
        Torch intra-op threads during the run (restored afterwards); ``None`` leaves it.

    Returns
    -------
    TorchSimulatorComparison
    """
    import torch

    if init not in ("scratch", "transfer"):
        raise ValueError(f"init = {init!r}: must be 'scratch' or 'transfer'")
    st = setting
    n = st.N2 if n is None else int(n)
    steps = st.T2 if steps is None else int(steps)
    r_data, r_init, r_up, r_tr = (np.random.default_rng(s)
                                  for s in np.random.SeedSequence(seed).spawn(4))
    sample = dynamics.sample_task(st, 2, n, r_data)
    W0 = st.sigma_0 * r_init.standard_normal((2, st.m, st.d))
    if init == "transfer":
        up = dynamics.sample_task(st, 1, st.N1, r_up)
        W_up0 = st.sigma_0 * r_up.standard_normal((2, st.m, st.d))
        up_traj = dynamics.simulate_cnn_gd(up.patches, up.y, W_up0, st.eta, st.T1,
                                           record_every=None)
        W0 = dynamics.transfer_init(up_traj.weights(), st.alpha, r_tr, mode=st.transfer_mode,
                                    sigma_0=st.sigma_0, fresh=W0).weights

    t0 = time.perf_counter()
    traj = dynamics.simulate_cnn_gd(sample.patches, sample.y, W0, st.eta, steps,
                                    record_every=None)
    W_sim = traj.weights(steps)
    coef_sim = traj.coefficients(sample.signals)
    t_sim = time.perf_counter() - t0

    old_threads = torch.get_num_threads()
    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
    try:
        t0 = time.perf_counter()
        model = nets.TwoLayerReLUCNN(st.d, st.m, weight=W0, dtype=torch.float64)
        res = nets.train_gd(model, torch.from_numpy(sample.patches), torch.from_numpy(sample.y),
                            st.eta, steps)
        t_torch = time.perf_counter() - t0
    finally:
        torch.set_num_threads(old_threads)
    W_torch = res.weights[-1]
    ex = nets.extract_coefficients(W_torch, W0, sample.signals, sample.xi, sample.y)
    return TorchSimulatorComparison(
        init=init,
        d=st.d,
        m=st.m,
        n=n,
        steps=steps,
        rel_weights=relative_error(W_torch - W0, W_sim - W0),
        rel_gamma=relative_error(ex.gamma, coef_sim.gamma[-1]),
        rel_rho_bar=relative_error(ex.rho_bar, coef_sim.rho_bar[-1]),
        rel_rho_under=relative_error(ex.rho_under, coef_sim.rho_under[-1]),
        max_loss_diff=float(np.max(np.abs(res.loss - traj.loss))),
        final_loss=float(traj.loss[-1]),
        time_simulator=t_sim,
        time_torch=t_torch,
    )
