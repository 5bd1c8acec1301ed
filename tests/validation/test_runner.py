"""Tests of validation.runner (sweeps in processes / on Dask) and validation.cache."""

from __future__ import annotations

import io
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import validation.cache as cache_mod
from validation.cache import CacheWarning, TaskCache, canonical_json, task_payload
from validation.runner import TaskError, expand_grid, run_grid

# --- task functions: module level so that worker processes can import them -----------------


def noisy_rows(a, b, seed, log=None):
    """Two rows per task; later tasks finish first so that completion order is shuffled."""
    if log is not None:
        with open(log, "a") as fh:
            fh.write(f"{a},{b},{seed}\n")
    time.sleep(0.02 * (3 - a))
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(2)
    return [{"k": 0, "x": a * b + z[0]}, {"k": 1, "x": a - b + z[1], "tag": f"a{a}"}]


def frame_task(a, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"j": [0, 1, 2], "v": rng.uniform(size=3) + a}, index=[7, 8, 9])


def deterministic(a, log=None):
    if log is not None:
        with open(log, "a") as fh:
            fh.write(f"{a}\n")
    return {"sq": a * a}


def fails_on_two(a, seed):
    if a == 2:
        raise ValueError("a must not be two")
    return {"y": a + seed}


def fails_if_env(a, seed, log):
    with open(log, "a") as fh:
        fh.write(f"{a}\n")
    if a == 3 and os.environ.get("TT_TEST_FAIL") == "1":
        raise RuntimeError("simulated crash")
    return {"y": 10 * a + seed}


def returns_string(a):
    return "not a row"


def echoes_seed(a, seed):
    return {"seed": seed + 1}


def thread_report():
    from threadpoolctl import threadpool_info

    out = {"blas_max": max((d["num_threads"] for d in threadpool_info()), default=1)}
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch"] = torch.get_num_threads()
    return out


