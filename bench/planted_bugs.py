"""Plant one small bug at a time in the grader and see whether a fast test notices.

    python bench/planted_bugs.py --group instructor   # one group (see bench/README.md for times)
    python bench/planted_bugs.py                      # every group, one after the other
    python bench/planted_bugs.py --module grader/scoring.py --tests tests/test_check_table.py

Planted bugs, one at a time, each in a scratch copy of the repository:

* a flipped comparison (``==``/``!=``, ``<``/``>=``, ``>``/``<=``,
  ``in``/``not in``, ``is``/``is not``);
* ``+`` and ``-`` swapped (between numbers);
* a dropped negation (``if not x`` becomes ``if x``);
* a missing escape: a call to one of the text-escaping functions in
  ``ESCAPES`` is replaced by its first argument, as if the escape had been
  forgotten.

The fast tests of that module (``-m "not slow and not browser"``: no training, no Chromium) then run on
the copy, with ``-x`` (the first failure is enough). Each run is forked from this process, which
imported pytest, NumPy, pandas, Matplotlib and Jinja2 once (never the grader, never TensorFlow), and
``--jobs`` runs (default 2) go at a time, each in its own scratch copy. A planted bug that no test fails "survives". A planted bug that
cannot change behaviour (an equivalent mutant) is listed in ``EQUIVALENT``
with the reason and left out of the counts. Prints one line per survivor and
a table per package; exits 1 if any survived.

Which tests run for a module: the files named for it in ``MODULE_TESTS``,
else every ``tests/test_*.py`` that imports it (by its dotted name or
``from package import name``). They run fastest first, with ``-x``. A planted bug
runs only those of them that execute its line on the unchanged code (a traced run
of the list under coverage.py, ``line_tests.py``), the whole list when its line runs
at import; ``--no-select`` runs the whole list for every planted bug.

How to add a module: put its path in a group of ``GROUPS`` (or pass
``--module``). If no test file imports it by name (it is reached through a
subprocess or another module), name its fast test files in
``MODULE_TESTS``. Run the group, write a fast test for each survivor, or
list it in ``EQUIVALENT`` with the reason when no test could ever tell the
difference. Keep a group's run under a few minutes: prefer an in-process
test to one that starts ``python -m grader``.

The sandbox is three groups: ``sandbox`` (the mechanism and the data that
crosses: channel, wire, isolation, limits, processes, tree, the observations
record and the judge), ``sandbox-steps`` (the observer, the answerer, the
supervisor) and ``sandbox-keras`` (guard.py and introspect.py, whose tests
build Keras objects: each run imports TensorFlow).
"""

from __future__ import annotations

import argparse
import ast
import gc
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from line_tests import LineTests, Select, files_of, traced_pytest, write_config

ROOT = Path(__file__).resolve().parents[1]

GROUPS: dict[str, tuple[str, ...]] = {
    "checks": (
        "grader/checks/check_data.py",
        "grader/checks/check_model.py",
        "grader/checks/check_training.py",
        "grader/scoring.py",
    ),
    "exporters": (
        "grader/platforms/classroom50/exporter.py",
        "grader/exporters/common.py",
        "grader/exporters/escape.py",
        "grader/platforms/gradescope/exporter.py",
        "grader/platforms/legacy_classroom/exporter.py",
        "grader/exporters/outputs.py",
        "grader/exporters/summary_md.py",
        "grader/templates/summary.md.j2",
    ),
    "results": ("grader/results.py",),
    "actions": ("grader/platforms/github_actions/runner.py",),
    "config": ("grader/config.py",),
    "instructor": (
        "grader/instructor/cells.py",
        "grader/instructor/class_report.py",
        "grader/instructor/gradebook.py",
        "grader/instructor/leaks.py",
        "grader/instructor/lms.py",
        "grader/instructor/merge.py",
        "grader/instructor/records.py",
        "grader/instructor/release.py",
        "grader/instructor/roster.py",
        "grader/templates/class_report.md.j2",
    ),
    # The sandbox's mechanism and the data that crosses it, and the judging of its record.
    "sandbox": (
        "grader/sandbox/channel.py",
        "grader/sandbox/isolation.py",
        "grader/sandbox/limits.py",
        "grader/sandbox/processes.py",
        "grader/sandbox/protocol.py",
        "grader/sandbox/student_module.py",
        "grader/sandbox/tree.py",
        "grader/sandbox/untrusted.py",
        "grader/sandbox/wire.py",
        "grader/observations.py",
        "grader/judge.py",
    ),
    # The three processes' logic: the observer (decides), the answerer (answers), the supervisor (limits).
    "sandbox-steps": (
        "grader/sandbox/answerer.py",
        "grader/sandbox/observer.py",
        "grader/sandbox/supervisor.py",
    ),
    # The answerer's Keras side: the guard's snapshot of Keras and the descriptions of models and
    # figures. Their tests build Keras objects: each run imports TensorFlow (5-10 s), so it is apart.
    "sandbox-keras": (
        "grader/sandbox/guard.py",
        "grader/sandbox/introspect.py",
    ),
}

