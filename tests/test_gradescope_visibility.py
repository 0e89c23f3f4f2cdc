"""Gradescope's ``visibility`` comes from ``[gradescope]`` of the config: a
default for the document and each test, and single checks by id; a value
Gradescope does not know, or an unknown check id, stops at config load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.config import GRADESCOPE_VISIBILITIES, ConfigError, GradescopeSettings, load_config
from grader.exporters import gradescope, outputs
from tests.test_exporters import assert_valid, make_result, schema

ROOT = Path(__file__).resolve().parents[1]


def test_default_is_visible_and_checks_can_differ():
    result = make_result()
    document = gradescope.to_gradescope(result)
    assert document["visibility"] == "visible" and {t["visibility"] for t in document["tests"]} == {"visible"}
    settings = GradescopeSettings("after_published", {result.checks[0].id: "after_due_date"})
    document = gradescope.to_gradescope(result, settings)
    assert_valid(schema("gradescope-results.schema.json"), document)
    assert document["visibility"] == "after_published"
    assert [t["visibility"] for t in document["tests"]] == ["after_due_date"] + ["after_published"] * (len(result.checks) - 1)
    files = outputs.Gradescope().files(result, outputs.ExportEnv(gradescope=settings))
    assert '"after_due_date"' in files[outputs.GRADESCOPE_JSON]


def config_with(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "config.toml"
    shutil.copy(ROOT / "grader" / "config.toml", path)
    text = path.read_text(encoding="utf-8")
    start = text.index("[gradescope]")
    path.write_text(text[:start] + table, encoding="utf-8")
    return path


def test_the_config_sets_it(tmp_path):
    config = load_config(config_with(tmp_path, '[gradescope]\nvisibility = "hidden"\n\n[gradescope.checks]\nmin_accuracy = "after_due_date"\n'))
    assert config.gradescope.of("min_accuracy") == "after_due_date" and config.gradescope.of("q1") == "hidden"
    assert load_config(ROOT / "grader" / "config.toml").gradescope == GradescopeSettings()
    assert set(GRADESCOPE_VISIBILITIES) == {"hidden", "after_due_date", "after_published", "visible"}


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('[gradescope]\nvisibility = "later"\n', "visibility"),
        ('[gradescope]\n[gradescope.checks]\nmin_accuracy = "soon"\n', "min_accuracy"),
        ('[gradescope]\n[gradescope.checks]\nno_such_check = "hidden"\n', "no_such_check"),
        ('[gradescope]\nshow = "hidden"\n', "show"),
    ],
)
def test_a_wrong_value_stops_at_load(tmp_path, table, words):
    with pytest.raises(ConfigError, match=words):
        load_config(config_with(tmp_path, table))
