"""Checks of the free-text work: comprehension answers q1..q7 and exploration.

These read the student's Markdown files; no student code runs. All the files
are scored once per grading, in a child process, each under ``[rubric]
time_limit`` seconds (see :mod:`grader.answers.freetext`). Every answer also goes to
``score.json``'s ``review`` list for the instructor, because a rubric of key
ideas cannot judge whether an answer is true.
"""

from __future__ import annotations

import pytest

from grader.answers.freetext import FreeTextScores, score_submission_limited
from grader.checks.context import GradingContext
from grader.checks.registry import check
from grader.checks.verdict import fail
from grader.results import AnswerReview
from grader.spec import ANSWER_IDS

# The scores of the grading in progress: (its context, its scores).
_SCORED: list[tuple[GradingContext, FreeTextScores]] = []


def free_text(ctx: GradingContext) -> FreeTextScores:
    """The free-text scores of this grading, computed on first use."""
    if not _SCORED or _SCORED[0][0] is not ctx:
        scores = score_submission_limited(ctx.submission, ctx.config.rubric, ctx.config.exploration, rubrics=ctx.config.answers)
        _SCORED[:] = [(ctx, scores)]
    return _SCORED[0][1]


@pytest.mark.parametrize("question", [pytest.param(q, marks=check(q, group="answer")) for q in ANSWER_IDS])
def test_answer(ctx, verdict, question):
    scores = free_text(ctx)
    score = scores.answers[question]
    verdict.for_review(AnswerReview(question, scores.texts[question], score.found, score.missing, score.uncertain))
    if score.fraction < 1.0:
        fail(score.message_key, fraction=score.fraction, **score.message_params)
    verdict.ok(score.message_key, **score.message_params)


@check("exploration", group="exploration")
def test_exploration(ctx, verdict):
    score = free_text(ctx).exploration
    if score.fraction < 1.0:
        fail(score.message_key, fraction=score.fraction, **score.message_params)
    verdict.ok(score.message_key, **score.message_params)
