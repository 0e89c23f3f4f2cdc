"""Legacy GitHub Classroom exporter: the runner payload read by
``classroom-resources/autograding-grading-reporter``.

Contract (classroom-resources/autograding-io-grader ``src/main.js`` and
autograding-grading-reporter ``src/main.js``, ``src/notify-classroom.js``):

* a runner step sets its output ``result`` to base64 of the JSON
  ``{"version": 1, "status": "pass"|"fail"|"error", "max_score": N,
  "tests": [{"name", "status", "message", "test_code", "filename",
  "line_no", "duration", "score"}]}``;
* the reporter step gets it in the environment variable
  ``<RUNNER-ID upper-cased>_RESULTS`` and the id in its ``runners`` input
  (comma separated), base64-decodes it as UTF-8 and parses the JSON;
* it adds ``max_score`` of every runner that has one and the ``score`` of
  each of its tests; when the maximum is not zero it prints
  ``::notice title=Autograding complete::Points X/Y`` and
  ``::notice title=Autograding report::{"totalPoints":X,"maxPoints":Y}``;
* any runner with status ``fail`` (or else ``error``) fails the job.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from grader.exporters.common import check_totals, refuse_quick, unique_names
from grader.exporters.escape import workflow_data, workflow_property
from grader.exporters.protocol import ExportEnv
from grader.results import GradingResult, whole_points

VERSION = 1
LEGACY_CLASSROOM_B64 = "legacy-classroom.b64"  # the payload line grader.actions publishes
OUTPUT_NAME = "result"
COMPLETE_TITLE = "Autograding complete"
REPORT_TITLE = "Autograding report"


def to_legacy_payload(result: GradingResult) -> dict[str, Any]:
    """The runner payload for ``result``: one test per check.

    ``status`` is ``pass`` when every check passed, ``fail`` otherwise, and
    ``error`` for a result with no checks (nothing was graded). The tests'
    scores add up to ``result.score`` and ``max_score`` is
    ``result.max_score``, so the reporter's "Points X/Y" is the grade.
    Points are whole (:func:`~grader.results.whole_points`), like the
    reporter's "Points X/Y". Raises ``ValueError`` when the checks do not add up,
    and ``UnpublishableResult`` for a quick result.
    """
    refuse_quick(result)
    check_totals(result)
    result = whole_points(result)
    if not result.checks:
        status = "error"
    elif all(c.passed for c in result.checks):
        status = "pass"
    else:
        status = "fail"
    return {
        "version": VERSION,
        "status": status,
        "max_score": result.max_score,
        "tests": [
            {
                "name": name,
                "status": "pass" if check.passed else "fail",
                "message": check.message,
                "test_code": "",
                "filename": "",
                "line_no": 0,
                "duration": 0,
                "score": check.score,
            }
            for name, check in zip(unique_names(result.checks), result.checks)
        ],
    }


def encode(payload: dict[str, Any]) -> str:
    """Base64 of the payload's compact UTF-8 JSON (what the runners'
    ``btoa(JSON.stringify(result))`` produces), on one line."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode(encoded: str) -> dict[str, Any]:
    """What the reporter does: base64 → UTF-8 → JSON."""
    return json.loads(base64.b64decode(encoded).decode("utf-8"))


def output_line(payload: dict[str, Any]) -> str:
    """The ``$GITHUB_OUTPUT`` line that sets the step output ``result``."""
    return f"{OUTPUT_NAME}={encode(payload)}"


def results_env_var(runner_id: str) -> str:
    """The variable the reporter reads for a runner step id, e.g.
    ``mnist-grader`` → ``MNIST-GRADER_RESULTS``."""
    return f"{runner_id.strip().upper()}_RESULTS"


def points_notice(result: GradingResult) -> str:
    """The reporter's ``::notice title=Autograding complete::Points X/Y``
    line, or ``""`` when the maximum is 0 (the reporter then prints none)."""
    if not result.max_score:
        return ""
    result = whole_points(result)
    return _notice(COMPLETE_TITLE, f"Points {result.score}/{result.max_score}")


def report_notice(result: GradingResult) -> str:
    """The reporter's ``::notice title=Autograding report::`` line with
    ``{"totalPoints":X,"maxPoints":Y}``, or ``""`` when the maximum is 0."""
    if not result.max_score:
        return ""
    result = whole_points(result)
    summary = json.dumps(
        {"totalPoints": result.score, "maxPoints": result.max_score},
        separators=(",", ":"),
    )
    return _notice(REPORT_TITLE, summary)


def _notice(title: str, message: str) -> str:
    # @actions/core's issueCommand: data escapes % CR LF; a property value
    # also escapes : and ,.
    return f"::notice title={workflow_property(title)}::{workflow_data(message)}"


class LegacyClassroomFiles:
    """``legacy-classroom.b64``: the payload the legacy reporter reads from a step output."""

    names, publishing = (LEGACY_CLASSROOM_B64,), True

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {LEGACY_CLASSROOM_B64: encode(to_legacy_payload(result)) + "\n"}