# Fast tests of the checks (facts in, verdict out: no Keras, no sandbox).
CHECK_TESTS = (
    "tests/test_check_table.py",
    "tests/test_check_details.py",
    "tests/test_feedback_rules.py",
    "tests/test_answer_points.py",
    "tests/test_facts.py",
    # Facts in, verdict out too: the beginners' mistakes of issue 19 and one wrong fact per key.
    "tests/test_feedback_issue19.py",
    "tests/test_feedback_more.py",
    "tests/test_check_rules_more.py",
)
# test_release.py's grading of the released stubs starts the grader (about 25 s): it
# tests the template, not the release command, so the bench leaves it to the suite.
NO_STUB_GRADING = ("--deselect", "tests/test_release.py::test_released_stubs_score_zero")
SANDBOX_TESTS: dict[str, tuple[str, ...]] = {
    "grader/sandbox/channel.py": ("tests/test_sandbox_record.py", "tests/test_sandbox_binds.py", "tests/test_sandbox_guards.py"),
    # Against a stand-in Keras (tests/keras_fakes.py, kept honest by the slow test_keras_fakes_contract.py): no TensorFlow.
    "grader/sandbox/guard.py": ("tests/test_guard.py",),
    "grader/sandbox/introspect.py": ("tests/test_introspect.py",),
    "grader/sandbox/isolation.py": ("tests/test_sandbox_binds.py", "tests/test_sandbox_planted.py", "tests/test_isolation_user.py", "tests/test_isolation.py"),
    "grader/sandbox/limits.py": ("tests/test_sandbox_planted.py", "tests/test_sandbox_watch.py", "tests/test_limits.py"),
    "grader/sandbox/processes.py": ("tests/test_sandbox_planted.py", "tests/test_isolation_user.py", "tests/test_isolation.py"),
    "grader/sandbox/protocol.py": ("tests/test_sandbox_record.py", "tests/test_protocol.py", "tests/test_sandbox_guards.py"),
    "grader/sandbox/student_module.py": ("tests/test_sandbox_planted.py", "tests/test_answerer_boundary.py"),
    "grader/sandbox/tree.py": ("tests/test_tree.py", "tests/test_sandbox_planted.py", "tests/test_sandbox_watch.py"),
    "grader/sandbox/untrusted.py": ("tests/test_sandbox_planted.py", "tests/test_evidence_restore.py", "tests/test_isolation.py"),
    "grader/sandbox/wire.py": ("tests/test_wire.py", "tests/test_sandbox_planted.py"),
    "grader/observations.py": ("tests/test_sandbox_record.py", "tests/test_judge.py"),
    "grader/judge.py": ("tests/test_sandbox_record.py", "tests/test_sandbox_planted.py", "tests/test_judge.py", "tests/test_isolation.py"),
    "grader/sandbox/answerer.py": (
        "tests/test_sandbox_answerer.py",
        "tests/test_answerer_boundary.py",
        "tests/test_limits.py",
        "tests/test_answerer_process.py",
    ),
    "grader/sandbox/observer.py": ("tests/test_sandbox_observer.py", "tests/test_answerer_boundary.py", "tests/test_spec.py", "tests/test_judge.py"),
    "grader/sandbox/supervisor.py": (
        "tests/test_sandbox_planted.py",
        "tests/test_sandbox_watch.py",
        "tests/test_sandbox_observer.py",
        "tests/test_sandbox_guards.py",
        "tests/test_tree.py",
        "tests/test_evidence_restore.py",
        "tests/test_limits.py",
        "tests/test_isolation.py",
    ),
}
# A module's fast test files (and extra pytest arguments), fastest first.
MODULE_TESTS: dict[str, tuple[str, ...]] = {
    **{module: CHECK_TESTS for module in GROUPS["checks"]},
    # The whole-points rounding (its importers include the workflow and Gradescope runs: minutes).
    "grader/results.py": ("tests/test_answer_points.py", "tests/test_exporters.py", "tests/test_exporter_names.py"),
    # test_judge.py: the observation settings a rejudged class keeps.
    "grader/config.py": ("tests/test_config_load.py", "tests/test_judge.py"),
    # test_workflow.py also reads the legacy payload, but runs actionlint and the workflow scripts (about 15 s).
    # Moved into their platform packages; the tests still import them by their old names.
    "grader/platforms/classroom50/exporter.py": (
        "tests/test_exporters.py",
        "tests/test_exporter_names.py",
        "tests/test_escaping.py",
        "tests/test_terminal_quick.py",
    ),
    "grader/platforms/gradescope/exporter.py": (
        "tests/test_exporters.py",
        "tests/test_gradescope_visibility.py",
        "tests/test_exporter_names.py",
        "tests/test_escaping.py",
    ),
    "grader/platforms/legacy_classroom/exporter.py": (
        "tests/test_exporters.py",
        "tests/test_actions.py",
        "tests/test_escaping.py",
        "tests/test_terminal_quick.py",
    ),
    "grader/exporters/common.py": ("tests/test_exporter_names.py", "tests/test_escaping.py", "tests/test_exporters.py", "tests/test_terminal_quick.py"),
    "grader/platforms/github_actions/runner.py": ("tests/test_outputs.py", "tests/test_actions.py", "tests/test_escaping.py"),
    "grader/templates/summary.md.j2": ("tests/test_summary_md_flags.py", "tests/test_escaping.py", "tests/test_outputs.py", "tests/test_terminal_quick.py"),
    "grader/templates/class_report.md.j2": ("tests/test_escaping.py", "tests/test_class_report.py", "tests/test_class_report_reading.py"),
    "grader/instructor/cells.py": ("tests/test_batch_guards.py",),
    "grader/instructor/class_report.py": ("tests/test_escaping.py", "tests/test_class_report.py", "tests/test_class_report_reading.py"),
    "grader/instructor/gradebook.py": ("tests/test_class_tools.py", "tests/test_batch_guards.py", "tests/test_class_report.py"),
    "grader/instructor/leaks.py": ("tests/test_leaks.py", "tests/test_release.py", *NO_STUB_GRADING),
    "grader/instructor/lms.py": ("tests/test_batch_guards.py", "tests/test_lms_export.py"),
    "grader/instructor/merge.py": ("tests/test_merge.py",),
    "grader/instructor/records.py": ("tests/test_class_tools.py", "tests/test_batch_guards.py", "tests/test_merge.py"),
    "grader/instructor/release.py": ("tests/test_leaks.py", "tests/test_release.py", *NO_STUB_GRADING),
    "grader/instructor/roster.py": ("tests/test_class_tools.py", "tests/test_batch_ref.py", "tests/test_batch_guards.py"),
    # The sandbox: its fast tests only. test_observer.py and test_import_runtime.py start a real
    # answerer with TensorFlow (10-50 s a run): the suite runs them, the bench does not.
    **{module: SANDBOX_TESTS[module] for module in SANDBOX_TESTS},
}

