"""Theory against simulation: comparisons, experiments, figures, the sweep runner and the CLI.

``validation`` is the only package that joins the theory (:mod:`replica`, :mod:`dynamics`) with
the empirical side (:mod:`lasso`, :mod:`nets`). Names are imported
lazily, so ``transfer-theory`` starts without loading torch or cvxpy.

Public API
----------
compare_trans_lasso, compare_settings, finite_size_scaling, fit_inverse_n, Setting,
OBSERVABLES, summarize_runs, theory_observables, theory_sensitivities
    Trans-Lasso replica predictions against finite-N fits (:mod:`validation.compare`).
compare_torch_simulator
    Torch gradient descent against the CNN coefficient simulator (:mod:`validation.cnn_compare`).
run_grid, expand_grid, TaskError
    Parameter x seed sweeps on local processes or Dask, with a disk cache
    (:mod:`validation.runner`).
load_digits_design, load_mnist, design_from_images, read_idx, load_imdb, imdb_features,
imdb_target_source_split
    Real-data loaders (:mod:`validation.datasets`).
make_output_dir, save_results, environment_info
    Output folders (:mod:`validation.outputs`).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "validation.compare": (
        "compare_trans_lasso", "compare_settings", "finite_size_scaling", "fit_inverse_n",
        "Setting", "OBSERVABLES", "summarize_runs", "theory_observables",
        "theory_sensitivities",
    ),
    "validation.cnn_compare": ("compare_torch_simulator", "TorchSimulatorComparison"),
    "validation.runner": ("run_grid", "expand_grid", "TaskError"),
    "validation.datasets": (
        "load_digits_design", "load_mnist", "design_from_images", "read_idx", "load_imdb",
        "imdb_features", "imdb_target_source_split",
    ),
    "validation.outputs": ("make_output_dir", "save_results", "environment_info"),
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'validation' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