def _calls(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


# --- grid expansion ---------------------------------------------------------------------


def test_expand_grid_cartesian_last_key_fastest():
    grid = expand_grid({"a": [1, 2], "b": ["x", "y", "z"]})
    assert grid == [{"a": a, "b": b} for a in (1, 2) for b in "xyz"]
    assert expand_grid([{"a": 1}, {"a": 2, "c": 3}]) == [{"a": 1}, {"a": 2, "c": 3}]
    with pytest.raises(TypeError, match="params\\['a'\\]"):
        expand_grid({"a": 3})
    with pytest.raises(TypeError, match="params\\[1\\]"):
        expand_grid([{"a": 1}, 5])


def test_inline_table_layout_and_order():
    df = run_grid(noisy_rows, {"a": [1, 2], "b": [0.5]}, seeds=[3, 4], n_jobs=1,
                  progress=False)
    assert list(df.columns) == ["a", "b", "seed", "k", "x", "tag"]
    assert df[["a", "seed", "k"]].values.tolist() == [
        [1, 3, 0], [1, 3, 1], [1, 4, 0], [1, 4, 1], [2, 3, 0], [2, 3, 1], [2, 4, 0], [2, 4, 1]]
    z = np.random.default_rng(4).standard_normal(2)
    assert df.loc[3, "x"] == pytest.approx(1 - 0.5 + z[1])
    assert df["tag"].isna().tolist() == [True, False] * 4
    assert df.attrs["n_tasks"] == 4 and df.attrs["n_computed"] == 4 and df.attrs["n_cached"] == 0


def test_processes_equal_inline():
    grid = {"a": [1, 2, 3], "b": [0.5, 2.0]}
    inline = run_grid(noisy_rows, grid, seeds=[0, 1], n_jobs=1, progress=False)
    local = run_grid(noisy_rows, grid, seeds=[0, 1], n_jobs=2, progress=False)
    pdt.assert_frame_equal(local, inline)
    frames = run_grid(frame_task, [{"a": 1.0}, {"a": 2.0}], seeds=[5], n_jobs=2,
                      progress=False)
    assert list(frames.columns) == ["a", "seed", "j", "v"]
    assert list(frames.index) == list(range(6))
    assert frames["j"].tolist() == [0, 1, 2, 0, 1, 2]


def test_no_seeds_means_no_seed_argument_or_column():
    df = run_grid(deterministic, [{"a": 2}, {"a": 3}], n_jobs=1, progress=False)
    assert list(df.columns) == ["a", "sq"]
    assert df["sq"].tolist() == [4, 9]


def test_empty_grid_gives_empty_table():
    df = run_grid(deterministic, {"a": []}, n_jobs=1, progress=False)
    assert df.empty and list(df.columns) == ["a"]


def test_task_error_names_params_and_seed_inline_and_in_processes():
    for n_jobs in (1, 2):
        with pytest.raises(TaskError, match=r"fails_on_two\(a=2, seed=7\).*a must not be two") \
                as info:
            run_grid(fails_on_two, {"a": [1, 2, 3]}, seeds=[7], n_jobs=n_jobs, progress=False)
        assert info.value.params == {"a": 2} and info.value.seed == 7


def test_bad_results_and_arguments_are_rejected():
    with pytest.raises(TaskError, match="returned str"):
        run_grid(returns_string, {"a": [1]}, n_jobs=1, progress=False)
    with pytest.raises(TaskError, match="clashes"):
        run_grid(echoes_seed, {"a": [1]}, seeds=[0], n_jobs=1, progress=False)
    with pytest.raises(ValueError, match="'seed' entry"):
        run_grid(fails_on_two, [{"a": 1, "seed": 3}], seeds=[0], n_jobs=1, progress=False)
    with pytest.raises(ValueError, match="integers"):
        run_grid(fails_on_two, {"a": [1]}, seeds=[0.5], n_jobs=1, progress=False)
    with pytest.raises(ValueError, match="n_jobs"):
        run_grid(fails_on_two, {"a": [1]}, seeds=[0], n_jobs=0, progress=False)


def sleepy(a, delay):
    time.sleep(delay)
    return {"a2": a}


class _FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_silent_when_not_a_tty(capsys):
    # longer than the bar's 1 s delay, so only the not-a-terminal rule keeps it quiet
    run_grid(sleepy, {"a": [1, 2], "delay": [0.6]}, n_jobs=1, progress=True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_bar_shown_on_a_terminal_for_long_sweeps(monkeypatch):
    tty = _FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    run_grid(sleepy, {"a": [1, 2, 3], "delay": [0.5]}, n_jobs=1, progress=True,
             desc="slow sweep")
    out = tty.getvalue()
    assert "slow sweep" in out and "3/3" in out and "task" in out
    # a short sweep (under the delay) and progress=False stay silent even on a terminal
    for kw in ({"delay": [0.0]}, {"delay": [0.5]}):
        tty2 = _FakeTTY()
        monkeypatch.setattr(sys, "stderr", tty2)
        run_grid(sleepy, {"a": [1, 2, 3], **kw}, n_jobs=1, progress=kw["delay"] == [0.0])
        assert tty2.getvalue() == ""


def test_worker_threads_pinned_and_restored():
    from threadpoolctl import threadpool_info

    from validation.runner import _run_task

    torch = pytest.importorskip("torch")
    before_torch = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        before_blas = [d["num_threads"] for d in threadpool_info()]
        _, rows = _run_task(thread_report, {}, None, 0, True)
        assert rows == [{"blas_max": 1, "torch": 1}]
        assert torch.get_num_threads() == 2
        assert [d["num_threads"] for d in threadpool_info()] == before_blas
        _, rows = _run_task(thread_report, {}, None, 0, False)
        assert rows[0]["torch"] == 2
    finally:
        torch.set_num_threads(before_torch)


# --- Dask -------------------------------------------------------------------------------


def test_dask_local_cluster_equals_local_processes():
    distributed = pytest.importorskip("distributed")
    grid = {"a": [1, 2, 3], "b": [0.5, 2.0]}
    local = run_grid(noisy_rows, grid, seeds=[0, 1], n_jobs=2, progress=False)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        by_address = run_grid(noisy_rows, grid, seeds=[0, 1],
                              scheduler=cluster.scheduler_address, progress=False)
        with distributed.Client(cluster) as client:
            by_client = run_grid(noisy_rows, grid, seeds=[0, 1], scheduler=client,
                                 progress=False)
            with pytest.raises(TaskError, match=r"a=2, seed=7"):
                run_grid(fails_on_two, {"a": [1, 2]}, seeds=[7], scheduler=client,
                         progress=False)
    pdt.assert_frame_equal(by_address, local)
    pdt.assert_frame_equal(by_client, local)


def test_missing_dask_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r'pip install "transfer-theory\[dask\]"'):
        run_grid(deterministic, {"a": [1]}, scheduler="tcp://127.0.0.1:1", progress=False)


# --- cache ------------------------------------------------------------------------------


def test_warm_cache_computes_nothing(tmp_path):
    log = tmp_path / "calls.txt"
    grid = {"a": [1, 2], "b": [0.5, 1.0], "log": [str(log)]}
    cold = run_grid(noisy_rows, grid, seeds=[0, 1], n_jobs=2, cache_dir=tmp_path / "c",
                    progress=False)
    assert (cold.attrs["n_computed"], cold.attrs["n_cached"]) == (8, 0)
    assert len(_calls(log)) == 8
    warm = run_grid(noisy_rows, grid, seeds=[0, 1], n_jobs=2, cache_dir=tmp_path / "c",
                    progress=False)
    assert (warm.attrs["n_computed"], warm.attrs["n_cached"]) == (0, 8)
    assert len(_calls(log)) == 8
    pdt.assert_frame_equal(warm, cold)
    assert len(list((tmp_path / "c").rglob("*.pkl"))) == 8


def test_extended_grid_computes_only_new_tasks(tmp_path):
    log = tmp_path / "calls.txt"
    cache = tmp_path / "c"
    run_grid(deterministic, {"a": [1, 2], "log": [str(log)]}, n_jobs=1, cache_dir=cache,
             progress=False)
    df = run_grid(deterministic, {"a": [1, 2, 3, 4], "log": [str(log)]}, n_jobs=1,
                  cache_dir=cache, progress=False)
    assert _calls(log) == ["1", "2", "3", "4"]
    assert (df.attrs["n_computed"], df.attrs["n_cached"]) == (2, 2)
    assert df["sq"].tolist() == [1, 4, 9, 16]
    log2 = tmp_path / "calls2.txt"
    more = run_grid(noisy_rows, {"a": [1], "b": [1.0], "log": [str(log2)]}, seeds=[0],
                    n_jobs=1, cache_dir=cache, progress=False)
    more2 = run_grid(noisy_rows, {"a": [1], "b": [1.0], "log": [str(log2)]}, seeds=[0, 1],
                     n_jobs=1, cache_dir=cache, progress=False)
    assert more2.attrs["n_computed"] == 1 and _calls(log2) == ["1,1.0,0", "1,1.0,1"]
    pdt.assert_frame_equal(more2.iloc[:2], more)


def _cached_grid(tmp_path, a):
    """A cached 3-task grid; returns (log, cache, grid, first table, entry file of task a)."""
    log = tmp_path / "calls.txt"
    cache = tmp_path / "c"
    grid = {"a": [1, 2, 3], "log": [str(log)]}
    first = run_grid(deterministic, grid, n_jobs=1, cache_dir=cache, progress=False)
    entry = TaskCache(cache, deterministic).path(
        task_payload(deterministic, {"a": a, "log": str(log)}, None))
    assert entry.exists()
    return log, cache, grid, first, entry


def test_corrupt_entry_is_recomputed_with_warning(tmp_path):
    log, cache, grid, first, entry = _cached_grid(tmp_path, 2)
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])  # truncated file
    with pytest.warns(CacheWarning, match="corrupt"):
        again = run_grid(deterministic, grid, n_jobs=1, cache_dir=cache, progress=False)
    assert again.attrs["n_computed"] == 1 and _calls(log) == ["1", "2", "3", "2"]
    pdt.assert_frame_equal(again, first)
    # an entry that unpickles but belongs to another task is not trusted either
    with open(entry, "wb") as fh:
        pickle.dump({"format": 1, "payload": "other", "rows": [{"sq": -1}]}, fh)
    with pytest.warns(CacheWarning, match="inconsistent"):
        third = run_grid(deterministic, grid, n_jobs=1, cache_dir=cache, progress=False)
    pdt.assert_frame_equal(third, first)
    assert third.attrs["n_computed"] == 1


