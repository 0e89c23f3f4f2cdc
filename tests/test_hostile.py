"""The hostile corpus: submissions that crash, hang, flood, forge or tamper.

Each file in ``tests/hostile/cases/`` holds one hostile change: the case's
submission is the reference solution with that file appended (its
definitions replace the reference's, its statements run at import; the
shared helpers of ``tests/hostile/finders.py`` go in between when it uses them); ``tests/hostile/expected.toml`` says how it must be graded.
Each case is graded in its own subprocess from its own throwaway copy of the
grader, two at a time. For every case:

* a report is written (exit code 0);
* exactly the expected checks fall short, each with its expected message,
  rendered from the Spanish catalogue; every other code check passes;
* the grader's files and the config are unchanged afterwards;
* the grading took no longer than the limits it ran into, plus a margin;
* nothing the student wrote or printed is taken as a result: the output
  folder holds only the grader's files, and forged lines are absent;
* no process the case started survives the grading;
* nothing it wrote outside the sandbox survives (``leftovers``), and what it
  printed holds none of the names it must not have found (``printed_absent``).

A case whose outcome depends on the isolation level (a write to the grader
fails under ``namespaces`` instead of being undone) says so in a table named
after the level; the level used is read from score.json. A case that
``level`` names is graded at that level (``GRADER_ISOLATION``). ``HOSTILE_ONLY``
(comma-separated names) grades only those cases.
"""

from __future__ import annotations

import glob
import os
import shutil
import statistics
import tempfile
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from gradingkit import (
    CORPUS_MIN_ACCURACY,
    CORPUS_SUBSET,
    SOLUTION,
    STEP_LIMITS,
    Graded,
    grade,
    mnist_env,
    mnist_npz,
    private_repo,
    rendered_from,
    submission,
    tree_digest,
    write_config,
)

from grader.config import GradingSettings
from grader.exporters import outputs
from grader.sandbox import isolation

pytestmark = [pytest.mark.slow, pytest.mark.slots(2)]

HERE = Path(__file__).resolve().parent / "hostile"
ALL_CASES = sorted(p.stem for p in (HERE / "cases").glob("*.py"))
CASES = [c for c in ALL_CASES if c in os.environ.get("HOSTILE_ONLY", "").split(",")] or ALL_CASES


FINDERS = ("_grader_dir", "_parent_cwd", "_out_dir")


def hostile_source(name: str) -> str:
    """The reference solution followed by the case's hostile change."""
    change = (HERE / "cases" / f"{name}.py").read_text(encoding="utf-8")
    parts = [SOLUTION.read_text(encoding="utf-8")]
    if any(f"{finder}(" in change for finder in FINDERS):
        parts.append((HERE / "finders.py").read_text(encoding="utf-8"))
    return "\n\n# --- hostile change ---\n".join([parts[0], "\n\n".join(parts[1:] + [change])])


EXPECTED = tomllib.loads((HERE / "expected.toml").read_text(encoding="utf-8"))
OUTPUT_FILES = {".grader-output", "observations", *outputs.OUTPUT_FILES}
GRACE = 5  # grader/sandbox/supervisor.py GRACE_SECONDS
WALL_FACTOR = GradingSettings().wall_factor  # the wall backstop of a step that does not compute
# What a grading takes beyond the limits it runs into: start-up, a worker
# restart, the checks, on a loaded two-core machine running two at a time.
MARGIN_SECONDS = 60
# ... or, on a machine so busy that a normal grading takes longer, this many
# normal gradings (the median of the cases that run into no limit, graded in
# the same pool at the same time).
MARGIN_GRADINGS = 2.5
OUTPUT_LIMIT_BYTES = 256 * 1024


@dataclass
class Case:
    graded: Graded
    repo: Path
    config: Path
    digest_before: dict[str, str]
    digest_after: dict[str, str]
    config_before: str
    config_after: str
    survivors: list[str]
    margin: float = MARGIN_SECONDS  # what a grading may take beyond its limits (set from the pool's median)


