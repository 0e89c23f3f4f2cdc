"""The answering side records nothing: no facts, statuses, checks or stand-ins (issue 17).

The answerer (grader/sandbox/answerer.py) is the only process that imports
the student's module. Whatever it imports is in the student's reach, so the
grader's decisions must live in modules it never imports. Checked on the
import graph (every import statement, at module level or inside a function,
of every grader module reachable from the answerer), so a lazy import inside
a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Modules that decide or record what the student earns: never on the answering side.
DECIDING = (
    "grader.facts",
    "grader.checks",
    "grader.sandbox.fallbacks",
    "grader.sandbox.observer",
    "grader.sandbox.link",
    "grader.sandbox.pipeline",
    "grader.sandbox.protocol",
    "grader.sandbox.supervisor",
    "grader.scoring",
    "grader.results",
    "grader.judge",
    "grader.measure",
)


def _file_of(module: str) -> Path | None:
    """The grader module's source file (package: its __init__.py), or None when no such module."""
    base = ROOT.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(module: str) -> set[str]:
    """Every grader module ``module``'s source imports, anywhere in the file (parents included)."""
    path = _file_of(module)
    if path is None:
        return set()
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # from a.b import c: c is a module (a/b/c.py) or a name in a.b.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(n for n in names if n.startswith("grader") and _file_of(n) is not None)
    # Importing a.b.c runs a/__init__ and a/b/__init__ too.
    for name in list(found):
        parts = name.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return found


def answering_side() -> set[str]:
    seen: set[str] = set()
    todo = ["grader.sandbox.answerer"]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_imports(module) - seen)
    return seen


def test_the_answering_side_imports_nothing_that_decides():
    reached = answering_side()
    assert "grader.sandbox.answerer" in reached and "grader.sandbox.wire" in reached
    assert "grader.sandbox.introspect" in reached and "grader.sandbox.student_module" in reached
    deciding = sorted(m for m in reached if any(m == d or m.startswith(d + ".") for d in DECIDING))
    assert deciding == [], f"the answerer reaches {deciding}"


def test_the_graph_sees_lazy_imports(tmp_path, monkeypatch):
    """The walker counts an import inside a function body (the test above would miss nothing that way)."""
    assert "grader.sandbox.student_module" in _imports("grader.sandbox.answerer")  # imported inside op_import and main
    assert "grader.facts" in _imports("grader.sandbox.observer")
    assert "grader.sandbox.fallbacks" in _imports("grader.sandbox.observer")  # imported inside methods


def test_the_observer_never_imports_the_answerer():
    """The observer talks to the answerer over a pipe; it never runs its code (nor the student's)."""
    assert "grader.sandbox.answerer" not in _imports("grader.sandbox.observer")
    assert "grader.sandbox.student_module" not in _imports("grader.sandbox.observer")
