"""``python -m grader merge``: shard outputs join into one gradebook and report."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def merge(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "grader", "merge", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


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
    from grader.instructor import gradebook, records

    gradebook.write(tmp_path / "whole.csv", records.load_all(whole / "students"))
    assert (out / "gradebook.csv").read_text() == (tmp_path / "whole.csv").read_text()
    assert sorted(p.name for p in (out / "students").iterdir()) == ["ana", "ben", "cris", "dani", "eva"]
    assert (out / "students" / "ben" / "summary.md").is_file()
    assert (out / "report.html").read_text().count("<img") == 3
    assert "## Notas" in (out / "report.md").read_text()  # the shards' language: Spanish by default
    assert json.loads((out / "run.json").read_text())["min_accuracy"] == 0.95
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


def test_merge_refuses_what_is_not_a_shard(tmp_path, synthetic_shard):
    (tmp_path / "empty").mkdir()
    done = merge(str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "no students/ folder" in done.stderr
    one = synthetic_shard(tmp_path / "shard-1", ("ana",))
    done = merge(str(one), "--out", str(one / "merged"))
    assert done.returncode == 2
