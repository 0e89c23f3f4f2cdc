"""Shared fixtures. ``synthetic_shard`` writes batch output folders
(students/<id>/score.json + batch.json, submitted/<id>/, run.json) without grading anything,
for the class-report, browser and merge tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.exporters import score_json
from grader.instructor import records
from grader.results import AnswerReview, CheckResult, GradingResult

pytest_plugins = ["key_coverage", "grading_slots"]  # every catalogue key is reached by some test; at most two gradings at a time

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


def submitted_code(student: str) -> str:
    """What batch keeps in submitted/<id>/: ana and cris hand in the same code (a pair across shards)."""
    twin = "ana" if student in ("ana", "cris") else student
    lines = [f"def step_{twin}_{i}(values):\n    return [v * {i} + len(values) for v in values if v % {i + 2}]\n" for i in range(12)]
    return "import numpy as np\n\n" + "\n".join(lines)


@pytest.fixture
def synthetic_shard():
    def make(folder: Path, students: tuple[str, ...] = CLASS, fingerprint: str = "f1", shard: str | None = None) -> Path:
        for student in students:
            target = folder / "students" / student
            target.mkdir(parents=True)
            status, message = STATUS.get(student, ("graded", ""))
            changed = ["grader/config.toml (modified)"] if student == "cris" else []
            records.save(target, records.StudentRecord(student, status, f"/class/{student}", "k", 12.5, message, changed))
            if status == "graded":
                (target / "score.json").write_text(score_json.dumps(_result(student)), encoding="utf-8")
                (target / "summary.md").write_text(f"# {student}\n", encoding="utf-8")
                code = folder / "submitted" / student / "assignment" / "mnist_dense.py"
                code.parent.mkdir(parents=True)
                code.write_text(submitted_code(student), encoding="utf-8")
        run = {"submissions": list(students), "grading_fingerprint": fingerprint, "min_accuracy": 0.95, "wall_seconds": 1.0, "shard": shard}
        (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
        return folder

    return make
