"""Importing the student's module, and salvaging its functions when that fails.

A stray statement at the top of a module (a ``print`` of an undefined name, a
training run, a ``sys.exit()``) must not cost every step. When the plain
import fails, :func:`salvage` executes only the module's imports, function
and class definitions, and assignments that call nothing; the steps whose
functions are defined can still be graded.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import types
from pathlib import Path

from grader.spec import MODULE_NAME


def load(path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


def _calls_nothing(node: ast.AST) -> bool:
    return not any(isinstance(n, (ast.Call, ast.Await, ast.Yield)) for n in ast.walk(node))


def _kept(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef)):
        return True
    if isinstance(node, ast.ClassDef):
        return all(_calls_nothing(d) for d in node.decorator_list + node.bases)
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return node.value is not None and _calls_nothing(node.value)
    return False


def salvage(path: Path) -> tuple[types.ModuleType, int]:
    """The module rebuilt from its definitions; also how many statements were left out.

    Raises SyntaxError when the file does not parse: nothing can be salvaged.
    """
    tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    kept = [node for node in tree.body if _kept(node)]
    dropped = len(tree.body) - len(kept)
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = str(path)
    sys.modules[MODULE_NAME] = module
    for node in kept:
        # One statement at a time: a failing import or definition loses
        # only itself, not the definitions after it.
        single = compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec")
        try:
            exec(single, module.__dict__)  # noqa: S102 - the student's own definitions
        except Exception:  # noqa: BLE001 - any error: that statement is dropped
            dropped += 1
    return module, dropped


def empty() -> types.ModuleType:
    """A module with no functions: every step reports its function missing."""
    module = types.ModuleType(MODULE_NAME)
    sys.modules[MODULE_NAME] = module
    return module
