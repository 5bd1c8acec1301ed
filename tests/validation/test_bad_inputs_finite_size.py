"""Attacker-style bad inputs of the finite-size study (FiniteSizeConfig, fit_inverse_n, the
CLI entry), the ``replicate`` field/argument of the real-data experiment and
CovarianceDesign.replicated: each row used to raise a raw TypeError/MemoryError/LinAlgError or
return NaN silently (or is a regression row of an input already refused)."""

import math

import numpy as np
import pandas as pd
import pytest

from replica.design import CovarianceDesign
from validation import cli
from validation.experiments import translasso_finite_size as FS
from validation.experiments import translasso_realdata as RD

F = FS.FiniteSizeConfig
COV = CovarianceDesign(np.eye(3) + 0.1)

BAD = [
    # TypeError: 'int' / 'NoneType' object is not iterable
    ("replicates int", lambda: F(replicates=3), "replicates = 3: expected a tuple"),
    ("replicates None", lambda: F(replicates=None), "replicates = None"),
    ("designs None", lambda: F(designs=None), "designs = None"),
    ("alphas None", lambda: F(alphas=None), "alphas = None"),
    ("sigmas float", lambda: F(sigmas=0.1), "sigmas = 0.1"),
    ("mnist_scenarios None", lambda: F(mnist_scenarios=None), "mnist_scenarios = None"),
    # MemoryError (a 1e12-element seed tuple)
    ("base_seeds 1e12", lambda: F(base_seeds=10**12), "base_seeds = 1000000000000"),
    # the duplicate was reported under another experiment's field name (mnist_designs)
    ("designs duplicate", lambda: F(designs=("gaussian", "gaussian")),
     "designs = ('gaussian', 'gaussian'): choose distinct"),
    # accepted silently: wrong types in the output-folder fields
    ("preset None", lambda: F(preset=None), "preset = None"),
    ("cache_dir int", lambda: F(cache_dir=3), "cache_dir = 3"),
    # real-data experiment: a kurtosis string gave "could not convert string to float"
    ("kurtosis_max str", lambda: F(kurtosis_max="x"), "kurtosis_max = 'x'"),
    # fit_inverse_n: NaN out for NaN in, LinAlgError for inf / nearly equal N
    ("fit NaN mean", lambda: FS.fit_inverse_n([1, 2], [np.nan, 1], [1, 1]), "mean = [nan"),
    ("fit NaN n", lambda: FS.fit_inverse_n([1, np.nan], [1, 2], [1, 1]), "n = [1.0, nan]"),
    ("fit inf n", lambda: FS.fit_inverse_n([np.inf, 2], [1, 2], [1, 1]), "n = [inf"),
    ("fit inf mean", lambda: FS.fit_inverse_n([1, 2], [np.inf, 2], [1, 1]), "mean = [inf"),
    ("fit inf se", lambda: FS.fit_inverse_n([1, 2], [1, 2], [np.inf, 1]), "se = [inf"),
    ("fit nearly equal N", lambda: FS.fit_inverse_n([1, 1 + 1e-15], [1, 2], [1, 1]),
     "do not determine a + b/N"),
    ("fit strings", lambda: FS.fit_inverse_n("ab", "cd", "ef"), "arrays of numbers"),
    # image_rows: replicate 0 divided by sqrt(0) (inf rows), a string raised TypeError
    ("image_rows replicate 0",
     lambda: RD.image_rows(np.ones((20, 3)), [2, 2], np.arange(20), replicate=0),
     "replicate = 0"),
    ("image_rows replicate str",
     lambda: RD.image_rows(np.ones((20, 3)), [2, 2], np.arange(20), replicate="2"),
     "replicate = '2'"),
    ("image_rows replicate bool",
     lambda: RD.image_rows(np.ones((20, 3)), [2, 2], np.arange(20), replicate=True),
     "replicate = True"),
    # realdata_config(r): ZeroDivisionError for r = 0, TypeError for a string
    ("realdata_config r 0", lambda: F.quick().realdata_config(0), "r = 0"),
    ("realdata_config r str", lambda: F.quick().realdata_config("2"), "r = '2'"),
    ("realdata_config r None", lambda: F.quick().realdata_config(None), "r = None"),
    # AttributeError / KeyError from the table functions
    ("run cfg str", lambda: FS.run("x", "unused"), "cfg = 'x'"),
    ("points_table None", lambda: FS.points_table(None), "cfg = None"),
    ("extrapolation None", lambda: FS.extrapolation_table(None), "points: expected"),
    ("extrapolation columns", lambda: FS.extrapolation_table(pd.DataFrame({"N": [61]})),
     "points: missing columns"),
    # regression rows (already refused)
    ("replicates str", lambda: F(replicates="12"), "replicates = '12'"),
    ("replicates 65", lambda: F(replicates=(1, 65)), "replicates"),
    ("base_seeds float", lambda: F(base_seeds=100.0), "base_seeds = 100.0"),
    ("base_seeds negative", lambda: F(base_seeds=-5), "base_seeds = -5"),
    ("designs str", lambda: F(designs="images"), "designs = 'images'"),
    ("alphas NaN", lambda: F(alphas=(math.nan, 4.0)), "alphas"),
    ("n_jobs 0", lambda: F(n_jobs=0), "n_jobs = 0"),
    ("fit negative se", lambda: FS.fit_inverse_n([1, 2], [1, 2], [-1, 1]), "standard errors"),
    ("realdata replicate 0", lambda: RD.TransLassoRealDataConfig(replicate=0), "replicate = 0"),
    ("realdata replicate 2.0", lambda: RD.TransLassoRealDataConfig(replicate=2.0),
     "replicate = 2.0"),
    ("realdata replicate None", lambda: RD.TransLassoRealDataConfig(replicate=None),
     "replicate = None"),
    ("replicated 0", lambda: COV.replicated(0), "r = 0"),
    ("replicated 2.5", lambda: COV.replicated(2.5), "r = 2.5"),
    ("replicated True", lambda: COV.replicated(True), "r = True"),
    ("replicated NaN", lambda: COV.replicated(math.nan), "r = nan"),
    ("replicated 1e9 (too large, fast)", lambda: COV.replicated(10**9), "too large"),
    # 3 x 3000 = 9000 features passed the entry cap and ran a dense 9000 x 9000 eigh (minutes;
    # 61 x 366 digits features: about an hour)
    ("replicated N r > 8192 (fast)", lambda: COV.replicated(3000), "r = 3000: N r = 9000"),
]


