"""The config is parsed whole at load; every failure to grade at all is one sentence and exit 2."""

from __future__ import annotations

import ast
import re
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from grader import cli, config_doc, i18n, spec
from grader.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG_TEXT = (ROOT / "grader" / "config.toml").read_text(encoding="utf-8")


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    assert old in CONFIG_TEXT, old
    path = tmp_path / "config.toml"
    path.write_text(CONFIG_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "sentence"),
    [
        ("min_accuracy = 0.97", 'min_accuracy = "high"', "[grading] min_accuracy must be a number, got 'high'"),
        ("seed = 1234", "seed = 1.5", "[grading] seed must be a whole number, got 1.5"),
        ("memory_limit_mb = 4096", "memory_limit_mb = true", "[grading] memory_limit_mb must be a whole number, got True"),
        ("tmpfs_mb = 256", 'tmpfs_mb = "256"', "[isolation] tmpfs_mb must be a whole number, got '256'"),
        ("train_model = 600", 'train_model = "long"', "[time_limits] train_model must be a number of seconds > 0, got 'long'"),
        ("history = 4\n", "history = 4.5\n", "[points] history must be a whole number of points >= 0, got 4.5"),
        ("patterns = ['\\bmnist\\b']", "patterns = ['(mnist']", "[rubric.q1] idea 1: bad regex: missing ), unterminated subpattern"),
        ("min_sections = 10", "min_sections = 99", "[exploration]: min_sections must be 1..len(exercises)"),
        ("[grading]\n", "[grading]\nsede = 1\n", "unknown [grading] keys: ['sede']"),
    ],
)
def test_a_wrong_value_fails_at_load_naming_its_key(tmp_path, old, new, sentence):
    with pytest.raises(ConfigError) as raised:
        load_config(_edited(tmp_path, old, new))
    message = str(raised.value)
    assert sentence in message and "\n" not in message


def test_values_are_typed():
    config = load_config()
    assert isinstance(config.grading.min_accuracy, float) and isinstance(config.time_limits["train_model"], float)
    assert all(type(p) is int for p in config.points.values())


def test_the_config_command_describes_every_key(capsys):
    assert cli.main(["config"]) == 0
    printed = capsys.readouterr().out
    config = load_config()
    for table in (t for t in fields(config) if not t.metadata.get("derived")):
        assert f"[{table.name}]  # {table.metadata['doc']}" in printed
        value = getattr(config, table.name)
        keys = [f.name for f in fields(value)] if is_dataclass(value) else list(value)
        for key in keys:
            line = next(line for line in printed.splitlines() if line.startswith(f"{key} = "))
            assert len(line.partition("  # ")[2]) > 10, line  # a description, not just a value


def test_the_config_command_refuses_a_bad_config(tmp_path, capsys):
    assert cli.main(["config", "--config", str(_edited(tmp_path, "min_accuracy = 0.97", 'min_accuracy = "high"'))]) == 2
    assert "min_accuracy must be a number" in capsys.readouterr().err
    assert config_doc.describe(load_config())[0].startswith("[grading]")


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("value", ["/nonexistent", "not-an-npz"])
def test_a_bad_mnist_npz_is_one_sentence_and_exit_2(tmp_path, monkeypatch, capsys, lang, value):
    if value == "not-an-npz":
        value = str(tmp_path / "mnist.npz")
        Path(value).write_text("not a zip file")
    monkeypatch.setenv("MNIST_NPZ", value)
    code = cli.main(["--submission", str(ROOT / "solutions"), "--out", str(tmp_path / "out"), "--lang", lang, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and value in err and "Traceback" not in err
    assert err.startswith("No se pudo calificar" if lang == "es" else "Could not grade")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("es", "No se pudo calificar: la configuración {path} no es válida: [grading] min_accuracy debe ser un número, pero es 'high'."),
        ("en", "Could not grade: the configuration {path} is not valid: [grading] min_accuracy must be a number, got 'high'."),
    ],
)
def test_a_bad_config_is_one_sentence_in_the_chosen_language_and_exit_2(tmp_path, capsys, lang, sentence):
    bad = _edited(tmp_path, "min_accuracy = 0.97", 'min_accuracy = "high"')
    argv = ["--submission", str(ROOT / "solutions"), "--out", str(tmp_path / "out"), "--config", str(bad), "--quiet"]
    code = cli.main(argv + (["--lang", lang] if lang != "es" else []))  # Spanish is the default
    assert code == 2 and capsys.readouterr().err.strip() == sentence.format(path=bad)
    assert not (tmp_path / "out").exists()


