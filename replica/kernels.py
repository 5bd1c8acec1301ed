r"""The one compiled fixed-point loop of both stages.

:func:`iterate` runs the damped, Anderson-accelerated iteration (:mod:`replica.fixed_point`)
of the stage-1 map (:func:`replica.stage1.stage1_map`) or the stage-2 map
(:func:`replica.stage2.stage2_map`), chosen by ``model[0]``. One loop for both stages means one
compiled function: on a new user's first run numba compiles (and links in the fixed-point
step and the soft-threshold moments) once instead of twice. Models come from
:func:`replica.stage1.stage1_model` and :func:`replica.stage2.stage2_model`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from replica.fixed_point import MAX_ITER, RUNNING, fixed_point_step, new_run
from replica.stage1 import stage1_map
from replica.stage2 import stage2_map

__all__ = ["iterate"]


@njit(cache=True, error_model="numpy")
def iterate(model, x0, ctrl):
    """Iterate the map of stage ``model[0]`` from ``x0``.

    ``ctrl``: :meth:`~replica.solver.SolverOptions.ctrl`; returns (state, iterations, residual,
    status). Stage 1 keeps Q1 and chi1 (first and last entries) >= 0, stage 2 Q2 and chi2.
    """
    stage1 = model[0] == 1
    x, hist, positive = new_run(x0, ctrl[3], (0, x0.shape[0] - 1) if stage1 else (0, 3))
    res = np.inf
    for it in range(1, ctrl[2] + 1):
        fx = stage1_map(model, x) if stage1 else stage2_map(model, x)
        x, res, status = fixed_point_step(x, fx, hist, ctrl, positive)
        if status != RUNNING:
            return x, it, res, status
    return x, ctrl[2], res, MAX_ITER