def test_every_flipped_byte_is_detected(tmp_path):
    """A flipped bit anywhere in an entry (header, checksum, pickle, value) is a miss."""
    cache = TaskCache(tmp_path / "c", deterministic)
    payload = task_payload(deterministic, {"a": 3}, None)
    path = cache.store(payload, [{"sq": 9.123456789}])
    good = path.read_bytes()
    assert cache.load(payload) == (True, [{"sq": 9.123456789}])
    for i in range(len(good)):
        bad = bytearray(good)
        bad[i] ^= 0x01
        path.write_bytes(bytes(bad))
        with pytest.warns(CacheWarning, match="corrupt|inconsistent|unreadable"):
            hit, rows = cache.load(payload)
        assert (hit, rows) == (False, None), f"flipped byte {i} was not detected"


def test_flipped_bit_in_a_value_never_reaches_the_table(tmp_path):
    _, cache, grid, first, entry = _cached_grid(tmp_path, 3)
    data = bytearray(entry.read_bytes())
    body = data.index(b"\n", data.index(b"\n") + 1) + 1
    # the stored int 9 is pickled as BININT1 (K) 0x09; make it 8 without touching the checksum
    pos = data.index(bytes([ord("K"), 9]), body) + 1
    data[pos] ^= 0x01
    entry.write_bytes(bytes(data))
    with pytest.warns(CacheWarning, match="checksum"):
        again = run_grid(deterministic, grid, n_jobs=1, cache_dir=cache, progress=False)
    assert again["sq"].tolist() == [1, 4, 9]
    pdt.assert_frame_equal(again, first)


