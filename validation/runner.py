"""Sweep runner: grids of (parameters x seeds) in local processes or on a Dask cluster.

Every experiment in :mod:`validation` runs its grids through :func:`run_grid`: local processes by
default (joblib, loky backend), a Dask cluster when the user passes
a scheduler address, a tqdm progress bar, and an optional disk cache
(:mod:`validation.cache`) so that an interrupted or extended run computes only the missing
tasks.

Example
-------
>>> def task(N, lam, seed):                      # doctest: +SKIP
...     rng = np.random.default_rng(seed)
...     return {"mse": float(np.mean(rng.standard_normal(N) ** 2)) * lam}
>>> df = run_grid(task, {"N": [100, 200], "lam": [0.1, 1.0]}, seeds=range(5),
...               cache_dir="cache")              # doctest: +SKIP
>>> df.attrs["n_computed"], df.attrs["n_cached"]  # doctest: +SKIP
(20, 0)
"""

from __future__ import annotations

import itertools
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from .cache import TaskCache, function_name, task_payload

__all__ = ["TaskError", "check_scheduler", "expand_grid", "run_grid"]

_DASK_HINT = (
    "running on a Dask cluster needs the optional dependency dask[distributed]; "
    'install it with: pip install "transfer-theory[dask]"'
)


class TaskError(RuntimeError):
    """A task of a sweep raised; the message names the function, parameters and seed.

    Attributes
    ----------
    params : dict
        Parameters of the failing task.
    seed : int or None
        Its seed.
    """

    def __init__(self, message: str, params: Mapping[str, Any] | None = None,
                 seed: int | None = None):
        super().__init__(message)
        self.params = dict(params) if params is not None else {}
        self.seed = seed

    def __reduce__(self):  # keep params and seed across process boundaries
        return (type(self), (self.args[0], self.params, self.seed))


def expand_grid(params: Sequence[Mapping[str, Any]] | Mapping[str, Sequence]) -> list[dict]:
    """List of parameter dicts of a grid.

    Parameters
    ----------
    params
        Either a sequence of parameter dicts (returned as a list of copies), or a dict of
        sequences, expanded as the cartesian product in the dict's order, the last key varying
        fastest: ``{"a": [1, 2], "b": [3, 4]}`` gives ``a=1,b=3; a=1,b=4; a=2,b=3; a=2,b=4``.

    Raises
    ------
    TypeError
        If ``params`` is neither form, or a value of the dict form is a string or not a
        sequence.
    """
    if isinstance(params, Mapping):
        names = list(params)
        values = []
        for name in names:
            vals = params[name]
            if isinstance(vals, (str, bytes)) or not hasattr(vals, "__iter__"):
                raise TypeError(
                    f"params[{name!r}] = {vals!r}: the dict form needs a sequence of values per "
                    "parameter (wrap a single value in a list)"
                )
            values.append(list(vals))
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(
            f"params must be a list of dicts or a dict of lists, got {type(params).__name__}"
        )
    out = []
    for i, p in enumerate(params):
        if not isinstance(p, Mapping):
            raise TypeError(f"params[{i}] = {p!r}: expected a dict of parameter values")
        out.append(dict(p))
    return out


def _describe(func: Callable, params: Mapping[str, Any], seed: int | None) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in params.items())
    if seed is not None:
        args = f"{args}, seed={seed}" if args else f"seed={seed}"
    return f"{function_name(func)}({args})"


def _normalise_rows(result: Any, func: Callable, params: Mapping[str, Any],
                    seed: int | None) -> list[dict]:
    """Rows (list of dicts) of a task result: a dict, a list of dicts, or a DataFrame."""
    if isinstance(result, pd.DataFrame):
        rows = result.to_dict("records")
    elif isinstance(result, Mapping):
        rows = [dict(result)]
    elif isinstance(result, (list, tuple)) and all(isinstance(r, Mapping) for r in result):
        rows = [dict(r) for r in result]
    else:
        raise TypeError(
            f"{_describe(func, params, seed)} returned {type(result).__name__}; a task must "
            "return a dict (one row), a list of dicts or a pandas.DataFrame"
        )
    reserved = dict(params)
    if seed is not None:
        reserved["seed"] = seed
    for row in rows:
        for k in row.keys() & reserved.keys():
            if not _same(row[k], reserved[k]):
                raise ValueError(
                    f"{_describe(func, params, seed)} returned column {k!r} = {row[k]!r}, which "
                    f"clashes with the task's own {k!r} = {reserved[k]!r}"
                )
    return rows


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - arrays and odd types: treat as different
        return a is b