# (module, [the function it is in,] the original line stripped, the planted line stripped) -> why no
# test can tell them apart. Name the function when the same line occurs in several.
EQUIVALENT: dict[tuple[str, ...], str] = {
    (
        "grader/platforms/legacy_classroom/exporter.py",
        'return f"::notice title={workflow_property(title)}::{workflow_data(message)}"',
        'return f"::notice title={str(title)}::{workflow_data(message)}"',
    ): "the two titles are constants (COMPLETE_TITLE, REPORT_TITLE) without %, CR, LF, ':' or ','",
    (
        "grader/platforms/legacy_classroom/exporter.py",
        'return f"::notice title={workflow_property(title)}::{workflow_data(message)}"',
        'return f"::notice title={workflow_property(title)}::{str(message)}"',
    ): "the two messages are 'Points X/Y' and compact JSON of two integers: no %, CR or LF can occur",
    (
        "grader/sandbox/answerer.py",
        'text = output.read(min(limit, end - offset)).decode("utf-8", errors="replace")',
        'text = output.read(min(limit, end + offset)).decode("utf-8", errors="replace")',
    ): "the read stops at the end of the file: min(limit, end + offset) reads the same end - offset bytes when fewer than limit remain, and limit bytes otherwise",
}

# (module, function) -> why no grading ever runs it: its planted bugs are left out like equivalent ones.
UNREACHABLE: dict[tuple[str, str], str] = {
    # Empty since the base Supervisor's old worker path (run, _run_worker, _handle, ...) was
    # removed: a grading runs Observer's, and every function left is reached.
}

