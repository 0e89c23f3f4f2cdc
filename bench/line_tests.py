"""Which tests execute each line of the grader: the map that lets planted_bugs.py run a planted bug
against only the tests that can notice it (as mutmut and cosmic-ray do).

A module's test list runs once on the unchanged code under coverage.py, with one *context* per test:
the plugin ``Trace`` switches coverage's context to the test's node id for its setup, call and
teardown, and sets ``PLANTED_CONTEXT`` to it, so a subprocess the test starts (``python -m grader``)
is measured too, under the same context (``COVERAGE_PROCESS_START`` points it at the same
configuration, whose ``context`` is ``${PLANTED_CONTEXT}``). What runs outside every test (imports
at collection, conftest, a session fixture) and what a module- or class-scoped fixture runs belong
to all the tests (of the list, of the file): a planted bug there reaches them all.

``LineTests`` reads the result. A planted bug on line ``n`` of a module runs:

* every test of the list, when ``n`` is outside any function body (module level, a class body, a
  decorator, a default value: executed at import, it reaches every test), or in a template;
* otherwise only the tests that executed ``n`` (or the first line of its statement) on the
  unchanged code ([] when none did: planted_bugs.py then runs the whole list, as coverage cannot
  see a ``preexec_fn``). A test that never reached the line runs the same with or without the
  bug, so the verdict is the full list's.

Blind spots, which can only turn a caught bug into a reported survivor (never hide one): a line
that one test executes where coverage sees it and another only where it cannot (a sandbox child
with a cleared environment, another uid without write access to the data folder), and a test that
fails only because an earlier test left state behind. ``--no-select`` runs the full lists.
"""

from __future__ import annotations

import ast
import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

CONTEXT_VAR = "PLANTED_CONTEXT"
EVERY = "*"  # the context of what runs outside any test: every test of the list
FILE = "file:"  # + a test file: what its module- or class-scoped fixtures ran


def write_config(path: Path, data_file: Path) -> None:
    """The coverage configuration of one traced run, in-process and in its subprocesses."""
    path.write_text(
        "\n".join(
            [
                "[run]",
                f"data_file = {data_file}",
                "parallel = true",
                "include = */grader/*",
                "context = ${" + CONTEXT_VAR + "}",
                # Silent: a test may read a subprocess's stderr.
                "disable_warnings = module-not-measured, module-not-imported, no-data-collected, already-imported, couldnt-parse, no-ctracer",
                "",
            ]
        ),
        encoding="utf-8",
    )


class Trace:
    """Pytest plugin of the traced run: one coverage context per test; each test's duration."""

    def __init__(self, coverage) -> None:  # a started coverage.Coverage
        self.coverage = coverage
        self.current = EVERY
        self.durations: dict[str, float] = defaultdict(float)
        self.order: list[str] = []

    def _switch(self, context: str) -> None:
        self.current = context
        os.environ[CONTEXT_VAR] = context
        self.coverage.switch_context(context)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.order.append(item.nodeid)
        self._switch(item.nodeid)
        try:
            return (yield)
        finally:
            self._switch(EVERY)

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        if fixturedef.scope == "function":
            return (yield)
        before = self.current
        shared = FILE + request.node.nodeid.split("::")[0] if fixturedef.scope in ("module", "class") else EVERY
        self._switch(shared)
        try:
            return (yield)
        finally:
            self._switch(before)

    def pytest_runtest_logreport(self, report) -> None:
        self.durations[report.nodeid] += report.duration