def _run_task(func: Callable, params: dict, seed: int | None, index: int,
              pin_threads: bool) -> tuple[int, list[dict]]:
    """Run one task (in a worker or inline); returns ``(index, rows)``.

    With ``pin_threads``, BLAS/OpenMP pools are limited to one thread (threadpoolctl) and, if
    torch is already imported, ``torch.set_num_threads(1)``; both are restored afterwards.
    """
    kwargs = dict(params)
    if seed is not None:
        kwargs["seed"] = seed
    torch_threads = None
    limiter = None
    if pin_threads:
        from threadpoolctl import threadpool_limits

        torch = sys.modules.get("torch")
        if torch is not None:  # read before threadpoolctl changes torch's OpenMP pool
            torch_threads = torch.get_num_threads()
        limiter = threadpool_limits(limits=1)
        if torch is not None:
            torch.set_num_threads(1)
    try:
        result = func(**kwargs)
        return index, _normalise_rows(result, func, params, seed)
    except Exception as exc:
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        raise TaskError(
            f"task {_describe(func, params, seed)} failed with {type(exc).__name__}: {exc}\n"
            f"--- task traceback ---\n{tb}",
            params, seed,
        ) from exc
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
        if torch_threads is not None:
            sys.modules["torch"].set_num_threads(torch_threads)


def _iter_inline(func, todo) -> Iterator[tuple[int, list[dict]]]:
    for index, params, seed in todo:
        yield _run_task(func, params, seed, index, False)


def _iter_joblib(func, todo, n_jobs) -> Iterator[tuple[int, list[dict]]]:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")
    yield from parallel(delayed(_run_task)(func, p, s, i, True) for i, p, s in todo)


