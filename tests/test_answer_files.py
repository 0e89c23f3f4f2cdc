"""Hostile answer files: over the size cap, built to make a parser slow, or
scored past the time limit. Each costs only its own check, with a message
saying why (issue 9, item 8)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import i18n
from grader.answers.freetext import score_submission, score_submission_limited
from grader.answers.markdown import FileTooLarge, extract_answer, read_answer
from grader.answers.rubric import QUESTION_IDS
from grader.config import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = load_config()


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    """A copy of the reference answers and exploration sheet."""
    folder = tmp_path / "assignment"
    shutil.copytree(ROOT / "solutions" / "answers", folder / "answers")
    shutil.copy(ROOT / "solutions" / "exploration.md", folder / "exploration.md")
    table = folder / "exploration_results" / "results.csv"
    table.parent.mkdir()
    table.write_text("experiment,value,test_accuracy\nepochs,5,0.977\n", "utf-8")
    return folder


def test_reference_answers_score_full_marks_in_the_child_process(submission):
    limited = score_submission_limited(submission, CONFIG.rubric, CONFIG.exploration)
    direct = score_submission(submission, CONFIG.rubric, CONFIG.exploration)
    assert limited == direct
    assert all(a.fraction == 1.0 for a in limited.answers.values())
    assert limited.exploration.fraction == 1.0
    assert limited.texts["q1"].startswith("Trabajamos con MNIST")


def test_128_kib_of_comment_openers_scores_zero_unread(submission):
    # Issue 9: this q1.md added 37 s to a grading (a quadratic comment regex).
    template = (ROOT / "assignment" / "answers" / "q1.md").read_text("utf-8")
    (submission / "answers" / "q1.md").write_text(template + "<!--" * 32 * 1024, "utf-8")
    scores = score_submission(submission, CONFIG.rubric, CONFIG.exploration)
    q1 = scores.answers["q1"]
    assert (q1.fraction, q1.status, q1.message_key) == (0.0, "too_large", "answers.too_large")
    assert all(scores.answers[q].fraction == 1.0 for q in QUESTION_IDS[1:])  # only its own check
    message = i18n.render("es", q1.message_key, **q1.message_params)
    assert "ocupa 129 KiB, más que el máximo de 64 KiB" in message and "0 puntos" in message


def test_comment_openers_under_the_cap_are_parsed_in_one_pass():
    # 60 KiB of "<!--" (and of unclosed markers): each is found with str.find,
    # once; the quadratic regex took minutes on this.
    template = (ROOT / "assignment" / "answers" / "q1.md").read_text("utf-8")
    assert extract_answer(template.replace("_Escribe", "<!--" * 15_000 + "_Escribe")).text == ""
    assert extract_answer("<!-- RESPUESTA " * 4_000).text == ""
    assert extract_answer("_" * 60_000 + " hola").text == "_" * 60_000 + " hola"
    answer = extract_answer(template.replace("_Escribe aquí tu respuesta._", "Hola <!--" * 6_000))
    assert answer.text == "Hola"  # an unclosed comment runs to the end, as in CommonMark


def test_read_answer_enforces_the_cap(tmp_path):
    path = tmp_path / "q1.md"
    path.write_text("a" * 2048, "utf-8")
    assert read_answer(path, max_bytes=2048) == "a" * 2048
    with pytest.raises(FileTooLarge) as error:
        read_answer(path, max_bytes=2047)
    assert (error.value.size, error.value.limit) == (2048, 2047)


def test_over_the_time_limit_every_free_text_check_scores_zero(submission):
    scores = score_submission_limited(submission, CONFIG.rubric, CONFIG.exploration, seconds=0.001)
    assert {a.message_key for a in scores.answers.values()} == {"answers.time_limit"}
    assert all(a.fraction == 0.0 for a in scores.answers.values())
    assert scores.exploration.message_key == "exploration.time_limit"
    message = i18n.render("es", "answers.time_limit", **scores.answers["q3"].message_params)
    assert message.startswith("Pregunta 3: no se pudo puntuar assignment/answers/q3.md en 0.001 segundos")


def test_a_file_over_the_time_limit_costs_only_its_own_points(submission):
    # A rubric regex that backtracks for ever on q3's answer (an instructor's
    # mistake, or a student's text that finds one): q3 alone scores 0.
    rubric = {**CONFIG.rubric, "q3": dict(CONFIG.rubric["q3"])}
    ideas = [dict(idea) for idea in rubric["q3"]["ideas"]]
    ideas[0]["patterns"] = ["(a+)+$"]
    rubric["q3"]["ideas"] = ideas
    (submission / "answers" / "q3.md").write_text("a" * 40 + "b", "utf-8")
    scores = score_submission_limited(submission, rubric, CONFIG.exploration, seconds=5)
    assert scores.answers["q3"].message_key == "answers.time_limit"
    assert scores.answers["q3"].fraction == 0.0
    assert all(scores.answers[q].fraction == 1.0 for q in QUESTION_IDS if q != "q3")
    assert scores.exploration.fraction == 1.0


def test_the_grading_process_compiles_the_rubric_once(submission, monkeypatch):
    """load_config compiles [rubric] (Config.answers); the free-text checks reuse it. Only the
    scoring child, a process of its own, compiles it again from the raw table."""
    import types

    from grader.answers import freetext
    from grader.checks import check_answers

    config = load_config()

    def compiled_again(*args, **kwargs):
        raise AssertionError("the rubric was compiled again in the grading process")

    monkeypatch.setattr(freetext, "load_rubric", compiled_again)
    monkeypatch.setattr(check_answers, "_SCORED", [])
    scores = check_answers.free_text(types.SimpleNamespace(submission=submission, config=config))
    assert all(scores.answers[q].fraction == 1.0 for q in QUESTION_IDS)