def test_cache_dir_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "not_a_dir"
    f.write_text("x")
    with pytest.raises(ValueError, match="cache_dir.*is a file"):
        run_grid(deterministic, {"a": [1]}, n_jobs=1, cache_dir=f, progress=False)


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    cache = tmp_path / "c"
    real_dump = cache_mod._dump

    def dying_dump(entry, fh):
        blob = pickle.dumps(entry)
        fh.write(blob[: len(blob) // 2])
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(cache_mod, "_dump", dying_dump)
    with pytest.raises(KeyboardInterrupt):
        run_grid(deterministic, {"a": [1, 2]}, n_jobs=1, cache_dir=cache, progress=False)
    assert [p for p in cache.rglob("*") if p.is_file()] == []
    monkeypatch.setattr(cache_mod, "_dump", real_dump)
    df = run_grid(deterministic, {"a": [1, 2]}, n_jobs=1, cache_dir=cache, progress=False)
    assert df.attrs["n_computed"] == 2 and df["sq"].tolist() == [1, 4]
    assert len([p for p in cache.rglob("*") if p.is_file()]) == 2


def test_interrupted_run_keeps_finished_tasks(tmp_path, monkeypatch):
    log = tmp_path / "calls.txt"
    cache = tmp_path / "c"
    grid = {"a": [1, 2, 3, 4], "log": [str(log)]}
    monkeypatch.setenv("TT_TEST_FAIL", "1")
    with pytest.raises(TaskError, match="simulated crash"):
        run_grid(fails_if_env, grid, seeds=[0], n_jobs=1, cache_dir=cache, progress=False)
    assert _calls(log) == ["1", "2", "3"]
    monkeypatch.delenv("TT_TEST_FAIL")
    df = run_grid(fails_if_env, grid, seeds=[0], n_jobs=1, cache_dir=cache, progress=False)
    assert (df.attrs["n_computed"], df.attrs["n_cached"]) == (2, 2)
    assert _calls(log) == ["1", "2", "3", "3", "4"]
    assert df["y"].tolist() == [10, 20, 30, 40]


def test_cache_key_ingredients(monkeypatch):
    base = task_payload(deterministic, {"a": 0.1}, 3)
    assert task_payload(deterministic, {"a": np.float64(0.1)}, 3) == base
    assert task_payload(deterministic, {"a": 0.1}, 4) != base
    assert task_payload(deterministic, {"a": 0.2}, 3) != base
    assert task_payload(noisy_rows, {"a": 0.1}, 3) != base
    assert "tests.validation.test_runner.deterministic" in base

    monkeypatch.setattr(deterministic, "cache_version", 2, raising=False)
    assert task_payload(deterministic, {"a": 0.1}, 3) != base
    monkeypatch.delattr(deterministic, "cache_version")
    monkeypatch.setattr(cache_mod, "package_version", lambda: "9.9.9")
    assert task_payload(deterministic, {"a": 0.1}, 3) != base


def test_canonical_json_is_order_free_and_typed():
    assert canonical_json({"b": 1, "a": [1.0, (2, 3)]}) == canonical_json(
        {"a": [1.0, [2, 3]], "b": 1})
    assert canonical_json(1) != canonical_json(1.0)
    assert canonical_json(np.arange(3)) != canonical_json(np.arange(3.0))
    with pytest.raises(TypeError, match="cache key"):
        canonical_json(object())


def test_package_version_change_invalidates_cache(tmp_path, monkeypatch):
    log = tmp_path / "calls.txt"
    grid = {"a": [1], "log": [str(log)]}
    run_grid(deterministic, grid, n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    monkeypatch.setattr(cache_mod, "package_version", lambda: "99.0")
    df = run_grid(deterministic, grid, n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    assert df.attrs["n_computed"] == 1 and _calls(log) == ["1", "1"]


def test_lambda_cannot_be_cached(tmp_path):
    with pytest.raises(ValueError, match="anonymous"):
        run_grid(lambda a: {"a2": a}, {"a": [1]}, n_jobs=1, cache_dir=tmp_path,
                 progress=False)
