"""Shared fixtures and the suite's scheduling.

``synthetic_shard`` writes batch output folders (students/<id>/score.json +
batch.json, run.json) without grading anything, for the class-report,
browser and merge tests.

Two test files at a time: with pytest-xdist installed (requirements-dev.txt)
``python -m pytest`` runs on two workers, each taking whole files
(``--dist loadfile``), so a module's shared gradings (its module-scoped
fixtures) are made once, and the end-to-end gradings of one file overlap
with the quick tests of another instead of leaving a core idle. ``-n 0``
runs everything in this process, one test at a time. The option is set here
rather than in pytest.ini because pytest.ini is released to the students,
whose environment (requirements.txt) has no xdist.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.exporters import score_json
from grader.instructor import records
from grader.results import AnswerReview, CheckResult, GradingResult

pytest_plugins = ["key_coverage"]  # every catalogue key is reached by some test

WORKERS = 2
# The files that take longest (end-to-end gradings), longest first: started
# first, so that no worker is left at the end with one long file while the
# other is idle. Every other file keeps its place after them.
LONGEST_FIRST = (
    "test_hostile.py",
    "test_mutants.py",
    "test_batch.py",
    "test_mutants_multi.py",
    "test_core_grading.py",
    "test_classroom50_bundle.py",
    "test_gradescope_autograder.py",
    "test_determinism.py",
    "test_explore.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``-n 2 --dist loadfile`` unless the command line chose (``-n N``) or xdist is absent."""
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("xdist"):
        return
    if config.option.numprocesses is None and not config.option.collectonly and not config.option.usepdb:
        config.option.numprocesses = WORKERS
        if config.option.dist == "no":
            config.option.dist = "loadfile"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


HOSTILE = "<script>alert('x')</script> & <b>negrita</b>"
POINTS = {"normalize": 10, "architecture": 18, "compile": 12, "q1": 3, "q2": 3}
FAILS = {  # student -> check -> (score, message key)
    "ben": {"architecture": (9, "architecture.hidden_units")},
    "cris": {"architecture": (9, "architecture.hidden_units"), "compile": (0, "compile.optimizer"), "q2": (1, "answers.partial")},
}
STATUS = {"dani": ("timeout", "killed after 45 s (--timeout)"), "eva": ("error", "No se pudo calificar: no existe assignment/mnist_dense.py")}
CLASS = ("ana", "ben", "cris", "dani", "eva")


def _result(student: str) -> GradingResult:
    fails = FAILS.get(student, {})
    checks = []
    for check, points in POINTS.items():
        score, key = fails.get(check, (points, f"{check}.ok"))
        checks.append(CheckResult(check, f"Título de {check}", score, points, score == points, f"Mensaje {key} de {student}", key))
    review = [
        AnswerReview("q1", f"Respuesta de {student}: MNIST tiene 60 000 imágenes.", ["nombre del conjunto de datos"], [], False),
        AnswerReview("q2", HOSTILE if student == "ben" else f"Dividimos entre 255 ({student}).", [], ["intervalo resultante"], student == "ben"),
    ]
    accuracy = {"ana": 0.975, "ben": 0.962, "cris": 0.91}[student]
    flags = ["grader_files_modified"] if student == "cris" else []
    return GradingResult(sum(c.score for c in checks), sum(POINTS.values()), checks, {"test_accuracy": accuracy}, flags, review)


@pytest.fixture
def synthetic_shard():
    def make(folder: Path, students: tuple[str, ...] = CLASS, fingerprint: str = "f1") -> Path:
        for student in students:
            target = folder / "students" / student
            target.mkdir(parents=True)
            status, message = STATUS.get(student, ("graded", ""))
            changed = ["grader/config.toml (modified)"] if student == "cris" else []
            records.save(target, records.StudentRecord(student, status, f"/class/{student}", "k", 12.5, message, changed))
            if status == "graded":
                (target / "score.json").write_text(score_json.dumps(_result(student)), encoding="utf-8")
                (target / "summary.md").write_text(f"# {student}\n", encoding="utf-8")
        run = {"submissions": list(students), "grading_fingerprint": fingerprint, "min_accuracy": 0.95, "wall_seconds": 1.0}
        (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
        return folder

    return make