def _with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = CONFIG_TEXT
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


FIRST_LINE = CONFIG_TEXT.splitlines(keepends=True)[0]
# Every sentence of the config.* catalogue keys: the edit, what it must name (table, key).
CONFIG_ERRORS = {
    "unreadable": ([("[grading]\n", "[grading\n")], "TOML"),
    "not_table": ([(FIRST_LINE, "grading = 3\n"), ("[grading]\n", "[grading_moved]\n")], "[grading]"),
    "wrong_value-integer": ([("seed = 1234", "seed = 1.5")], "[grading] seed"),
    "wrong_value-number": ([("min_accuracy = 0.97", 'min_accuracy = "high"')], "[grading] min_accuracy"),
    "wrong_value-text": ([('minimum = "process"', "minimum = 3")], "[isolation] minimum"),
    "wrong_value-points": ([("history = 4\n", "history = 4.5\n")], "[points] history"),
    "wrong_value-seconds": ([("train_model = 600", "train_model = 0")], "[time_limits] train_model"),
    "one_of": ([('roads = "namespaces"', 'roads = "docker"')], "[isolation] roads"),
    "unknown_keys": ([("[quick]\n", "[quick]\nsubset = 1\n")], "[quick]"),
    "unknown_tables": ([("[partial.compile]\n", "[partial.compiler]\n")], "[partial]"),
    "lacks": ([("predict = 30\n", "")], "[time_limits]"),
    "unknown_steps": ([("[time_limits]\n", "[time_limits]\nfit = 10\n")], "[time_limits]"),
    "unknown_checks": ([("[points]\n", "[points]\nbonus = 1\n")], "[points]"),
    "partial_shares": ([("hidden = 0.2 ", "hidden = -0.2 ")], "[partial.architecture]"),
    "partial_sum": ([("hidden = 0.2 ", "hidden = 0.3 ")], "[partial.architecture]"),
    # Shares below 1 would silently cost every student part of the check's points.
    "partial_sum-below": ([("loss = 0.3 ", "loss = 0.2 ")], "[partial.compile]"),
    "not_numbers": ([("threshold = 0.5", "threshold = -1")], "[similarity]"),
    # A misspelt table would leave its keys unread and the defaults in force: it fails loudly.
    "unknown_file_tables": ([("[grading]\n", "[gradng]\n")], "[gradng]"),
    "free_text": ([("min_sections = 10", "min_sections = 99")], "[exploration]"),
}


def _raised(tmp_path: Path, case: str) -> ConfigError:
    edits, _ = CONFIG_ERRORS[case]
    path = _with(tmp_path, *edits)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return raised.value


@pytest.mark.parametrize("case", CONFIG_ERRORS)
def test_every_config_error_is_one_sentence_in_each_language_naming_file_table_and_key(tmp_path, case):
    error = _raised(tmp_path, case)
    assert error.key == "config." + case.partition("-")[0]
    names = CONFIG_ERRORS[case][1]
    sentences = {lang: error.sentence(lang) for lang in ("es", "en")}
    for sentence in sentences.values():
        assert str(tmp_path / "config.toml") in sentence and names in sentence, sentence
        assert "\n" not in sentence and "{" not in sentence, sentence
    assert sentences["es"].startswith("la configuración") and sentences["en"].startswith("the configuration")
    assert error.detail("es") != error.detail("en")
    assert str(error) == f"{tmp_path / 'config.toml'}: {error.detail('en')}"  # what the instructor's tools print