# Text-escaping functions: forgetting one of them is a planted bug.
ESCAPES = frozenset({"markdown_text", "html_text", "cell", "_cell", "workflow_data", "workflow_property", "legacy_classroom_data", "clean"})

FLIP = {
    ast.Eq: "!=",
    ast.NotEq: "==",
    ast.Lt: ">=",
    ast.GtE: "<",
    ast.Gt: "<=",
    ast.LtE: ">",
    ast.In: "not in",
    ast.NotIn: "in",
    ast.Is: "is not",
    ast.IsNot: "is",
}
SYMBOL = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.GtE: ">=",
    ast.Gt: ">",
    ast.LtE: "<=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}


def _comparisons(tree: ast.AST, lines: list[str]) -> list[tuple[int, str, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1 or type(node.ops[0]) not in FLIP:
            continue
        if node.lineno != node.end_lineno:
            continue
        line = lines[node.lineno - 1]
        left_end = node.left.end_col_offset
        right_start = node.comparators[0].col_offset
        between = line[left_end:right_start]
        symbol = SYMBOL[type(node.ops[0])]
        if between.strip() != symbol:
            continue
        flipped = line[:left_end] + between.replace(symbol, FLIP[type(node.ops[0])], 1) + line[right_start:]
        found.append((node.lineno, line, flipped))
    return found


ARITHMETIC = {ast.Add: ("+", "-"), ast.Sub: ("-", "+")}


def _arithmetic(tree: ast.AST, lines: list[str]) -> list[tuple[int, str, str]]:
    """``a + b`` becomes ``a - b`` and back (numbers only: a ``+`` between strings would fail at once)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.BinOp) or type(node.op) not in ARITHMETIC or node.lineno != node.end_lineno:
            continue
        if any(
            isinstance(side, (ast.JoinedStr, ast.List, ast.Tuple)) or (isinstance(side, ast.Constant) and isinstance(side.value, str))
            for side in (node.left, node.right)
        ):
            continue
        line = lines[node.lineno - 1]
        between = line[node.left.end_col_offset : node.right.col_offset]
        symbol, other = ARITHMETIC[type(node.op)]
        if between.strip() != symbol:
            continue
        found.append((node.lineno, line, line[: node.left.end_col_offset] + between.replace(symbol, other, 1) + line[node.right.col_offset :]))
    return found


def _negations(tree: ast.AST, lines: list[str]) -> list[tuple[int, str, str]]:
    """``if not x`` / ``elif not x`` / ``while not x`` on one line: the ``not`` dropped."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.If, ast.While)):
            continue
        test = node.test
        if not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)) or test.lineno != test.end_lineno:
            continue
        line = lines[test.lineno - 1]
        head = line[: test.col_offset]
        rest = line[test.col_offset :]
        if not rest.startswith("not "):
            continue
        found.append((test.lineno, line, head + rest[4:]))
    return found


def _escapes(tree: ast.AST, lines: list[str]) -> list[tuple[int, str, str]]:
    """``escape(x)`` (one line, one argument) replaced by ``x``; a template filter ``|cell`` dropped."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or node.lineno != node.end_lineno or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in ESCAPES or isinstance(node.args[0], ast.Starred):
            continue
        line = lines[node.lineno - 1]
        argument = line[node.args[0].col_offset : node.args[0].end_col_offset]
        found.append((node.lineno, line, line[: node.col_offset] + f"str({argument})" + line[node.end_col_offset :]))
    return found


def plants(source: str) -> list[tuple[int, str, str]]:
    """(line, original text of the line, line with one bug planted) for each planted bug of ``source``."""
    lines = source.splitlines()
    tree = ast.parse(source)
    found = _comparisons(tree, lines) + _arithmetic(tree, lines) + _negations(tree, lines) + _escapes(tree, lines)
    return sorted(found)


FILTER = re.compile(r"\|\s*(" + "|".join(sorted(ESCAPES)) + r")\b")


def template_plants(source: str) -> list[tuple[int, str, str]]:
    """A Jinja2 template: each escaping filter (``|cell``, ``|markdown_text``...) dropped, one at a time."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        for match in FILTER.finditer(line):
            found.append((number, line, line[: match.start()] + line[match.end() :]))
    return found