def traced_pytest(arguments: list[str], config: Path, output: Path) -> int:
    """In the forked child of a test list's unchanged-code run: pytest under coverage, then the map
    (module -> line -> contexts), the tests in run order and their durations, written to ``output``."""
    import coverage

    os.environ[CONTEXT_VAR] = ""
    os.environ["COVERAGE_PROCESS_START"] = str(config)
    cov = coverage.Coverage(config_file=str(config))
    cov.start()
    trace = Trace(cov)
    cov.switch_context(EVERY)
    try:
        code = int(pytest.main(arguments, plugins=[trace]))
    finally:
        cov.stop()
        cov.save()
    cov.combine(strict=False, keep=False)
    data = cov.get_data()
    lines: dict[str, dict[int, list[str]]] = {}
    for measured in data.measured_files():
        parts = Path(measured).parts
        if "grader" not in parts:
            continue
        module = "/".join(parts[len(parts) - 1 - parts[::-1].index("grader") :])
        by_line = data.contexts_by_lineno(measured)
        mine = lines.setdefault(module, {})
        for number, contexts in by_line.items():
            mine.setdefault(number, []).extend(contexts)
    output.write_text(json.dumps({"order": trace.order, "durations": trace.durations, "lines": lines}), encoding="utf-8")
    return code


def _test_of(context: str) -> str:
    """The test (or EVERY, or FILE + file) of a recorded context: ``static|dynamic``, either empty."""
    parts = [part for part in context.split("|") if part]
    return parts[-1] if parts else EVERY


def _function_body_lines(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(range(node.body[0].lineno, (node.end_lineno or node.lineno) + 1))
    return inside


def _statement_starts(tree: ast.AST, number: int) -> set[int]:
    """``number`` and the first line of each statement whose simple part (its header, for a compound
    statement) holds it: coverage may record a multi-line statement under its first line."""
    starts = {number}
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        body = getattr(node, "body", None)
        last = body[0].lineno - 1 if isinstance(body, list) and body and isinstance(body[0], ast.stmt) else node.end_lineno or node.lineno
        if node.lineno <= number <= last:
            starts.add(node.lineno)
    return starts


class LineTests:
    """The traced run of one test list: which of its tests a planted bug on a given line runs."""

    def __init__(self, output: Path) -> None:
        found = json.loads(output.read_text(encoding="utf-8"))
        self.order: list[str] = found["order"]
        self.durations: dict[str, float] = found["durations"]
        self.lines = {module: {int(n): [_test_of(c) for c in contexts] for n, contexts in by_line.items()} for module, by_line in found["lines"].items()}
        self._trees: dict[str, tuple[ast.AST, set[int]]] = {}

    def tests(self, module: str, source: str, number: int) -> list[str] | None:
        """The node ids to run, in run order; None: the whole list; []: no test executes the line."""
        if not module.endswith(".py"):
            return None
        if module not in self._trees:
            tree = ast.parse(source)
            self._trees[module] = (tree, _function_body_lines(tree))
        tree, inside = self._trees[module]
        if number not in inside:
            return None
        by_line = self.lines.get(module, {})
        reached: set[str] = set()
        for line in _statement_starts(tree, number):
            reached.update(by_line.get(line, ()))
        if EVERY in reached:
            return None
        files = {test.removeprefix(FILE) for test in reached if test.startswith(FILE)}
        return [test for test in self.order if test in reached or test.split("::")[0] in files]

    def seconds(self, tests: list[str]) -> float:
        return sum(self.durations.get(test, 0.0) for test in tests)


class Select:
    """Pytest plugin of a planted bug's run: only ``wanted`` (node ids), in the list's own order.

    The order is kept (the list is fastest file first): the selected run is then a subsequence of
    the whole list's, so with ``-x`` it stops at the same first failing test, only sooner. (Sorting
    by measured duration put a test that hangs with the bug before the one that fails at once.)"""

    def __init__(self, wanted: list[str]) -> None:
        self.wanted = set(wanted)

    def pytest_collection_modifyitems(self, session, config, items) -> None:
        config.hook.pytest_deselected(items=[item for item in items if item.nodeid not in self.wanted])
        items[:] = [item for item in items if item.nodeid in self.wanted]


def files_of(tests: list[str]) -> list[str]:
    """The test files of ``tests`` (node ids), each once: what the selected run collects."""
    return list(dict.fromkeys(test.split("::")[0] for test in tests))
