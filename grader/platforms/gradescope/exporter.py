"""Gradescope exporter: ``results.json`` from a :class:`~grader.results.GradingResult`.

Format: Gradescope's "Autograder Specifications" (gradescope/autograder_samples,
``docs/specs.md``). The harness runs ``/autograder/run_autograder`` with
``/autograder`` as working directory and uploads
``/autograder/results/results.json``. A top-level ``score`` overrides the sum
of the tests; ``status`` (``"passed"``/``"failed"``) overrides the default
"full marks means passed"; ``output`` is the only text students see (stdout
stays instructor-only unless ``stdout_visibility`` says otherwise), and
``extra_data`` is stored but not shown.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

from grader.config import GradescopeSettings
from grader.exporters.common import check_totals, refuse_quick, unique_names
from grader.exporters.protocol import ExportEnv, json_text
from grader.results import GradingResult

# "text" renders no HTML, Markdown or ANSI: the catalogue's messages are shown
# exactly as written.
TEXT_FORMAT = "text"
GRADESCOPE_JSON = "gradescope.json"  # copied to results.json by the runner


def to_gradescope(result: GradingResult, visibility: GradescopeSettings | None = None) -> dict[str, Any]:
    """The ``results.json`` document for ``result``.

    ``visibility`` (``[gradescope]`` of the config) sets the document's
    default ``visibility`` and each test's own; Gradescope accepts "hidden",
    "after_due_date", "after_published" and "visible".

    Test names are distinct; each test carries its check's score, maximum,
    pass/fail status and message. Flags, metrics, the language and the
    isolation level go into the top-level ``extra_data`` (kept for
    instructors, never shown to students).
    Raises ``ValueError`` when the checks do not add up to the result's score,
    and ``UnpublishableResult`` for a quick result.
    """
    refuse_quick(result)
    check_totals(result)
    visibility = visibility or GradescopeSettings()
    tests = [
        {
            "name": name,
            "score": check.score,
            "max_score": check.max_score,
            "status": "passed" if check.passed else "failed",
            "output": check.message,
            "visibility": visibility.of(check.id),
            "extra_data": {
                "id": check.id,
                "message_key": check.message_key,
                "message_params": dict(check.message_params),
            },
        }
        for name, check in zip(unique_names(result.checks), result.checks)
    ]
    document: dict[str, Any] = {
        "score": result.score,
        "visibility": visibility.visibility,
        "test_output_format": TEXT_FORMAT,
        "test_name_format": TEXT_FORMAT,
        "tests": tests,
        "extra_data": {
            "max_score": result.max_score,
            "flags": list(result.flags),
            "metrics": dict(result.metrics),
            "language": result.language,
        },
    }
    if result.isolation:  # the level the student's code ran at (grader/sandbox/isolation.py)
        document["extra_data"]["isolation"] = result.isolation
    seconds = result.metrics.get("grading_seconds")
    if isinstance(seconds, Real) and not isinstance(seconds, bool) and seconds >= 0:
        document["execution_time"] = round(float(seconds))
    return document


class GradescopeFiles:
    """``gradescope.json``: the results.json the Gradescope runner hands over."""

    names, publishing = (GRADESCOPE_JSON,), True

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {GRADESCOPE_JSON: json_text(to_gradescope(result, env.gradescope))}
