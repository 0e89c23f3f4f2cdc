"""``batch --export moodle|canvas``: the grades as each LMS imports them.

- Moodle (Grades > Import > CSV file): a CSV with an identifier column,
  ``Email address``, and one grade column named after the assignment. At
  import, "Identify user by" maps ``Email address`` to the user field
  "Email address", and the grade column is mapped to the grade item.
- Canvas (Grades > Import): its gradebook CSV, the columns of its own export:
  ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then the
  assignment column; a second row ``Points Possible`` gives the maximum.
  Canvas matches a row by ID, SIS User ID or SIS Login ID; the batch fills
  ``SIS Login ID`` (the roster's third column, usually the login or e-mail)
  and leaves the Canvas-internal ``ID`` empty. A new assignment column
  creates the assignment on import.

A student's identifier is the roster's third column (``ID URL EMAIL``) when
given, else the batch id. The grade is the gradebook's total (0 when not
graded). Cells are neutralized like the gradebook's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from grader.i18n import render
from grader.instructor.cells import write_rows
from grader.instructor.gradebook import class_max
from grader.instructor.records import StudentRecord

FORMATS = ("moodle", "canvas")
FILES = {"moodle": "moodle-grades.csv", "canvas": "canvas-grades.csv"}
MOODLE_IDENTIFIER = "Email address"
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"


def _total(record: StudentRecord) -> int:
    return record.result.score if record.result else 0


def write(kind: str, out: Path, everyone: list[StudentRecord], lms_ids: Mapping[str, str], lang: str) -> Path:
    assignment = render(lang, "instructor.export.assignment")
    ordered = sorted(everyone, key=lambda r: r.id)
    path = out / FILES[kind]
    if kind == "moodle":
        rows = [{MOODLE_IDENTIFIER: lms_ids.get(r.id) or r.id, assignment: _total(r)} for r in ordered]
        write_rows(path, (MOODLE_IDENTIFIER, assignment), rows)
    elif kind == "canvas":
        maximum = class_max(everyone)
        header = (*CANVAS_COLUMNS, assignment)
        points = {"Student": CANVAS_POINTS_ROW, assignment: "" if maximum is None else maximum}
        rows = [points] + [{"Student": r.id, "SIS Login ID": lms_ids.get(r.id) or r.id, assignment: _total(r)} for r in ordered]
        write_rows(path, header, rows)
    else:
        raise ValueError(f"unknown export format {kind!r}; use one of {FORMATS}")
    return path
