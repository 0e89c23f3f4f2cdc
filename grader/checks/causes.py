"""Causes named in words: why the module did not load, a crash the catalogue knows, a near-miss name.

Read in the grader's own process from what the sandbox reported (an error's
type, message and line) and from the student's source as text (parsed with
``ast``, never executed).
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path
from typing import Any

from grader import crashes
from grader.checks.verdict import part
from grader.spec import STEPS

# How close a name must be to count as a typo of a step's function (difflib's ratio).
NEAR_MISS_CUTOFF = 0.75


def error_cause(error: dict[str, Any], status: str = "error") -> dict:
    """An import failure's cause as a message part: the catalogue's explanation when the crash is known."""
    error_type = str(error.get("type") or status)
    message = crashes.clean(str(error.get("message") or ""))
    fields = {"error_type": error_type, "line": error.get("line") or "?", "error_message": message}
    known = crashes.explanation(error_type, message)
    if known is None:
        return part("crash.import_unknown", **fields)
    return part("crash.import_explained", **fields, **known)


def crash_failure(function: str, error: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``crash.explained`` and its fields when a step's crash is one the catalogue knows."""
    error_type = str(error.get("type") or "")
    message = crashes.clean(str(error.get("message") or ""))
    known = crashes.explanation(error_type, message)
    if known is None:
        return None
    return "crash.explained", {"function": function, "error_type": error_type, "line": error.get("line") or "?", "error_message": message, **known}


def defined_functions(source: Path) -> list[str]:
    """The names of the module's top-level functions, read from its text; [] when it does not parse."""
    try:
        tree = ast.parse(source.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def near_miss(source: Path, function: str) -> str | None:
    """A function of the module whose name is a likely typo of ``function`` (not another step's function)."""
    wanted = {s.function for s in STEPS} | {"history_frame", "plot_history", "predict_sample"}
    names = [name for name in defined_functions(source) if name not in wanted]
    close = difflib.get_close_matches(function, names, n=1, cutoff=NEAR_MISS_CUTOFF)
    return close[0] if close else None
