"""tests/smoke.py's verdict on a score.json (the grading itself runs in .ci/run and ci.yml)."""

from __future__ import annotations

import copy

import smoke

FULL = {
    "score": 20,
    "max_score": 20,
    "checks": [
        {"id": "normalize", "score": 10, "max_score": 10, "passed": True, "message_key": "normalize.ok"},
        {"id": "q1", "score": 10, "max_score": 10, "passed": True, "message_key": "answers.ok"},
    ],
    "metrics": {"test_accuracy": 0.9056},
}


def test_full_marks_pass():
    assert smoke.problems(FULL, 0.85) == []


def test_no_score_fails():
    assert smoke.problems(None, 0.85) == ["no score.json was written"]


def test_a_failed_check_is_named():
    score = copy.deepcopy(FULL)
    score["checks"][1].update(score=0, passed=False, message_key="answers.missing")
    score["score"] = 10
    found = smoke.problems(score, 0.85)
    assert any("q1: 0/10 (answers.missing)" in p for p in found)
    assert "total 10/20" in found


def test_low_or_missing_accuracy_fails():
    score = copy.deepcopy(FULL)
    score["metrics"]["test_accuracy"] = 0.5
    assert smoke.problems(score, 0.85) == ["test accuracy 0.5 below 0.85"]
    score["metrics"] = {}
    assert smoke.problems(score, 0.85) == ["test accuracy None below 0.85"]


def test_no_checks_fails():
    assert "no checks in score.json" in smoke.problems({"score": 0, "max_score": 0, "checks": [], "metrics": {"test_accuracy": 1.0}}, 0.85)
