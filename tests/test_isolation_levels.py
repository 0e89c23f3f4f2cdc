"""End to end: a grading at each isolation level this machine offers.

* At the strongest level (``namespaces`` here, with bubblewrap) the reference
  solution gets full marks and score.json and summary.md name the level.
* With the portable level forced (``GRADER_ISOLATION=process``, the path a
  Windows or macOS self-check takes), the untouched stubs are graded, the
  Spanish summary is printed, and the level recorded is ``process``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gradingkit import SOLUTION, STUBS, grade, mnist_env, private_repo, submission, write_config

from grader.sandbox import isolation

pytestmark = pytest.mark.slow


def test_strongest_level_grades_the_reference_and_records_it(tmp_path):
    strongest = isolation.strongest()
    assert strongest == "namespaces", "bubblewrap must work on the test machine (apt-get install bubblewrap)"
    repo = private_repo(tmp_path / "repo")
    config = write_config(tmp_path / "config.toml")
    work = submission(tmp_path / "submission", SOLUTION.read_text(encoding="utf-8"))
    graded = grade(repo, work, tmp_path / "out", config)
    assert graded.returncode == 0, graded.stderr[-2000:]
    assert graded.score["isolation"] == strongest
    assert graded.failing() == {}
    assert f"Aislamiento de tu código: {strongest}." in graded.summary


def test_portable_level_grades_the_stubs_with_the_spanish_summary(tmp_path):
    repo = private_repo(tmp_path / "repo")
    config = write_config(tmp_path / "config.toml")
    work = submission(tmp_path / "submission", STUBS.read_text(encoding="utf-8"))
    env = dict(mnist_env(), PYTHONDONTWRITEBYTECODE="1", **{isolation.FORCE_ENV: "process"})
    command = [sys.executable, "-m", "grader", "--submission", str(work), "--out", str(tmp_path / "out"), "--config", str(config)]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Resultado de la calificación" in done.stdout
    assert "Aislamiento de tu código: process." in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    score = json.loads((tmp_path / "out" / "score.json").read_text(encoding="utf-8"))
    assert score["isolation"] == "process"
    assert score["score"] < score["max_score"]  # the stubs are unfinished
