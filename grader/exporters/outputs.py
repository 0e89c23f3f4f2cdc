"""Every file of the ``--out`` folder, each written by one exporter.

An exporter has a ``files(result, env) -> {name: content}`` method and the
names it writes (``names``). ``EXPORTERS`` is the one list: ``grade`` writes
the folder by looping over it, and every tool that reads an output file takes
its name from here (``SCORE_JSON``, ``SUMMARY_MD``, ...). A publishing
exporter (a grade for a platform) is skipped for a ``--quick`` self-check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from grader.config import GradescopeSettings
from grader.exporters import classroom50, gradescope, legacy_classroom, score_json, summary_md
from grader.results import GradingResult

SCORE_JSON = "score.json"
SUMMARY_MD = "summary.md"
REPORT_JSON = "report.json"
RESULT_JSON = classroom50.RESULT_FILENAME
RELEASE_BODY_MD = classroom50.RELEASE_BODY_FILENAME
GRADESCOPE_JSON = "gradescope.json"
LEGACY_CLASSROOM_B64 = "legacy-classroom.b64"
STUDENT_OUTPUT_TXT = "student-output.txt"


@dataclass(frozen=True)
class ExportEnv:
    """What the files need besides the result."""

    environ: Mapping[str, str] = field(default_factory=dict)  # the run's variables (Classroom 50 reads GITHUB_*)
    report: dict[str, Any] = field(default_factory=dict)  # report.json as pytest-json-report wrote it
    student_output: bytes = b""  # what the student's code printed, already cut to output_limit_kb
    gradescope: GradescopeSettings | None = None  # [gradescope] of the config: visibility of the tests


class Exporter(Protocol):
    names: tuple[str, ...]
    publishing: bool  # a grade for a platform: never written for a quick self-check

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]: ...


def _json(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


class ScoreJson:
    names, publishing = (SCORE_JSON,), False

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {SCORE_JSON: score_json.dumps(result)}


class SummaryMd:
    names, publishing = (SUMMARY_MD,), False

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {SUMMARY_MD: summary_md.render(result)}


class ReportJson:
    names, publishing = (REPORT_JSON,), False

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {REPORT_JSON: json.dumps(env.report, indent=1)}


class Classroom50:
    names, publishing = (RESULT_JSON, RELEASE_BODY_MD), True

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {
            RESULT_JSON: _json(classroom50.to_result_json(result, env.environ)),
            RELEASE_BODY_MD: classroom50.release_body(result, summary_md.render(result)),
        }


class Gradescope:
    names, publishing = (GRADESCOPE_JSON,), True

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {GRADESCOPE_JSON: _json(gradescope.to_gradescope(result, env.gradescope))}


class LegacyClassroom:
    names, publishing = (LEGACY_CLASSROOM_B64,), True

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {LEGACY_CLASSROOM_B64: legacy_classroom.encode(legacy_classroom.to_legacy_payload(result)) + "\n"}


class StudentOutput:
    names, publishing = (STUDENT_OUTPUT_TXT,), False

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {STUDENT_OUTPUT_TXT: env.student_output}


EXPORTERS: tuple[Exporter, ...] = (ScoreJson(), SummaryMd(), ReportJson(), Classroom50(), Gradescope(), LegacyClassroom(), StudentOutput())
OUTPUT_FILES = tuple(name for exporter in EXPORTERS for name in exporter.names)


def files(result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
    """Every output file of ``result``: name -> content (publishing files only for a full grading)."""
    found: dict[str, str | bytes] = {}
    for exporter in EXPORTERS:
        if exporter.publishing and result.mode != "full":
            continue
        found.update(exporter.files(result, env))
    return found
