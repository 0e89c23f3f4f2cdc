"""The points a free-text check shows agree with its message: a message that
says "cuenta la mitad" or "2 de 4 ideas" comes with exactly that share of the
points (fractional in score.json), and the platforms that need whole points
get them by one rounding rule."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from grader.answers.exploration import load_exploration_settings, score_exploration
from grader.answers.rubric import FUNCTION_WORDS, QUESTION_IDS, AnswerScore, load_rubric, score_answer, words
from grader.checks.verdict import CheckOutcome
from grader.config import load_config
from grader.results import CheckResult, GradingResult, points, whole_points
from grader.scoring import score_check

ROOT = Path(__file__).resolve().parents[1]
CONFIG = load_config()
RUBRIC = load_rubric(CONFIG)
CORPUS = tomllib.loads((ROOT / "tests" / "answers_corpus.toml").read_text("utf-8"))
PERCENT = {"es": re.compile(r"vale el ([\d.]+) % de los puntos"), "en": re.compile(r"earns ([\d.]+) % of the points")}
# Long enough, on topic of nothing: makes a cut answer long without ideas.
FILLER = (
    "Lo hice en el cuaderno siguiendo las instrucciones del enunciado, y comprobé "
    "cada paso con las celdas de prueba antes de pasar al siguiente, con calma y "
    "repasando lo que habíamos visto en las clases anteriores del curso."
)
HALF = {"es": "cuenta la mitad", "en": "counts half"}


def partial_answers() -> list[tuple[str, AnswerScore]]:
    """Scores short of full marks: weak answers, good ones cut short, the
    model answers cut after each sentence, lists of keywords."""
    out = []
    for question in QUESTION_IDS:
        texts = list(CORPUS[question]["weak"])
        texts += [" ".join(words(t)[:20]) for t in CORPUS[question]["good"]]
        texts += [" ".join(words(t)[:20]) + ". " + FILLER for t in CORPUS[question]["good"]]
        model = (ROOT / "solutions" / "answers" / f"{question}.md").read_text("utf-8")
        body = model.split("-->", 1)[1].split("<!--", 1)[0]
        sentences = re.split(r"(?<=\.)\s+", body.strip())
        texts += [" ".join(sentences[:n]) for n in range(1, len(sentences))]
        texts += [", ".join(words(t)[::3]) for t in CORPUS[question]["good"][:3]]
        content = [w for t in CORPUS[question]["good"] for w in words(t) if w not in FUNCTION_WORDS]
        texts += [", ".join(content[:60]), ", ".join(content[60:90])]  # long lists
        out += [(question, score_answer(question, t, RUBRIC[question])) for t in texts]
    return [(q, s) for q, s in out if s.fraction < 1.0]


PARTIAL = partial_answers()


def test_the_cases_cover_every_partial_message():
    keys = {s.message_key for _, s in PARTIAL if 0 < s.fraction < 1}
    assert keys >= {"answers.partial", "answers.short", "answers.keyword_list", "answers.keyword_list_short"}
    assert len(PARTIAL) > 100


@pytest.mark.parametrize("lang", ["es", "en"])
def test_points_shown_agree_with_the_message(lang):
    for question, score in PARTIAL:
        check = score_check(CheckOutcome(question, score.message_key, score.fraction, score.message_params), CONFIG.points[question], lang)
        assert check.score == points(check.max_score * score.fraction)
        assert (check.score > 0) == (score.fraction > 0), check.message
        said = PERCENT[lang].search(check.message)
        if score.fraction > 0:  # a share of the points is always stated ...
            assert said, check.message
        if said:  # ... and it is the share the table shows
            assert float(said.group(1)) == pytest.approx(100 * check.score / check.max_score, abs=0.2)
        if HALF[lang] in check.message:
            found = score.message_params["found_count"] / score.message_params["total"]
            assert score.fraction == pytest.approx(found / 2)
        if score.fraction == 0:
            assert check.score == 0 and not check.passed


def test_short_answer_with_one_idea_keeps_its_share():
    # Issue 11: "demasiado corta … cuenta la mitad" arrived with 0/3.
    text = CORPUS["q4"]["weak"][-1]  # two of four ideas, 27 words
    score = score_answer("q4", text, RUBRIC["q4"])
    assert score.message_key == "answers.short" and score.fraction == pytest.approx(0.25)
    check = score_check(CheckOutcome("q4", score.message_key, score.fraction, score.message_params), 3, "es")
    assert check.score == 0.75 and not check.passed
    assert "cuenta la mitad" in check.message and "vale el 25 % de los puntos" in check.message


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "es",
            "5 de 5 ideas clave (nombre del conjunto de datos, tipo de problema, qué representan las imágenes y cuántas clases hay, formato de las imágenes, número de ejemplos); con esa mitad, vale el 50 %",
        ),
        ("en", "; halved, that earns 50 %"),
    ],
)
def test_short_answer_with_every_idea_says_the_half_comes_from_its_length(lang, words):
    # "Encontré 5 de 5 ideas clave, así que vale el 50 %" read as if 5 of 5 ideas were worth half.
    text = "MNIST son 70 000 imagenes de digitos escritos a mano de 28x28 pixeles en gris; es un problema de clasificacion con 10 clases."
    score = score_answer("q1", text, RUBRIC["q1"])
    assert score.message_key == "answers.short" and score.fraction == pytest.approx(0.5)
    check = score_check(CheckOutcome("q1", score.message_key, score.fraction, score.message_params), 3, lang)
    assert check.score == 1.5 and words in check.message


def test_exploration_points_agree_with_the_message(tmp_path):
    settings = load_exploration_settings(CONFIG)
    sheet = (ROOT / "assignment" / "exploration.md").read_text("utf-8")
    observation = "Con este cambio la precisión bajó del 97,7 % al 96,1 % y la pérdida de validación tardó más en bajar."
    filled = sheet.replace("_Escribe aquí tus observaciones._", observation, 3)
    path = tmp_path / "exploration.md"
    path.write_text(filled, "utf-8")
    for table in (None, ROOT / "solutions" / "exploration_results" / "results.csv"):
        score = score_exploration(path, table, settings)
        check = score_check(CheckOutcome("exploration", score.message_key, score.fraction, score.message_params), CONFIG.points["exploration"], "es")
        said = PERCENT["es"].search(check.message)
        assert said and float(said.group(1)) == pytest.approx(100 * check.score / check.max_score, abs=0.2)


def result_with(scores: list[float]) -> GradingResult:
    checks = [CheckResult(f"c{i}", f"C{i}", s, 3, s == 3, "", "k") for i, s in enumerate(scores)]
    return GradingResult(points(sum(scores)), 3 * len(scores), checks, {})


@pytest.mark.parametrize(
    "scores, whole, total",
    [
        ([0.75, 0.75, 3], [1, 1, 3], 5),  # 4.5 rounds half up to 5
        ([0.3, 0.3, 0.3], [1, 0, 0], 1),  # 0.9 -> 1: ties go to the earlier check
        ([2.5, 1.25, 3], [3, 1, 3], 7),  # 6.75 -> 7
        ([3, 3, 0], [3, 3, 0], 6),
    ],
)
def test_whole_points_for_integer_only_platforms(scores, whole, total):
    result = result_with(scores)
    rounded = whole_points(result)
    assert [c.score for c in rounded.checks] == whole
    assert rounded.score == total == sum(whole)
    assert all(isinstance(c.score, int) and c.score <= c.max_score for c in rounded.checks)
    assert [c.passed for c in rounded.checks] == [c.passed for c in result.checks]


def test_score_json_keeps_fractional_points():
    result = result_with([0.75, 3, 1.5])
    again = GradingResult.from_dict(result.to_dict())
    assert again.score == 5.25 and [c.score for c in again.checks] == [0.75, 3, 1.5]


def test_short_of_full_marks_never_rounds_up_and_zero_stays_zero():
    params = {"number": 1, "file": "assignment/answers/q1.md", "min_words": 40}
    almost = score_check(CheckOutcome("q1", "answers.untouched", 0.9999, params), 3, "es")
    assert almost.score == 2.99 and not almost.passed
    nothing = score_check(CheckOutcome("q1", "answers.untouched", 0.5, params), 0, "es")
    assert nothing.score == 0 and not nothing.passed
