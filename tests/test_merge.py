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
