"""Disk cache of sweep tasks: one file per (function, parameters, seed, code version).

The sweep runner (:mod:`validation.runner`) stores the rows returned by each task in its own
file, named by a SHA-256 hash of a canonical description of the task:

* the function's qualified name (``module.qualname``, plus the bound arguments of a
  :func:`functools.partial`),
* the task's parameters as canonical JSON (sorted keys, exact float ``repr``),
* the seed,
* the installed version of the ``transfer-theory`` distribution,
* the function's optional ``cache_version`` attribute.

Because an editable install keeps the same version number while the code changes, a function
whose results change should bump its ``cache_version`` (any JSON-able value), e.g.
``my_task.cache_version = 2``.

Writes are atomic: the entry is written to a temporary file in the same folder, flushed to disk
and moved into place with :func:`os.replace`, so an interrupted run leaves either the complete
entry or none. Stray temporary files (``.*.tmp``) left by a killed process are never read.
Each file stores the SHA-256 checksum of its body; an unreadable, corrupted (checksum
mismatch: a flipped bit, a truncated file) or inconsistent entry is reported with a
:class:`CacheWarning` and treated as missing, so the task is recomputed and the entry
overwritten: a corrupted value never reaches a results table.

Entries are pickles: only point ``cache_dir`` at folders you trust.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import os
import pickle
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CacheWarning",
    "TaskCache",
    "canonical_json",
    "function_name",
    "package_version",
    "task_payload",
]

_FORMAT = 2
_MAGIC = b"transfer-theory-cache-2"
_DISTRIBUTION = "transfer-theory"


class CacheWarning(UserWarning):
    """A cache entry could not be used (unreadable, corrupted or inconsistent); it is recomputed."""


def package_version() -> str:
    """Installed version of the ``transfer-theory`` distribution, or ``"unknown"``."""
    try:
        return metadata.version(_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def _canonical(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types, deterministically (see :func:`canonical_json`)."""
    if isinstance(obj, enum.Enum):
        return {"__enum__": _type_name(type(obj)), "name": obj.name}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return _canonical(obj.item())
    if isinstance(obj, complex):
        return {"__complex__": [obj.real, obj.imag]}
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.dtype.str, "shape": list(obj.shape),
                "data": _canonical(obj.tolist())}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: _canonical(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {"__dataclass__": _type_name(type(obj)), "fields": fields}
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            key = k if isinstance(k, str) else json.dumps(_canonical(k), sort_keys=True)
            out[key] = _canonical(v)
        return out
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(canonical_json(v) for v in obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(
        f"cannot build a cache key from a value of type {type(obj).__name__} ({obj!r:.80}); "
        "use JSON-like parameters (numbers, strings, lists, dicts, numpy arrays, dataclasses)"
    )


def _type_name(tp: type) -> str:
    return f"{tp.__module__}.{tp.__qualname__}"


def canonical_json(obj: Any) -> str:
    """Canonical JSON text of ``obj``: equal values give equal text.

    Dict keys are sorted, floats are written with their exact ``repr`` (so ``0.1`` and
    ``numpy.float64(0.1)`` give the same text, while ``1`` and ``1.0`` differ), tuples are
    written as lists, numpy arrays with their dtype and shape, dataclasses with their type name
    and fields, sets sorted.

    Raises
    ------
    TypeError
        For values with no canonical form (arbitrary objects).
    """
    return json.dumps(_canonical(obj), sort_keys=True, separators=(",", ":"), allow_nan=True)


def function_name(func: Callable) -> str:
    """Qualified name ``module.qualname`` of ``func``; partials include their bound arguments."""
    if isinstance(func, functools.partial):
        bound = canonical_json({"args": list(func.args), "keywords": func.keywords})
        return f"partial({function_name(func.func)}, {bound})"
    qualname = getattr(func, "__qualname__", None)
    module = getattr(func, "__module__", None)
    if qualname is None:  # a callable instance
        qualname, module = type(func).__qualname__, type(func).__module__
    return f"{module}.{qualname}"


def task_payload(func: Callable, params: Mapping[str, Any], seed: int | None) -> str:
    """Canonical JSON that identifies one task; its SHA-256 is the cache key."""
    return canonical_json({
        "function": function_name(func),
        "params": dict(params),
        "seed": seed,
        "version": package_version(),
        "cache_version": getattr(func, "cache_version", None),
    })


class TaskCache:
    """Folder of task results, one pickle per task.

    Parameters
    ----------
    cache_dir
        Root folder; entries of a function go to ``cache_dir/<module.qualname>/<sha256>.pkl``.
    func
        The task function; its name selects the sub-folder.
    """

    def __init__(self, cache_dir: str | os.PathLike, func: Callable):
        name = function_name(func)
        if "<lambda>" in name:
            raise ValueError(
                f"cannot cache results of the anonymous function {name}: two lambdas would share "
                "cache entries; define the task with `def` (a module-level function)"
            )
        root = Path(cache_dir)
        if root.exists() and not root.is_dir():
            raise ValueError(f"cache_dir = {os.fspath(cache_dir)!r}: is a file, not a folder")
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:150]
        self.folder = Path(cache_dir) / slug

    @staticmethod
    def key(payload: str) -> str:
        """SHA-256 hex digest of a task payload."""
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def path(self, payload: str) -> Path:
        """File of the entry for ``payload``."""
        return self.folder / f"{self.key(payload)}.pkl"

    def load(self, payload: str) -> tuple[bool, Any]:
        """Return ``(True, rows)`` for a valid entry, ``(False, None)`` otherwise.

        A missing file is silently a miss. A file whose header is wrong, whose SHA-256
        checksum does not match its body (a flipped bit, a truncated write), which does not
        unpickle, or which belongs to another task warns with :class:`CacheWarning` and is a
        miss (it will be overwritten), so a corrupted value never reaches a results table.
        """
        path = self.path(payload)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return False, None
        except OSError as exc:
            return _miss(f"unreadable cache entry {path} ({type(exc).__name__}: {exc})")
        head, sep, rest = data.partition(b"\n")
        digest, sep2, body = rest.partition(b"\n")
        if head != _MAGIC or not sep or not sep2:
            return _miss(f"inconsistent cache entry {path} (not a {_MAGIC.decode()} file)")
        if hashlib.sha256(body).hexdigest().encode("ascii") != digest:
            return _miss(f"corrupt cache entry {path} (SHA-256 checksum mismatch)")
        try:
            entry = pickle.loads(body)
        except Exception as exc:  # noqa: BLE001 - any failure to read means: recompute
            return _miss(f"unreadable cache entry {path} ({type(exc).__name__}: {exc})")
        if (not isinstance(entry, dict) or entry.get("format") != _FORMAT
                or entry.get("payload") != payload or "rows" not in entry):
            return _miss(f"inconsistent cache entry {path} (another task or format)")
        return True, entry["rows"]

    def store(self, payload: str, rows: Any) -> Path:
        """Write the entry atomically (temporary file in the same folder, then ``os.replace``).

        File layout: a magic line, the SHA-256 hex digest of the body, the body (a pickle of
        ``{"format", "payload", "rows"}``).
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(payload)
        entry = {"format": _FORMAT, "payload": payload, "rows": rows}
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.stem[:16]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                _dump(entry, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        return path


def _miss(message: str) -> tuple[bool, None]:
    warnings.warn(f"{message}; recomputing", CacheWarning, stacklevel=4)
    return False, None


def _dump(entry: dict, fh) -> None:
    """Serialise an entry (separate function so that tests can simulate a failing write)."""
    body = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(_MAGIC + b"\n" + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + body)
