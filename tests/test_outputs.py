"""The output files: one list of exporters, the file names a fixed contract."""

from __future__ import annotations

import ast
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from grader import actions, i18n
from grader.exporters import outputs
from grader.results import CheckResult, GradingResult

ROOT = Path(__file__).resolve().parents[1]
# The contract (README, workflows, platforms): these names, exactly.
CONTRACT_FILES = (
    "score.json",
    "summary.md",
    "report.json",
    "result.json",
    "release-body.md",
    "gradescope.json",
    "legacy-classroom.b64",
    "student-output.txt",
)
PUBLISHING = {"result.json", "release-body.md", "gradescope.json", "legacy-classroom.b64"}


def result(mode: str = "full") -> GradingResult:
    params = {"function": "normalize", "error_type": "ValueError", "error_message": "bad", "line": 12}
    check = CheckResult(
        "normalize",
        i18n.render("es", "title.normalize"),
        0,
        10,
        False,
        i18n.render("es", "step.error", **params),
        "step.error",
        params,
    )
    return GradingResult(0, 10, [check], {"test_accuracy": None}, mode=mode)


def test_the_exporters_write_exactly_the_contract_files():
    assert set(outputs.OUTPUT_FILES) == set(CONTRACT_FILES) and len(outputs.OUTPUT_FILES) == len(CONTRACT_FILES)
    env = outputs.ExportEnv({}, {"tests": []}, b"printed\n")
    files = outputs.files(result(), env)
    assert list(files) == list(outputs.OUTPUT_FILES)
    assert files["student-output.txt"] == b"printed\n" and json.loads(files["report.json"]) == {"tests": []}
    assert {name for e in outputs.EXPORTERS if e.publishing for name in e.names} == PUBLISHING


def test_a_quick_result_gets_no_publishing_file():
    files = outputs.files(result("quick"), outputs.ExportEnv())
    assert set(files) == set(CONTRACT_FILES) - PUBLISHING


def test_score_json_keeps_the_message_parameters_to_re_render_it_in_another_language():
    original = result()
    score = json.loads(outputs.files(original, outputs.ExportEnv())["score.json"])
    check = score["checks"][0]
    assert check["message_params"] == original.checks[0].message_params
    english = i18n.render("en", check["message_key"], **check["message_params"])
    assert "normalize" in english and english != check["message"]
    assert GradingResult.from_dict(score) == replace(original)


def test_the_standalone_classroom50_autograder_uses_the_same_names():
    """autograder.py runs before the grader is importable, so it spells the names itself: keep them equal."""
    tree = ast.parse((ROOT / "grader" / "platforms" / "classroom50" / "autograder.py").read_text(encoding="utf-8"))
    constants = {
        t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)
    }
    assert (constants["RESULT"], constants["RELEASE_BODY"]) == (outputs.RESULT_JSON, outputs.RELEASE_BODY_MD)


@pytest.mark.parametrize(("lang", "start"), [("es", "## Calificación automática"), ("en", "## Automatic grading")])
def test_the_job_summary_of_an_ungraded_submission_follows_the_language(tmp_path, lang, start):
    summary = tmp_path / "summary"
    out = io.StringIO()
    assert actions.publish(tmp_path / "grading", {"GITHUB_STEP_SUMMARY": str(summary), "GRADER_LANG": lang}, out) == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith(start) and f"{tmp_path / 'grading' / outputs.SCORE_JSON}" in text
