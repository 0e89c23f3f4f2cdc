"""``batch --export moodle|canvas``: the grades as each LMS imports them.

- Moodle (Grades > Import > CSV file): a CSV with an identifier column,
  ``Email address``, and one grade column named after the assignment. At
  import, "Identify user by" maps ``Email address`` to the user field
  "Email address", and the grade column is mapped to the grade item.
  Moodle's importer (``grade/import/csv/classes/load_data.php``) looks every
  row's e-mail up exactly as written (case-sensitively on most databases,
  MDL-29315) and aborts the WHOLE import on one it does not know or one left
  empty; an empty grade cell or ``-`` means "no grade", any other text that
  is not a number aborts it too.
- Canvas (Grades > Import): its gradebook CSV, the columns of its own export:
  ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then the
  assignment column; a second row ``Points Possible`` gives the maximum.
  Canvas's importer (``gradebook_importer.rb``) requires that header shape
  (``Student`` then ``ID``; ``SIS User ID``/``SIS Login ID`` at columns 3-4
  make it five student columns, the last of which must be ``Section``) and
  matches a row by ID, SIS User ID, SIS Login ID, then by name; a row it
  cannot match becomes an unknown student. The batch fills ``SIS Login ID``
  (the roster's third column) and leaves ``ID`` empty. An empty grade cell
  changes nothing. A new assignment name creates a new assignment.

Identifiers are checked before anything is written: every exported student
needs one (the roster's third column, ``ID URL EMAIL``), an e-mail address
for Moodle, a login without spaces for Canvas. Otherwise the export stops
with the ids to fix (:class:`ExportError`), or, with ``allow_missing``,
writes the others and reports the skipped ones. E-mails are written exactly
as the roster gives them.

A student who was not graded (unavailable, no submission at ``--ref``,
timeout, error) gets an EMPTY grade cell (no grade, in both LMSs), never a 0,
unless ``missing_as_zero``. Cells are neutralized like the gradebook's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.i18n import render
from grader.instructor.cells import FORMULA_STARTS, write_rows
from grader.instructor.gradebook import class_max
from grader.instructor.records import StudentRecord

FORMATS = ("moodle", "canvas")
FILES = {"moodle": "moodle-grades.csv", "canvas": "canvas-grades.csv"}
MOODLE_IDENTIFIER = "Email address"
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"
# The assignment column's name when --assignment-name is not given: one name
# whatever --lang is, so that a second import updates the same grade item.
DEFAULT_ASSIGNMENT_KEY = "instructor.export.assignment"
EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"'.][^@\s,;<>\"']*$")
LOGIN = re.compile(r"^\S+$")


def default_assignment() -> str:
    return render("es", DEFAULT_ASSIGNMENT_KEY)


@dataclass
class Skipped:
    id: str
    reason: str  # "missing" or "malformed"
    value: str = ""


@dataclass
class Export:
    kind: str
    path: Path
    written: int
    blank: list[str] = field(default_factory=list)  # students exported without a grade
    skipped: list[Skipped] = field(default_factory=list)


class ExportError(ValueError):
    """The identifiers of some students cannot be imported: nothing was written."""

    def __init__(self, kind: str, problems: list[Skipped]) -> None:
        self.kind, self.problems = kind, problems
        listed = ", ".join(f"{p.id} ({p.reason}{': ' + repr(p.value) if p.value else ''})" for p in problems)
        super().__init__(f"{kind}: {len(problems)} student(s) without a usable identifier: {listed}")


def identifier_problem(kind: str, value: str) -> str:
    """Why ``value`` cannot identify a student in ``kind`` ("" if it can).
    One that a spreadsheet would run as a formula is refused too: written
    neutralized (``'=...``) it would no longer match the LMS's user."""
    if not value.strip():
        return "missing"
    if value.startswith(FORMULA_STARTS):
        return "malformed"
    pattern = EMAIL if kind == "moodle" else LOGIN
    return "" if pattern.match(value) else "malformed"


def check_identifiers(kind: str, everyone: list[StudentRecord], lms_ids: Mapping[str, str]) -> list[Skipped]:
    problems = []
    for record in sorted(everyone, key=lambda r: r.id):
        value = lms_ids.get(record.id, "")
        reason = identifier_problem(kind, value)
        if reason:
            problems.append(Skipped(record.id, reason, value))
    return problems


def grade_cell(record: StudentRecord, missing_as_zero: bool) -> int | str:
    if record.status == "graded" and record.result is not None:
        return record.result.score
    return 0 if missing_as_zero else ""


def write(
    kind: str,
    out: Path,
    everyone: list[StudentRecord],
    lms_ids: Mapping[str, str],
    lang: str = "es",
    *,
    assignment: str | None = None,
    allow_missing: bool = False,
    missing_as_zero: bool = False,
) -> Export:
    """Write ``kind``'s file into ``out``; :class:`ExportError` (and no file) when identifiers are wrong."""
    if kind not in FORMATS:
        raise ValueError(f"unknown export format {kind!r}; use one of {FORMATS}")
    path = out / FILES[kind]
    problems = check_identifiers(kind, everyone, lms_ids)
    if problems and not allow_missing:
        path.unlink(missing_ok=True)  # a file from an earlier run must not be imported by mistake
        raise ExportError(kind, problems)
    name = assignment or default_assignment()
    skipped = {p.id for p in problems}
    ordered = [r for r in sorted(everyone, key=lambda r: r.id) if r.id not in skipped]
    blank = [r.id for r in ordered if grade_cell(r, missing_as_zero) == ""]
    if kind == "moodle":
        rows = [{MOODLE_IDENTIFIER: lms_ids[r.id], name: grade_cell(r, missing_as_zero)} for r in ordered]
        write_rows(path, (MOODLE_IDENTIFIER, name), rows)
    else:
        maximum = class_max(everyone)
        header = (*CANVAS_COLUMNS, name)
        points = {"Student": CANVAS_POINTS_ROW, name: "" if maximum is None else maximum}
        rows = [points] + [{"Student": r.id, "SIS Login ID": lms_ids[r.id], name: grade_cell(r, missing_as_zero)} for r in ordered]
        write_rows(path, header, rows)
    return Export(kind, path, len(ordered), blank, problems)
