"""Output folders of experiments: results (CSV), configuration and environment (JSON), figures.

Every experiment in :mod:`validation.experiments` writes into one folder so that a result can
always be traced back to the parameters, seeds and software that made it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["make_output_dir", "environment_info", "save_results", "to_jsonable"]

_PACKAGES = ("numpy", "scipy", "numba", "pandas", "scikit-learn", "cvxpy", "torch", "sympy")


def make_output_dir(out: str | os.PathLike | None, experiment: str) -> Path:
    """Create and return the output folder.

    Parameters
    ----------
    out
        Folder given by the user (``--out DIR``); created if missing. ``None`` makes a new
        folder ``./results/<experiment>-<YYYYmmdd-HHMMSS>``.
    experiment
        Short name of the experiment, used in the default folder name.

    Raises
    ------
    ValueError
        If ``out`` is an existing file.
    OSError
        If the folder cannot be created.
    """
    if out is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path("results") / f"{experiment}-{stamp}"
        k = 1
        while path.exists():
            path = Path("results") / f"{experiment}-{stamp}-{k}"
            k += 1
    else:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise ValueError(f"out = {os.fspath(out)!r}: is an existing file; give a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def environment_info() -> dict[str, Any]:
    """Python, platform, package versions, git commit and thread settings of this run."""
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in ("transfer-theory", *_PACKAGES):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": versions,
        "git_commit": _git_commit(),
        "threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "time": _dt.datetime.now().isoformat(timespec="seconds"),
    }


def to_jsonable(obj: Any) -> Any:
    """Convert dataclasses, numpy scalars/arrays, paths and tuples to JSON-compatible values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return to_jsonable(obj.to_dict())
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return str(obj)
    return obj


def save_results(
    out_dir: str | os.PathLike,
    table,
    config: Any,
    figures: Mapping[str, Any] | None = None,
    name: str = "results",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``<name>.csv``, ``config.json`` (config + environment) and ``<fig>.png`` files.

    Parameters
    ----------
    out_dir
        Existing output folder (see :func:`make_output_dir`).
    table
        A ``pandas.DataFrame`` (one row per point) or a mapping ``{name: DataFrame}`` for
        several tables.
    config
        The experiment's configuration (a dataclass or a mapping); it must hold the seeds.
    figures
        ``{file stem: matplotlib Figure}``; each is saved as PNG at 150 dpi and closed.
    extra
        Further JSON-serialisable information stored in ``config.json`` (e.g. timings).

    Returns
    -------
    dict
        Paths of every written file, keyed by a short label.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    tables = table if isinstance(table, Mapping) else {name: table}
    for stem, df in tables.items():
        p = out / f"{stem}.csv"
        df.to_csv(p, index=False)
        paths[stem] = p
    meta = {"config": to_jsonable(config), "environment": environment_info()}
    if extra:
        meta["extra"] = to_jsonable(dict(extra))
    p = out / "config.json"
    p.write_text(json.dumps(meta, indent=2, sort_keys=True))
    paths["config"] = p
    if figures:
        import matplotlib.pyplot as plt

        for stem, fig in figures.items():
            p = out / f"{stem}.png"
            fig.savefig(p, dpi=150, bbox_inches="tight")
            plt.close(fig)
            paths[stem + ".png"] = p
    return paths
