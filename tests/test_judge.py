"""judge(): a grade from a hand-written observations record, with neither Keras nor the sandbox (issue 17).

The record is what the observer writes (grader/observations.py); the judge
reads only it, the config and MNIST's test labels. Points are a judging
setting: the same observations judged under other points give other scores,
and nothing is run again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from grader import observations
from grader.config import OBSERVATION_KEYS, load_config, observation_settings
from grader.judge import judge, judge_report
from grader.sandbox.protocol import StepStatus
from grader.sandbox.supervisor import SandboxRun, StepOutcome

ROOT = Path(__file__).resolve().parents[1]
GOOD_NORMALIZE = {"type": "ndarray", "input_unchanged": True, "dtype": "float64", "is_float": True, "min": 0.0, "max": 1.0, "max_error": 0.0}
TEST_SET = (np.zeros((10, 28, 28), dtype="uint8"), np.arange(10) % 10)


def record(tmp_path: Path, outcomes: dict[str, StepOutcome]) -> Path:
    run = SandboxRun(outcomes=outcomes, replaced=set(), state_dir=tmp_path, peak_memory_mb=1.0, workers=1, output_file=tmp_path / "none.txt")
    seen = observations.Observations(run=run, submission=ROOT / "solutions", metrics={"peak_memory_mb": 1.0}, settings=observation_settings(load_config()))
    observations.write(tmp_path / "graded", seen, ROOT / "solutions")
    return tmp_path / "graded"


def outcomes_normalize_only() -> dict[str, StepOutcome]:
    return {
        "import": StepOutcome("import", StepStatus.OK, data={"mode": "import"}),
        "normalize": StepOutcome("normalize", StepStatus.OK, data=GOOD_NORMALIZE),
        "evaluate_model": StepOutcome("evaluate_model", StepStatus.NOT_IMPLEMENTED, error={"type": "NotImplementedError", "message": "", "line": 3}),
    }


def test_a_hand_written_record_is_judged_step_by_step(tmp_path):
    folder = record(tmp_path, outcomes_normalize_only())
    result = judge(observations.read(folder), load_config(), "en", TEST_SET)
    checks = {c.id: c for c in result.checks}
    assert checks["normalize"].score == checks["normalize"].max_score
    assert checks["evaluate"].message_key == "step.not_implemented" and checks["evaluate"].score == 0
    assert checks["load_data"].message_key == "step.not_run" and checks["load_data"].score == 0
    assert checks["min_accuracy"].score == 0  # no checkpoint was kept: nothing to measure
    assert checks["q1"].score == checks["q1"].max_score  # the kept copy of the reference answers


def test_report_json_keeps_one_line_per_failing_check_not_the_checks_source(tmp_path):
    """The raw report lands in the output folder: a failing check is its message, not a traceback of the grader."""
    folder = record(tmp_path, outcomes_normalize_only())
    (tmp_path / "work").mkdir()
    result, report = judge_report(observations.read(folder), load_config(), "en", TEST_SET, tmp_path / "work")
    failed = [t for t in report["tests"] if t["outcome"] == "failed"]
    assert failed and len(failed) == sum(1 for c in result.checks if not c.passed and c.id in {t["metadata"]["check"] for t in failed})
    for test in failed:
        longrepr = test["call"]["longrepr"]
        assert len(longrepr.splitlines()) == 1, longrepr
        assert "CheckFailed" in longrepr and "ctx =" not in longrepr and "def " not in longrepr


def test_a_forged_fact_in_the_record_is_tampered_not_a_crash(tmp_path):
    outcomes = outcomes_normalize_only()
    outcomes["normalize"] = StepOutcome("normalize", StepStatus.OK, data={"type": ["not", "a", "type"]})
    result = judge(observations.read(record(tmp_path, outcomes)), load_config(), "en", TEST_SET)
    assert {c.id: c.message_key for c in result.checks}["normalize"] == "step.tampered"


def test_points_are_a_judging_setting(tmp_path):
    seen = observations.read(record(tmp_path, outcomes_normalize_only()))
    config = load_config()
    doubled = replace(config, points={**config.points, "normalize": config.points["normalize"] * 2})
    first, second = judge(seen, config, "en", TEST_SET), judge(seen, doubled, "en", TEST_SET)
    assert second.score == first.score + config.points["normalize"]
    assert second.max_score == first.max_score + config.points["normalize"]
    assert observation_settings(doubled) == observation_settings(config)  # rejudging it needs no new observation


def test_the_config_split_names_existing_keys_and_leaves_judgement_out():
    config = load_config()
    settings = observation_settings(config)
    assert set(settings) == set(OBSERVATION_KEYS)
    assert settings["grading"]["seed"] == config.grading.seed and "min_accuracy" not in settings["grading"]
    assert "points" not in settings and "rubric" not in settings and "partial" not in settings
    assert settings["time_limits"] == config.time_limits
    assert observation_settings(replace(config, grading=replace(config.grading, seed=1))) != settings


def test_a_missing_or_foreign_record_is_refused(tmp_path):
    with pytest.raises(observations.ObservationsError):
        observations.read(tmp_path)
    (tmp_path / observations.FOLDER).mkdir()
    (tmp_path / observations.FOLDER / observations.RECORD).write_text(json.dumps({"version": 999}))
    with pytest.raises(observations.ObservationsError):
        observations.read(tmp_path)


def test_judging_imports_neither_keras_nor_the_sandbox_runtime(tmp_path):
    folder = record(tmp_path, outcomes_normalize_only())
    code = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from grader import observations\nfrom grader.config import load_config\nfrom grader.judge import judge\n"
        f"result = judge(observations.read(Path({str(folder)!r})), load_config(), 'en', (np.zeros((10, 28, 28), 'uint8'), np.arange(10)))\n"
        "assert result.max_score > 0\n"
        "print(sorted(m for m in ('keras', 'tensorflow', 'grader.sandbox.answerer', 'grader.sandbox.observer') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_an_import_that_timed_out_and_was_salvaged_is_flagged_without_a_made_up_cause(tmp_path, lang):
    # Loose code that hangs at import records a timeout with no exception: the
    # flag says the import failed and the functions were graded alone, and it
    # invents no cause the observer did not see.
    from grader.exporters import summary_md

    outcomes = outcomes_normalize_only()
    outcomes["import"] = StepOutcome("import", StepStatus.TIMEOUT)
    outcomes["import-salvage"] = StepOutcome("import-salvage", StepStatus.OK, data={"mode": "salvage"})
    folder = record(tmp_path, outcomes)
    seen = observations.read(folder)
    seen.flags = ["import_salvaged"]
    result = judge(seen, load_config(), lang, TEST_SET)
    assert result.flags == ["import_salvaged"] and result.flag_details == {}
    assert result.flag_message("import_salvaged") == ("flag.import_salvaged", {})
    summary = summary_md.render(result)
    sentence = "falló al importarse; se calificaron solo sus funciones" if lang == "es" else "failed on import; only its functions were graded"
    assert sentence in summary and "Causa" not in summary and "Cause:" not in summary
