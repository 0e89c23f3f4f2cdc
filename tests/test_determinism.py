"""The same submission graded twice gives the same score.json (timing aside),
on two cores and on one."""

from __future__ import annotations

import pytest

from grading_helpers import ROOT, grade, write_config

TIMING = ("grading_seconds", "train_seconds", "peak_memory_mb")


def _without_timing(score: dict) -> dict:
    score = dict(score)
    score["metrics"] = {k: v for k, v in score["metrics"].items() if k not in TIMING}
    score["checks"] = [c for c in score["checks"] if c["id"] != "train"]  # its message quotes seconds
    return score


@pytest.mark.slow
def test_same_submission_same_score(tmp_path):
    config = write_config(tmp_path / "config.toml", train_subset=6000, min_accuracy=0.85)
    first_done, first = grade(ROOT / "solutions", tmp_path / "a", config=config)
    assert first_done.returncode == 0, first_done.stderr
    second_done, second = grade(ROOT / "solutions", tmp_path / "b", config=config)
    assert second_done.returncode == 0, second_done.stderr
    assert first["metrics"]["test_accuracy"] is not None
    assert _without_timing(first) == _without_timing(second)


@pytest.mark.slow
def test_one_core_gives_the_same_score(tmp_path):
    config = write_config(tmp_path / "config.toml", train_subset=6000, min_accuracy=0.85)
    _, two_cores = grade(ROOT / "solutions", tmp_path / "two", config=config)
    # taskset (util-linux) pins the grader, and so the worker it starts, to one core.
    done, one_core = grade(ROOT / "solutions", tmp_path / "one", config=config, prefix=("taskset", "-c", "0"))
    assert done.returncode == 0, done.stderr
    assert _without_timing(two_cores) == _without_timing(one_core)
