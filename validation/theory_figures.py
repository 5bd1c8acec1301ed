"""Figures of replica sweep tables: error curves and (kappa, dlam)-type heatmaps.

Built on :mod:`validation.plotting` (headless pyplot, readable parameter names).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from validation.plotting import LABELS, pyplot

__all__ = ["plot_curve", "plot_grid"]


def plot_curve(df: pd.DataFrame, x: str, ys: Sequence[str] = ("eps2", "eps1"), title: str = ""):
    """Line plot of ``ys`` against ``x`` from a :func:`replica.sweep` table.

    Unconverged or failed points (``status != "ok"``) are drawn as red crosses.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ok = df["status"] == "ok" if "status" in df else np.ones(len(df), bool)
    for y in ys:
        if y in df:
            ax.plot(df.loc[ok, x], df.loc[ok, y], marker=".", label=LABELS.get(y, y))
            if (~ok).any():
                ax.plot(df.loc[~ok, x], df.loc[~ok, y], "rx")
    ax.set_xlabel(f"{LABELS.get(x, x)} (varied)")
    ax.set_ylabel("prediction error (noise included)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_grid(df: pd.DataFrame, x: str, y: str, z: str = "eps2", title: str = "",
              marks: dict | None = None):
    """Heatmap of ``z`` over a 2-D sweep table, minimum marked by a star.

    Parameters
    ----------
    marks : dict name -> (x, y), optional
        Extra labelled points (e.g. the optima of restricted strategies).
    """
    plt = pyplot()
    piv = df.pivot_table(index=y, columns=x, values=z)
    xs, ys_ = piv.columns.to_numpy(float), piv.index.to_numpy(float)
    fig, ax = plt.subplots(figsize=(5.8, 4.5))
    mesh = ax.pcolormesh(xs, ys_, piv.to_numpy(), shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label=LABELS.get(z, z))
    vals = piv.to_numpy()
    if np.isfinite(vals).any():
        i, j = np.unravel_index(np.nanargmin(vals), vals.shape)
        ax.plot(xs[j], ys_[i], "w*", ms=14, label=f"grid min {vals[i, j]:.4g}")
        levels = np.nanmin(vals) * np.array([1.01, 1.05, 1.2])
        try:
            ax.contour(xs, ys_, vals, levels=levels, colors="white", linewidths=0.7, alpha=0.7)
        except (ValueError, TypeError):  # flat or degenerate grids
            pass
    for name, (px, py) in (marks or {}).items():
        ax.plot(px, py, "o", ms=8, mfc="none", mew=2, label=name)
    ax.set_xlabel(LABELS.get(x, x))
    ax.set_ylabel(LABELS.get(y, y))
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
