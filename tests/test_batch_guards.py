"""Fast checks of what ``batch`` trusts, with pre-made results instead of
trainings: the gradebook and reports come from results held in memory (a
student rewriting ``students/*/score.json`` later changes nothing), a changed
dataset stops the class, symbolic links anywhere in a submission are not
followed, spreadsheet formulas are neutralized, the isolation level and the
graded commit reach the gradebook, and the LMS files have their columns."""

from __future__ import annotations

import csv
import dataclasses
import os
import shutil
import time
from pathlib import Path

import pytest

from grader.exporters import score_json
from grader.instructor import batch, cells, gradebook, lms, records, roster, workspace
from grader.instructor.dataset_guard import DatasetGuard
from grader.results import CheckResult, GradingResult

ROOT = workspace.REPO_ROOT


def result(score: int, isolation: str = "") -> GradingResult:
    checks = [CheckResult("normalize", "Paso 3", score, 10, score == 10, "m", "normalize.ok")]
    graded = GradingResult(score, 10, checks, {"test_accuracy": 0.97}, [], [])
    if isolation:
        if "isolation" in {f.name for f in dataclasses.fields(GradingResult)}:
            graded.isolation = isolation  # type: ignore[attr-defined]
        else:  # until the sandbox levels land, the record reads the attribute the same way
            object.__setattr__(graded, "isolation", isolation)
    return graded


