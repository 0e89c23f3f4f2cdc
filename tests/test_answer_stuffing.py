"""Keyword stuffing does not pay silently: answers built from the real rubric
words of each question, dropped into sentences about something else, are
marked for review (``unanchored``); no correct answer of the corpus
(tests/answers_corpus.toml) nor any model answer (solutions/answers) is."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from grader import i18n
from grader.answers.markdown import extract_answer
from grader.answers.rubric import ANCHORED_RATIO, QUESTION_IDS, WORD, anchoring, load_rubric, normalize, score_answer

ROOT = Path(__file__).resolve().parents[1]
with open(ROOT / "grader" / "config.toml", "rb") as _handle:
    RUBRIC = load_rubric(tomllib.load(_handle)["rubric"])
CORPUS = tomllib.loads((ROOT / "tests" / "answers_corpus.toml").read_text(encoding="utf-8"))
FILLERS = (
    "Mi perro se llama {} y le encanta correr por el parque del barrio.",
    "Ayer comimos un helado de {} con mis primos en la playa.",
    "Mi abuela guarda {} en el armario de la cocina desde hace años.",
    "Los domingos vamos al mercado a comprar {} y fruta fresca.",
    "El vecino del quinto canta {} con la guitarra todas las noches.",
    "En verano viajamos al pueblo y vimos {} desde la ventana del tren.",
)
PADDING = "Después volvimos a casa, cenamos todos juntos en el jardín y mi hermana contó historias del colegio hasta muy tarde."


def model_answer(question: str) -> str:
    return extract_answer((ROOT / "solutions" / "answers" / f"{question}.md").read_text(encoding="utf-8")).text


def rubric_words(question: str) -> list[str]:
    """For each key idea, the words of the model answer its patterns match (whole words)."""
    text = normalize(model_answer(question))
    found = []
    for idea in RUBRIC[question].ideas:
        match = next(m for p in idea.patterns if (m := p.search(text)))
        start = max((w.start() for w in WORD.finditer(text) if w.start() <= match.start()), default=match.start())
        end = min((w.end() for w in WORD.finditer(text) if w.end() >= match.end()), default=match.end())
        found.append(text[start:end])
    return found


def stuffed(question: str) -> str:
    sentences = [FILLERS[i % len(FILLERS)].format(word) for i, word in enumerate(rubric_words(question))]
    while len(WORD.findall(" ".join(sentences))) < RUBRIC[question].min_words + 10:
        sentences.append(PADDING)
    return " ".join(sentences)


def correct_answers() -> list[tuple[str, str]]:
    return [(q, text) for q in QUESTION_IDS for text in [*CORPUS[q]["good"], model_answer(q)]]


@pytest.mark.parametrize("question", QUESTION_IDS)
def test_stuffed_answer_is_marked_for_review(question):
    text = stuffed(question)
    result = score_answer(question, text, RUBRIC[question])
    # every idea "found": without the measure this would be silent full marks
    assert result.fraction == 1.0 and result.missing == []
    assert result.uncertain and "unanchored" in result.reasons, (text, anchoring(text, RUBRIC[question]))
    assert result.message_key == "answers.unanchored"  # the student is told too, on every road
    for lang in i18n.LANGUAGES:
        message = i18n.render(lang, result.message_key, **result.message_params)
        assert "{" not in message and ("profesor" in message if lang == "es" else "instructor" in message)


def test_the_issue_example_is_marked():
    text = (
        "Mi perro se llama Relu y le gusta correr por el parque con los niños del barrio. "
        "Ayer comí un helado softmax de chocolate con mis primos en la heladería de la plaza. "
        "Las manzanas del mercado suman uno cuando las cuento en la cocina de mi abuela. "
        "Mi tía dice que el gradiente de la montaña cansa mucho a los ciclistas del pueblo."
    )
    result = score_answer("q4", text, RUBRIC["q4"])
    assert result.fraction == 1.0 and "unanchored" in result.reasons


@pytest.mark.parametrize(("question", "text"), correct_answers(), ids=lambda v: v if v in QUESTION_IDS else "")
def test_no_correct_answer_is_marked_as_stuffed(question, text):
    share = anchoring(text, RUBRIC[question])
    assert share is not None and share >= ANCHORED_RATIO + 0.05, share  # a margin, not a hair above the line
    scored = score_answer(question, text, RUBRIC[question])
    assert "unanchored" not in scored.reasons and scored.message_key != "answers.unanchored"


def test_the_measure_reads_sentences_not_the_whole_answer():
    """The same rubric words in sentences about the question are anchored."""
    good = "La capa oculta usa ReLU porque aporta no linealidad a la red. La capa de salida usa softmax y da probabilidades que suman uno."
    bad = "Mi perro se llama ReLU y come mucho. El helado softmax de la playa cuesta uno."
    assert anchoring(good, RUBRIC["q4"]) > 0.5 > ANCHORED_RATIO > anchoring(bad, RUBRIC["q4"])
    assert anchoring("Ninguna idea aquí, solo texto.", RUBRIC["q4"]) is None
    assert re.search("relu", normalize(bad))