def enclosing(source: str, number: int) -> str:
    """The name of the innermost function (or class) that holds line ``number`` of ``source``, or "" (a template)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    holders = [
        (node.lineno, node.name)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.lineno <= number <= (node.end_lineno or node.lineno)
    ]
    return max(holders)[1] if holders else ""


def tests_for(module: str, copy: Path) -> list[str]:
    """The fast test files of ``module``, fastest first (a rough guess: the smaller file first)."""
    if module in MODULE_TESTS:
        named = list(MODULE_TESTS[module])
        # Test files not written yet are skipped (with their --deselect); other pytest arguments are kept.
        present = [t for t in named if not t.startswith("tests/") or (copy / t.split("::")[0]).is_file()]
        return present if any(t.startswith("tests/") for t in present) else []
    dotted = module.removesuffix(".py").replace("/", ".")
    package, _, name = dotted.rpartition(".")
    pattern = re.compile(rf"\b{re.escape(dotted)}\b|from {re.escape(package)} import [^\n]*\b{name}\b")
    found = [str(p.relative_to(copy)) for p in sorted((copy / "tests").glob("test_*.py")) if pattern.search(p.read_text(encoding="utf-8"))]
    return sorted(found, key=lambda t: (copy / t).stat().st_size)


# A planted bug that makes the fast tests hang (a loop that no longer ends) is
# noticed too: the run is stopped after this long (or HANG_FACTOR times what the
# unchanged code took, if longer: a busy machine is not a hang) and counted as caught.
HANG_SECONDS = 60
HANG_FACTOR = 4
# A run of selected tests: HANG_FACTOR times what they (and the list's start) took on the
# unchanged code under coverage (slower than without), and at least this long.
HANG_SELECTED_SECONDS = 30
# -n 0: pytest.ini's -n auto would start xdist workers, fresh interpreters that import everything
# again (a 2 s run became 60 s): each run is one process, forked from this preloaded one.
PYTEST_ARGS = ("-x", "-q", "-p", "no:cacheprovider", "-n", "0", "-m", "not slow and not browser")
# Imported once by the bench before it forks a test run: what every run would import again
# (pytest itself, NumPy, Jinja2...). Never the grader (the planted bug must be imported fresh)
# nor TensorFlow (a process with its threads cannot fork safely).
PRELOAD = (
    *("pytest", "numpy", "jinja2", "psutil", "tomllib", "markupsafe", "nbformat", "pydantic", "pandas", "matplotlib.pyplot", "pytest_jsonreport.plugin"),
    # What pytest's plugins import at every start (about 50 ms a run).
    *("xdist.plugin", "platformdirs", "pdb", "_pytest.tracemalloc", "xml.etree.ElementTree", "coverage"),
)


def _preload() -> None:
    import importlib

    os.environ.setdefault("MPLBACKEND", "Agg")  # as the grader's tests and workers use it
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            continue


def _forked_pytest(copy: Path, tests: list[str], basetemp: Path, select: Select | None, trace: Path | None) -> None:
    """In a forked child: run the fast tests of ``copy`` in this process, exit with pytest's code.
    ``select``: only those tests; ``trace``: under coverage, the line map written there (.json)."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.chdir(copy)
        sys.path[:] = [str(copy)] + [p for p in sys.path if p and Path(p).resolve() not in (ROOT, ROOT / "bench")]
        import pytest

        arguments = [*PYTEST_ARGS, f"--basetemp={basetemp}", *tests]
        if trace is not None:
            data = trace.with_suffix("")
            data.mkdir(parents=True, exist_ok=True)
            write_config(trace.with_suffix(".rc"), data / ".coverage")
            code = traced_pytest(arguments, trace.with_suffix(".rc"), trace)
        else:
            code = int(pytest.main(arguments, plugins=[select] if select else []))
    except BaseException:  # noqa: BLE001 - whatever happened, the parent must get an exit code
        code = 3
    os._exit(code)


