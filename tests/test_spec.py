"""The one spec of steps and checks (grader/spec.py), and what derives from it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import i18n, spec
from grader.config import ConfigError, load_config
from grader.sandbox.observer import Observer

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_IDS = (
    "load_data",
    "show_sample",
    "normalize",
    "architecture",
    "compile",
    "train",
    "evaluate",
    "history",
    "predict",
    "min_accuracy",
    "q1",
    "q2",
    "q3",
    "q4",
    "q5",
    "q6",
    "q7",
    "exploration",
)


def test_the_registry_holds_every_contract_check_in_order():
    assert spec.check_ids() == CONTRACT_IDS
    assert spec.check_by_id("architecture").step == "build_model" and spec.check is spec.check_by_id
    assert spec.check("min_accuracy").step is None


def test_every_check_is_pointed_and_titled_and_every_step_limited():
    config = load_config()
    for check in spec.checks():
        assert check.points_key in config.points, check
        for lang in i18n.LANGUAGES:
            assert i18n.render(lang, check.title_key)
    assert set(config.time_limits) == set(spec.STEP_NAMES)


def test_every_step_runs_an_observer_method():
    for step in spec.STEPS:
        for method in (step.action, step.restore):
            assert method is None or callable(getattr(Observer, method)), (step, method)


def _config_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "grader" / "config.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "config.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_points_of_a_check_no_module_declares_fail_at_load(tmp_path):
    with pytest.raises(ConfigError, match=r"no check module declares: \['bonus'\]"):
        load_config(_config_with(tmp_path, "[points]\n", "[points]\nbonus = 5\n"))


def test_a_code_check_without_points_fails_at_load(tmp_path):
    with pytest.raises(ConfigError, match=r"\[points\] lacks \['history'\]"):
        load_config(_config_with(tmp_path, "history = 4\n", ""))


def test_an_unknown_step_fails_at_declaration():
    with pytest.raises(spec.SpecError, match="unknown step 'fit'"):
        spec.register(spec.Check("never_registered", "fit"))


NEW_CHECK = """
from grader.checks.registry import check


@check("labels_seen", step="load_data")
def test_labels_seen(ctx, verdict):
    verdict.ok("check.ok")
"""

COLLECT = """
import json, sys
from pathlib import Path
from grader import grade, spec
from grader.scoring import result_from_outcomes
from grader.checks.context import GradingContext
from grader.checks.plugin import GradingPlugin
from grader.config import load_config

config = load_config()
plugin = GradingPlugin(GradingContext(config, None, None, None, Path(".")))
grade._run_checks(plugin, Path(sys.argv[1]))
result = result_from_outcomes(plugin.outcomes, config, "en", {}, [])
check = next(c for c in result.checks if c.id == "labels_seen")
print(json.dumps({"ids": spec.check_ids("code"), "max_score": result.max_score, "check": [check.title, check.max_score, check.passed]}))
"""


def test_a_new_check_with_its_own_points_touches_three_files(tmp_path):
    """Done-when of issue 10: the check module, config.toml and the two catalogues, nothing else."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "grader", copy / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    grader = copy / "grader"
    (grader / "checks" / "check_labels.py").write_text(NEW_CHECK, encoding="utf-8")
    config = grader / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[points]\n", "[points]\nlabels_seen = 5\n", 1), encoding="utf-8")
    for lang, title in (("es", "Etiquetas vistas"), ("en", "Labels seen")):
        catalogue = grader / "messages" / lang / "core.toml"
        text, count = re.subn(r"(?m)^\[title\]\n", f'[title]\nlabels_seen = "{title}"\n', catalogue.read_text(encoding="utf-8"))
        assert count == 1
        catalogue.write_text(text, encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = dict(os.environ, PYTHONPATH=str(copy))
    done = subprocess.run([sys.executable, "-c", COLLECT, str(workdir)], cwd=copy, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    # Collected, listed by its module's name: check_data, check_labels, check_model, check_training.
    assert found["ids"][2:5] == ["normalize", "labels_seen", "architecture"]
    assert found["check"] == ["Labels seen", 5, True]  # titled, pointed, run
    assert found["max_score"] == load_config().max_score + 5


def test_step_numbers_titles_and_facts_come_from_the_step_table():
    """Terminal, checks and facts read the step table (grader/spec.py), not tables of their own."""
    from grader import facts, terminal
    from grader.checks import check_training

    assert terminal.STEP_NUMBERS == {name: n for n, name in enumerate(spec.STEP_NAMES) if n}
    assert terminal.STEP_NUMBERS["predict"] == 9 and spec.number_of("import") is None and spec.number_of("nope") is None
    assert terminal.STEP_TITLES["build_model"] == "title.architecture" and terminal.STEP_TITLES[spec.SALVAGE] == "progress.import"
    assert facts.FACTS_OF_STEP[spec.SALVAGE] is facts.ImportFacts and facts.FACTS_OF_STEP["build_model"] is facts.BuildFacts
    assert [p["params"]["number"] for p in check_training.steps_phrase(["normalize", "train_model"])] == [3, 6]
