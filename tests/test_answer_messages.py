"""The free-text verdicts the other answer tests only name by key, rendered by
``grader.i18n`` in both languages as a student reads them: a pasted question,
an answer in English, a sheet with exercises left, one too large to read and
one that overran its time limit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from test_exploration_sheet import OBSERVATION, SHEET, fill

from grader import i18n
from grader.answers.freetext import ANSWERS_DIR, EXPLORATION, Scorer

ROOT = Path(__file__).resolve().parents[1]
with open(ROOT / "grader" / "config.toml", "rb") as _handle:
    RAW = tomllib.load(_handle)
ENGLISH = (
    "I train for 5 epochs because the validation accuracy already reaches about 98 % "
    "and barely improves after that. With many more epochs the model would overfit."
)


def scorer(submission: Path, **rubric: object) -> Scorer:
    return Scorer(submission, {**RAW["rubric"], **rubric}, RAW["exploration"])


def messages(key: str, params: dict) -> dict[str, str]:
    return {lang: i18n.render(lang, key, **params) for lang in i18n.LANGUAGES}


def answer(submission: Path, question: str, text: str) -> None:
    folder = submission / ANSWERS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{question}.md").write_text(text, encoding="utf-8")


def test_a_pasted_question_says_its_words_do_not_count(tmp_path: Path) -> None:
    grader = scorer(tmp_path)
    answer(tmp_path, "q3", grader.rubrics["q3"].question)
    score, _ = grader.answer("q3")
    assert (score.message_key, score.fraction) == ("answers.copied_question", 0.0)
    said = messages(score.message_key, score.message_params)
    copied = score.copied_words
    assert said["es"].startswith(
        f"Pregunta 3: tu respuesta repite el texto de la pregunta ({copied} palabras copiadas, que no cuentan) y solo tiene 0 palabras propias"
    )
    assert said["en"].startswith(
        f"Question 3: your answer repeats the question text ({copied} copied words, which do not count) and has only 0 words of your own"
    )
    assert "0 %" in said["es"] and "0 %" in said["en"]


def test_an_answer_in_english_is_sent_back_when_the_rubric_asks_for_spanish(tmp_path: Path) -> None:
    grader = scorer(tmp_path, english="ask_spanish")
    answer(tmp_path, "q6", ENGLISH)
    score, _ = grader.answer("q6")
    assert (score.message_key, score.fraction) == ("answers.english", 0.0)
    assert messages(score.message_key, score.message_params) == {
        "es": "Pregunta 6: tu respuesta parece estar en inglés; escríbela en español para que cuente (ahora vale 0 puntos).",
        "en": "Question 6: your answer seems to be in English; write it in Spanish for it to count (it earns 0 points now).",
    }


@pytest.fixture
def with_table(tmp_path: Path) -> Path:
    table = tmp_path / RAW["exploration"].get("results_table", "exploration_results/results.csv")
    table.parent.mkdir(parents=True)
    table.write_text("experiment,value,test_accuracy\nhidden_units,32,0.965\n", "utf-8")
    return tmp_path


def test_a_sheet_with_enough_exercises_still_names_those_left(with_table: Path) -> None:
    (with_table / "exploration.md").write_text(fill(SHEET.read_text("utf-8"), set(range(1, 12))), "utf-8")
    score = scorer(with_table).exploration()
    assert (score.message_key, score.fraction) == ("exploration.complete_with_pending", 1.0)
    said = messages(score.message_key, score.message_params)
    assert said["es"].startswith("Exploración: 11 de 13 ejercicios con observaciones (bastan 10)")
    assert said["es"].endswith(": 12 (Matriz de confusión), 13 (Tamaño del lote).")
    assert said["en"].startswith("Exploration: 11 of 13 exercises have observations (10 are enough)")
    assert said["en"].endswith(": 12 (confusion_matrix), 13 (batch_size).")


def test_a_sheet_too_large_to_read_says_its_size(with_table: Path) -> None:
    filler = OBSERVATION * (RAW["rubric"]["max_file_kb"] * 1024 // len(OBSERVATION) + 1)
    (with_table / "exploration.md").write_text(fill(SHEET.read_text("utf-8"), set(range(1, 14)), filler), "utf-8")
    score = scorer(with_table).exploration()
    assert (score.message_key, score.fraction) == ("exploration.too_large", 0.0)
    said = messages(score.message_key, score.message_params)
    limit = RAW["rubric"]["max_file_kb"]
    assert f"KiB, más que el máximo de {limit} KiB, así que no se ha leído y vale 0 puntos" in said["es"]
    assert f"KiB, more than the maximum of {limit} KiB, so it was not read and earns 0 points" in said["en"]


def test_a_sheet_that_overran_its_time_says_so(tmp_path: Path) -> None:
    score = scorer(tmp_path).timed_out(EXPLORATION, 20)["score"]
    assert (score["message_key"], score["fraction"]) == ("exploration.time_limit", 0.0)
    said = messages(score["message_key"], score["message_params"])
    assert said["es"].startswith("Exploración: no se pudo puntuar assignment/exploration.md en 20 segundos, así que vale 0 puntos.")
    assert said["en"].startswith("Exploration: assignment/exploration.md could not be scored within 20 seconds, so it earns 0 points.")
