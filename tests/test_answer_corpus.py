"""The rubric against realistic answers (tests/answers_corpus.toml): correct
paraphrases score full marks, wrong or incomplete answers below half, and
English answers follow the [rubric] english setting."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from grader.answers.rubric import (
    QUESTION_IDS,
    AnswerSettings,
    load_rubric,
    looks_english,
    score_answer,
    strip_accents,
)
from grader.config import load_config

ROOT = Path(__file__).resolve().parents[1]
CORPUS = tomllib.loads((ROOT / "tests" / "answers_corpus.toml").read_text("utf-8"))
CONFIG = load_config()
RUBRIC = load_rubric(CONFIG)
SETTINGS = AnswerSettings.from_raw(CONFIG.rubric)


def cases(kind: str) -> list:
    return [pytest.param(q, text, id=f"{q}-{kind}-{n}") for q in QUESTION_IDS for n, text in enumerate(CORPUS[q][kind])]


def test_corpus_has_enough_answers_per_question():
    assert set(CORPUS) == set(QUESTION_IDS)
    for question in QUESTION_IDS:
        assert len(CORPUS[question]["good"]) >= 8, question
        assert len(CORPUS[question]["weak"]) >= 4, question
        assert any(looks_english(t) for t in CORPUS[question]["good"]), question


@pytest.mark.parametrize("question, text", cases("good"))
def test_correct_paraphrase_scores_full_marks(question, text):
    result = score_answer(question, text, RUBRIC[question], SETTINGS)
    assert result.missing == [] and result.fraction == 1.0, (result.missing, result.reasons)
    assert result.message_key == "answers.complete"


@pytest.mark.parametrize("question, text", cases("good"))
def test_correct_paraphrase_without_accents_scores_full_marks(question, text):
    assert score_answer(question, strip_accents(text), RUBRIC[question], SETTINGS).fraction == 1.0


@pytest.mark.parametrize("question, text", cases("weak"))
def test_wrong_or_incomplete_answer_scores_below_half(question, text):
    result = score_answer(question, text, RUBRIC[question], SETTINGS)
    assert result.fraction < 0.5, result.found
    assert result.message_key != "answers.complete"


def test_english_is_scored_by_default():
    assert SETTINGS.english == "score"


@pytest.mark.parametrize("question, text", cases("good"))
def test_language_detection_and_the_ask_spanish_setting(question, text):
    ask = AnswerSettings(english="ask_spanish")
    result = score_answer(question, text, RUBRIC[question], ask)
    if looks_english(text):
        assert (result.fraction, result.message_key) == (0.0, "answers.english")
    else:  # a Spanish answer is never taken for English
        assert (result.fraction, result.message_key) == (1.0, "answers.complete")


def test_english_words_alone_do_not_score_in_ask_spanish_mode():
    text = CORPUS["q4"]["good"][-1]
    assert looks_english(text)
    spanish_only = AnswerSettings(english="ask_spanish")
    assert score_answer("q4", text, RUBRIC["q4"], spanish_only).message_key == "answers.english"


def test_settings_are_validated():
    from grader.answers.rubric import RubricError

    with pytest.raises(RubricError, match="english"):
        AnswerSettings.from_raw({"english": "maybe"})
    with pytest.raises(RubricError, match="max_file_kb"):
        AnswerSettings.from_raw({"max_file_kb": 0})
    with pytest.raises(RubricError, match="unknown keys"):
        AnswerSettings.from_raw({"max_kb": 3})
    assert AnswerSettings.from_raw(CONFIG.rubric).max_bytes == 64 * 1024