class Run:
    """One test run of a scratch copy: a forked child of this process (POSIX) or a subprocess."""

    count = 0

    def __init__(self, copy: Path, tests: list[str], patience: float = HANG_SECONDS, select: Select | None = None, trace: Path | None = None) -> None:
        self.started = time.monotonic()
        self.patience = patience
        # Each run's tmp_path folders in the scratch copy, never in the shared /tmp/pytest-of-<user>: a
        # planted bug in tree.py leaves a chain of folders deeper than shutil.rmtree can remove, which
        # would make every later pytest session of the machine fail at its clean-up.
        Run.count += 1
        self.basetemp = copy / ".planted-tmp" / f"run{Run.count}"
        self.basetemp.parent.mkdir(exist_ok=True)
        self.pid: int | None = None
        self.process: subprocess.Popen | None = None
        if FORK:
            self.pid = os.fork()
            if self.pid == 0:
                _forked_pytest(copy, tests, self.basetemp, select, trace)
        else:
            command = [sys.executable, "-m", "pytest", *PYTEST_ARGS, f"--basetemp={self.basetemp}", *tests]
            self.process = subprocess.Popen(command, cwd=copy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def poll(self) -> str | None:
        """None while it runs; then "failed" or "hung" (the planted bug was noticed), or "passed"."""
        code: int | None
        if self.pid is not None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            code = os.waitstatus_to_exitcode(status) if pid else None
        else:
            code = self.process.poll()
        if code is None:
            if time.monotonic() - self.started < self.patience:
                return None
            self.kill()
            remove_tree(self.basetemp)
            return "hung"
        remove_tree(self.basetemp)
        # 5: nothing collected (every test of the file is slow): nothing noticed the bug.
        return "passed" if code in (0, 5) else "failed"

    def kill(self) -> None:
        if self.pid is not None:
            _kill_tree(self.pid)
            os.waitpid(self.pid, 0)
        else:
            _kill_tree(self.process.pid)
            self.process.wait()


def remove_tree(path: Path) -> None:
    """Remove ``path`` whatever its depth (``rm -rf`` does not recurse in Python; shutil.rmtree does)."""
    if not path.exists():
        return
    if shutil.which("rm"):
        subprocess.run(["rm", "-rf", "--", str(path)], check=False)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _kill_tree(pid: int) -> None:
    """The run and whatever its tests started (a grader subprocess), never anything else."""
    try:
        import psutil

        family = psutil.Process(pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - psutil missing or the run already gone: kill the run alone
        family = []
    for process in family:
        try:
            process.kill()
        except Exception:  # noqa: BLE001 - gone meanwhile
            continue
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


FORK = hasattr(os, "fork")


@dataclass
class Tally:
    planted: int = 0
    caught: int = 0
    equivalent: int = 0
    seconds: float = 0.0  # test-run time spent on its planted bugs (runs overlap with --jobs)


def package_of(module: str) -> str:
    parts = Path(module).parts
    return "/".join(parts[:2]) + "/" if len(parts) > 2 else module


@dataclass
class Job:
    module: str
    number: int
    line: str
    flipped: str
    tests: list[str]
    patience: float = HANG_SECONDS  # 0: set when it starts, from its baseline's time
    baseline: str = ""  # the ``where`` of the run of its tests on the unchanged code
    selected: list[str] | None = None  # the tests it ran (node ids), None: the whole list
    trace: Path | None = None  # an unchanged-code run's line map (line_tests.py)

    @property
    def where(self) -> str:
        if not self.module:
            return f"unchanged code: {' '.join(self.tests)}"
        return f"{self.module}:{self.number}: {self.line.strip()}  ->  {self.flipped.strip()}"


class Copy:
    """A scratch copy of the work tree, where one planted bug at a time is tested."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # The whole work tree (the workflow tests read .github/, README.md...), without git and local runs.
        shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns("__pycache__", ".venv*", ".git", "grading", ".pytest_cache", ".ruff_cache", ".planted-tmp"))
        self.stamp = time.time()

    def write(self, module: str, text: str) -> None:
        """``module`` with ``text``, and a modification time no earlier write had: Python's cached
        bytecode is checked by size and whole seconds, and a flipped ``==`` has the original's size."""
        path = self.folder / module
        path.write_text(text, encoding="utf-8")
        self.stamp += 2
        os.utime(path, (self.stamp, self.stamp))


def planted_text(original: str, job: Job) -> str:
    lines = original.splitlines(keepends=True)
    lines[job.number - 1] = job.flipped + ("\n" if lines[job.number - 1].endswith("\n") else "")
    return "".join(lines)


def run_jobs(jobs: list[Job], copies: list[Copy], originals: dict[str, str], seconds: dict[str, float] | None = None, select: bool = False) -> dict[str, str]:
    """Each job's verdict, ``len(copies)`` runs at a time (one per copy); a job without a
    module runs its tests on the unchanged code. ``seconds`` gets how long each run took.

    With ``select``, the unchanged-code run of a list is traced (line_tests.py) and each planted
    bug of that list waits for it, then runs only the tests that execute its line; a line no
    test executes runs the whole list (coverage cannot follow a preexec_fn). A list whose traced run fails is
    run again untraced, and its planted bugs run it whole."""
    verdicts: dict[str, str] = {}
    pending = list(reversed(jobs))
    running: dict[int, tuple[Job, Run]] = {}
    free = list(range(len(copies)))
    maps: dict[str, LineTests | None] = {}  # baseline where -> its line map (None: whole lists)
    traced = {job.where for job in jobs if not job.module} if select and FORK else set()
    started_at = time.monotonic()

    def ready(job: Job) -> bool:
        return not job.module or not select or job.baseline in maps

    def report(job: Job, seen: str) -> None:
        verdicts[job.where] = seen
        ran = "" if job.selected is None else "(no test executes it: the whole list) " if job.selected == [] else f"({len(job.selected)} tests) "
        print(f"[{len(verdicts)}/{len(jobs)}] {seen:<6} {ran}{job.where}", file=sys.stderr, flush=True)

    while pending or running:
        while free:
            index = next((i for i in range(len(pending) - 1, -1, -1) if ready(pending[i])), None)
            if index is None:
                break
            job = pending.pop(index)
            chosen = maps.get(job.baseline).tests(job.module, originals[job.module], job.number) if job.module and maps.get(job.baseline) else None
            unreached = chosen == []
            if unreached:  # coverage may have missed it (a preexec_fn, a child it cannot follow): the whole list decides
                chosen = None
            slot = free.pop()
            if not job.patience:
                job.patience = max(HANG_SECONDS, HANG_FACTOR * seconds.get(job.baseline, HANG_SECONDS)) if seconds is not None else HANG_SECONDS
            plugin = None
            arguments = job.tests
            if unreached:
                job.selected = []
            elif chosen is not None:
                lines = maps[job.baseline]
                job.selected = chosen
                plugin = Select(chosen)
                arguments = files_of(chosen) + [a for a in job.tests if not a.startswith("tests/")]
                expected = seconds.get(job.baseline, HANG_SECONDS) - lines.seconds(lines.order) + lines.seconds(chosen) if seconds else HANG_SECONDS
                job.patience = max(HANG_SELECTED_SECONDS, HANG_FACTOR * expected)
            if job.module:
                copies[slot].write(job.module, planted_text(originals[job.module], job))
            trace = copies[slot].folder / ".planted-tmp" / f"trace{len(maps)}-{slot}.json" if job.where in traced else None
            running[slot] = (job, Run(copies[slot].folder, arguments, job.patience, plugin, trace))
            if trace is not None:
                job.trace = trace
        time.sleep(0.02)
        for slot, (job, run) in list(running.items()):
            seen = run.poll()
            if seen is None:
                continue
            del running[slot]
            free.append(slot)
            if seconds is not None:
                seconds[job.where] = time.monotonic() - run.started
            if job.module:
                copies[slot].write(job.module, originals[job.module])
            elif job.where in traced:
                traced.discard(job.where)
                if seen == "passed" and job.trace is not None and job.trace.is_file():
                    maps[job.where] = LineTests(job.trace)
                else:  # run it again untraced: its verdict (and time) are the list's own
                    print(f"  traced run of {' '.join(job.tests)}: {seen}; running it untraced, its planted bugs run it whole", file=sys.stderr, flush=True)
                    pending.append(job)
                    continue
            elif select:
                maps[job.where] = None
            report(job, seen)
            if not job.module and seen != "passed":
                print(f"  the fast tests {' '.join(job.tests)} fail on the unchanged code", file=sys.stderr, flush=True)
    print(f"test runs took {time.monotonic() - started_at:.0f} s", file=sys.stderr, flush=True)
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", action="append", choices=sorted(GROUPS), help="a group of modules (default: every group)")
    parser.add_argument("--module", action="append", help="a module (or template) to plant bugs in")
    parser.add_argument("--tests", action="append", help="the fast tests to run for every module (default: each module's own)")
    parser.add_argument("--jobs", type=int, default=2, help="test runs at a time, each in its own scratch copy (default 2: the machine's cores)")
    parser.add_argument(
        "--no-select",
        dest="select",
        action="store_false",
        help="run each planted bug against its module's whole test list (default: only the tests that execute its line, from a traced run of the unchanged code)",
    )
    args = parser.parse_args(argv)
    modules = list(args.module or [])
    for group in args.group or ([] if modules else list(GROUPS)):
        modules += GROUPS[group]
    started = time.monotonic()
    if FORK:
        _preload()
        # What is loaded now lives as long as the bench: out of the collector's reach, pytest's
        # gc.collect() calls at the end of each forked run no longer walk it (half a short run's CPU).
        gc.freeze()
    tallies: dict[str, Tally] = {}
    equivalent: list[str] = []
    jobs: list[Job] = []
    with tempfile.TemporaryDirectory(prefix="planted-", ignore_cleanup_errors=True) as scratch:
        copies = [Copy(Path(scratch) / f"repo{i}") for i in range(max(1, args.jobs))]
        copy = copies[0].folder
        originals: dict[str, str] = {}
        planned: list[tuple[str, list[str], list[tuple[int, str, str]]]] = []
        for module in modules:
            path = copy / module
            if not path.is_file():
                print(f"skipped {module}: no such file")
                continue
            tests = list(args.tests or tests_for(module, copy))
            tallies.setdefault(package_of(module), Tally())
            original = originals[module] = path.read_text(encoding="utf-8")
            found = template_plants(original) if module.endswith(".j2") else plants(original)
            if found and not tests:
                print(f"{module} has no fast tests: name them in MODULE_TESTS")
                return 2
            planned.append((module, tests, found))
        # Each list of test files runs once on the unchanged code, just before the first planted bug
        # that uses it: it must pass, and its time sets the hang limit of the planted bugs after it.
        unchanged: dict[tuple[str, ...], Job] = {}
        for module, tests, found in planned:
            tally = tallies[package_of(module)]
            if found and tuple(tests) not in unchanged:
                unchanged[tuple(tests)] = Job("", 0, "", "", tests, HANG_SECONDS * 5)
                jobs.append(unchanged[tuple(tests)])
            for number, line, flipped in found:
                job = Job(module, number, line, flipped, tests, 0.0)
                job.baseline = unchanged[tuple(tests)].where
                where = enclosing(originals[module], number)  # this module's source, not the last one read
                reason = (
                    EQUIVALENT.get((module, where, line.strip(), flipped.strip()))
                    or EQUIVALENT.get((module, line.strip(), flipped.strip()))
                    or UNREACHABLE.get((module, where))
                )
                if reason:
                    tally.equivalent += 1
                    equivalent.append(f"{job.where}  ({reason})")
                    continue
                tally.planted += 1
                jobs.append(job)
        spent: dict[str, float] = {}
        verdicts = run_jobs(jobs, copies, originals, spent, select=args.select and FORK)
        broken = [job for job in unchanged.values() if verdicts[job.where] != "passed"]
        for job in broken:
            print(f"the fast tests {' '.join(job.tests)} fail on the unchanged code: fix them first")
        jobs = [job for job in jobs if job.module]
        remove_tree(Path(scratch))
    if broken:
        return 2
    survivors = [job for job in jobs if verdicts[job.where] == "passed"]
    hung = [job for job in jobs if verdicts[job.where] == "hung"]
    for job in jobs:
        tallies[package_of(job.module)].seconds += spent.get(job.where, 0.0)
        if verdicts[job.where] != "passed":
            tallies[package_of(job.module)].caught += 1
    for where in equivalent:
        print("equivalent", where)
    for job in survivors:
        ran = (
            "no traced test executes its line; the whole list ran"
            if job.selected == []
            else "the whole list"
            if job.selected is None
            else f"{len(job.selected)} tests executing its line"
        )
        print("survived", job.where, f"  [{ran}]")
    for job in hung:
        print(f"hung (tests stopped after {job.patience:.0f} s, counted as caught)", job.where)
    print(f"\n{'package':<22} {'planted':>7} {'caught':>6} {'rate':>6} {'equivalent':>10} {'run s':>7}")
    total = Tally()
    for package, tally in tallies.items():
        rate = f"{100 * tally.caught / tally.planted:.0f} %" if tally.planted else "-"
        print(f"{package:<22} {tally.planted:>7} {tally.caught:>6} {rate:>6} {tally.equivalent:>10} {tally.seconds:>7.0f}")
        total.planted, total.caught, total.equivalent = total.planted + tally.planted, total.caught + tally.caught, total.equivalent + tally.equivalent
    print(
        f"planted {total.planted} bugs in {len(modules)} modules; {total.caught} caught by the fast tests, "
        f"{len(survivors)} survived, {total.equivalent} equivalent left out ({time.monotonic() - started:.0f} s, {args.jobs} at a time)"
    )
    # The CPU the test runs used (they are this process's children): on a quiet machine with
    # --jobs cores, the run takes about this divided by --jobs, whatever else ran meanwhile.
    cpu = os.times().children_user + os.times().children_system
    if args.select and FORK:
        counts = [
            sum(1 for job in jobs if (job.selected is None) == whole and (job.selected == []) == unrun)
            for whole, unrun in ((True, False), (False, False), (False, True))
        ]
        print(
            f"planted bugs run against: the whole list {counts[0]}, the tests executing their line {counts[1]}, the whole list as no traced test executes the line {counts[2]}"
        )
    print(f"test runs used {cpu:.0f} CPU seconds (on a quiet machine: about {cpu / max(1, args.jobs) / 60:.1f} min with {args.jobs} cores)")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
