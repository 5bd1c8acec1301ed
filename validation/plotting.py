"""The one plotting helper of :mod:`validation`: headless pyplot, figure grids, readable labels.

Every experiment and CLI figure goes through these functions, so that figures look alike and
read well without the code: values in titles and legends are rounded (:func:`fmt`), the
parameters held fixed are listed by name (:func:`param_text`) and the varied one is named on
its axis, never a raw ``repr`` of a dataclass.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["fmt", "param_text", "pyplot", "subplots", "finish", "legend_below"]

# readable names of the parameters that figures vary or hold fixed
LABELS = {
    "lam1": r"$\lambda_1$", "lam2": r"$\lambda_2$", "kappa": r"$\kappa$",
    "dlam": r"$\Delta\lambda$", "alpha": r"$\alpha$", "sigma": r"$\sigma$", "N": "N",
    "eps1": r"$\varepsilon^{(1st)}$", "eps2": r"$\varepsilon^{(2nd)}$",
}


def pyplot():
    """``matplotlib.pyplot`` on a non-interactive backend (safe on servers and in workers)."""
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "png", "cairo"):
        try:
            matplotlib.use("Agg")
        except Exception:  # noqa: BLE001 - the user fixed a backend already
            pass
    import matplotlib.pyplot as plt

    return plt


def fmt(value: Any, digits: int = 3) -> str:
    """A number rounded to ``digits`` significant digits (``0.3056210515`` -> ``0.306``).

    Integers stay integers, infinities are ``inf``, sequences are formatted element-wise.
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.{digits}g}"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "(" + ", ".join(fmt(v, digits) for v in value) + ")"
    return str(value)


def param_text(params: Any, exclude: Iterable[str] = (), digits: int = 3,
               labels: bool = False) -> str:
    """``"lam1 = 0.306, lam2 = 0.1, dlam = 0"``: the fixed parameters of a figure.

    Parameters
    ----------
    params
        A mapping or a dataclass (its fields, or its ``to_dict()``).
    exclude
        Names left out (the varied parameters: they are on an axis).
    labels
        Use the LaTeX labels of :data:`LABELS` where known.
    """
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        params = params.to_dict() if hasattr(params, "to_dict") else dataclasses.asdict(params)
    if not isinstance(params, Mapping):
        raise TypeError(f"params: expected a mapping or a dataclass, got {type(params).__name__}")
    skip = set(exclude)
    parts = []
    for k, v in params.items():
        if k in skip:
            continue
        name = LABELS.get(k, k) if labels else k
        parts.append(f"{name} = {fmt(v, digits)}")
    return ", ".join(parts)


def subplots(nrows: int = 1, ncols: int = 1, *, width: float = 4.5, height: float = 3.8,
             **kwargs):
    """``plt.subplots`` sized per panel; ``squeeze`` as in matplotlib."""
    plt = pyplot()
    kwargs.setdefault("figsize", (width * ncols, height * nrows))
    return plt.subplots(nrows, ncols, **kwargs)


def finish(fig, title: str | None = None, *, fontsize: float = 11, tight: bool = True):
    """Set the figure title (suptitle) and lay the figure out; returns ``fig``."""
    if title:
        fig.suptitle(title, fontsize=fontsize)
    if tight and not fig.get_constrained_layout():
        fig.tight_layout()
    return fig


def legend_below(fig, handles, labels, ncol: int = 4, fontsize: float = 8):
    """One legend for all panels, under the axes."""
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=fontsize,
               bbox_to_anchor=(0.5, -0.02), frameon=False)
    return fig