def test_every_config_sentence_of_the_catalogues_is_reached(tmp_path):
    reached = set()
    for case in CONFIG_ERRORS:
        folder = tmp_path / case
        folder.mkdir()
        error = _raised(folder, case)
        reached |= {error.key} | {p["key"] for p in error.params.values() if isinstance(p, dict)}
    for lang in ("es", "en"):
        assert {k for k in i18n.catalogue(lang) if k.startswith("config.")} == reached, lang


def test_every_setting_has_words_for_its_type():
    from grader import config as config_module

    for table in (config_module.GradingSettings, config_module.IsolationSettings, config_module.QuickSettings):
        for setting in fields(table):
            assert type(setting.default) in config_module.TYPE_WORDS, (table.__name__, setting.name)


def _module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("grader"))
    return found


def test_no_import_cycle_between_the_grader_modules():
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p for p in (ROOT / "grader").rglob("*.py")}
    graph = {name: {m for m in _module_level_imports(path) if m in modules and m != name} for name, path in modules.items()}

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return trail + [start]
                if nxt not in trail and len(trail) < 12:
                    stack.append((nxt, trail + [nxt]))
        return None

    cycles = [c for c in map(cycle_from, sorted(graph)) if c]
    assert not cycles, cycles[0]


def test_the_rubric_is_compiled_and_the_exploration_typed_at_load():
    from grader.answers.exploration import ExplorationSettings
    from grader.answers.rubric import QuestionRubric

    config = load_config()
    assert set(config.answers) == set(spec.ANSWER_IDS) and all(isinstance(r, QuestionRubric) for r in config.answers.values())
    assert isinstance(config.exploration_settings, ExplorationSettings) and config.exploration_settings.exercises


def test_a_config_that_grades_the_code_alone_compiles_no_rubric(tmp_path):
    text = (ROOT / "grader" / "config.toml").read_text(encoding="utf-8")
    code_only = re.sub(r"(?m)^(q[1-7]|exploration) = \d+\n", "", text)
    path = tmp_path / "config.toml"
    path.write_text(code_only, encoding="utf-8")
    config = load_config(path)
    assert config.answers is None and config.exploration_settings is None
    tables = [line for line in config_doc.describe(config) if line.startswith("[")]
    assert not any(line.startswith(("[answers]", "[exploration_settings]")) for line in tables)  # derived, not keys of the file


@pytest.mark.parametrize(("edit", "total"), [(("hidden = 0.2 ", "hidden = 0.1 "), "0.9"), (("hidden = 0.2 ", "hidden = 0.25 "), "1.05")])
def test_partial_shares_must_add_up_to_exactly_one(tmp_path, edit, total):
    with pytest.raises(ConfigError) as raised:
        load_config(_with(tmp_path, edit))
    assert raised.value.key == "config.partial_sum"
    assert total in raised.value.sentence("es") and "no 1" in raised.value.sentence("es")
    assert total in raised.value.sentence("en")


def test_partial_shares_that_add_up_to_one_load_as_written(tmp_path):
    config = load_config(_with(tmp_path, ("hidden = 0.2 ", "hidden = 0.1 "), ("structure = 0.25", "structure = 0.35")))
    assert config.partial.architecture == {"structure": 0.35, "hidden": 0.1, "output": 0.25, "parameters": 0.3}


def test_a_misspelt_table_fails_naming_it_and_the_known_ones(tmp_path):
    error = _raised(tmp_path, "unknown_file_tables")
    sentence = error.sentence("en")
    assert "[gradng]" in sentence and "[grading]" in sentence and "[similarity]" in sentence, sentence
    assert "[answers]" not in sentence  # derived at load, not a table of the file


def test_similarity_is_a_typed_described_table_of_the_config(tmp_path):
    from grader.config import SimilaritySettings
    from grader.instructor import similarity

    config = load_config()
    assert isinstance(config.similarity, SimilaritySettings) and similarity.Settings is SimilaritySettings
    assert config.similarity == SimilaritySettings.from_config(ROOT / "grader" / "config.toml")
    assert all(f.metadata.get("doc") for f in fields(SimilaritySettings))
    path = _with(tmp_path, ("shingle = 4", "shingle = 4.5"))
    with pytest.raises(ConfigError, match="shingle"):
        load_config(path)
