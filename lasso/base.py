r"""Shared scikit-learn plumbing of the :mod:`lasso` estimators: the two data forms of ``fit``,
``predict`` and ``score`` on target rows.

Two ways to pass data to ``fit``:

- **dataset form** ``fit(target=(X0, y0), sources=[(X1, y1), ...])`` (also positionally,
  ``fit((X0, y0), [(X1, y1)])``): one pair per dataset;
- **stacked form** ``fit(X, y, groups=g)`` (the convention of the ptLasso package): all rows
  in one design, ``g`` labels each row's dataset and the estimator parameter
  ``target_group`` names the target's label; the other labels are the sources, in sorted
  order. Without ``groups`` every row is a target row (no sources). This is the form
  scikit-learn's tools use (``clone``, ``Pipeline``, ``cross_val_score``, ``GridSearchCV``);
  to route ``groups`` to ``fit`` and ``score`` through a search, enable metadata routing
  (``sklearn.set_config(enable_metadata_routing=True)``) and request it with
  ``est.set_fit_request(groups=True).set_score_request(groups=True)``.

``predict`` applies the target model to every row it is given; ``score(X, y, groups=g)``
scores only the rows labelled ``target_group`` (all rows without ``groups``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .checks import check_datasets


def is_dataset_pair(data) -> bool:
    """Whether ``data`` is an ``(X, y)`` pair of the dataset form: a tuple of two, or a list
    of two whose first element is 2-D (a stacked design is an array or a list of rows)."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        return False
    if isinstance(data, tuple):
        return True
    first = data[0]
    if hasattr(first, "shape"):
        return len(first.shape) == 2
    try:
        return np.ndim(first) == 2
    except ValueError:  # ragged nested lists
        return False


def split_by_group(X, y, groups, target_group):
    """Split stacked rows into the target pair and the source pairs (sorted labels)."""
    g = np.asarray(groups)
    if g.ndim != 1 or g.shape[0] != X.shape[0]:
        raise ValueError(
            f"groups has shape {g.shape}: expected one label per row, shape ({X.shape[0]},)"
        )
    is_target = g == target_group
    if not np.any(is_target):
        labels = np.unique(g)
        shown = labels[:10].tolist()
        raise ValueError(
            f"target_group = {target_group!r} labels no row of groups (labels: {shown}"
            f"{' ...' if labels.size > 10 else ''}); set target_group to the target's label"
        )
    sources = [(X[g == lab], y[g == lab]) for lab in np.unique(g[~is_target])]
    return (X[is_target], y[is_target]), sources


class TransferBase(RegressorMixin, BaseEstimator):
    """Base of every :mod:`lasso` estimator: data forms of ``fit``, ``predict``, ``score``."""

    def _datasets(self, X, y, groups, target, sources, require_sources):
        """Validated ``(target, sources)`` from either data form of ``fit`` (module docs)."""
        legacy = target is not None or sources is not None or is_dataset_pair(X)
        if not legacy:
            X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
            if groups is None:
                return (X, y), []
            return split_by_group(X, y, groups, self.target_group)
        if target is None:
            target, sources, X, y = X, y, None, None
        if X is not None or y is not None or groups is not None:
            raise ValueError(
                "pass either fit(X, y, groups=...) or fit(target=(X0, y0), sources=[...]), "
                "not both"
            )
        target, sources = check_datasets(target, sources, require_sources=require_sources)
        self.n_features_in_ = target[0].shape[1]
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return target, sources

    def _set_fit(self, fit):
        """Copy a :class:`~lasso.stages.TransferFit` into the fitted attributes."""
        self.fit_ = fit
        self.coef_stage1_ = fit.coef_stage1
        self.coef_stage2_ = fit.coef_stage2
        self.support_stage1_ = fit.support_stage1
        self.n_iter_ = int(fit.stage1.epochs + fit.stage2.epochs)
        return self._set_coef(fit.coef, fit.intercept)

    def _set_coef(self, coef, intercept):
        self.coef_ = np.asarray(coef, dtype=np.float64)
        self.intercept_ = float(intercept)
        return self

    def predict(self, X):
        """Target prediction :math:`X\\hat x + \\text{intercept}` for every row of ``X``."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_

    def score(self, X, y, sample_weight=None, groups=None):
        """Coefficient of determination :math:`R^2` of the target prediction; with ``groups``
        only the rows labelled ``target_group`` are scored."""
        if groups is not None:
            keep = np.asarray(groups) == self.target_group
            if not np.any(keep):
                raise ValueError(f"target_group = {self.target_group!r} labels no row of groups")
            X = X.iloc[keep] if hasattr(X, "iloc") else np.asarray(X)[keep]
            y = np.asarray(y)[keep]
            sample_weight = None if sample_weight is None else np.asarray(sample_weight)[keep]
        return super().score(X, y, sample_weight=sample_weight)
