"""Plant one small bug at a time in the checks and see whether a fast test notices.

    python bench/planted_bugs.py [--module grader/checks/check_model.py ...] [--tests tests/test_check_table.py ...]

Each comparison in the judging code (``==``/``!=``, ``<``/``>=``, ``>``/``<=``,
``in``/``not in``, ``is``/``is not``) is flipped, one at a time, in a scratch
copy of the repository; the fast tests (facts in, verdict out: no Keras, no
sandbox) then run on that copy. A planted bug that no test fails "survives".
Prints one line per survivor and the totals; exits 1 if any survived.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = (
    "grader/checks/check_data.py",
    "grader/checks/check_model.py",
    "grader/checks/check_training.py",
    "grader/scoring.py",
)
FAST_TESTS = (
    "tests/test_check_table.py",
    "tests/test_check_details.py",
    "tests/test_feedback_rules.py",
    "tests/test_answer_points.py",
    "tests/test_facts.py",
)
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


def plants(source: str) -> list[tuple[int, str, str]]:
    """(line, original text of the line, line with one operator flipped) for each single-operator comparison."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
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


# A planted bug that makes the fast tests hang (a loop that no longer ends) is
# noticed too: the run is stopped after this long and counted as caught.
HANG_SECONDS = 120


def verdict(copy: Path, tests: list[str]) -> str:
    """How the fast tests take ``copy``: "failed" or "hung" (the planted bug was noticed), or "passed"."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        run = subprocess.run(command, cwd=copy, capture_output=True, text=True, timeout=HANG_SECONDS)
    except subprocess.TimeoutExpired:
        return "hung"
    return "passed" if run.returncode == 0 else "failed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", help="a judging module to plant bugs in (default: the check modules and scoring)")
    parser.add_argument("--tests", action="append", help="the fast tests to run (default: the table and feedback tests)")
    args = parser.parse_args(argv)
    modules, tests = args.module or list(MODULES), args.tests or list(FAST_TESTS)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="planted-") as scratch:
        copy = Path(scratch) / "repo"
        ignore = shutil.ignore_patterns("__pycache__", ".venv*", ".git", "grading")
        for part in ("grader", "tests", "solutions", "assignment", "pytest.ini"):
            source = ROOT / part
            (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / part, **({"ignore": ignore} if source.is_dir() else {}))
        if verdict(copy, tests) != "passed":
            print("the fast tests fail on the unchanged code: fix them first")
            return 2
        total, survivors, hung = 0, [], []
        for module in modules:
            path = copy / module
            original = path.read_text(encoding="utf-8")
            lines = original.splitlines(keepends=True)
            for number, line, flipped in plants(original):
                total += 1
                planted = lines.copy()
                planted[number - 1] = flipped + ("\n" if line.endswith("\n") or lines[number - 1].endswith("\n") else "")
                path.write_text("".join(planted), encoding="utf-8")
                seen = verdict(copy, tests)
                where = f"{module}:{number}: {line.strip()}  ->  {flipped.strip()}"
                if seen == "passed":
                    survivors.append(where)
                elif seen == "hung":
                    hung.append(where)
            path.write_text(original, encoding="utf-8")
    for survivor in survivors:
        print("survived", survivor)
    for where in hung:
        print(f"hung (tests stopped after {HANG_SECONDS} s, counted as caught)", where)
    print(
        f"planted {total} bugs in {len(modules)} modules; {total - len(survivors)} caught by the fast tests, {len(survivors)} survived ({time.monotonic() - started:.0f} s)"
    )
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
