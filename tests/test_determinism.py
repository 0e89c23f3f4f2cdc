"""The same submission graded twice gives the same score.json (timing aside),
on two cores and on one."""

from __future__ import annotations

import pytest

from gradingkit import SOLUTION, grade, mnist_npz, private_repo, submission, write_config

pytestmark = pytest.mark.slow
TIMING = ("grading_seconds", "train_seconds", "peak_memory_mb", "grader_peak_memory_mb")  # measurements of the machine, not of the submission


def _without_timing(score: dict) -> dict:
    score = dict(score)
    score["metrics"] = {k: v for k, v in score["metrics"].items() if k not in TIMING}
    # train's message (and its parameters) quote seconds: compare everything of it but those.
    score["checks"] = [{k: v for k, v in c.items() if not (c["id"] == "train" and k in ("message", "message_params"))} for c in score["checks"]]
    return score


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    mnist_npz()
    base = tmp_path_factory.mktemp("determinism")
    repo = private_repo(base / "repo")
    folder = submission(base / "reference", SOLUTION.read_text(encoding="utf-8"))
    config = write_config(base / "subset.toml")
    first = grade(repo, folder, base / "first", config)  # on every core: what both tests compare with
    assert first.returncode == 0, first.stderr
    assert first.score["metrics"]["test_accuracy"] is not None
    return base, repo, folder, config, first


def test_same_submission_same_score(setup):
    base, repo, folder, config, first = setup
    second = grade(repo, folder, base / "second", config)
    assert second.returncode == 0, second.stderr
    assert _without_timing(first.score) == _without_timing(second.score)


def test_one_core_gives_the_same_score(setup):
    base, repo, folder, config, first = setup
    # taskset (util-linux) pins the grader, and so the worker it starts, to one core.
    one_core = grade(repo, folder, base / "one", config, prefix=("taskset", "-c", "0"))
    assert one_core.returncode == 0, one_core.stderr
    assert _without_timing(first.score) == _without_timing(one_core.score)
