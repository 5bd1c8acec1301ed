"""The shared plotting helper: rounded values, named parameters, no raw reprs in titles."""

from __future__ import annotations

import numpy as np
import pytest

import replica as rp
import validation.theory_figures as TF
from validation.cli import main
from validation.plotting import fmt, param_text


@pytest.mark.parametrize("value, text", [
    (0.3056210515797048, "0.306"), (1e-7, "1e-07"), (12345.678, "1.23e+04"), (3, "3"),
    (np.int64(4), "4"), (np.float64(0.5), "0.5"), (float("inf"), "inf"), (float("nan"), "nan"),
    ((0.5, 4.0), "(0.5, 4)"), (True, "True"), ("x", "x"),
])
def test_fmt_rounds(value, text):
    assert fmt(value) == text


def test_param_text_names_the_fixed_parameters():
    hy = rp.TransLassoHyper(0.3056210515797048, 0.1, 0.0, 0.02)
    assert param_text(hy, exclude=["kappa"]) == "lam1 = 0.306, lam2 = 0.1, dlam = 0.02"
    assert param_text({"lam2": 0.123456}, labels=True) == r"$\lambda_2$ = 0.123"


def test_curve_title_names_fixed_values_rounded_not_a_repr(tmp_path, monkeypatch):
    titles = []
    real = TF.plot_curve

    def spy(df, x, ys=("eps2", "eps1"), title=""):
        titles.append(title)
        return real(df, x, ys, title)

    monkeypatch.setattr(TF, "plot_curve", spy)
    assert main(["curve", "--lam1", "0.3056210515797048", "--vary", "kappa=0,0.5",
                 "--out", str(tmp_path)]) == 0
    (title,) = titles
    assert "TransLassoHyper(" not in title and "0.3056210515797048" not in title
    assert r"$\lambda_1$ = 0.306" in title and r"along $\kappa$" in title
    assert r"$\kappa$ =" not in title  # the varied parameter is on the axis, not in the title
