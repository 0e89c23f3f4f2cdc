"""Exporters for Classroom 50, Gradescope and the legacy GitHub Classroom
reporter: schema validity, score arithmetic, names, types and golden files.

Regenerate the golden files with ``UPDATE_GOLDEN=1 python -m pytest
tests/test_exporters.py`` and review the diff.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from grader.exporters import classroom50, gradescope, legacy_classroom
from grader.results import CheckResult, GradingResult

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "grader" / "schemas"
GOLDEN = Path(__file__).resolve().parent / "golden"

NOW = dt.datetime(2026, 6, 1, 14, 32, 1, tzinfo=dt.UTC)
SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
ENV = {
    "CLASSROOM": "ml-2026",
    "ASSIGNMENT": "mnist-dense",
    "SUBMISSION_TAG": "submit/2026-06-01T14-32-05Z-a1b2c3d",
    "GITHUB_REPOSITORY": "ml-course/ml-2026-mnist-dense-alice",
    "GITHUB_SHA": SHA,
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_ACTOR": "alice",
    "GITHUB_ACTOR_ID": "1234567",
    "MODE": "individual",
    "REVIEW_URL": f"https://github.com/ml-course/ml-2026-mnist-dense-alice/compare/0f0f0f0...{SHA}",
}


def make_result() -> GradingResult:
    return GradingResult(
        score=19,
        max_score=40,
        checks=[
            CheckResult(
                id="normalize",
                title="Normalización de los píxeles",
                score=10,
                max_score=10,
                passed=True,
                message="Los píxeles quedan en [0, 1].",
                message_key="normalize.ok",
            ),
            CheckResult(
                id="architecture",
                title="Arquitectura del modelo",
                score=9,
                max_score=18,
                passed=False,
                message="La capa oculta tiene 64 neuronas; se esperaban 128.",
                message_key="architecture.hidden_units",
                message_params={"got": 64, "want": 128},
            ),
            CheckResult(
                id="compile",
                title="Compilación",
                score=0,
                max_score=12,
                passed=False,
                message="Falta la métrica «accuracy».",
                message_key="compile.metric_missing",
                message_params={"metric": "accuracy"},
            ),
        ],
        metrics={"test_accuracy": 0.9712, "grading_seconds": 42.4, "train_seconds": 30.1},
        flags=[],
    )


def schema(name: str) -> jsonschema.Draft202012Validator:
    document = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def assert_valid(validator: jsonschema.Draft202012Validator, instance: Any) -> None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def is_int(value: Any) -> bool:
    return type(value) is int


def golden(name: str, actual: Any) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert actual == json.loads(path.read_text(encoding="utf-8"))


# --- Classroom 50 --------------------------------------------------------


def test_classroom50_result_is_valid_and_adds_up():
    result = make_result()
    doc = classroom50.to_result_json(result, ENV, now=NOW)
    assert_valid(schema("classroom50-result-v1.schema.json"), doc)
    assert doc["schema"] == "classroom50/result/v1"
    assert (doc["score"], doc["max-score"]) == (19, 40)
    assert sum(t["score"] for t in doc["tests"]) == result.score
    assert sum(t["max-score"] for t in doc["tests"]) == result.max_score
    # The cross-field rules runner.py's validate_result adds to the schema.
    assert doc["score"] <= doc["max-score"]
    assert all(t["score"] <= t["max-score"] for t in doc["tests"])
    for value in [doc["score"], doc["max-score"]] + [t[k] for t in doc["tests"] for k in ("score", "max-score")]:
        assert is_int(value)
    assert all(type(t["passed"]) is bool for t in doc["tests"])
    assert [t["passed"] for t in doc["tests"]] == [True, False, False]


def test_classroom50_fields_come_from_the_environment():
    doc = classroom50.to_result_json(make_result(), ENV, now=NOW)
    assert doc["classroom"] == "ml-2026"
    assert doc["assignment"] == "mnist-dense"
    assert doc["submission"] == ENV["SUBMISSION_TAG"]
    assert doc["owner"] == "alice"  # from <classroom>-<assignment>-<user>
    assert doc["assignment_type"] == "individual"
    assert doc["commit"] == f"https://github.com/ml-course/ml-2026-mnist-dense-alice/commit/{SHA}"
    assert doc["release"] == ("https://github.com/ml-course/ml-2026-mnist-dense-alice/releases/tag/submit%2F2026-06-01T14-32-05Z-a1b2c3d")
    assert doc["review"] == ENV["REVIEW_URL"]
    assert doc["datetime"] == doc["graded_at"] == "2026-06-01T14:32:01Z"
    assert doc["submitted_by"] == {"username": "alice", "id": 1234567}

    given = dict(
        ENV,
        COMMIT_URL="https://example.test/c",
        RELEASE_URL="https://example.test/r",
        OWNER="bob",
        ASSIGNMENT_TYPE="group",
    )
    doc = classroom50.to_result_json(make_result(), given, now=NOW)
    assert (doc["commit"], doc["release"]) == ("https://example.test/c", "https://example.test/r")
    assert (doc["owner"], doc["assignment_type"]) == ("bob", "group")


def test_classroom50_without_environment_is_still_valid():
    doc = classroom50.to_result_json(make_result(), {}, now=NOW)
    assert_valid(schema("classroom50-result-v1.schema.json"), doc)
    assert doc["submission"].startswith("submit/")
    assert doc["review"] == doc["commit"]
    assert "submitted_by" not in doc
    # A tag the runner would never hand over is replaced, not copied.
    doc = classroom50.to_result_json(make_result(), {"SUBMISSION_TAG": "v1", "GITHUB_SHA": SHA}, now=NOW)
    assert doc["submission"] == "submit/local-a1b2c3d"
    assert_valid(schema("classroom50-result-v1.schema.json"), doc)
    # A naive time is read as UTC.
    doc = classroom50.to_result_json(make_result(), {}, now=NOW.replace(tzinfo=None))
    assert doc["datetime"] == "2026-06-01T14:32:01Z"


def test_classroom50_unknown_mode_is_individual():
    doc = classroom50.to_result_json(make_result(), dict(ENV, MODE="team"), now=NOW)
    assert doc["assignment_type"] == "individual"


def test_classroom50_release_body():
    result = make_result()
    body = classroom50.release_body(result, "## Resultado\n\n| a | b |\n")
    assert body.startswith("### classroom50 autograde: 19/40\n\n## Resultado")
    assert body.endswith("| a | b |\n")
    table = classroom50.release_body(result, "  \n")
    assert "| Arquitectura del modelo | FAIL | 9 / 18 |" in table
    assert "| Normalización de los píxeles | PASS | 10 / 10 |" in table
    huge = classroom50.release_body(result, "x" * 200_000)
    assert len(huge) <= classroom50.MAX_RELEASE_BODY_CHARS


def test_golden_classroom50():
    golden("classroom50-result.json", classroom50.to_result_json(make_result(), ENV, now=NOW))


# --- Gradescope ------------------------------------------------------------


def test_gradescope_is_valid_and_adds_up():
    result = make_result()
    doc = gradescope.to_gradescope(result)
    assert_valid(schema("gradescope-results.schema.json"), doc)
    assert doc["score"] == result.score
    assert sum(t["score"] for t in doc["tests"]) == result.score
    assert sum(t["max_score"] for t in doc["tests"]) == result.max_score
    assert [t["status"] for t in doc["tests"]] == ["passed", "failed", "failed"]
    assert doc["tests"][1]["output"] == result.checks[1].message
    assert doc["tests"][1]["extra_data"]["id"] == "architecture"
    assert doc["execution_time"] == 42
    assert all(is_int(t["score"]) and is_int(t["max_score"]) for t in doc["tests"])


def test_gradescope_schema_rejects_what_gradescope_documents_as_wrong():
    validator = schema("gradescope-results.schema.json")
    assert not validator.is_valid({"tests": [{"name": "no score anywhere"}]})
    assert not validator.is_valid({"score": 1, "tests": [{"status": "pass"}]})
    assert not validator.is_valid({"score": 1, "visibility": "sometimes"})
    assert validator.is_valid({"score": 1, "tests": [{"name": "info", "status": "passed"}]})


def test_golden_gradescope():
    golden("gradescope.json", gradescope.to_gradescope(make_result()))


# --- Legacy GitHub Classroom -------------------------------------------------


def test_legacy_payload_is_valid_and_decodes():
    result = make_result()
    payload = legacy_classroom.to_legacy_payload(result)
    assert_valid(schema("legacy-classroom-payload.schema.json"), payload)
    assert payload["status"] == "fail"
    assert payload["max_score"] == result.max_score
    assert sum(t["score"] for t in payload["tests"]) == result.score
    assert all(is_int(t["score"]) for t in payload["tests"]) and is_int(payload["max_score"])

    encoded = legacy_classroom.encode(payload)
    assert "\n" not in encoded
    # Decoded the way the reporter does: base64 -> UTF-8 -> JSON.
    assert json.loads(base64.b64decode(encoded).decode("utf-8")) == payload
    assert legacy_classroom.decode(encoded) == payload
    assert legacy_classroom.output_line(payload) == f"result={encoded}"
    assert legacy_classroom.results_env_var(" mnist-grader ") == "MNIST-GRADER_RESULTS"


def test_legacy_status():
    result = make_result()
    passed = replace(
        result,
        score=40,
        checks=[replace(c, score=c.max_score, passed=True) for c in result.checks],
    )
    assert legacy_classroom.to_legacy_payload(passed)["status"] == "pass"
    empty = replace(result, score=0, max_score=0, checks=[])
    assert legacy_classroom.to_legacy_payload(empty)["status"] == "error"


def test_legacy_notices():
    result = make_result()
    assert legacy_classroom.points_notice(result) == "::notice title=Autograding complete::Points 19/40"
    assert legacy_classroom.report_notice(result) == ('::notice title=Autograding report::{"totalPoints":19,"maxPoints":40}')
    nothing = replace(result, score=0, max_score=0, checks=[])
    assert legacy_classroom.points_notice(nothing) == ""
    assert legacy_classroom.report_notice(nothing) == ""


def test_golden_legacy():
    payload = legacy_classroom.to_legacy_payload(make_result())
    golden("legacy-payload.json", payload)
    assert legacy_classroom.decode(legacy_classroom.encode(payload)) == payload


# --- Shared rules ----------------------------------------------------------------


def exports(result: GradingResult) -> dict[str, list[str]]:
    return {
        "classroom50": [t["test-name"] for t in classroom50.to_result_json(result, ENV, now=NOW)["tests"]],
        "gradescope": [t["name"] for t in gradescope.to_gradescope(result)["tests"]],
        "legacy": [t["name"] for t in legacy_classroom.to_legacy_payload(result)["tests"]],
    }


def test_names_are_unique_and_clean_in_every_format():
    result = make_result()
    a, b, c = result.checks
    clashing = replace(
        result,
        checks=[
            replace(a, title="Pregunta"),
            replace(b, title="Pregunta"),
            replace(c, title="Línea 1\nLínea 2\t", id="architecture"),
        ],
    )
    for fmt, names in exports(clashing).items():
        assert len(set(names)) == len(names), fmt
        assert names == ["Pregunta (normalize)", "Pregunta (architecture)", "Línea 1 Línea 2"], fmt
    twins = replace(result, checks=[replace(a, title="Same", id="x"), replace(b, title="Same", id="x"), c])
    for fmt, names in exports(twins).items():
        assert names[:2] == ["Same (x)", "Same (x) #2"], fmt
    untitled = replace(result, checks=[replace(a, title=" "), b, c])
    for fmt, names in exports(untitled).items():
        assert names[0] == "normalize", fmt


@pytest.mark.parametrize(
    "export",
    [
        lambda r: classroom50.to_result_json(r, ENV, now=NOW),
        gradescope.to_gradescope,
        legacy_classroom.to_legacy_payload,
    ],
    ids=["classroom50", "gradescope", "legacy"],
)
def test_inconsistent_totals_are_refused(export):
    result = make_result()
    with pytest.raises(ValueError):
        export(replace(result, score=20))
    with pytest.raises(ValueError):
        export(replace(result, checks=[replace(result.checks[0], score=11), *result.checks[1:]]))


def test_classroom50_rounds_fractional_points_and_refuses_inconsistent_ones():
    result = make_result()
    a, b, c = result.checks
    inconsistent = replace(result, checks=[a, replace(b, score=9.5), c])  # 19.5 != 19
    with pytest.raises(ValueError):
        classroom50.to_result_json(inconsistent, ENV, now=NOW)
    fractional = replace(result, score=19.75, checks=[a, replace(b, score=9.5), replace(c, score=0.25)])
    doc = classroom50.to_result_json(fractional, ENV, now=NOW)
    assert [t["score"] for t in doc["tests"]] == [10, 10, 0] and doc["score"] == 20
    whole = replace(result, score=19.0, checks=[replace(result.checks[0], score=10.0), *result.checks[1:]])
    doc = classroom50.to_result_json(whole, ENV, now=NOW)
    assert is_int(doc["score"]) and is_int(doc["tests"][0]["score"])