@pytest.mark.parametrize("name, call, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs(name, call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)


def test_fit_inverse_n_scale_free():
    """Exact a + b/N at large N and with tiny standard errors (hand values a = 1, b = 2): the
    old 1/se^2 weights overflowed to NaN at se = 1e-200."""
    n = np.array([1e5, 2e5, 4e5])
    for se in (1e-3, 1e-200):
        f = FS.fit_inverse_n(n, 1.0 + 2.0 / n, np.full(3, se))
        assert f["a"] == pytest.approx(1.0, rel=1e-12)
        assert f["b"] == pytest.approx(2.0, rel=1e-6)
        assert f["a_se"] > 0 and math.isfinite(f["a_se"])
    # two points, hand error propagation: a = (N2 m2 - N1 m1) / (N2 - N1)
    f = FS.fit_inverse_n([10, 30], [2.0, 1.5], [1e-150, 2e-150])
    assert f["a"] == pytest.approx(1.25, rel=1e-12)
    assert f["a_se"] == pytest.approx(math.hypot(30 * 2e-150, 10 * 1e-150) / 20, rel=1e-12)
    assert f["b_se"] == pytest.approx(math.hypot(2e-150, 1e-150) * 300 / 20, rel=1e-12)


def test_finite_size_config_normalises_numpy_integers():
    cfg = F(replicates=(1, np.int64(2)), base_seeds=np.int64(100))
    assert cfg.replicates == (1, 2) and type(cfg.base_seeds) is int
    assert cfg.to_dict()["base_seeds"] == 100 and cfg.to_dict()["replicates"] == (1, 2)


CLI_BAD = [
    (["reproduce", "translasso-finite-size", "--seeds", "5"], "--seeds: not an option"),
    (["reproduce", "translasso-finite-size", "--seeds", "abc"], "--seeds"),
    (["reproduce", "translasso-finite-size", "--n-jobs", "0"], "--n-jobs"),
    (["reproduce", "translasso-finite-size", "--parts", "mnist"], "--parts: not an option"),
    (["reproduce", "translasso-finite-size", "--device", "cuda"], "--device: not an option"),
    (["reproduce", "translasso-finite-siz"], "unknown experiment"),
    (["reproduce", "translasso-finite-size", "--quick", "--seeds", "100000000"], "at most"),
]


@pytest.mark.parametrize("argv, fragment", CLI_BAD, ids=[" ".join(a[2:]) for a in CLI_BAD])
def test_cli_bad_arguments(argv, fragment, capsys):
    """One stderr line, exit code 2, no traceback; nothing is run."""
    try:
        rc = cli.main(argv)
    except SystemExit as exc:  # argparse errors
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert fragment in err and "Traceback" not in err and len(err.splitlines()) == 1
