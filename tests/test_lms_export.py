"""The LMS files of ``batch --export`` never lie: wrong identifiers stop the
export (or are skipped and listed with ``--allow-missing``), students not graded
are left blank (0 only with ``--missing-as-zero``), the column is named by
``--assignment-name``, and each file imports with the column rules of the real
importer (``tests/lms_importers.py``)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from grader.instructor import lms, records
from grader.results import CheckResult, GradingResult
from tests.lms_importers import ImportAborted, canvas_import, moodle_import
from tests.test_batch_guards import graded_by_fake_grader, new_batch, submission

ASSIGNMENT = lms.default_assignment()


def result(score: int) -> GradingResult:
    return GradingResult(score, 100, [CheckResult("normalize", "Paso 3", score, 100, score == 100, "m", "normalize.ok")], {}, [], [])


CLASS = [
    records.StudentRecord("ana", "graded", result=result(87)),
    records.StudentRecord("ben", "unavailable", message="git clone failed: Could not resolve host"),
    records.StudentRecord("cris", "graded", result=result(0)),  # an untouched template, graded: a true 0
    records.StudentRecord("dani", "timeout"),
]
IDS = {"ana": "Ana.Perez@Uni.example", "ben": "ben@uni.example", "cris": "cris@uni.example", "dani": "dani@uni.example"}
MOODLE_USERS = set(IDS.values())


def test_moodle_imports_every_row_and_leaves_the_ungraded_without_grade(tmp_path):
    done = lms.write("moodle", tmp_path, CLASS, IDS)
    imported = moodle_import(done.path.read_text(encoding="utf-8"), MOODLE_USERS, lms.MOODLE_IDENTIFIER, ASSIGNMENT)
    assert imported.grades == {"Ana.Perez@Uni.example": 87.0, "ben@uni.example": None, "cris@uni.example": 0.0, "dani@uni.example": None}
    assert done.blank == ["ben", "dani"] and done.skipped == []


def test_missing_as_zero_is_the_instructors_choice(tmp_path):
    done = lms.write("moodle", tmp_path, CLASS, IDS, missing_as_zero=True)
    imported = moodle_import(done.path.read_text(encoding="utf-8"), MOODLE_USERS, lms.MOODLE_IDENTIFIER, ASSIGNMENT)
    assert imported.grades["ben@uni.example"] == 0.0 and imported.grades["dani@uni.example"] == 0.0 and done.blank == []


def test_emails_are_written_as_the_roster_gives_them(tmp_path):
    # Moodle looks e-mails up case-sensitively (MDL-29315): a lower-cased copy would abort the import.
    done = lms.write("moodle", tmp_path, CLASS, IDS)
    assert "Ana.Perez@Uni.example" in done.path.read_text(encoding="utf-8")
    with pytest.raises(ImportAborted, match="usermappingerror"):
        moodle_import(done.path.read_text(encoding="utf-8"), {e.lower() for e in MOODLE_USERS}, lms.MOODLE_IDENTIFIER, ASSIGNMENT)


@pytest.mark.parametrize("kind", lms.FORMATS)
def test_a_missing_identifier_stops_the_export_with_the_ids_to_fix(tmp_path, kind):
    stale = tmp_path / lms.FILES[kind]
    stale.write_text("from an earlier run", encoding="utf-8")
    ids = dict(IDS, ben="", dani="dani at uni" if kind == "moodle" else "dani x")
    with pytest.raises(lms.ExportError) as raised:
        lms.write(kind, tmp_path, CLASS, ids)
    assert [(p.id, p.reason) for p in raised.value.problems] == [("ben", "missing"), ("dani", "malformed")]
    assert "ben" in str(raised.value) and "dani" in str(raised.value)
    assert not stale.exists()  # nobody imports last week's file by mistake


@pytest.mark.parametrize("kind", lms.FORMATS)
def test_an_identifier_a_spreadsheet_would_run_is_refused(tmp_path, kind):
    # neutralized as '=ana@... it would match nobody: Moodle would abort the whole import
    with pytest.raises(lms.ExportError) as raised:
        lms.write(kind, tmp_path, CLASS, dict(IDS, ana="=ana@uni.example"))
    assert [(p.id, p.reason) for p in raised.value.problems] == [("ana", "malformed")]


def test_moodle_needs_an_email_not_the_batch_id(tmp_path):
    ids = dict(IDS, ana="ana")
    with pytest.raises(lms.ExportError) as raised:
        lms.write("moodle", tmp_path, CLASS, ids)
    assert [(p.id, p.reason, p.value) for p in raised.value.problems] == [("ana", "malformed", "ana")]
    assert lms.write("canvas", tmp_path, CLASS, ids).skipped == []  # a Canvas login needs no @


@pytest.mark.parametrize("kind", lms.FORMATS)
def test_allow_missing_writes_the_rest_and_lists_the_skipped(tmp_path, kind):
    ids = dict(IDS, ben="")
    done = lms.write(kind, tmp_path, CLASS, ids, allow_missing=True)
    assert [s.id for s in done.skipped] == ["ben"] and done.written == 3
    text = done.path.read_text(encoding="utf-8")
    if kind == "moodle":
        imported = moodle_import(text, MOODLE_USERS, lms.MOODLE_IDENTIFIER, ASSIGNMENT)
    else:
        imported, _ = canvas_import(text, {v: k for k, v in IDS.items()})
    assert set(imported.grades) == {IDS["ana"], IDS["cris"], IDS["dani"]}


def test_canvas_reads_the_header_points_and_logins(tmp_path):
    done = lms.write("canvas", tmp_path, CLASS, IDS, assignment="Práctica 3: MNIST")
    imported, new = canvas_import(done.path.read_text(encoding="utf-8"), {v: k for k, v in IDS.items()}, assignments={"Práctica 3: MNIST"})
    assert imported.assignment == "Práctica 3: MNIST" and not new  # updates the existing assignment
    assert imported.points_possible == "100" and imported.unknown_students == []
    assert imported.grades == {"Ana.Perez@Uni.example": 87.0, "ben@uni.example": None, "cris@uni.example": 0.0, "dani@uni.example": None}


def test_the_importer_rules_are_real(tmp_path):
    """The simulated importers refuse what the real ones refuse (so the tests above can fail)."""
    with pytest.raises(ImportAborted, match="header"):
        canvas_import("Name,ID,SIS User ID,SIS Login ID,Section,A\n", {})
    with pytest.raises(ImportAborted, match="header"):
        canvas_import("Student,ID,SIS User ID,SIS Login ID,Group,A\n", {})
    imported, _ = canvas_import("Student,ID,SIS User ID,SIS Login ID,Section,A\nana,,,nobody,,3\n", {"x": "y"})
    assert imported.unknown_students == ["ana"]
    with pytest.raises(ImportAborted, match="usermappingerrorusernotfound"):
        moodle_import("Email address,A\n,3\n", {"a@b.c"}, "Email address", "A")
    with pytest.raises(ImportAborted, match="badgrade"):
        moodle_import("Email address,A\na@b.c,0 (not graded)\n", {"a@b.c"}, "Email address", "A")


def test_batch_refuses_a_roster_without_emails_but_writes_the_reports(tmp_path, capsys):
    for student in ("ana", "ben"):
        submission(tmp_path / "class" / student)
    run = new_batch(tmp_path, "--export", "moodle", "--export", "canvas", "--assignment-name", "MNIST 2026")
    from grader.instructor import roster

    subs = roster.list_submissions(tmp_path / "class")
    subs[0].lms_id = "ana@uni.example"
    for job in run.plan(subs):
        graded_by_fake_grader(run, job, 7)
    assert run.report(subs, time.monotonic()) == 2
    err = capsys.readouterr().err
    assert "moodle-grades.csv was not written" in err and "ben (no identifier)" in err
    assert not (run.out / "moodle-grades.csv").exists() and not (run.out / "canvas-grades.csv").exists()
    assert (run.out / "gradebook.csv").is_file() and (run.out / "report.html").is_file()
    run.options = dataclasses.replace(run.options, allow_missing=True)
    assert run.report(subs, time.monotonic()) == 0
    assert "skipped 1 student(s) without a valid identifier: ben (no identifier)" in capsys.readouterr().err
    imported = moodle_import((run.out / "moodle-grades.csv").read_text(encoding="utf-8"), {"ana@uni.example"}, lms.MOODLE_IDENTIFIER, "MNIST 2026")
    assert imported.grades == {"ana@uni.example": 7.0}
    # ben's repository could not be fetched: a malformed e-mail stops the export, a good one leaves him blank
    run.options = dataclasses.replace(run.options, allow_missing=False)
    run.held["ben"] = records.StudentRecord("ben", "unavailable", message="git clone failed: Could not resolve host")
    subs[1].lms_id = "ben@"
    assert run.report(subs, time.monotonic()) == 2
    assert "ben (malformed: 'ben@')" in capsys.readouterr().err
    subs[1].lms_id = "ben@uni.example"
    assert run.report(subs, time.monotonic()) == 0
    assert "1 student(s) not graded are left with an empty grade (not 0): ben" in capsys.readouterr().err
