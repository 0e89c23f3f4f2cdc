"""The exploration sheet: its 13 sections and how it is scored."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from grader import i18n
from grader.answers.exploration import (
    ExplorationScore,
    ExplorationSettings,
    load_exploration_settings,
    score_exploration,
    table_present,
)
from grader.answers.markdown import SECTION_PLACEHOLDER, extract_sections
from grader.answers.rubric import RubricError

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT / "assignment" / "exploration.md"
SOLUTION = ROOT / "solutions" / "exploration.md"
EXERCISES = [
    "hidden_units",
    "activation",
    "no_flatten",
    "optimizer",
    "epochs",
    "extra_layers",
    "no_normalization",
    "output_units",
    "probabilities",
    "unseen_images",
    "misclassified",
    "confusion_matrix",
    "batch_size",
]
OBSERVATION = (
    "Con este cambio la precisión de prueba bajó del 97,7 % al 96,1 % y la pérdida de validación tardó más en estabilizarse; creo que se debe al cambio."
)


def catalogue(lang: str) -> dict[str, str]:
    data = tomllib.loads((ROOT / f"grader/messages/{lang}/answers.toml").read_text("utf-8"))
    return {f"exploration.{k}": v for k, v in data["exploration"].items()}


@pytest.fixture(scope="module")
def settings() -> ExplorationSettings:
    with open(ROOT / "grader" / "config.toml", "rb") as handle:
        return load_exploration_settings(tomllib.load(handle)["exploration"])


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "exploration_results" / "results.csv"
    path.parent.mkdir()
    path.write_text("experiment,value,test_accuracy\nhidden_units,32,0.965\n", "utf-8")
    return path


def fill(sheet: str, numbers: set[int], text: str = OBSERVATION) -> str:
    """The untouched sheet with observations written in sections ``numbers``."""

    def replace(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return match.group(0).replace(SECTION_PLACEHOLDER, text) if number in numbers else match.group(0)

    return re.sub(r"<!-- OBSERVACIONES: ejercicio (\d+) -->\n.*?\n<!-- FIN -->", replace, sheet)


def test_settings(settings):
    from grader.config import load_config

    assert settings.exercises == tuple(EXERCISES)
    assert settings.results_table == "exploration_results/results.csv"
    assert load_exploration_settings(load_config()) == settings
    assert load_config().exploration_settings == settings  # typed once, at load
    assert settings.table_path("/repo") == Path("/repo/exploration_results/results.csv")
    with pytest.raises(RubricError, match="unknown keys"):
        ExplorationSettings.from_raw({"exercises": EXERCISES, "min_section": 3})


@pytest.mark.parametrize("path", [SHEET, SOLUTION])
def test_sheet_has_the_13_exercises_in_order(path):
    markdown = path.read_text("utf-8")
    assert re.findall(r"\*\*Experimento:\*\* `(\w+)`", markdown) == EXERCISES
    assert [s.number for s in extract_sections(markdown)] == list(range(1, 14))
    assert len(re.findall(r"^## Ejercicio \d+\. ", markdown, re.MULTILINE)) == 13
    assert markdown.count("<!-- FIN -->") == 13


def test_untouched_sheet_has_only_placeholders():
    markdown = SHEET.read_text("utf-8")
    assert markdown.count(SECTION_PLACEHOLDER) == 13
    assert all(s.text == "" for s in extract_sections(markdown))


def test_solution_sheet_counts_all_13_sections(settings, table):
    result = score_exploration(SOLUTION, table, settings)
    assert (result.sections_done, result.sections_total) == (13, 13)
    assert result.table_present and result.fraction == 1.0
    assert result.pending == [] and result.message_key == "exploration.complete"
    assert min(result.words.values()) >= 60


def test_solution_sheet_without_table(settings, tmp_path):
    result = score_exploration(SOLUTION, tmp_path / "nope.csv", settings)
    assert result.sections_done == 13 and not result.table_present
    assert result.fraction == pytest.approx(0.8)
    assert result.message_key == "exploration.table_missing"


def test_untouched_sheet_scores_zero_even_with_a_table(settings, table):
    result = score_exploration(SHEET, table, settings)
    assert (result.sections_done, result.fraction, result.status) == (
        0,
        0.0,
        "untouched",
    )
    assert result.table_present
    assert result.pending == list(range(1, 14))
    assert result.message_key == "exploration.untouched"


def test_missing_sheet(settings, tmp_path):
    result = score_exploration(tmp_path / "exploration.md", None, settings)
    assert (result.status, result.fraction, result.sections_total) == (
        "missing_file",
        0.0,
        13,
    )
    assert result.message_key == "exploration.missing_file"


def test_partial_sheet(settings, table, tmp_path):
    sheet = tmp_path / "exploration.md"
    sheet.write_text(fill(SHEET.read_text("utf-8"), {1, 2, 5, 9, 13}), "utf-8")
    result = score_exploration(sheet, table, settings)
    assert result.sections_done == 5
    assert result.fraction == pytest.approx(0.8 * 5 / 10 + 0.2)
    assert result.pending == [3, 4, 6, 7, 8, 10, 11, 12]
    assert result.message_key == "exploration.sections_missing"
    # The message names each exercise without observations by its heading.
    assert result.message_params["pending"] == (
        "3 (Sin la capa Flatten), 4 (Optimizador), 6 (Más capas ocultas), "
        "7 (Sin normalizar los píxeles), 8 (Neuronas de salida distintas de 10), "
        "10 (Imágenes no vistas), 11 (Dígitos mal clasificados), 12 (Matriz de confusión)"
    )
    assert result.message_params["pending_en"].startswith("3 (no_flatten), 4 (optimizer)")
    assert result.message_params["percent"] == 60
    no_table = score_exploration(sheet, None, settings)
    assert no_table.fraction == pytest.approx(0.4)
    assert no_table.message_key == "exploration.incomplete"


def test_ten_sections_are_enough_for_the_sections_part(settings, table, tmp_path):
    sheet = tmp_path / "exploration.md"
    sheet.write_text(fill(SHEET.read_text("utf-8"), set(range(1, 11))), "utf-8")
    result = score_exploration(sheet, table, settings)
    assert result.sections_done == 10 and result.fraction == 1.0
    # Full marks, and still the three exercises left are named.
    assert result.message_key == "exploration.complete_with_pending"
    assert result.message_params["pending"] == ("11 (Dígitos mal clasificados), 12 (Matriz de confusión), 13 (Tamaño del lote)")


def test_too_short_or_copied_observations_do_not_count(settings, table, tmp_path):
    markdown = SHEET.read_text("utf-8")
    statement = (
        "Entrena el modelo con 32, 64, 128, 256 y 512 neuronas en la capa oculta. ¿Cómo "
        "cambian la precisión con las imágenes de prueba, el número de parámetros y el "
        "tiempo de entrenamiento?"
    )
    assert statement in markdown
    filled = fill(markdown, {1}, statement)  # the exercise text pasted
    filled = fill(filled, {2}, "Sigmoid fue peor.")  # 3 words
    filled = fill(filled, {3}, OBSERVATION)
    sheet = tmp_path / "exploration.md"
    sheet.write_text(filled, "utf-8")
    result = score_exploration(sheet, table, settings)
    assert result.sections_done == 1 and result.pending[:2] == [1, 2]
    assert result.words[1] == 0 and result.words[2] == 3


def test_deleted_end_marker_does_not_swallow_the_next_section(settings, table, tmp_path):
    markdown = fill(SHEET.read_text("utf-8"), {4, 5})
    markdown = markdown.replace("<!-- FIN -->", "", 4)  # sections 1-4 lose their end
    sheet = tmp_path / "exploration.md"
    sheet.write_text(markdown, "utf-8")
    sections = {s.number: s for s in extract_sections(markdown)}
    assert sorted(sections) == list(range(1, 14))
    assert sections[4].text.startswith(OBSERVATION)
    assert sections[3].text == ""
    assert score_exploration(sheet, table, settings).sections_done == 2


def test_table_presence(tmp_path):
    path = tmp_path / "results.csv"
    assert not table_present(path) and not table_present(None)
    path.write_text("experiment,value,test_accuracy\n", "utf-8")
    assert not table_present(path)  # header only
    path.write_text("experiment,value,test_accuracy\n\nepochs,5,0.977\n", "utf-8")
    assert table_present(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert not table_present(path)


def test_sheet_over_the_size_cap_scores_zero_unread(settings, table, tmp_path):
    sheet = tmp_path / "exploration.md"
    sheet.write_text(fill(SHEET.read_text("utf-8"), set(range(1, 14))) + "<!--" * 20_000, "utf-8")
    result = score_exploration(sheet, table, settings, max_bytes=64 * 1024)
    assert (result.status, result.fraction, result.message_key) == (
        "too_large",
        0.0,
        "exploration.too_large",
    )
    assert result.message_params["limit_kb"] == 64 and result.message_params["size_kb"] > 64


def test_unclosed_comments_and_markers_parse_in_linear_time(settings, table, tmp_path):
    # Thousands of start markers, unclosed comments: each is one pass of str.find.
    markdown = SHEET.read_text("utf-8") + "<!-- OBSERVACIONES: ejercicio 1 -->\n# h\n" * 1500
    markdown += "<!--" * 10_000
    sections = extract_sections(markdown)
    assert len(sections) == 13 + 1500
    assert all(s.text == "" for s in sections)


def test_every_exploration_message_renders(settings, table, tmp_path):
    from grader.answers.freetext import EXPLORATION, Scorer

    sheet = tmp_path / "exploration.md"
    sheet.write_text(fill(SHEET.read_text("utf-8"), {1}), "utf-8")
    many = tmp_path / "many.md"
    many.write_text(fill(SHEET.read_text("utf-8"), set(range(1, 12))), "utf-8")
    below = tmp_path / "below.md"
    below.write_text(SHEET.read_text("utf-8").replace("<!-- FIN -->", "<!-- FIN -->\n" + OBSERVATION, 1), "utf-8")
    with open(ROOT / "grader" / "config.toml", "rb") as handle:
        raw = tomllib.load(handle)
    results = [
        score_exploration(many, table, settings),
        score_exploration(sheet, table, settings, max_bytes=100),
        ExplorationScore(**Scorer(ROOT, raw["rubric"], raw["exploration"]).timed_out(EXPLORATION, 20)["score"]),
        score_exploration(tmp_path / "missing.md", None, settings),
        score_exploration(SHEET, None, settings),
        score_exploration(SOLUTION, table, settings),
        score_exploration(SOLUTION, None, settings),
        score_exploration(sheet, table, settings),
        score_exploration(sheet, None, settings),
        score_exploration(below, table, settings),
    ]
    es, en = catalogue("es"), catalogue("en")
    parts = {"exploration.rule", "exploration.outside_note"}  # rendered inside other messages
    assert set(es) == set(en) == {r.message_key for r in results} | parts
    for result in results:
        for lang in ("es", "en"):
            message = i18n.render(lang, result.message_key, **result.message_params)
            assert message.startswith(("Exploración: ", "Exploration: "))
            assert "{" not in message


def test_observations_below_the_end_marker_are_found_and_named(settings, table, tmp_path):
    below = tmp_path / "below.md"
    below.write_text(SHEET.read_text("utf-8").replace("<!-- FIN -->", "<!-- FIN -->\n" + OBSERVATION, 1), "utf-8")
    result = score_exploration(below, table, settings)
    assert (result.message_key, result.message_params["outside"]) == ("exploration.outside_markers", "1")
    message = i18n.render("es", result.message_key, **result.message_params)
    assert "los ejercicios 1 tienen texto debajo de su marca <!-- FIN -->" in message and "mueve" in message
    # With other exercises done, the misplaced one is named beside the percentage's rule.
    mixed = tmp_path / "mixed.md"
    mixed.write_text(fill(below.read_text("utf-8"), set(range(2, 8))), "utf-8")
    result = score_exploration(mixed, table, settings)
    message = i18n.render("es", result.message_key, **result.message_params)
    assert result.message_key == "exploration.sections_missing" and "los ejercicios 1 tienen texto debajo" in message


def test_the_share_states_how_the_percentage_follows(settings, table, tmp_path):
    sheet = tmp_path / "six.md"
    sheet.write_text(fill(SHEET.read_text("utf-8"), set(range(1, 7))), "utf-8")
    result = score_exploration(sheet, table, settings)
    message = i18n.render("es", result.message_key, **result.message_params)
    # 6 of the 10 asked x 80 % + the table's 20 % = 68 %.
    assert "vale el 68 % de los puntos (cálculo: 6 de los 10 ejercicios pedidos × 80 % por las observaciones, más 20 % de 20 % por la tabla)" in message
