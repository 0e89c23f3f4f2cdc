"""The planted-bug bench's test selection (bench/line_tests.py): a planted bug runs only the tests
that execute its line, counting what a test's subprocess executes, and every test when the line
runs at import. A wrong map would make the bench report caught bugs as survivors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from line_tests import LineTests  # noqa: E402

MODULE = """\
LIMIT = 1


def size(x):
    if x > LIMIT:
        return "big"
    return "small"


def never(x):
    return x == 0


if __name__ == "__main__":
    import sys

    print(size(int(sys.argv[1])))
"""

TESTS = """\
import subprocess
import sys

from grader import mod


def test_in_process():
    assert mod.size(0) == "small"


def test_in_a_child():
    out = subprocess.run([sys.executable, "-m", "grader.mod", "5"], capture_output=True, text=True, check=True)
    assert out.stdout == "big\\n", out.stderr
"""

TRACE = textwrap.dedent(
    """\
    import sys
    from pathlib import Path

    sys.path.insert(0, sys.argv[1])
    import line_tests

    folder = Path.cwd()
    (folder / "data").mkdir()
    line_tests.write_config(folder / "rc", folder / "data" / ".coverage")
    sys.exit(line_tests.traced_pytest(["-q", "-p", "no:cacheprovider", "tests/test_mod.py"], folder / "rc", folder / "map.json"))
    """
)


def test_each_line_maps_to_the_tests_that_execute_it(tmp_path: Path) -> None:
    (tmp_path / "grader").mkdir()
    (tmp_path / "grader" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "grader" / "mod.py").write_text(MODULE, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_mod.py").write_text(TESTS, encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", TRACE, str(ROOT / "bench")], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr

    found = LineTests(tmp_path / "map.json")
    both = ["tests/test_mod.py::test_in_process", "tests/test_mod.py::test_in_a_child"]
    assert found.tests("grader/mod.py", MODULE, 5) == both  # the comparison: both tests reach it
    assert found.tests("grader/mod.py", MODULE, 6) == both[1:]  # only in the child process
    assert found.tests("grader/mod.py", MODULE, 7) == both[:1]
    assert found.tests("grader/mod.py", MODULE, 11) == []  # no test calls never()
    assert found.tests("grader/mod.py", MODULE, 1) is None  # module level: every test
    assert found.tests("grader/mod.py", MODULE, 17) is None  # under __main__: module level too
    assert found.tests("grader/templates/summary.md.j2", "", 3) is None  # a template: every test
