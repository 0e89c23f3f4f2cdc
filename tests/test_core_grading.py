"""End-to-end gradings of the reference solution and of the untouched stubs.

* The reference solution earns every code check on the full training set
  with the default config (one full run, ~30-60 s).
* The untouched stubs earn nothing, get a report, and every check says the
  function is not implemented yet (or that the accuracy could not be
  measured for that reason), in Spanish by default and in English with
  ``--lang en``.
* Without MNIST (no MNIST_NPZ, an empty Keras cache, no network) the grader
  exits with code 2 and one sentence, not a traceback.
"""

from __future__ import annotations

import os
import shutil

import pytest

from gradingkit import (
    ROOT,
    SOLUTION,
    grade,
    mnist_npz,
    private_repo,
    rendered_from,
    submission,
)

from grader.spec import check_ids

STUB_KEYS = {"step.not_implemented", "min_accuracy.blocked"}
DEAD_PROXY = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return private_repo(tmp_path_factory.mktemp("core") / "repo")


@pytest.fixture(scope="module")
def stubs(tmp_path_factory):
    """A copy of the student's starting folder, exactly as handed out."""
    folder = tmp_path_factory.mktemp("stubs") / "assignment"
    shutil.copytree(ROOT / "assignment", folder, ignore=shutil.ignore_patterns("__pycache__", "exploration_results"))
    return folder


@pytest.mark.slow
def test_reference_solution_gets_every_code_check_on_full_mnist(repo, tmp_path):
    mnist_npz()
    result = grade(repo, submission(tmp_path / "solution", SOLUTION.read_text(encoding="utf-8")), tmp_path / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    checks = result.checks()
    assert set(checks) == set(check_ids("code"))
    assert result.failing() == {}, result.summary
    assert all(c["score"] == c["max_score"] > 0 for c in checks.values())
    assert result.score["metrics"]["test_accuracy"] >= 0.97
    assert result.score["flags"] == []


@pytest.fixture(scope="module")
def stubs_graded(repo, stubs, tmp_path_factory):
    """The untouched stubs graded once, in Spanish, with the real config (the stand-ins train on all of MNIST)."""
    mnist_npz()
    out = tmp_path_factory.mktemp("stubs-graded") / "out"
    return grade(repo, stubs, out)


@pytest.mark.slow
def test_untouched_stubs_get_zero_with_a_reason_per_check(stubs_graded):
    result = stubs_graded
    assert result.returncode == 0, result.stderr[-3000:]
    assert (result.out / "summary.md").is_file() and (result.out / "report.json").is_file()
    assert result.score["score"] == 0
    checks = result.checks()
    assert set(checks) == set(check_ids("code"))
    for check in checks.values():
        assert check["score"] == 0
        assert check["message_key"] in STUB_KEYS, check
        assert rendered_from(check["message"], "es", check["message_key"])
    assert "todavía no está implementada" in checks["load_data"]["message"]


@pytest.mark.slow
def test_english_feedback_is_the_same_observation_judged_in_english(stubs_graded):
    """Observed once, judged again: the kept observations give the English feedback without running the stubs again."""
    from grader import observations
    from grader.config import load_config
    from grader.exporters import summary_md
    from grader.judge import judge

    assert stubs_graded.returncode == 0, stubs_graded.stderr[-3000:]
    result = judge(observations.read(stubs_graded.out), load_config(), "en")
    assert result.language == "en"
    spanish = {c["id"]: c for c in stubs_graded.score["checks"]}
    checks = {c.id: c for c in result.checks if c.id in check_ids("code")}
    assert set(checks) == set(check_ids("code"))
    for check in checks.values():
        assert check.message_key == spanish[check.id]["message_key"] in STUB_KEYS  # the same verdict
        assert check.score == spanish[check.id]["score"] == 0
        assert rendered_from(check.message, "en", check.message_key), check.message
        assert not rendered_from(check.message, "es", check.message_key)
    assert "not implemented yet" in checks["load_data"].message
    assert summary_md.render(result).startswith("# Grading result")


@pytest.mark.slow
def test_no_mnist_anywhere_is_one_clear_sentence(repo, stubs, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MNIST_NPZ"}
    env.update(HOME=str(home), KERAS_HOME=str(home / ".keras"))
    # No network even where there is one: every download goes to a closed port.
    env.update(http_proxy=DEAD_PROXY, https_proxy=DEAD_PROXY, HTTP_PROXY=DEAD_PROXY, HTTPS_PROXY=DEAD_PROXY)
    env.pop("no_proxy", None), env.pop("NO_PROXY", None)
    result = grade(repo, stubs, tmp_path / "out", env=env, timeout=300)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert len(message.splitlines()) == 1
    assert "MNIST_NPZ" in message and message.startswith("No se pudo calificar")
    assert not (tmp_path / "out").exists()
