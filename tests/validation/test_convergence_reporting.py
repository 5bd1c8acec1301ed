"""Unconverged fits are reported (a warning and a column), never swallowed (issue 8)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import lasso
import replica as rp
from validation import compare as C
from validation.errors import ConvergenceWarning, count_convergence_warnings, warn_unconverged

SC = rp.TransferScenario((1.0, 2.0), (0.5, 0.5), rp.support_prior(0.15, [0.05, 0.05], corr=0.8))
HY = rp.TransLassoHyper(lam1=0.3, lam2=0.2, kappa=0.5, dlam=0.5)


def test_compare_reports_unconverged_fits():
    with pytest.warns(ConvergenceWarning, match="3 of 3 Trans-Lasso fits did not converge"):
        df = C.compare_trans_lasso(SC, HY, N=100, seeds=[0, 1, 2], max_iter=2, n_jobs=1,
                                   progress=False, observables=("mse2",),
                                   control_variates=False)
    assert df["n_unconverged"].tolist() == [3] and df["converged"].tolist() == [0.0]
    runs = df.attrs["runs"]
    assert (runs["n_convergence_warnings"] > 0).all() and not runs["converged"].any()


def test_compare_converged_fits_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        df = C.compare_trans_lasso(SC, HY, N=100, seeds=[0, 1], n_jobs=1, progress=False,
                                   observables=("mse2",), control_variates=False)
    assert df["n_unconverged"].tolist() == [0]
    assert (df.attrs["runs"]["n_convergence_warnings"] == 0).all()


def test_count_convergence_warnings_counts_and_passes_others_on():
    def noisy():
        warnings.warn("not converged", lasso.ConvergenceWarning, stacklevel=2)
        warnings.warn("not converged either", rp.ConvergenceWarning, stacklevel=2)
        warnings.warn("something else", RuntimeWarning, stacklevel=2)
        return 7

    with pytest.warns(RuntimeWarning, match="something else"):
        value, n = count_convergence_warnings(noisy)
    assert (value, n) == (7, 2)


def test_warn_unconverged_reads_both_columns():
    df = pd.DataFrame({"converged": [True, False, True], "n_convergence_warnings": [0, 0, 2]})
    with pytest.warns(ConvergenceWarning, match="2 of 3 things"):
        assert warn_unconverged(df, "things") == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_unconverged(df.iloc[[0]], "things") == 0
