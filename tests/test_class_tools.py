"""What an instructor relies on when grading a class, without any grading:
roster comments are not students, ``--shard`` takes 1..N and the shards
cover the class once, and a student whose ``score.json`` went missing is
neither "graded" nor worth 0: the gradebook says "error" and a rerun grades
the student again."""

from __future__ import annotations

import shutil
import time
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO

import pytest
from test_batch_guards import graded_by_fake_grader, new_batch, read, submission
from test_batch_ref import git, repository

from grader.instructor import batch, class_report, gradebook, records, roster


@pytest.fixture
def planned(tmp_path):
    """Two submissions planned by a batch (as in test_batch_guards.py)."""
    for student in ("alice", "bob"):
        submission(tmp_path / "class" / student)
    run = new_batch(tmp_path)
    subs = roster.list_submissions(tmp_path / "class")
    return run, subs, {job.id: job for job in run.plan(subs)}


def _roster(tmp_path, text: str):
    for name in ("ana", "ben", "cris"):
        (tmp_path / name).mkdir()
    path = tmp_path / "roster.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_roster_comment_lines_are_not_students(tmp_path):
    path = _roster(tmp_path, "# clase de los lunes\nana ./ana\n\n   # ben se dio de baja\n#ben ./ben\ncris ./cris ana@uni.example\n")
    subs = roster.list_submissions(path)
    assert [s.id for s in subs] == ["ana", "cris"]


def test_roster_lines_are_students_in_id_order(tmp_path):
    path = _roster(tmp_path, "cris ./cris\nana ./ana x@uni.example\n./ben\n")
    subs = roster.list_submissions(path)
    assert [(s.id, s.lms_id, s.path is not None) for s in subs] == [("ana", "x@uni.example", True), ("ben", "", True), ("cris", "", True)]


@pytest.mark.parametrize("text", ["0/3", "4/3", "0/0", "-1/3", "1/0", "a/3", "1", ""])
def test_a_shard_outside_one_to_n_is_refused(text):
    with pytest.raises(roster.RosterError, match="1 <= I <= N"):
        roster.parse_shard(text)


@pytest.mark.parametrize(("text", "expected"), [("1/3", (1, 3)), ("3/3", (3, 3)), (" 2 / 4 ", (2, 4)), ("1/1", (1, 1))])
def test_a_shard_from_one_to_n_is_taken(text, expected):
    assert roster.parse_shard(text) == expected


def test_the_shards_cover_the_class_once():
    subs = [roster.Submission(f"s{n:02d}", f"/class/s{n:02d}") for n in range(11)]
    for count in (1, 2, 3, 4, 11, 12):
        parts = [roster.shard(subs, index, count) for index in range(1, count + 1)]
        ids = [s.id for part in parts for s in part]
        assert sorted(ids) == [s.id for s in subs] and len(ids) == len(set(ids)), count
        assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_batch_refuses_shard_zero_before_grading_anyone(tmp_path):
    for student in ("ana", "ben"):
        (tmp_path / "class" / student).mkdir(parents=True)
    err = StringIO()
    with redirect_stdout(StringIO()) as out, redirect_stderr(err):
        code = batch.main([str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--shard", "0/2", "--list"])
    assert code == 2 and "--shard '0/2'" in err.getvalue() and out.getvalue() == ""
    assert not (tmp_path / "out").exists()


def test_a_record_whose_score_json_went_missing_is_an_error_and_graded_again(planned, tmp_path):
    run, subs, jobs = planned
    graded_by_fake_grader(run, jobs["alice"], 7)
    graded_by_fake_grader(run, jobs["bob"], 10)
    run.report(subs, time.monotonic())
    (run.students / "alice" / records.SCORE_FILE).unlink()

    alice = records.load(run.students / "alice")
    assert alice is not None and alice.status == "error" and alice.result is None and "score.json" in alice.message
    everyone = records.load_all(run.students)
    gradebook.write(tmp_path / "gradebook.csv", everyone, "en")
    rows = {row["id"]: row for row in read(tmp_path / "gradebook.csv")}
    status = next(k for k in rows["alice"] if k.lower() == "status")
    assert rows["alice"][status] == "error" and rows["bob"][status] == "graded"
    accuracy = next(k for k in rows["bob"] if "accuracy" in k.lower())
    assert (rows["alice"][accuracy], rows["bob"][accuracy]) == ("", "0.97")
    assert "alice" in [r.id for r in class_report.build(everyone).flagged]

    rerun = new_batch(tmp_path)
    again = rerun.plan(roster.list_submissions(tmp_path / "class"))
    assert [job.id for job in again] == ["alice"] and rerun.skipped == ["bob"]


def test_a_record_with_an_unreadable_score_json_is_graded_again(planned, tmp_path):
    run, subs, jobs = planned
    graded_by_fake_grader(run, jobs["alice"], 7)
    graded_by_fake_grader(run, jobs["bob"], 10)
    run.report(subs, time.monotonic())
    (run.students / "alice" / records.SCORE_FILE).write_text("{not json", encoding="utf-8")
    assert records.load(run.students / "alice").status == "error"
    rerun = new_batch(tmp_path)
    assert [job.id for job in rerun.plan(roster.list_submissions(tmp_path / "class"))] == ["alice"]


def test_a_record_without_id_or_status_is_not_a_student(tmp_path):
    folder = tmp_path / "students" / "x"
    folder.mkdir(parents=True)
    (folder / records.RECORD_FILE).write_text('{"status": "graded"}', encoding="utf-8")
    assert records.load(folder) is None
    (folder / records.RECORD_FILE).write_text("[1, 2]", encoding="utf-8")
    assert records.load(folder) is None
    assert records.load_all(tmp_path / "students") == [] and records.load_all(tmp_path / "nowhere") == []


def test_a_second_fetch_updates_the_clone_in_place(tmp_path):
    shas = repository(tmp_path / "repos" / "ana", "entrega")
    sub = roster.Submission("ana", (tmp_path / "repos" / "ana").as_uri())
    roster.fetch([sub], tmp_path / "cache", "entrega")
    marker = tmp_path / "cache" / "ana" / ".git" / "kept-between-runs"
    marker.write_text("x")
    git(tmp_path / "repos" / "ana", "tag", "-f", "entrega", shas["head"])  # the student moved the tag
    roster.fetch([sub], tmp_path / "cache", "entrega")
    assert (sub.path, sub.commit, sub.problem) == (tmp_path / "cache" / "ana", shas["head"], "")
    assert marker.exists()  # fetched and checked out, not cloned again


def test_a_repository_gone_since_the_last_fetch_is_not_graded_from_the_old_clone(tmp_path):
    repository(tmp_path / "repos" / "ana", "entrega")
    sub = roster.Submission("ana", (tmp_path / "repos" / "ana").as_uri())
    roster.fetch([sub], tmp_path / "cache", "entrega")
    roster.fetch([sub], tmp_path / "cache", "entrega")  # leaves a FETCH_HEAD behind
    shutil.rmtree(tmp_path / "repos" / "ana")
    roster.fetch([sub], tmp_path / "cache", "entrega")
    assert sub.path is None and sub.problem  # unavailable, with the reason
