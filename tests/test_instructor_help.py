"""Every instructor command answers --help in Spanish, and in English with
--lang en: its description and every option's text come from the catalogue
(grader/messages/<lang>/help.toml)."""

from __future__ import annotations

import importlib
import re

import pytest

from grader import cli, i18n

COMMANDS = ("batch", "release", "merge", "bundle", "gradescope", "notebook", "config")


def help_text(capsys, command: str, *extra: str) -> str:
    module = importlib.import_module(cli.COMMANDS[command])
    with pytest.raises(SystemExit) as done:
        module.main(["--help", *extra])
    assert done.value.code == 0
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_help_in_the_chosen_language(capsys, command, lang):
    text = help_text(capsys, command, *(["--lang", "en"] if lang == "en" else []))
    catalogue = i18n.catalogue(lang)
    keys = [k for k in catalogue if k.startswith(f"help.{command}.")]
    assert f"help.{command}.description" in keys
    for key in keys:
        words = re.split(r"\{[a-z_]+\}", catalogue[key])[0]  # the text before any field
        assert " ".join(words.split())[:60] in text, key
    assert text.startswith("uso: " if lang == "es" else "usage: ")
    assert ("opciones:" if lang == "es" else "options:") in text
    assert i18n.render(lang, "cli.help") in text


def test_spanish_is_the_default_and_english_a_request(capsys):
    spanish = help_text(capsys, "batch")
    assert "Califica todas las entregas" in spanish and "--assignment-name" in spanish and "--missing-as-zero" in spanish
    assert "Red neuronal completamente conectada en MNIST" in spanish  # the default column name, one in every language
    english = help_text(capsys, "batch", "--lang", "en")
    assert "Grade every submission" in english and "Califica" not in english
    assert "--with-rubric" in help_text(capsys, "release") and "el estudiante tiene el calificador" in help_text(capsys, "release")