def check_scheduler(address: str, timeout: float = 3.0) -> None:
    """Fail fast when a Dask scheduler address cannot be reached.

    Opens (and closes) a TCP connection to ``host:port`` of a ``tcp://``, ``tls://`` or
    scheme-less address within ``timeout`` seconds; other schemes (``inproc://``,
    ``ucx://``) are not probed.

    Raises
    ------
    ValueError
        If the address has no port or is malformed.
    ConnectionError
        If nothing answers at the address (the message names it).
    """
    import socket
    from urllib.parse import urlsplit

    if not isinstance(address, str) or not address.strip():
        raise ValueError(f"scheduler = {address!r}: expected an address such as "
                         "'tcp://host:8786'")
    text = address.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else "tcp"
    if scheme not in ("tcp", "tls"):
        return
    parts = urlsplit(text if "://" in text else f"tcp://{text}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as err:
        raise ValueError(f"scheduler = {address!r}: malformed address ({err})") from None
    if not host or port is None:
        raise ValueError(f"scheduler = {address!r}: expected host and port, e.g. "
                         "'tcp://127.0.0.1:8786'")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as err:
        raise ConnectionError(
            f"scheduler = {address!r}: no Dask scheduler reachable at {host}:{port} within "
            f"{timeout:g} s ({err.strerror or type(err).__name__})"
        ) from None


def _iter_dask(func, todo, scheduler) -> Iterator[tuple[int, list[dict]]]:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(_DASK_HINT) from exc

    if isinstance(scheduler, distributed.Client):
        client, own = scheduler, False
    elif isinstance(scheduler, str):
        check_scheduler(scheduler)
        client, own = distributed.Client(scheduler, set_as_default=False, timeout="10s"), True
    else:
        raise TypeError(
            "scheduler must be a Dask scheduler address such as 'tcp://host:8786' or a "
            f"distributed.Client, got {type(scheduler).__name__}"
        )
    futures: dict = {}
    try:
        for i, p, s in todo:
            futures[client.submit(_run_task, func, p, s, i, True, pure=False)] = (p, s)
        for fut in distributed.as_completed(list(futures), loop=client.loop):
            try:
                result = fut.result()
            except TaskError:
                raise
            except Exception as exc:  # the cluster, not the task, failed (e.g. a lost worker)
                p, s = futures[fut]
                raise TaskError(
                    f"task {_describe(func, p, s)} failed on the Dask cluster with "
                    f"{type(exc).__name__}: {exc}", p, s,
                ) from exc
            yield result
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        if own:
            client.close()


def run_grid(
    func: Callable[..., Mapping | Sequence[Mapping] | pd.DataFrame],
    params: Sequence[Mapping[str, Any]] | Mapping[str, Sequence],
    seeds: Sequence[int] | None = None,
    *,
    n_jobs: int = -1,
    scheduler: Any = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    desc: str | None = None,
) -> pd.DataFrame:
    """Run ``func`` over a grid of parameters and seeds; return a tidy table.

    Each task is one (parameter dict, seed) pair and calls ``func(**params, seed=seed)`` (or
    ``func(**params)`` when ``seeds`` is None).

    Parameters
    ----------
    func
        Task function. Returns a dict (one row), a list of dicts (several rows) or a
        ``pandas.DataFrame`` (its rows; the index is dropped). A returned column may repeat a
        parameter or ``seed`` only with the same value. To run in processes or on Dask it must
        be picklable; a module-level function is best. Set ``func.cache_version`` (any
        JSON-able value) to invalidate cached results after changing the function's code.
    params
        A sequence of parameter dicts, or a dict of sequences expanded as their cartesian
        product (last key fastest, see :func:`expand_grid`).
    seeds
        Seeds, passed as the keyword ``seed``; ``None`` for deterministic tasks (no ``seed``
        argument and no ``seed`` column).
    n_jobs
        Number of local worker processes (joblib/loky; ``-1`` = all cores). ``1`` runs the
        tasks inline in this process, with no thread pinning. In worker processes BLAS/OpenMP
        pools are pinned to one thread (threadpoolctl) and so is torch if the task has
        imported it. Ignored when ``scheduler`` is given.
    scheduler
        Dask scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``: run the
        tasks on that cluster (threads pinned as above). Requires the optional extra
        ``pip install "transfer-theory[dask]"``; workers must be able to import the
        function's module and ``validation``. A client created from an address is closed
        afterwards; a passed client is left open.
    cache_dir
        Folder of the disk cache (:mod:`validation.cache`), or ``None`` for no cache. Each
        task's rows are stored in one file keyed by the function's qualified name, the
        canonical JSON of its parameters, the seed, the ``transfer-theory`` version and
        ``func.cache_version``; only tasks without a valid entry are computed. Entries are
        written (atomically) by this process as tasks complete, so finished tasks of an
        interrupted or failed run are kept. Parameters must then be JSON-like (numbers,
        strings, lists, dicts, numpy arrays, dataclasses).
    progress
        Show a tqdm progress bar over the computed tasks. It appears only after one second,
        and only when standard error is a terminal.
    desc
        Label of the progress bar (default: the function's name).

    Returns
    -------
    pandas.DataFrame
        One row per returned row: the parameter columns (in order of first appearance), then
        ``seed`` (if ``seeds`` is given), then the returned columns (in order of first
        appearance; missing values are NaN). Rows are ordered by parameter set, then seed,
        then the task's own order, whatever the completion order, so local, inline and Dask
        runs give identical tables. ``df.attrs`` holds ``n_tasks``, ``n_computed`` and
        ``n_cached`` (tasks loaded from the cache).

    Raises
    ------
    TaskError
        If a task raises; the message names the function, the parameters and the seed, and
        includes the task's traceback. Tasks finished before are kept in the cache.
    ImportError
        If ``scheduler`` is given and dask.distributed is not installed.
    ConnectionError
        If ``scheduler`` is an address where no scheduler answers (within seconds; see
        :func:`check_scheduler`).
    TypeError, ValueError
        For malformed ``params``/``seeds``, a ``seed`` parameter together with ``seeds``,
        a task result of the wrong type, or parameters with no canonical form for the cache.
    """
    grid = expand_grid(params)
    if seeds is not None:
        if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
            raise TypeError(f"seeds must be a sequence of integers, got {seeds!r}")
        seed_list: list[int | None] = []
        for s in seeds:
            if isinstance(s, bool) or int(s) != s:
                raise ValueError(f"seeds must be integers, got {s!r}")
            seed_list.append(int(s))
        for i, p in enumerate(grid):
            if "seed" in p:
                raise ValueError(
                    f"params[{i}] has a 'seed' entry while seeds= is given; pass seeds only once"
                )
    else:
        seed_list = [None]
    if not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs = {n_jobs!r}: must be a non-zero integer (-1 = all cores)")

    tasks = [(p, s) for p in grid for s in seed_list]
    results: list[list[dict] | None] = [None] * len(tasks)

    cache = TaskCache(cache_dir, func) if cache_dir is not None else None
    payloads: list[str | None] = [None] * len(tasks)
    todo = []
    n_cached = 0
    for i, (p, s) in enumerate(tasks):
        if cache is not None:
            payloads[i] = task_payload(func, p, s)
            hit, rows = cache.load(payloads[i])
            if hit:
                results[i] = rows
                n_cached += 1
                continue
        todo.append((i, p, s))

    if todo:
        if scheduler is not None:
            stream = _iter_dask(func, todo, scheduler)
        else:
            from joblib import effective_n_jobs

            workers = min(effective_n_jobs(n_jobs), len(todo))
            stream = _iter_inline(func, todo) if workers <= 1 else _iter_joblib(func, todo,
                                                                                 workers)
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=desc or getattr(func, "__name__", "tasks"),
                   disable=None if progress else True, delay=1.0, unit="task")
        try:
            for index, rows in stream:
                results[index] = rows
                if cache is not None:
                    cache.store(payloads[index], rows)
                bar.update(1)
        finally:
            bar.close()
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    names = list(params) if isinstance(params, Mapping) else []
    df = _assemble(tasks, results, names, with_seed=seeds is not None)
    df.attrs.update(n_tasks=len(tasks), n_computed=len(todo), n_cached=n_cached)
    return df


def _assemble(tasks, results, names: list[str], with_seed: bool) -> pd.DataFrame:
    """Tidy table: parameter columns, seed, returned columns; rows in task order."""
    param_cols: dict[str, None] = dict.fromkeys(names)
    for p, _ in tasks:
        param_cols.update(dict.fromkeys(p))
    lead = list(param_cols) + (["seed"] if with_seed else [])
    out_cols: dict[str, None] = {}
    records = []
    for (p, s), rows in zip(tasks, results, strict=True):
        for row in rows:
            out_cols.update(dict.fromkeys(k for k in row if k not in param_cols and k != "seed"))
            rec = dict(p)
            if with_seed:
                rec["seed"] = s
            rec.update(row)
            records.append(rec)
    columns = lead + list(out_cols)
    return pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(
        columns=columns)
