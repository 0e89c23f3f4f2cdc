"""``batch --ref REF`` on local git repositories: the tagged commit (not the
head) is cloned and its sha recorded; a repository without the tag, or a
folder that is no repository, is "no submission at REF", never its head.

The roster-level tests are fast (git only); the last one grades the stubs
of the tagged commits through ``python -m grader batch`` (stubs: only the
grader's short stand-in training, 1 epoch on 6 000 images, runs)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.instructor import roster

ROOT = Path(__file__).resolve().parents[1]
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def repository(folder: Path, tag: str | None) -> dict[str, str]:
    """A student repository: the stubs, a tagged submission commit (q1 answered), then a later commit."""
    shutil.copytree(ROOT / "assignment", folder / "assignment", ignore=shutil.ignore_patterns("__pycache__", "explore", "*.ipynb"))
    git(folder, "init", "-q")
    answer = folder / "assignment" / "answers" / "q1.md"
    answer.write_text(answer.read_text(encoding="utf-8").replace("_Escribe aquí tu respuesta._", "Entrega a tiempo."), encoding="utf-8")
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "submission")
    submitted = git(folder, "rev-parse", "HEAD")
    if tag:
        git(folder, "tag", tag)
    answer.write_text(answer.read_text(encoding="utf-8").replace("Entrega a tiempo.", "Cambio tardío."), encoding="utf-8")
    git(folder, "commit", "-qam", "after the deadline")
    return {"submitted": submitted, "head": git(folder, "rev-parse", "HEAD")}


@pytest.fixture
def class_roster(tmp_path):
    shas = {"ana": repository(tmp_path / "repos" / "ana", "entrega"), "ben": repository(tmp_path / "repos" / "ben", None)}
    (tmp_path / "repos" / "cris").mkdir()  # a plain folder, no git
    lines = ["ana repos/ana ana@uni.example", f"ben {(tmp_path / 'repos' / 'ben').as_uri()} ben@uni.example", "cris repos/cris"]
    path = tmp_path / "roster.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, shas


def test_the_tagged_commit_is_cloned_and_recorded(class_roster, tmp_path):
    path, shas = class_roster
    subs = {s.id: s for s in roster.list_submissions(path)}
    roster.fetch(list(subs.values()), tmp_path / "cache", "entrega", "no submission at {ref}")
    ana = subs["ana"]
    assert ana.path == tmp_path / "cache" / "ana" and ana.commit == shas["ana"]["submitted"] != shas["ana"]["head"]
    assert "Entrega a tiempo." in (ana.path / "assignment" / "answers" / "q1.md").read_text(encoding="utf-8")
    assert (subs["ben"].path, subs["ben"].problem) == (None, "no submission at entrega")
    assert (subs["cris"].path, subs["cris"].problem) == (None, "no submission at entrega")
    # A second run updates the clone in place, still at the tag.
    roster.fetch([ana], tmp_path / "cache", "entrega", "no submission at {ref}")
    assert ana.commit == shas["ana"]["submitted"]
    # --no-fetch finds the clone and its commit again.
    again = roster.list_submissions(path)
    roster.use_cache(again, tmp_path / "cache", "entrega")
    assert {s.id: s.commit for s in again}["ana"] == shas["ana"]["submitted"]


def test_a_branch_is_a_ref_too(class_roster, tmp_path):
    path, shas = class_roster
    git(tmp_path / "repos" / "ben", "branch", "entrega-final", shas["ben"]["submitted"])
    subs = {s.id: s for s in roster.list_submissions(path)}
    roster.fetch([subs["ben"]], tmp_path / "cache", "entrega-final")
    assert subs["ben"].commit == shas["ben"]["submitted"]


def test_without_ref_a_url_is_cloned_at_its_head(class_roster, tmp_path):
    path, shas = class_roster
    subs = {s.id: s for s in roster.list_submissions(path)}
    roster.fetch(list(subs.values()), tmp_path / "cache")
    assert subs["ben"].commit == shas["ben"]["head"]
    assert subs["ana"].path == tmp_path / "repos" / "ana" and subs["ana"].commit == ""  # a local folder, graded as it is


@pytest.mark.slow
def test_batch_grades_the_tag_and_lists_the_rest(class_roster, tmp_path):
    path, shas = class_roster
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    command = [
        sys.executable,
        "-m",
        "grader",
        "batch",
        str(path),
        "--out",
        str(out),
        "--ref",
        "entrega",
        "--jobs",
        "1",
        "--export",
        "moodle",
        "--export",
        "canvas",
        "--allow-missing",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        book = {row["id"]: row for row in csv.DictReader(handle)}
    assert book["ana"]["estado"] == "graded" and book["ana"]["commit"] == shas["ana"]["submitted"]
    assert book["ben"]["estado"] == "unavailable" and book["ben"]["commit"] == ""
    assert book["cris"]["estado"] == "unavailable"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "sin entrega en entrega" in report and shas["ana"]["submitted"][:12] in report
    with open(out / "moodle-grades.csv", newline="", encoding="utf-8") as handle:
        moodle = list(csv.DictReader(handle))
    # cris has no e-mail in the roster: skipped and listed; ben has no tag: no grade, not 0
    assert [r["Email address"] for r in moodle] == ["ana@uni.example", "ben@uni.example"]
    assert moodle[1]["Red neuronal completamente conectada en MNIST"] == ""
    assert "cris" in done.stderr
    assert (out / "canvas-grades.csv").is_file() and (out / "similarity.csv").is_file()
