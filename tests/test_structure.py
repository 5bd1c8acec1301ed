"""House rules of the code base, checked on the source (issue 9).

- no function longer than about 80 lines or nested deeper than 6 levels in the library packages;
- no numba kernel with more than 8 parameters (arguments travel as tuples or arrays);
- no private name (leading underscore) imported from another module;
- the import directions of the architecture: theory (``replica``, ``dynamics``) never imports the
  empirical packages or torch; ``lasso`` and ``nets`` import none of the other packages; nothing
  imports ``validation`` but ``validation``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("replica", "dynamics", "lasso", "nets", "validation")
LIBRARY = ("replica", "dynamics", "lasso", "nets")
MAX_LINES = 80
MAX_DEPTH = 6
MAX_KERNEL_ARGS = 8
FORBIDDEN = {
    "replica": {"lasso", "nets", "validation", "dynamics", "torch", "torchvision"},
    "dynamics": {"lasso", "nets", "validation", "replica", "torch", "torchvision"},
    "lasso": {"replica", "dynamics", "nets", "validation", "torch"},
    "nets": {"replica", "dynamics", "lasso", "validation"},
}


def _modules(packages):
    for pkg in packages:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            yield pkg, path, ast.parse(path.read_text(), filename=str(path))


def _functions(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


_BLOCKS = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.AsyncFor, ast.AsyncWith,
           ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Match)


def _depth(node, level=0) -> int:
    deepest = level
    for child in ast.iter_child_nodes(node):
        inner = level + 1 if isinstance(child, _BLOCKS) else level
        deepest = max(deepest, _depth(child, inner))
    return deepest


def _body_lines(fn) -> int:
    """Lines of the body, without the docstring."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return 0
    return body[-1].end_lineno - body[0].lineno + 1


def _is_kernel(fn) -> bool:
    for dec in fn.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in {"njit", "jit", "vectorize", "guvectorize"}:
            return True
    return False


def _where(path, node) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno} {getattr(node, 'name', '')}"


def test_functions_are_short_and_shallow():
    long, deep = [], []
    for _, path, tree in _modules(LIBRARY):
        for fn in _functions(tree):
            if _body_lines(fn) > MAX_LINES:
                long.append(f"{_where(path, fn)} ({_body_lines(fn)} lines)")
            if _depth(fn) > MAX_DEPTH:
                deep.append(f"{_where(path, fn)} (depth {_depth(fn)})")
    assert not long, f"functions over {MAX_LINES} lines:\n" + "\n".join(long)
    assert not deep, f"functions nested over {MAX_DEPTH} levels:\n" + "\n".join(deep)


def test_numba_kernels_take_few_arguments():
    wide = []
    for _, path, tree in _modules(PACKAGES):
        for fn in _functions(tree):
            n = len(fn.args.args) + len(fn.args.kwonlyargs)
            if _is_kernel(fn) and n > MAX_KERNEL_ARGS:
                wide.append(f"{_where(path, fn)} ({n} parameters)")
    assert not wide, f"numba kernels with over {MAX_KERNEL_ARGS} parameters:\n" + "\n".join(wide)


def test_no_private_names_imported_across_modules():
    bad = []
    for _, path, tree in _modules(PACKAGES):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        bad.append(f"{_where(path, node)} from {node.module} import {alias.name}")
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        bad.append(f"{_where(path, node)} from .{node.module} import {alias.name}")
    assert not bad, "private names imported from other modules:\n" + "\n".join(bad)


@pytest.mark.parametrize("pkg", sorted(FORBIDDEN))
def test_import_directions(pkg):
    bad = []
    for _, path, tree in _modules((pkg,)):
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN[pkg]:
                    bad.append(f"{_where(path, node)} imports {name}")
    assert not bad, f"{pkg} breaks the import rules:\n" + "\n".join(bad)


def test_checker_sees_a_long_function(tmp_path):
    """The length/depth measures are not vacuous."""
    src = "def f(x):\n    '''doc'''\n" + "    x += 1\n" * 90 + \
          "    if x:\n        for i in x:\n            while i:\n                with i:\n" \
          "                    try:\n                        if i:\n                            " \
          "if i:\n                                pass\n                    except Exception:\n" \
          "                        pass\n"
    fn = next(_functions(ast.parse(src)))
    assert _body_lines(fn) > MAX_LINES and _depth(fn) > MAX_DEPTH
