"""gradebook.csv: one row per student, written with the csv module.

Columns: id, total, max, one column per check (its score), test_accuracy,
isolation (the sandbox level the grading ran at), commit (the graded git
commit), flags, changed_files, grading_seconds, status. Lists are joined
with ``;``. The header row follows ``--lang`` (check ids are ids and stay
as they are). A student who was not graded (timeout, error) has a total of
0 and empty check columns. Every cell that a spreadsheet would run as a
formula is neutralized (``grader.instructor.cells``).
"""

from __future__ import annotations

from pathlib import Path

from grader import spec
from grader.i18n import render
from grader.instructor.cells import write_rows
from grader.instructor.records import StudentRecord

NAMED_COLUMNS = ("id", "total", "max", "test_accuracy", "isolation", "commit", "flags", "changed_files", "grading_seconds", "status")


def graded_checks(records: list[StudentRecord]) -> list[str]:
    """Ids of the checks the class's results hold: the registry's order, then any other (an older grader's) by name."""
    seen = {c.id for r in records if r.result for c in r.result.checks}
    known = [c for c in spec.check_ids() if c in seen]
    return known + sorted(seen - set(known))


def columns(records: list[StudentRecord]) -> list[str]:
    return ["id", "total", "max", *graded_checks(records), "test_accuracy", "isolation", "commit", "flags", "changed_files", "grading_seconds", "status"]


def headers(lang: str) -> dict[str, str]:
    """Column id -> the header shown in ``lang``."""
    return {c: render(lang, f"instructor.column.{c}") for c in NAMED_COLUMNS}


def row(record: StudentRecord, checks: list[str], max_score: int | None) -> dict[str, object]:
    result = record.result
    scores = {c.id: c.score for c in result.checks} if result else {}
    accuracy = result.metrics.get("test_accuracy") if result else None
    return {
        "id": record.id,
        "total": result.score if result else 0,
        "max": result.max_score if result else (max_score if max_score is not None else ""),
        **{check: scores.get(check, "") for check in checks},
        "test_accuracy": "" if accuracy is None else accuracy,
        "isolation": record.isolation,
        "commit": record.commit,
        "flags": ";".join(record.flags),
        "changed_files": ";".join(record.changed_paths),
        "grading_seconds": "" if record.seconds is None else record.seconds,
        "status": record.status,
    }


def class_max(records: list[StudentRecord]) -> int | None:
    maxima = [r.result.max_score for r in records if r.result]
    return max(maxima) if maxima else None


def write(path: Path, records: list[StudentRecord], lang: str = "es") -> None:
    checks = graded_checks(records)
    maximum = class_max(records)
    rows = (row(record, checks, maximum) for record in sorted(records, key=lambda r: r.id))
    write_rows(path, columns(records), rows, headers(lang))
