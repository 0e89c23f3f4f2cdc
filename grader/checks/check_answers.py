"""Checks of the free-text work: comprehension answers q1..q7 and exploration.

These read the student's Markdown files; no student code runs. Every answer
also goes to ``score.json``'s ``review`` list for the instructor, because a
rubric of key ideas cannot judge whether an answer is true.
"""

from __future__ import annotations

import pytest

from grader.answers.exploration import load_exploration_settings, score_exploration
from grader.answers.markdown import read_answer
from grader.answers.rubric import load_rubric, score_answer
from grader.checks.verdict import fail
from grader.config import ANSWER_CHECKS
from grader.results import AnswerReview

ANSWERS_DIR = "answers"
SHEET = "exploration.md"


@pytest.mark.parametrize("question", [pytest.param(q, marks=pytest.mark.check(q)) for q in ANSWER_CHECKS])
def test_answer(ctx, verdict, question):
    rubric = load_rubric(ctx.config)[question]
    text = read_answer(ctx.submission / ANSWERS_DIR / f"{question}.md")
    score = score_answer(question, text, rubric)
    ctx.review.append(AnswerReview(question, text or "", score.found, score.missing, score.uncertain))
    if score.fraction < 1.0:
        fail(score.message_key, fraction=score.fraction, **score.message_params)
    verdict.ok(score.message_key, **score.message_params)


@pytest.mark.check("exploration")
def test_exploration(ctx, verdict):
    settings = load_exploration_settings(ctx.config)
    score = score_exploration(ctx.submission / SHEET, settings.table_path(ctx.submission), settings)
    if score.fraction < 1.0:
        fail(score.message_key, fraction=score.fraction, **score.message_params)
    verdict.ok(score.message_key, **score.message_params)
