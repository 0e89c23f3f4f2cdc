"""The column rules of the two real LMS grade importers, as their sources apply
them, to import the files of ``batch --export`` in tests.

Moodle, ``grade/import/csv/classes/load_data.php`` (``prepare_import_grade_data``
and ``map_user_data_with_value``):
- headers are trimmed; the instructor maps one column to a user field
  ("Email address" -> ``useremail``) and one to the grade item;
- a line with one cell or fewer is skipped;
- every value is trimmed; an empty identifier leaves the row without a user,
  and a row without a user aborts the WHOLE import
  (``usermappingerrorusernotfound``); an identifier that matches no user
  (exact ``$DB->get_record('user', ['email' => $value])``, case-sensitive,
  MDL-29315) aborts it too (``usermappingerror``);
- a grade of ``''`` or ``-`` is "no grade" (null); anything that is not a
  number (``unformat_float``) aborts it (``badgrade``).

Canvas, ``app/models/gradebook_importer.rb`` (``header?``, ``process_pp``,
``process_student``, ``process_submissions``):
- the header row needs more than 3 cells, ``Student`` in the first and ``ID``
  in the second; ``SIS User ID`` and ``SIS Login ID`` in the third and fourth
  make five student columns, and the last student column must be ``Section``,
  else "Couldn't find header row";
- the columns after the student columns are assignments (trailing
  Current/Final Score/Points/Grade columns dropped), matched by title; an
  unknown title creates a new assignment;
- a row whose first cell is ``Points Possible`` gives the maximum points;
  a row of empty (or ``Muted``) cells is skipped;
- a student row is matched by ``ID``, then ``SIS User ID``, then
  ``SIS Login ID`` (the login's unique id), then by name; unmatched, it is a
  new (unknown) student;
- an empty grade cell changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field


class ImportAborted(Exception):
    """The importer refused the file (Moodle aborts the whole import)."""


@dataclass
class Imported:
    grades: dict[str, float | None]  # user -> grade (None: no grade)
    assignment: str = ""
    points_possible: str | None = None
    unknown_students: list[str] = field(default_factory=list)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def moodle_import(text: str, users: set[str], identifier: str, grade_item: str) -> Imported:
    """Import as Moodle does with "Identify user by" = ``identifier`` -> e-mail and ``grade_item`` mapped."""
    header, *lines = _rows(text)
    header = [h.strip() for h in header]
    if identifier not in header or grade_item not in header:
        raise ImportAborted(f"columns {header} lack {identifier!r} or {grade_item!r}")
    who, what = header.index(identifier), header.index(grade_item)
    grades: dict[str, float | None] = {}
    for line in lines:
        if len(line) <= 1:
            continue
        email = line[who].strip()
        if not email:
            raise ImportAborted("usermappingerrorusernotfound")
        if email not in users:  # exact match: MDL-29315
            raise ImportAborted(f"usermappingerror: email address {email!r}")
        value = line[what].strip()
        if value in ("", "-"):
            grades[email] = None
            continue
        try:
            grades[email] = float(value)
        except ValueError as error:
            raise ImportAborted(f"badgrade: {value!r}") from error
    return Imported(grades, grade_item)


def canvas_import(text: str, logins: dict[str, str], assignments: set[str] = frozenset()) -> tuple[Imported, bool]:
    """Import as Canvas does; ``logins``: SIS login -> student name. Returns the
    import and whether the assignment column is a new assignment."""
    header, *rows = _rows(text)
    if not (len(header) > 3 and re.search("Student", header[0]) and re.search("ID", header[1])):
        raise ImportAborted("Couldn't find header row")
    student_columns, login_column = 3, None
    if re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        student_columns, login_column = 5, 3
    if not re.search("Section", header[student_columns - 1]):
        raise ImportAborted("Couldn't find header row")
    titles = header[student_columns:]
    while titles and re.search("Current Score|Current Points|Final Score|Final Points|Final Grade", titles[-1]):
        titles.pop()
    if len(titles) != 1:
        raise ImportAborted(f"expected one assignment column, found {titles}")
    (title,) = titles
    result = Imported({}, title)
    for row in rows:
        if row and re.search("Points Possible", row[0]):
            result.points_possible = row[student_columns] if len(row) > student_columns else None
            continue
        if all(re.fullmatch(r"(?i)(Muted|)", c.strip()) for c in row):
            continue
        login = row[login_column] if login_column is not None else ""
        if login and login in logins:
            student = login
        elif row[0] in logins.values():
            student = next(k for k, v in logins.items() if v == row[0])
        else:
            result.unknown_students.append(row[0])
            continue
        grade = row[student_columns] if len(row) > student_columns else ""
        result.grades[student] = float(grade) if grade.strip() else None
    return result, title not in assignments