def submission(folder: Path) -> Path:
    shutil.copytree(ROOT / "assignment", folder / "assignment", ignore=shutil.ignore_patterns("__pycache__", "explore"))
    return folder


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def new_batch(tmp_path: Path, *extra: str) -> batch.Batch:
    args = batch._parser().parse_args([str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--lang", "en", *extra])
    return batch.Batch(batch.options_from_args(args))


def graded_by_fake_grader(run: batch.Batch, job: batch.Job, score: int) -> str:
    """What a grading leaves behind (its out/score.json), then the batch's own handling."""
    out = run.work / job.id / "out"
    out.mkdir(parents=True)
    (out / records.SCORE_FILE).write_text(score_json.dumps(result(score)), encoding="utf-8")
    job.returncode, job.seconds = 0, 1.0
    return run.finish(job)


@pytest.fixture
def planned(tmp_path):
    for student in ("alice", "bob"):
        submission(tmp_path / "class" / student)
    run = new_batch(tmp_path)
    subs = roster.list_submissions(tmp_path / "class")
    jobs = run.plan(subs)
    return run, subs, {job.id: job for job in jobs}


def test_reports_use_the_results_held_not_files_rewritten_later(planned):
    run, subs, jobs = planned
    graded_by_fake_grader(run, jobs["alice"], 3)
    graded_by_fake_grader(run, jobs["bob"], 7)
    # bob's code (or anyone's) rewrites alice's stored result after her grading.
    forged = run.students / "alice" / records.SCORE_FILE
    forged.write_text(score_json.dumps(result(10)), encoding="utf-8")
    assert run.report(subs, time.monotonic()) == 0
    book = {row["id"]: row for row in read(run.out / "gradebook.csv")}
    assert (book["alice"]["total"], book["bob"]["total"]) == ("3", "7")
    assert ">alice · 3 / 10 ·" in (run.out / "report.html").read_text(encoding="utf-8").replace("<h3>", ">")


def test_a_changed_dataset_stops_the_batch(planned, tmp_path):
    run, _, jobs = planned
    dataset = tmp_path / "mnist.npz"
    dataset.write_bytes(b"labels " * 1000)
    run.guard = DatasetGuard([dataset])
    run.running = {"alice", "bob"}
    graded_by_fake_grader(run, jobs["alice"], 3)  # unchanged: goes on
    dataset.write_bytes(b"forged " * 1000)
    with pytest.raises(batch.DatasetChanged) as stopped:
        graded_by_fake_grader(run, jobs["bob"], 10)
    assert str(dataset) in str(stopped.value) and "bob" in str(stopped.value)
    record = records.load(run.students / "bob")
    assert record is not None and record.status == "error" and "changed" in record.message


def test_dataset_guard_takes_the_file_mnist_npz_names(tmp_path, monkeypatch):
    named = tmp_path / "copy.npz"
    named.write_bytes(b"a lossless copy")
    monkeypatch.setenv("MNIST_NPZ", str(named))
    guard = DatasetGuard.for_grading()
    assert named.resolve() in guard.hashes
    assert guard.changes() == []
    named.write_bytes(b"changed")
    assert [c.path for c in guard.changes()] == [named.resolve()]


@pytest.mark.parametrize("link", ["assignment", "assignment/answers", "assignment/mnist_dense.py"])
def test_symbolic_links_anywhere_in_a_submission_are_not_followed(tmp_path, link):
    mallory = submission(tmp_path / "class" / "mallory")
    target = mallory / link
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    os.symlink(ROOT / "solutions" / link.removeprefix("assignment").lstrip("/"), target)
    assert target.exists()  # the link leads to the reference
    template = workspace.load_template(new_batch(tmp_path).config, b"", "es", None)
    content, links = workspace.read_submission(mallory, template)
    assert links == [link]
    solution = (ROOT / "solutions" / "mnist_dense.py").read_bytes()
    assert solution not in content.values()


def test_a_linked_submission_is_flagged_in_the_gradebook(tmp_path):
    mallory = submission(tmp_path / "class" / "mallory")
    shutil.rmtree(mallory / "assignment")
    os.symlink(os.path.relpath(ROOT / "solutions", mallory), mallory / "assignment")  # as a checkout would hold it
    run = new_batch(tmp_path)
    subs = roster.list_submissions(tmp_path / "class")
    (job,) = run.plan(subs)
    assert run.pending["mallory"].symlinks == ["assignment"]
    graded_by_fake_grader(run, job, 0)
    run.report(subs, time.monotonic())
    (row,) = read(run.out / "gradebook.csv")
    assert "symlinks_ignored" in row["flags"].split(";")


def test_component_leading_outside_is_reported(tmp_path):
    inside = submission(tmp_path / "s")
    (tmp_path / "elsewhere").mkdir()
    assert workspace.repo_files.linked_component(inside, "assignment/mnist_dense.py") is None
    os.symlink(tmp_path / "elsewhere", inside / "notes")
    assert workspace.repo_files.linked_component(inside, "notes/x.md") == "notes"


@pytest.mark.parametrize(
    "value, shown",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd", "'+cmd"),
        ("-cmd|x", "'-cmd|x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-3", "-3"),
        ("+0.5", "+0.5"),
        ("-1e3", "-1e3"),
        ("-inf", "'-inf"),
        (-3, -3),
        ("alice", "alice"),
    ],
)
def test_formula_cells_are_neutralized(value, shown):
    assert cells.neutralize(value) == shown


def test_gradebook_neutralizes_and_keeps_numbers(tmp_path):
    record = records.StudentRecord("=1+1", "graded", changed_files=["@evil (added)"], result=result(7, "namespaces"), commit="abc123")
    record.seconds = -1.5  # a number stays a number even when negative
    path = tmp_path / "gradebook.csv"
    gradebook.write(path, [record], lang="en")
    (row,) = read(path)
    assert row["id"] == "'=1+1" and row["changed_files"] == "'@evil" and row["grading_seconds"] == "-1.5"
    assert row["total"] == "7" and row["isolation"] == "namespaces" and row["commit"] == "abc123"


def test_isolation_column_is_empty_when_the_result_has_none(tmp_path):
    path = tmp_path / "gradebook.csv"
    gradebook.write(path, [records.StudentRecord("a", "graded", result=result(7)), records.StudentRecord("b", "timeout")], lang="en")
    assert [row["isolation"] for row in read(path)] == ["", ""]


def test_gradebook_headers_follow_the_language(tmp_path):
    path = tmp_path / "gradebook.csv"
    gradebook.write(path, [records.StudentRecord("a", "graded", result=result(7))])
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    assert header == [
        "id",
        "total",
        "maximo",
        "normalize",
        "precision_prueba",
        "aislamiento",
        "commit",
        "avisos",
        "archivos_cambiados",
        "segundos_calificacion",
        "estado",
    ]


def test_roster_third_column_is_the_lms_identifier(tmp_path):
    path = tmp_path / "roster.txt"
    path.write_text("ana https://example.invalid/ana.git ana@uni.example\nhttps://example.invalid/ben.git\n", encoding="utf-8")
    subs = {s.id: s for s in roster.list_submissions(path)}
    assert subs["ana"].lms_id == "ana@uni.example" and subs["ben"].lms_id == ""


def test_moodle_and_canvas_files_have_their_documented_columns(tmp_path):
    everyone = [
        records.StudentRecord("ana", "graded", result=result(7)),
        records.StudentRecord("ben", "timeout"),
        records.StudentRecord("@cy", "graded", result=result(10)),
    ]
    ids = {"ana": "ana@uni.example", "ben": "ben@uni.example", "@cy": "cy@uni.example"}
    moodle = read(lms.write("moodle", tmp_path, everyone, ids, "es").path)
    assignment = "Red neuronal completamente conectada en MNIST"
    assert list(moodle[0]) == ["Email address", assignment]
    # a student not graded has no grade, not 0
    assert [(r["Email address"], r[assignment]) for r in moodle] == [("cy@uni.example", "10"), ("ana@uni.example", "7"), ("ben@uni.example", "")]
    # the column keeps its name whatever --lang is: Canvas would create a new assignment for a new name
    canvas = read(lms.write("canvas", tmp_path, everyone, ids, "en").path)
    assert list(canvas[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]
    assert (canvas[0]["Student"], canvas[0][assignment]) == ("Points Possible", "10")
    assert [(r["Student"], r["SIS Login ID"], r[assignment]) for r in canvas[1:]] == [
        ("'@cy", "cy@uni.example", "10"),  # a formula-like id is neutralized
        ("ana", "ana@uni.example", "7"),
        ("ben", "ben@uni.example", ""),
    ]
    assert {p.name for p in tmp_path.iterdir()} == set(lms.FILES.values())


def test_a_rerun_grades_again_a_result_changed_since_it_was_read(planned, tmp_path):
    run, subs, jobs = planned
    graded_by_fake_grader(run, jobs["alice"], 3)
    graded_by_fake_grader(run, jobs["bob"], 7)
    run.report(subs, time.monotonic())
    # After the run, alice's stored result is rewritten (say, by a student of the same run).
    (run.students / "alice" / records.SCORE_FILE).write_text(score_json.dumps(result(10)), encoding="utf-8")
    rerun = new_batch(tmp_path)
    again = rerun.plan(roster.list_submissions(tmp_path / "class"))
    assert [job.id for job in again] == ["alice"] and rerun.skipped == ["bob"]
    assert rerun.held["bob"].result is not None and rerun.held["bob"].result.score == 7


def test_the_docs_name_the_columns_the_exports_write():
    docs = (ROOT / "docs" / "instructors.md").read_text(encoding="utf-8")
    section = docs[docs.index("### Grades into the LMS") :]
    for column in (lms.MOODLE_IDENTIFIER, *lms.CANVAS_COLUMNS, lms.CANVAS_POINTS_ROW, *lms.FILES.values()):
        assert f"`{column}`" in section, column


def test_similar_submissions_are_flagged_not_penalized(tmp_path):
    answer = "Trabajamos con MNIST: sesenta mil imágenes de entrenamiento y diez mil de prueba, dígitos escritos a mano en gris de 28 por 28 píxeles."
    for student in ("alice", "bob"):
        path = submission(tmp_path / "class" / student) / "assignment" / "answers" / "q1.md"
        path.write_text(path.read_text(encoding="utf-8").replace("_Escribe aquí tu respuesta._", answer), encoding="utf-8")
    run = new_batch(tmp_path)
    subs = roster.list_submissions(tmp_path / "class")
    jobs = {job.id: job for job in run.plan(subs)}
    graded_by_fake_grader(run, jobs["alice"], 3)
    graded_by_fake_grader(run, jobs["bob"], 7)
    run.report(subs, time.monotonic())
    (row,) = [r for r in read(run.out / "similarity.csv") if r["part"] == "q1"]
    assert (row["a"], row["b"], float(row["score"])) == ("alice", "bob", 1.0)
    assert "MNIST" in row["passage"]
    book = {r["id"]: r["total"] for r in read(run.out / "gradebook.csv")}
    assert book == {"alice": "3", "bob": "7"}
    assert 'id="pair-alice-bob-q1"' in (run.out / "report.html").read_text(encoding="utf-8")


def test_the_closing_line_names_the_lms_files_asked_for(tmp_path, capsys):
    submission(tmp_path / "class" / "ana")
    run = new_batch(tmp_path, "--export", "moodle", "--export", "canvas")
    subs = roster.list_submissions(tmp_path / "class")
    subs[0].lms_id = "ana@uni.example"
    (job,) = run.plan(subs)
    graded_by_fake_grader(run, job, 7)
    capsys.readouterr()
    assert run.report(subs, time.monotonic()) == 0
    wrote = capsys.readouterr().out.splitlines()[-1]
    assert wrote.startswith("Wrote ") and str(run.out / "moodle-grades.csv") in wrote and str(run.out / "canvas-grades.csv") in wrote


def test_the_command_line_becomes_typed_options(tmp_path):
    """Batch takes BatchOptions; the command converts its parsed arguments (each export once, in order)."""
    args = batch._parser().parse_args(
        [str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--jobs", "3", "--export", "canvas", "--export", "moodle", "--export", "canvas", "--force"]
    )
    options = batch.options_from_args(args)
    assert options == batch.BatchOptions(out=tmp_path / "out", jobs=3, export=("canvas", "moodle"), force=True)
    with pytest.raises(TypeError, match="BatchOptions"):
        batch.Batch(args)
    (tmp_path / "class").mkdir()
    run = batch.Batch(options)
    assert run.options is options and run.out == (tmp_path / "out").resolve()
