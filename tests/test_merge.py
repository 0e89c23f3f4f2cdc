"""``python -m grader merge``: shard outputs join into one gradebook and report.

The command runs in-process (``merge.main``): what is tested is its output
folder and its exit status, not a process start.
"""

from __future__ import annotations

import csv
import json
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

from grader.instructor import gradebook, records
from grader.instructor import merge as merge_command


class Done:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def merge(*args: str) -> Done:
    """``python -m grader merge ARGS``, in-process."""
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = merge_command.main(list(args))
    return Done(code, out.getvalue(), err.getvalue())


def ids(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


def test_merge_joins_shards(tmp_path, synthetic_shard):
    one = synthetic_shard(tmp_path / "shard-1", ("ana", "cris", "eva"))
    two = synthetic_shard(tmp_path / "shard-2", ("ben", "dani"))
    whole = synthetic_shard(tmp_path / "whole")
    (one / "students" / "stale-from-an-old-run").mkdir()  # not listed in run.json: left out
    out = tmp_path / "merged"
    done = merge(str(one), str(two), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert ids(out / "gradebook.csv") == ["ana", "ben", "cris", "dani", "eva"]
    gradebook.write(tmp_path / "whole.csv", records.load_all(whole / "students"))
    assert (out / "gradebook.csv").read_text() == (tmp_path / "whole.csv").read_text()
    assert sorted(p.name for p in (out / "students").iterdir()) == ["ana", "ben", "cris", "dani", "eva"]
    assert (out / "students" / "ben" / "summary.md").is_file()
    assert (out / "report.html").read_text().count("<img") == 3
    assert "## Notas" in (out / "report.md").read_text()  # the shards' language: Spanish by default
    assert json.loads((out / "run.json").read_text())["min_accuracy"] == 0.95
    assert "Merged 5 students from 2 shards" in done.stdout
    # Merging again replaces the previous result.
    assert merge(str(one), "--out", str(out)).returncode == 0
    assert ids(out / "gradebook.csv") == ["ana", "cris", "eva"]


def test_merge_refuses_duplicates_and_mixed_graders(tmp_path, synthetic_shard):
    one = synthetic_shard(tmp_path / "shard-1", ("ana", "ben"))
    two = synthetic_shard(tmp_path / "shard-2", ("ben", "cris"))
    done = merge(str(one), str(two), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "'ben' is in two shards" in done.stderr
    other = synthetic_shard(tmp_path / "shard-3", ("cris",), fingerprint="f2")
    done = merge(str(one), str(other), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "grading_fingerprint" in done.stderr
    assert merge(str(one), str(other), "--out", str(tmp_path / "out"), "--allow-mixed").returncode == 0


def _set_min_accuracy(shard: Path, value: float) -> None:
    run = json.loads((shard / "run.json").read_text())
    (shard / "run.json").write_text(json.dumps(run | {"min_accuracy": value}))


def test_shards_with_different_min_accuracy_are_not_merged(tmp_path, synthetic_shard):
    # The report marks who reached min_accuracy: with two thresholds either
    # choice misreports a shard, so the merge names them and stops.
    one = synthetic_shard(tmp_path / "shard-1", ("ana", "ben"))
    two = synthetic_shard(tmp_path / "shard-2", ("cris",))
    _set_min_accuracy(two, 0.97)
    for extra in ((), ("--allow-mixed",)):
        done = merge(str(one), str(two), "--out", str(tmp_path / "out"), *extra)
        assert done.returncode == 2, done.stdout
        assert "min_accuracy" in done.stderr and f"{one.resolve()} (0.95)" in done.stderr and f"{two.resolve()} (0.97)" in done.stderr
        assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_shards_that_agree_on_min_accuracy_keep_it(tmp_path, synthetic_shard):
    one = synthetic_shard(tmp_path / "shard-1", ("ana", "ben"))
    two = synthetic_shard(tmp_path / "shard-2", ("cris",))
    for shard in (one, two):
        _set_min_accuracy(shard, 0.9)
    assert merge(str(one), str(two), "--out", str(tmp_path / "out")).returncode == 0
    assert json.loads((tmp_path / "out" / "run.json").read_text())["min_accuracy"] == 0.9
    assert "el mínimo exigido, 0.9." in (tmp_path / "out" / "report.html").read_text()


def test_merge_refuses_what_is_not_a_shard(tmp_path, synthetic_shard):
    (tmp_path / "empty").mkdir()
    done = merge(str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "no students/ folder" in done.stderr
    one = synthetic_shard(tmp_path / "shard-1", ("ana",))
    done = merge(str(one), "--out", str(one / "merged"))
    assert done.returncode == 2


def test_merge_fails_naming_a_missing_shard(tmp_path, synthetic_shard):
    """shards/shard-3 never uploaded: merging the other two is an error, not a smaller class."""
    one = synthetic_shard(tmp_path / "shards" / "shard-1", ("ana", "dani"), shard="1/3")
    two = synthetic_shard(tmp_path / "shards" / "shard-2", ("ben", "eva"), shard="2/3")
    done = merge(str(one), str(two), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "shard 3/3 missing" in done.stderr, done.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()
    # The workflow names every expected folder: a missing one is named by its path.
    done = merge(str(one), str(two), str(tmp_path / "shards" / "shard-3"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "shard-3 is missing" in done.stderr, done.stderr
    # A shard given twice, and a shard whose batch did not finish (no run.json).
    done = merge(str(one), str(one), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "given twice" in done.stderr, done.stderr
    three = synthetic_shard(tmp_path / "shards" / "shard-3", ("cris",), shard="3/3")
    (three / "run.json").write_text("{")
    done = merge(str(one), str(two), str(three), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "not the JSON object" in done.stderr, done.stderr
    (three / "run.json").unlink()
    done = merge(str(one), str(two), str(three), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "no run.json" in done.stderr, done.stderr


def test_merge_compares_the_whole_class_and_rebuilds_the_exports(tmp_path, synthetic_shard):
    """ana (shard 1) and cris (shard 2) handed in the same code: only a class-wide comparison sees it."""
    one = synthetic_shard(tmp_path / "shard-1", ("ana", "ben"), shard="1/2")
    two = synthetic_shard(tmp_path / "shard-2", ("cris", "dani", "eva"), shard="2/2")
    for shard, ids in ((one, {"ana": "ana@uni.es", "ben": "ben@uni.es"}), (two, {"cris": "cris@uni.es", "dani": "dani@uni.es", "eva": "eva@uni.es"})):
        run = json.loads((shard / "run.json").read_text())
        run.update(export=["moodle"], lms_ids=ids)
        (shard / "run.json").write_text(json.dumps(run))
    out = tmp_path / "merged"
    done = merge(str(one), str(two), "--out", str(out))
    assert done.returncode == 0, done.stderr
    with open(out / "similarity.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    pairs = {(r["a"], r["b"], r["part"]): float(r["score"]) for r in rows}
    assert pairs.get(("ana", "cris", "code"), 0) == 1.0, rows
    assert not any("dani" in pair or "eva" in pair for pair in pairs), "only graded students are compared"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "ana" in report and "cris" in report and "similar" in report.lower()
    with open(out / "moodle-grades.csv", newline="", encoding="utf-8") as handle:
        moodle = list(csv.reader(handle))
    assert [row[0] for row in moodle[1:]] == ["ana@uni.es", "ben@uni.es", "cris@uni.es", "dani@uni.es", "eva@uni.es"]
    assert json.loads((out / "run.json").read_text())["export"] == ["moodle"]


@pytest.mark.parametrize("allow_missing", [False, True])
def test_merge_rebuilds_the_exports_with_the_shards_options(tmp_path, synthetic_shard, allow_missing):
    """A student without an e-mail never becomes a row keyed by the batch id: merge fails naming them,
    unless the shards were run with --allow-missing, which merge then repeats."""
    one = synthetic_shard(tmp_path / "shard-1", ("ana", "ben"), shard="1/1")
    run = json.loads((one / "run.json").read_text())
    options = {"assignment": None, "allow_missing": allow_missing, "missing_as_zero": False}
    run.update(export=["moodle"], lms_ids={"ana": "ana@uni.es"}, export_options=options)
    (one / "run.json").write_text(json.dumps(run))
    out = tmp_path / "merged"
    done = merge(str(one), "--out", str(out))
    if allow_missing:
        assert done.returncode == 0, done.stderr
        with open(out / "moodle-grades.csv", newline="", encoding="utf-8") as handle:
            assert [row[0] for row in list(csv.reader(handle))[1:]] == ["ana@uni.es"]
    else:
        assert done.returncode == 2 and "ben (missing)" in done.stderr, done.stderr
        assert not (out / "moodle-grades.csv").exists()
        assert (out / "gradebook.csv").is_file() and (out / "report.html").is_file()


def test_merge_refuses_a_graded_student_without_submitted_files(tmp_path, synthetic_shard):
    one = synthetic_shard(tmp_path / "shard-1", ("ana", "ben"), shard="1/1")
    import shutil

    shutil.rmtree(one / "submitted" / "ben")
    done = merge(str(one), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "submitted/ben/" in done.stderr, done.stderr


def test_batch_shards_keep_what_they_read_and_merge_finds_a_pair_across_shards(tmp_path):
    """Two real batch shards (their gradings faked): a copied answer split across shards is found by merge only."""
    import time

    from test_batch_guards import graded_by_fake_grader, read, submission

    from grader.instructor import batch, roster

    answer = "Trabajamos con MNIST: sesenta mil imágenes de entrenamiento y diez mil de prueba, dígitos escritos a mano en gris de 28 por 28 píxeles."
    for student in ("alice", "bob"):
        path = submission(tmp_path / "class" / student) / "assignment" / "answers" / "q1.md"
        path.write_text(path.read_text(encoding="utf-8").replace("_Escribe aquí tu respuesta._", answer), encoding="utf-8")
    shards = []
    for index in (1, 2):
        out = tmp_path / f"shard-{index}"
        args = batch._parser().parse_args([str(tmp_path / "class"), "--out", str(out), "--shard", f"{index}/2"])
        run = batch.Batch(batch.options_from_args(args))
        subs = roster.shard(roster.list_submissions(tmp_path / "class"), index, 2)
        (job,) = run.plan(subs)
        planned = (tmp_path / "class" / job.id / "assignment" / "answers" / "q1.md").read_bytes()
        (tmp_path / "class" / job.id / "assignment" / "answers" / "q1.md").write_text("rewritten after planning\n")
        graded_by_fake_grader(run, job, 5)
        assert run.report(subs, time.monotonic()) == 0
        kept = out / batch.SUBMITTED_DIR / job.id / "assignment" / "answers" / "q1.md"
        assert kept.read_bytes() == planned, "the batch keeps the bytes it compared, not a later rewrite"
        assert not [r for r in read(out / "similarity.csv") if r["part"] == "q1"], "one student per shard: nothing to compare"
        shards.append(out)
    done = merge(*map(str, shards), "--out", str(tmp_path / "merged"))
    assert done.returncode == 0, done.stderr
    (row,) = [r for r in read(tmp_path / "merged" / "similarity.csv") if r["part"] == "q1"]
    assert (row["a"], row["b"], float(row["score"])) == ("alice", "bob", 1.0)
    assert 'id="pair-alice-bob-q1"' in (tmp_path / "merged" / "report.html").read_text(encoding="utf-8")