def _survivors(name: str, repo: Path) -> list[str]:
    """Processes started by the case: its marker in their command line, or its grader copy in PYTHONPATH."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
            environ = process.environ() if f"hostile-marker-{name}" not in cmdline else {}
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if f"hostile-marker-{name}" in cmdline or environ.get("PYTHONPATH") == str(repo):
            found.append(f"{process.info['pid']}: {cmdline[:200]}")
    return found


def _grade_case(base: Path, name: str) -> Case:
    folder = base / name
    if "level" in EXPECTED[name]:
        # The user level's uid must reach the grader copy: pytest keeps its folders 0700 (and resets them).
        folder = Path(tempfile.mkdtemp(prefix=f"hostile-{name}-"))
        folder.chmod(0o711)
    repo = private_repo(folder / "repo")
    settings = {"train_subset": CORPUS_SUBSET, "min_accuracy": CORPUS_MIN_ACCURACY, **EXPECTED[name].get("config", {})}
    config = write_config(folder / "config.toml", **settings)
    work = submission(folder / "submission", hostile_source(name))
    before, config_before = tree_digest(repo / "grader"), config.read_text()
    env = None
    if "level" in EXPECTED[name]:
        env = {**mnist_env(), isolation.FORCE_ENV: EXPECTED[name]["level"]}
    graded = grade(repo, work, folder / "out", config, env=env, timeout=600)
    return Case(
        graded=graded,
        repo=repo,
        config=config,
        digest_before=before,
        digest_after=tree_digest(repo / "grader"),
        config_before=config_before,
        config_after=config.read_text(),
        survivors=_survivors(name, repo),
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Iterator[dict[str, Case]]:
    mnist_npz()
    base = tmp_path_factory.mktemp("hostile")
    # The slowest first, so the pool does not end on one long case.
    order = sorted(CASES, key=lambda n: -sum(EXPECTED[n].get("config", {}).get(s, STEP_LIMITS[s]) for s in EXPECTED[n].get("timeouts", [])))
    with ThreadPoolExecutor(max_workers=2) as pool:
        cases = dict(zip(order, pool.map(lambda n: _grade_case(base, n), order)))
    for name, case in sorted(cases.items()):  # shown with -s
        print(f"{name}: {case.graded.seconds:.1f} s, score {case.graded.score and case.graded.score['score']}")
    plain = [c.graded.seconds for n, c in cases.items() if not EXPECTED[n].get("timeouts")]
    normal = statistics.median(plain) if plain else 0.0  # HOSTILE_ONLY may pick only cases that hit a limit
    print(f"a grading that runs into no limit: {normal:.1f} s (median of {len(plain)})")
    for case in cases.values():
        case.margin = max(MARGIN_SECONDS, MARGIN_GRADINGS * normal)
    yield cases
    for case in cases.values():
        if not case.repo.is_relative_to(base):
            shutil.rmtree(case.repo.parent, ignore_errors=True)


def test_every_case_has_an_expectation():
    assert len(ALL_CASES) >= 30
    assert set(ALL_CASES) == set(EXPECTED)


@pytest.mark.parametrize("name", CASES)
def test_hostile_case(graded, name):
    case, expected = graded[name], EXPECTED[name]
    result = case.graded
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.score is not None and result.summary is not None
    level = result.score["isolation"]
    assert level in isolation.LEVELS
    assert level == expected.get("level", level), "graded at the level the case asks for"
    expected = {**expected, **expected.get(level, {})}

    # The fair partial credit, with a message naming the cause, in Spanish.
    checks = result.checks()
    # A case whose outcome depends on a race the grader does not yet close lists
    # each outcome it may have (``alternatives``); every one costs only its own points.
    outcomes = [expected["failing"], *expected.get("alternatives", [])]
    assert result.failing() in outcomes, result.summary
    failing = result.failing()
    for check_id, check in checks.items():
        assert rendered_from(check["message"], "es", check["message_key"]), check["message"]
        assert (check["score"] < check["max_score"]) == (check_id in failing)
    assert sorted(result.score["flags"]) == sorted(expected["flags"])
    assert result.score["score"] == sum(c["score"] for c in result.score["checks"])

    # The grader's files and config are as they were.
    assert case.digest_after == case.digest_before
    assert case.config_after == case.config_before

    # Time: the limits it ran into, plus a margin.
    # A step's limit counts CPU time: on a loaded machine it is reached later in real
    # time, never later than the wall backstop (grader/sandbox/limits.py).
    limits = {**STEP_LIMITS, **{s: v for s, v in expected.get("config", {}).items() if s in STEP_LIMITS}}
    budget = case.margin + sum(limits[s] * WALL_FACTOR + GRACE for s in expected.get("timeouts", []))
    assert result.seconds <= budget, f"{result.seconds:.0f} s > {budget} s"

    # Nothing the student wrote or printed is a result.
    assert {p.name for p in result.out.iterdir()} == OUTPUT_FILES
    assert (result.out / "student-output.txt").stat().st_size <= OUTPUT_LIMIT_BYTES + 200
    assert not any(line.startswith("::") for line in result.summary.splitlines())
    score_text = (result.out / "score.json").read_text(encoding="utf-8")
    for forged in expected.get("absent", []):
        assert forged not in result.summary and forged not in score_text, forged

    # The grading process itself stayed small (a decompression bomb is never inflated there).
    if "max_grader_peak_mb" in expected and result.score["metrics"].get("grader_peak_memory_mb") is not None:
        assert result.score["metrics"]["grader_peak_memory_mb"] <= expected["max_grader_peak_mb"]

    # No process it started is still running, no file it wrote outside survives.
    assert case.survivors == []
    for pattern in expected.get("leftovers", []):
        assert glob.glob(pattern) == [], pattern
    printed = (result.out / "student-output.txt").read_text(encoding="utf-8", errors="replace")
    for name in expected.get("printed_absent", []):
        assert name not in printed, name
