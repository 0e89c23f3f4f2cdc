"""The comprehension-answer scorer: model answers, untouched files, weak
answers, accent and case insensitivity, and the message catalogues."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from grader.answers.markdown import ANSWER_PLACEHOLDER, read_answer
from grader.answers.rubric import (
    QUESTION_IDS,
    AnswerScore,
    AnswerSettings,
    QuestionRubric,
    RubricError,
    load_rubric,
    normalize,
    parse_question,
    score_answer,
    strip_accents,
    unscored,
    words,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "grader" / "config.toml"


def flat(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


CATALOGUES = {lang: flat(tomllib.loads((ROOT / f"grader/messages/{lang}/answers.toml").read_text("utf-8"))) for lang in ("es", "en")}


@pytest.fixture(scope="module")
def rubric() -> dict[str, QuestionRubric]:
    with open(CONFIG, "rb") as handle:
        return load_rubric(tomllib.load(handle)["rubric"])


def test_rubric_loads_from_the_typed_config(rubric):
    from grader.config import load_config

    config = load_config(CONFIG)
    assert load_rubric(config) == rubric
    assert [len(rubric[q].ideas) for q in QUESTION_IDS] == [5, 3, 5, 4, 4, 4, 5]
    assert all(config.points[q] > 0 for q in QUESTION_IDS)


def score(rubric: dict[str, QuestionRubric], qid: str, text: str | None) -> AnswerScore:
    return score_answer(qid, text, rubric[qid])


def model_answer(qid: str) -> str:
    text = read_answer(ROOT / "solutions" / "answers" / f"{qid}.md")
    assert text
    return text


# --- model answers and untouched files --------------------------------------


@pytest.mark.parametrize("qid", QUESTION_IDS)
def test_model_answer_scores_full_marks(rubric, qid):
    text = model_answer(qid)
    assert 60 <= len(words(text)) <= 150
    result = score(rubric, qid, text)
    assert result.fraction == 1.0
    assert result.status == "scored"
    assert result.missing == []
    assert result.found == [idea.name for idea in rubric[qid].ideas]
    assert not result.uncertain, result.reasons
    assert result.message_key == "answers.complete"


@pytest.mark.parametrize("qid", QUESTION_IDS)
def test_untouched_assignment_file_scores_zero(rubric, qid):
    path = ROOT / "assignment" / "answers" / f"{qid}.md"
    assert ANSWER_PLACEHOLDER in path.read_text("utf-8")
    assert read_answer(path) == ""
    for text in ("", path.read_text("utf-8")):  # what read_answer gives, raw file
        result = score(rubric, qid, text)
        assert (result.fraction, result.status) == (0.0, "untouched")
        assert result.message_key == "answers.untouched"
        assert result.found == [] and len(result.missing) == len(rubric[qid].ideas)


@pytest.mark.parametrize("qid", QUESTION_IDS)
def test_question_text_in_file_matches_the_rubric(rubric, qid):
    markdown = (ROOT / "assignment" / "answers" / f"{qid}.md").read_text("utf-8")
    question = next(line for line in markdown.splitlines() if line.startswith("> **Pregunta.**"))
    assert words(question.removeprefix("> **Pregunta.**")) == words(rubric[qid].question)
    assert markdown.startswith(f"# Pregunta {qid[1:]}. {rubric[qid].title}\n")


def test_missing_file(rubric, tmp_path):
    assert read_answer(tmp_path / "q1.md") is None
    result = score(rubric, "q1", None)
    assert (result.fraction, result.status, result.message_key) == (
        0.0,
        "missing_file",
        "answers.missing_file",
    )


def test_empty_and_punctuation_only_answers(rubric, tmp_path):
    path = tmp_path / "q2.md"
    path.write_text(
        "# P\n<!-- RESPUESTA: escribe debajo de esta línea -->\n\n<!-- FIN DE LA RESPUESTA -->\n",
        "utf-8",
    )
    assert read_answer(path) == ""
    assert score(rubric, "q2", read_answer(path)).status == "untouched"
    result = score(rubric, "q2", "... --- ???")
    assert (result.fraction, result.status, result.message_key) == (
        0.0,
        "empty",
        "answers.empty",
    )


def test_answer_written_next_to_the_placeholder_is_read(rubric, tmp_path):
    markdown = (ROOT / "assignment" / "answers" / "q4.md").read_text("utf-8")
    path = tmp_path / "q4.md"
    path.write_text(
        markdown.replace(ANSWER_PLACEHOLDER, ANSWER_PLACEHOLDER + "\n" + model_answer("q4")),
        "utf-8",
    )
    text = read_answer(path)
    assert text == model_answer("q4")
    assert score(rubric, "q4", text).fraction == 1.0


def test_answer_with_markers_deleted_still_scores_without_the_question(rubric, tmp_path):
    markdown = (ROOT / "solutions" / "answers" / "q5.md").read_text("utf-8")
    path = tmp_path / "q5.md"
    path.write_text(re.sub(r"<!--.*?-->\n", "", markdown), "utf-8")
    text = read_answer(path)
    assert text == model_answer("q5")  # headings and the quoted question dropped
    assert score(rubric, "q5", text).fraction == 1.0


# --- weak answers -----------------------------------------------------------


def test_short_answer_counts_half(rubric):
    result = score(rubric, "q4", "ReLU en la oculta y softmax en la salida.")
    assert result.fraction == pytest.approx(2 / 4 * 0.5)
    assert result.found == ["función de la capa oculta", "función de la capa de salida"]
    assert result.missing == ["razón de la capa oculta", "razón de la capa de salida"]
    assert result.words == 9
    assert result.uncertain and "very_short" in result.reasons
    assert result.message_key == "answers.short"


def test_one_key_idea_of_three(rubric):
    text = (
        "Normalizamos dividiendo cada píxel entre 255 porque el profesor lo indicó "
        "y porque siempre aparece en los tutoriales de redes neuronales. Es un paso "
        "previo que hacemos en el notebook antes de construir la red y entrenarla "
        "con los datos de MNIST que descargamos."
    )
    result = score(rubric, "q2", text)
    assert result.fraction == pytest.approx(1 / 3)
    assert result.found == ["operación aplicada"]
    assert result.missing == ["intervalo resultante", "ventaja para el entrenamiento"]
    assert not result.uncertain
    assert result.message_key == "answers.partial"
    assert result.message_params["hint"] == rubric["q2"].ideas[1].hint


def test_mentioning_255_is_not_the_operation_nor_establece_stability(rubric):
    text = (
        "Los píxeles van de 0 a 255 y se establece que hay que normalizarlos porque "
        "así lo hacen todos los tutoriales de redes neuronales que hemos visto en "
        "clase durante el curso, y también la documentación de Keras en sus ejemplos."
    )
    result = score(rubric, "q2", text)
    assert (result.fraction, result.message_key) == (0.0, "answers.none")


def test_off_topic_answer_scores_zero(rubric):
    text = (
        "La normalización de bases de datos consiste en organizar las tablas de una "
        "base de datos relacional para reducir la redundancia de la información. Se "
        "definen formas normales, como la primera, la segunda y la tercera forma "
        "normal, y cada una impone reglas sobre las dependencias entre columnas. Así "
        "las consultas son más claras y se evitan anomalías al actualizar registros."
    )
    result = score(rubric, "q2", text)
    assert result.fraction == 0.0
    assert result.status == "scored" and result.message_key == "answers.none"
    assert result.found == [] and not result.uncertain


def test_off_topic_answer_with_a_stray_hit_is_uncertain(rubric):
    text = (
        "MNIST es un conjunto de datos con setenta mil imágenes de dígitos escritos a "
        "mano. Las imágenes tienen veintiocho por veintiocho píxeles en escala de "
        "grises. Fue creado a partir de formularios del censo de Estados Unidos. Es el "
        "conjunto clásico para empezar en aprendizaje automático. La salida usa "
        "softmax. Muchos cursos lo usan como primer ejemplo práctico de clasificación."
    )
    result = score(rubric, "q4", text)
    assert result.fraction == pytest.approx(1 / 4)
    assert result.found == ["función de la capa de salida"]
    assert result.uncertain and result.reasons == ["off_topic"]


@pytest.mark.parametrize("qid", QUESTION_IDS)
def test_pasted_question_scores_zero(rubric, qid):
    result = score(rubric, qid, rubric[qid].question)
    assert result.fraction == 0.0
    assert result.words == 0 and result.copied_words == len(words(rubric[qid].question))
    assert result.uncertain and "copied_question" in result.reasons
    assert result.message_key == "answers.copied_question"


def test_pasted_question_words_do_not_count(rubric):
    own = "Tiene Flatten, una capa oculta de 128 neuronas y otra de salida de 10 neuronas."
    result = score(rubric, "q3", rubric["q3"].question + " " + own)
    assert result.words == len(words(own)) == 15
    # four of five ideas, but only 15 own words: half
    assert result.fraction == pytest.approx(4 / 5 * 0.5)
    assert result.missing == ["qué significa «completamente conectada»"]
    assert {"copied_question", "very_short"} <= set(result.reasons)


def test_question_preamble_before_a_good_answer_is_harmless(rubric):
    text = rubric["q6"].question + "\n\n" + model_answer("q6")
    result = score(rubric, "q6", text)
    assert result.fraction == 1.0
    assert result.words == len(words(model_answer("q6")))
    assert result.reasons == ["copied_question"] and result.message_key == "answers.complete"


def test_keyword_list_is_flagged_and_scored_less(rubric):
    text = "MNIST, clasificación, dígitos manuscritos, 28x28, escala de grises, 60000, 10000"
    result = score(rubric, "q1", text)
    assert len(result.found) == 5  # every idea named ...
    assert result.fraction == pytest.approx(0.5 * 0.5)  # ... but short and a list
    assert result.uncertain and {"keyword_list", "very_short"} <= set(result.reasons)
    assert result.message_key == "answers.keyword_list_short"  # says both halve it
    assert result.message_params["percent"] == 25


def test_bulleted_keyword_list(rubric):
    result = score(rubric, "q4", "- ReLU\n- no linealidad\n- softmax\n- probabilidades\n- suman 1")
    assert len(result.found) == 4
    assert result.fraction == pytest.approx(0.25)
    assert "keyword_list" in result.reasons


def test_long_keyword_list_still_counts_half(rubric):
    terms = (
        "MNIST, clasificación, dígitos manuscritos, 28x28, escala grises, 60000 "
        "entrenamiento, 10000 prueba, Keras, TensorFlow, imágenes, etiquetas, "
        "supervisado, multiclase, modelo denso, píxeles enteros, conjunto clásico, "
        "LeCun, NIST, censo, estudiantes, funcionarios, benchmark, redes neuronales, "
        "aprendizaje profundo, precisión, evaluación, generalización, validación, "
        "softmax, relu, adam, entropía cruzada, normalización, flatten, dense, "
        "sequential, historial, pandas, matplotlib, imshow, épocas, lotes"
    )
    result = score(rubric, "q1", terms)
    assert result.words > rubric["q1"].min_words + 5
    assert result.fraction == pytest.approx(0.5)
    assert result.reasons == ["keyword_list"]
    assert result.message_key == "answers.keyword_list"


def test_answer_near_the_length_threshold_is_uncertain(rubric):
    text = (
        "Entreno 5 épocas porque la precisión de validación apenas mejora después y "
        "el modelo ya converge. Con muchas más épocas habría sobreajuste: lo vería "
        "cuando val_loss sube mientras la pérdida de entrenamiento sigue bajando."
    )
    result = score(rubric, "q6", text)
    assert abs(result.words - rubric["q6"].min_words) <= 5
    assert result.words >= rubric["q6"].min_words
    assert result.fraction == 1.0
    assert result.uncertain and result.reasons == ["near_threshold"]


# --- accents and case -------------------------------------------------------


def test_normalization_ignores_accents_and_case():
    assert normalize("FUNCIÓN  de\nActivación") == "funcion de activacion"
    assert normalize("función") == normalize("funcion") == normalize("FUNCION")
    assert normalize("Número ÑANDÚ") == "numero nandu"


@pytest.mark.parametrize("qid", QUESTION_IDS)
def test_model_answers_in_capitals_and_without_accents(rubric, qid):
    text = model_answer(qid)
    assert score(rubric, qid, text.upper()).fraction == 1.0
    assert score(rubric, qid, strip_accents(text)).fraction == 1.0


def test_softmax_relu_in_any_case(rubric):
    for text in ("SOFTMAX y RELU", "SoftMax y ReLu", "softmax y relu"):
        assert score(rubric, "q4", text).found == [
            "función de la capa oculta",
            "función de la capa de salida",
        ]


def test_accented_patterns_match_unaccented_answers():
    question = parse_question("q9", {"min_words": 1, "ideas": [{"name": "x", "patterns": ["función"]}]})
    assert score_answer("q9", "Es una FUNCION", question).found == ["x"]
    assert score_answer("q9", "es una funcion", question).fraction == 1.0


def test_invalid_rubric_is_rejected():
    with pytest.raises(RubricError, match="bad regex"):
        parse_question("q1", {"min_words": 5, "ideas": [{"name": "x", "patterns": ["("]}]})
    with pytest.raises(RubricError, match="unknown keys"):
        parse_question("q1", {"min_words": 5, "ideas": [], "typo": 1})
    with pytest.raises(RubricError, match="lacks"):
        load_rubric({"q1": {}})


# --- messages ----------------------------------------------------------------

ENGLISH_Q6 = (
    "I train for 5 epochs because the validation accuracy already reaches about 98 % "
    "and barely improves after that. With many more epochs the model would overfit."
)
WEAK = {
    "q1": "MNIST, clasificación, dígitos manuscritos, 28x28",
    "q2": "Se divide entre 255.",
    "q4": "ReLU en la oculta y softmax en la salida.",
}


def all_results(rubric) -> list[AnswerScore]:
    results = [score(rubric, q, None) for q in QUESTION_IDS]
    results += [score(rubric, q, "") for q in QUESTION_IDS]
    results += [score(rubric, q, "...") for q in QUESTION_IDS]
    results += [score(rubric, q, model_answer(q)) for q in QUESTION_IDS]
    results += [score(rubric, q, rubric[q].question) for q in QUESTION_IDS]
    results += [score(rubric, q, t) for q, t in WEAK.items()]
    results += [score(rubric, "q2", "hablamos de bases de datos relacionales y sus tablas " * 5)]
    results += [score(rubric, "q5", model_answer("q5").split("Como métrica")[0])]
    results += [score_answer("q6", ENGLISH_Q6, rubric["q6"], AnswerSettings(english="ask_spanish"))]
    results += [unscored("q1", rubric["q1"], "too_large", size_kb=128, limit_kb=64)]
    results += [unscored("q1", rubric["q1"], "time_limit", limit="20")]
    results += [score(rubric, "q1", "MNIST, clasificación, dígitos manuscritos, 28x28, escala grises, " * 6)]
    results += [
        score(
            rubric,
            "q4",
            "Mi perro se llama Relu y corre por el parque con los niños. Ayer comí un helado softmax en la playa con mis primos. Las manzanas del mercado suman uno cuando las cuento. Mi tía dice que el gradiente de la montaña cansa a los ciclistas del pueblo.",
        )
    ]
    provisional = provisional_rubric()
    results += [score(provisional, "q4", model_answer("q4")), score(provisional, "q4", "La capa oculta usa ReLU.")]
    results += [score(provisional, "q1", "MNIST, clasificación, dígitos manuscritos, 28x28, escala grises, " * 6)]
    template = (ROOT / "assignment" / "answers" / "q1.md").read_text("utf-8")
    results += [score(rubric, "q1", template + "\n" + model_answer("q1") + "\n")]  # written below the end marker
    results += [score(rubric, "q1", template.replace(ANSWER_PLACEHOLDER, ""))]  # example line deleted, nothing written
    return results


def provisional_rubric() -> dict[str, QuestionRubric]:
    """The rubric of a template released without it (``release`` without --with-rubric)."""
    from grader.instructor.release import without_rubric

    return load_rubric(tomllib.loads(without_rubric(CONFIG.read_bytes()).decode("utf-8"))["rubric"])


def test_catalogues_have_the_same_keys_and_every_result_renders(rubric):
    assert set(CATALOGUES["es"]) == set(CATALOGUES["en"])
    results = all_results(rubric)
    produced = {r.message_key for r in results}
    assert produced == {k for k in CATALOGUES["es"] if k.startswith("answers.")}
    for result in results:
        for lang, catalogue in CATALOGUES.items():
            message = catalogue[result.message_key].format(**result.message_params)
            assert f"{'Pregunta' if lang == 'es' else 'Question'} " in message
            assert "{" not in message


def test_partial_message_names_ideas_without_giving_the_answer(rubric):
    result = score(
        rubric,
        "q4",
        (
            "La capa oculta usa ReLU y la capa de salida usa softmax. Son las funciones "
            "que se usan normalmente en este tipo de redes y por eso las elegimos para "
            "nuestro modelo, igual que en los ejemplos de Keras que vimos en clase antes."
        ),
    )
    assert result.message_key == "answers.partial"
    es = CATALOGUES["es"]["answers.partial"].format(**result.message_params)
    en = CATALOGUES["en"]["answers.partial"].format(**result.message_params)
    assert es.startswith(
        "Pregunta 4: encontré 2 de 4 ideas clave (función de la capa oculta, "
        "función de la capa de salida), así que vale el 50 % de los puntos; falta: "
        "razón de la capa oculta, razón de la capa de salida. Pista: explica por qué"
    )
    assert en.startswith("Question 4: I found 2 of 4 key ideas (hidden-layer function")
    for word in ("no linea", "desvanec", "probabilidad", "suma"):
        assert word not in normalize(es)


def test_a_provisional_rubric_scores_the_form_and_names_the_ideas(rubric):
    provisional = provisional_rubric()
    assert all(r.provisional and not r.topic and all(not i.patterns and not i.patterns_en for i in r.ideas) for r in provisional.values())
    assert [len(provisional[q].ideas) for q in QUESTION_IDS] == [len(rubric[q].ideas) for q in QUESTION_IDS]
    # a good answer and a wrong but well-formed one score the same: the content is graded on submission
    good = score(provisional, "q4", model_answer("q4"))
    wrong = score(
        provisional,
        "q4",
        "La capa oculta usa la función sigmoide porque es la más antigua de todas y la capa de salida usa tanh, que es más moderna y "
        "funciona mejor con todas las redes de este tipo en general, según vimos en clase con los ejemplos del profesor y del libro.",
    )
    assert good.fraction == 1.0 and good.message_key == "answers.provisional" and not good.found
    es = CATALOGUES["es"]["answers.provisional"].format(**good.message_params)
    assert "provisional" in es and "función de la capa oculta" in es and "cuando entregas" in es
    assert (wrong.fraction, wrong.message_key) == (1.0, "answers.provisional")
    short = score(provisional, "q4", "La capa oculta usa ReLU.")
    assert short.fraction == 0.5 and short.message_key == "answers.provisional_short"
    assert score(provisional, "q4", "").status == "untouched"
    listed = score(provisional, "q1", "MNIST, clasificación, dígitos manuscritos, 28x28, escala grises, " * 6)
    from grader import i18n

    for result in (good, short, listed):
        for lang in i18n.LANGUAGES:
            text = i18n.render(lang, result.message_key, **result.message_params)
            assert ("provisional" in text) and ("{" not in text)
    # the full rubric refuses ideas without patterns: only a provisional one may lack them
    raw = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["rubric"]
    del raw["q4"]["ideas"][0]["patterns"]
    with pytest.raises(RubricError, match="patterns"):
        load_rubric(raw)


def test_an_answer_below_the_end_marker_is_found_and_the_message_says_what_to_move(rubric):
    template = (ROOT / "assignment" / "answers" / "q1.md").read_text("utf-8")
    result = score(rubric, "q1", template + "\nMNIST tiene imágenes de dígitos escritos a mano.\n")
    assert (result.message_key, result.fraction) == ("answers.outside_markers", 0.0)
    message = CATALOGUES["es"][result.message_key].format(**result.message_params)
    assert "debajo de <!-- FIN DE LA RESPUESTA -->" in message and "«MNIST tiene imágenes de dígitos escritos a mano.»" in message
    assert "mueve ese texto arriba" in message and "línea de ejemplo" not in message


def test_an_emptied_answer_is_empty_not_the_example_line(rubric):
    template = (ROOT / "assignment" / "answers" / "q1.md").read_text("utf-8")
    result = score(rubric, "q1", template.replace(ANSWER_PLACEHOLDER, ""))
    message = CATALOGUES["es"][result.message_key].format(**result.message_params)
    assert result.message_key == "answers.emptied" and "está vacía" in message and "línea de ejemplo" in message
    assert score(rubric, "q1", template).message_key == "answers.untouched"
