"""Bad inputs to the validation API and the command line: a clear error naming the input.

API: each row is (callable, expected exception, message fragment naming the argument).
CLI: each row is (argv, files to create, exit code, stderr fragment); every failure must be
one line on stderr, a non-zero exit code and no traceback. A few rows also run through a
subprocess (the installed entry point ``python -m validation``).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import replica as rp
from validation import compare as C
from validation.cli import main
from validation.experiments import translasso as T
from validation.experiments import translasso_validate as V
from validation.outputs import make_output_dir
from validation.plotting import param_text
from validation.runner import check_scheduler, run_grid


def task(a, seed=None):
    return {"b": a}


SC = rp.TransferScenario((1.0, 2.0), (0.5, 0.5), rp.support_prior(0.1, [0.02, 0.02]))
HY = rp.TransLassoHyper(0.3, 0.2, 0.5, 0.5)
P = functools.partial


def _cmp(**kw):
    args = {"N": 50, "seeds": [0, 1], "n_jobs": 1, "progress": False}
    args.update(kw)
    return P(C.compare_trans_lasso, SC, HY, **args)


API_CASES = [
    # sweep runner
    ("run_grid n_jobs=0", P(run_grid, task, {"a": [1]}, n_jobs=0), ValueError, "n_jobs"),
    ("run_grid seeds float", P(run_grid, task, {"a": [1]}, seeds=[0.5]), ValueError, "seeds"),
    ("run_grid seeds str", P(run_grid, task, {"a": [1]}, seeds="ab"), TypeError, "seeds"),
    ("run_grid params int", P(run_grid, task, 5), TypeError, "params"),
    ("run_grid params str values", P(run_grid, task, {"a": "xy"}), TypeError, "params['a']"),
    ("run_grid seed twice", P(run_grid, task, [{"a": 1, "seed": 2}], seeds=[0]), ValueError,
     "seed"),
    ("run_grid lambda cached", P(run_grid, lambda a: {"b": a}, {"a": [1]}, cache_dir="x"),
     ValueError, "lambda"),
    ("scheduler without port", P(check_scheduler, "tcp://localhost"), ValueError, "port"),
    ("scheduler empty", P(check_scheduler, ""), ValueError, "scheduler"),
    ("scheduler refused", P(check_scheduler, "tcp://127.0.0.1:1"), ConnectionError,
     "127.0.0.1:1"),
    # comparisons
    ("compare N=1", _cmp(N=1), ValueError, "N = 1"),
    ("compare N=10.7", _cmp(N=10.7), ValueError, "N = 10.7"),
    ("compare N=nan", _cmp(N=float("nan")), ValueError, "N = nan"),
    ("compare N=True", _cmp(N=True), ValueError, "N = True"),
    ("compare one seed", _cmp(seeds=[0]), ValueError, "seeds"),
    ("compare solver", _cmp(solver="magic"), ValueError, "solver = 'magic'"),
    ("compare tol=0", _cmp(tol=0.0), ValueError, "tol = 0.0"),
    ("compare tol=2", _cmp(tol=2.0), ValueError, "tol = 2.0"),
    ("compare tol str", _cmp(tol="1e-8"), ValueError, "tol = '1e-8'"),
    ("compare max_iter=0", _cmp(max_iter=0), ValueError, "max_iter = 0"),
    ("compare max_iter=2.5", _cmp(max_iter=2.5), ValueError, "max_iter = 2.5"),
    ("compare observable", _cmp(observables=("mse9",)), ValueError, "observables"),
    ("settings duplicate", P(C.compare_settings, [C.Setting("a", SC, HY)] * 2, 50, [0, 1]),
     ValueError, "unique"),
    ("Setting empty name", P(C.Setting, "", SC, HY), ValueError, "name"),
    ("Setting scenario type", P(C.Setting, "a", {"alphas": 1}, HY), ValueError, "scenario"),
    ("Setting hyper type", P(C.Setting, "a", SC, (0.1, 0.2)), ValueError, "hyper"),
    ("empirical shapes", P(C.empirical_observables, np.zeros(3), np.zeros(4), 0.5,
                           np.zeros(3)), ValueError, "x1, x2, r0"),
    ("fit_inverse_n one N", P(C.fit_inverse_n, [100, 100], [1, 2], [0.1, 0.1]), ValueError,
     "distinct N"),
    ("fit_inverse_n lengths", P(C.fit_inverse_n, [100, 200], [1], [0.1, 0.1]), ValueError,
     "equal length"),
    ("fit_inverse_n se=0", P(C.fit_inverse_n, [100, 200], [1, 2], [0.0, 0.1]), ValueError,
     "ses"),
    # experiment configs
    ("TL N small", P(T.TransLassoConfig, N=5), ValueError, "N = 5"),
    ("TL one seed", P(T.TransLassoConfig, seeds=(1,)), ValueError, "seeds"),
    ("TL kappa grid order", P(T.TransLassoConfig, kappa_grid=(0.5, 0.1)), ValueError,
     "kappa_grid"),
    ("TL kappa grid str", P(T.TransLassoConfig, kappa_grid="abc"), ValueError, "kappa_grid"),
    ("TL dlam grid start", P(T.TransLassoConfig, dlam_grid=(0.1, 0.2)), ValueError,
     "dlam_grid[0]"),
    ("TL lam1 rule", P(T.TransLassoConfig, lam1_rule="best"), ValueError, "lam1_rule"),
    ("TL n_grid", P(T.TransLassoConfig, n_grid=2), ValueError, "n_grid"),
    ("TL solver", P(T.TransLassoConfig, solver="cd"), ValueError, "solver"),
    ("TL tol", P(T.TransLassoConfig, tol=0.1), ValueError, "tol"),
    ("TL tol str", P(T.TransLassoConfig, tol="x"), ValueError, "tol"),
    ("TL n_jobs", P(T.TransLassoConfig, n_jobs=0), ValueError, "n_jobs"),
    ("TL support", P(T.TransLassoConfig, support=0.0), ValueError, "support"),
    ("TL marker", P(T.TransLassoConfig, marker_alpha0=(0.4,)), ValueError, "marker_alpha0"),
    ("TL parity", P(T.TransLassoConfig, parity_settings=("nope",)), ValueError,
     "parity_settings"),
    ("TL K=3", P(T.TransLassoConfig, alphas=(1, 2, 3), sigmas=(1, 1, 1)), ValueError,
     "alphas"),
    ("TL corr grid", P(T.TransLassoConfig, regret_corr_grid=(0.5, 1.5)), ValueError,
     "regret_corr_grid"),
    ("TV N", P(V.TransLassoValidateConfig, N=2.5), ValueError, "N = 2.5"),
    ("TV settings", P(V.TransLassoValidateConfig, settings=("x",)), ValueError, "settings"),
    ("TV z_max", P(V.TransLassoValidateConfig, z_max=float("nan")), ValueError, "z_max"),
    ("TV rel_max str", P(V.TransLassoValidateConfig, rel_max="big"), ValueError, "rel_max"),
    ("TV tol str", P(V.TransLassoValidateConfig, tol="x"), ValueError, "tol"),
    ("TV seeds dup", P(V.TransLassoValidateConfig, seeds=(1, 1)), ValueError, "seeds"),
    # outputs and plotting
    ("param_text type", P(param_text, 5), TypeError, "params"),
]


@pytest.mark.parametrize("name, call, exc, fragment", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_bad_input(name, call, exc, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc) as info:
        call()
    assert fragment in str(info.value)


def test_output_dir_that_is_a_file(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(ValueError, match="out = .*is an existing file"):
        make_output_dir(f, "x")


def test_run_grid_unreachable_scheduler_fails_fast():
    pytest.importorskip("distributed")
    t0 = time.perf_counter()
    with pytest.raises(ConnectionError, match="127.0.0.1:9"):
        run_grid(task, {"a": [1]}, scheduler="tcp://127.0.0.1:9", progress=False)
    assert time.perf_counter() - t0 < 5.0


# ---- CLI --------------------------------------------------------------------------------
GOOD = {"alphas": [0.5, 4], "sigmas": [0.1, 0.1]}
FILES = {
    "list.json": json.dumps([1, 2]),
    "sup3.json": json.dumps({**GOOD, "support": 3}),
    "sig_str.json": json.dumps({"alphas": [0.5, 4], "sigmas": ["a", 0.1]}),
    "alpha_num.json": json.dumps({"alphas": 0.5, "sigmas": [0.1]}),
    "pc_str.json": json.dumps({**GOOD, "support": {"pi_common": "x"}}),
    "pc_list.json": json.dumps({**GOOD, "support": {"pi_common": [0.1]}}),
    "pc_nan.json": '{"alphas": [0.5, 4], "sigmas": [0.1, 0.1], "support": {"corr": NaN}}',
    "pc_bool.json": json.dumps({**GOOD, "support": {"scale": True}}),
    "pu_len.json": json.dumps({**GOOD, "support": {"pi_unique": [0.1, 0.1, 0.1]}}),
    "nested.json": json.dumps({"alphas": [[0.5]], "sigmas": [0.1]}),
    "empty_alphas.json": json.dumps({"alphas": [], "sigmas": []}),
    "no_sigmas.json": json.dumps({"alphas": [0.5, 4]}),
    "neg_alpha.json": json.dumps({"alphas": [-0.5, 4], "sigmas": [0.1, 0.1]}),
    "unknown.json": json.dumps({**GOOD, "betas": [1]}),
    "both.json": json.dumps({**GOOD, "support": {}, "prior": {}}),
    "prior_keys.json": json.dumps({**GOOD, "prior": {"weights": [1]}}),
    "prior_str.json": json.dumps({**GOOD, "prior": {"weights": [1], "means": "0",
                                                    "covs": [[[1, 0], [0, 1]]]}}),
    "prior_shape.json": json.dumps({**GOOD, "prior": {"weights": [1], "means": [[0, 0, 0]],
                                                      "covs": [[[1, 0], [0, 1]]]}}),
    "broken.json": "{not json",
    "empty.json": "",
    "bin.json": b"\xff\xfe\x00",
    "bad.toml": "alphas = [0.5, 4\n",
    "s.toml": 'alphas = [0.5, 4]\nsigmas = [0.1, "x"]\n',
    "afile": "x",
    "big.json": " " * 1_000_001 + "{}",
    "deep.json": "[" * 100_000 + "]" * 100_000,
}
LONG = ["--yes-long-run"]
CLI_CASES = [
    # scenario files
    (["select", "--scenario", "{d}"], 2, "is a folder"),
    (["select", "--scenario", "{d}/missing.json"], 2, "file not found"),
    (["select", "--scenario", "{d}/list.json"], 2, "got a list"),
    (["select", "--scenario", "{d}/sup3.json"], 2, "support = 3"),
    (["select", "--scenario", "{d}/sig_str.json"], 2, "sigmas"),
    (["select", "--scenario", "{d}/alpha_num.json"], 2, "alphas = 0.5"),
    (["select", "--scenario", "{d}/pc_str.json"], 2, "support.pi_common"),
    (["select", "--scenario", "{d}/pc_list.json"], 2, "support.pi_common"),
    (["select", "--scenario", "{d}/pc_nan.json"], 2, "support.corr"),
    (["select", "--scenario", "{d}/pc_bool.json"], 2, "support.scale"),
    (["select", "--scenario", "{d}/pu_len.json"], 2, "pi_unique"),
    (["select", "--scenario", "{d}/nested.json"], 2, "alphas"),
    (["select", "--scenario", "{d}/empty_alphas.json"], 2, "alphas"),
    (["select", "--scenario", "{d}/no_sigmas.json"], 2, "missing key 'sigmas'"),
    (["select", "--scenario", "{d}/neg_alpha.json"], 2, "alphas[0]"),
    (["select", "--scenario", "{d}/unknown.json"], 2, "unknown keys ['betas']"),
    (["select", "--scenario", "{d}/both.json"], 2, "either 'prior' or 'support'"),
    (["select", "--scenario", "{d}/prior_keys.json"], 2, "prior must be a table"),
    (["select", "--scenario", "{d}/prior_str.json"], 2, "prior.means"),
    (["select", "--scenario", "{d}/prior_shape.json"], 2, "--scenario"),
    (["select", "--scenario", "{d}/broken.json"], 2, "not valid JSON"),
    (["select", "--scenario", "{d}/empty.json"], 2, "not valid JSON"),
    (["select", "--scenario", "{d}/bin.json"], 2, "not a UTF-8 text file"),
    (["select", "--scenario", "{d}/bad.toml"], 2, "not valid TOML"),
    (["select", "--scenario", "{d}/s.toml"], 2, "sigmas"),
    # output folders
    (["select", "--out", "{d}/afile"], 2, "--out"),
    (["select", "--out", "{d}/afile/sub"], 2, "cannot create"),
    (["curve", "--lam1", "0.3", "--vary", "kappa=0,1", "--out", "{d}/afile"], 2,
     "is an existing file"),
    (["demo", "--out", "{d}/afile"], 2, "is an existing file"),
    (["reproduce", "translasso", "--quick", "--out", "{d}/afile"], 2, "is an existing file"),
    # scenario flags
    (["select", "--alphas", "0.5"], 2, "sigmas"),
    (["select", "--alphas", ",,"], 2, "--alphas"),
    (["select", "--alphas", "a,b"], 2, "--alphas"),
    (["select", "--sigmas", "0.1,-1"], 2, "sigmas"),
    (["select", "--pi-common", "2"], 2, "pi_common = 2.0"),
    (["select", "--pi-common", "nan"], 2, "--pi-common"),
    (["select", "--corr", "inf"], 2, "--corr"),
    (["select", "--pi-unique", "0.1,0.1,0.1"], 2, "--pi-unique"),
    (["curve", "--lam1", "0.3", "--vary", "alpha_5=1,2"], 2, "'alpha_5'"),
    (["select", "--lam1", "abc"], 2, "--lam1 = 'abc'"),
    (["select", "--lam1", "nan"], 2, "--lam1"),
    (["select", "--n-grid", "2"], 2, "--n-grid"),
    (["select", "--n-grid", "x"], 2, "--n-grid"),
    (["demo", "--grid", "0"], 2, "--grid"),
    (["demo", "--grid", "-5"], 2, "--grid"),
    # curve grids
    (["curve", "--lam1", "0.3", "--vary", "kappa=0:1"], 2, "--vary 'kappa=0:1'"),
    (["curve", "--lam1", "0.3", "--vary", "kappa"], 2, "--vary 'kappa'"),
    (["curve", "--lam1", "0.3", "--vary", "=0,1"], 2, "--vary '=0,1'"),
    (["curve", "--lam1", "0.3", "--vary", "kappa=0:1:-3"], 2, "num = -3"),
    (["curve", "--lam1", "0.3", "--vary", "kappa=0:1:x"], 2, "--vary"),
    (["curve", "--lam1", "0.3", "--vary", "kappa=0:1:3:lin"], 2, "'log'"),
    (["curve", "--lam1", "0.3", "--vary", "lam2=0:1:3:log"], 2, "positive start"),
    (["curve", "--lam1", "0.3", "--vary", "kappa=0,nan"], 2, "finite"),
    (["curve", "--lam1", "0.3", "--vary", "kappa=0:inf:3"], 2, "--vary"),
    (["curve", "--lam1", "0.3", "--vary", "foo=0,1"], 2, "'foo'"),
    (["curve", "--lam1", "0.3", "--vary", "kappa=0,1", "--vary", "kappa=2,3"], 2,
     "given twice"),
    (["curve", "--lam1", "0.3", "--vary", "kappa=0,1", "--vary", "dlam=0,1",
      "--vary", "lam2=0.1,0.2"], 2, "one (curve) or two (grid)"),
    (["curve", "--lam1", "0.3", "--vary", "kappa=0:1:100000000"], 2, "num = 100000000"),
    (["curve", "--lam1", "0.3", "--vary", "kappa=0:1:3000", "--vary", "dlam=0:1:3000"], 2,
     "9,000,000 points, estimated"),
    (["curve", "--lam1", "0.3", "--kappa", "nan", "--vary", "dlam=0,1"], 2, "--kappa"),
    (["curve", "--lam1", "0.3", "--lam2", "-1", "--vary", "kappa=0,1"], 2, "lam2"),
    (["curve", "--lam1", "-0.3", "--vary", "kappa=0,1"], 2, "lam1"),
    (["curve"], 2, "--vary"),
    # long runs
    (["demo", "--grid", "2000"], 2, "--yes-long-run"),
    (["select", "--n-grid", "200"], 2, "8,000,000 points"),
    (["reproduce", "translasso", "--seeds", "5000"], 2, "--seeds 5000: estimated"),
    (["validate", "translasso", "--quick", "--seeds", "1000"], 2, "--yes-long-run"),
    # experiments and the sweep runner
    (["reproduce", "nosuch"], 2, "unknown experiment 'nosuch'"),
    (["validate", "nosuch"], 2, "nothing to validate for 'nosuch'"),
    (["reproduce", "translasso", "--quick", "--cache-dir", "{d}/afile"], 2, "--cache-dir"),
    (["reproduce", "translasso", "--quick", "--cache-dir", "{d}/afile/c"], 2, "--cache-dir"),
    (["reproduce", "translasso", "--quick", "--scheduler", "tcp://127.0.0.1:9"], 2,
     "127.0.0.1:9"),
    (["reproduce", "translasso", "--quick", "--scheduler", "nonsense"], 2, "host and port"),
    (["reproduce", "translasso", "--quick", "--scheduler", "tcp://[::1"], 2, "--scheduler"),
    (["reproduce", "translasso", "--quick", "--n-jobs", "0"], 2, "--n-jobs"),
    (["reproduce", "translasso", "--quick", "--n-jobs", "-3"], 2, "--n-jobs"),
    (["reproduce", "translasso", "--quick", "--seeds", "1"], 2, "--seeds"),
    (["reproduce", "translasso", "--quick", "--seeds", str(10**100)], 2, "at most 100,000"),
    (["reproduce", "translasso", "--quick", "--n-jobs", "100000"], 2, "--n-jobs"),
    (["select", "--scenario", "/dev/null"], 2, "not a regular file"),
    (["select", "--scenario", "{d}/big.json"], 2, "at most 1,000,000 bytes"),
    (["select", "--scenario", "{d}/deep.json"], 2, "not valid JSON"),
    (["reproduce", "translasso", "--quick", "--data-dir", "{d}"], 2, "--data-dir"),
    (["reproduce", "translasso", "--quick", "--parts", "x"], 2, "--parts"),
    (["nosuchcommand"], 2, "invalid choice"),
    ([], 2, "required"),
    (["select", "--bogus"], 2, "unrecognized arguments"),
]


def _materialise(argv, d: Path):
    for name, content in FILES.items():
        p = d / name
        if not p.exists():
            (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
    return [a.replace("{d}", str(d)) for a in argv]


@pytest.mark.parametrize("argv, code, fragment", CLI_CASES,
                         ids=[" ".join(c[0])[:60] for c in CLI_CASES])
def test_cli_bad_input_is_one_line(argv, code, fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    rc = main(_materialise(argv, tmp_path))
    err = capsys.readouterr().err
    assert rc == code, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert fragment in lines[0], lines[0]
    assert time.perf_counter() - t0 < 8.0  # fails fast (nothing computed first)
    assert not (tmp_path / "results").exists()  # nothing written


@pytest.mark.parametrize("argv, fragment", [
    (["select", "--scenario", "{d}/sup3.json"], "support = 3"),
    (["reproduce", "translasso", "--quick", "--scheduler", "tcp://127.0.0.1:9"],
     "127.0.0.1:9"),
    (["curve", "--vary", "kappa=0:1"], "--vary"),
])
def test_cli_entry_point_subprocess(argv, fragment, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    res = subprocess.run([sys.executable, "-m", "validation", *_materialise(argv, tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and fragment in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
