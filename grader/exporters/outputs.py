"""Every file of the ``--out`` folder, each written by one exporter.

An exporter has a ``files(result, env) -> {name: content}`` method and the
names it writes (``names``). ``EXPORTERS`` is the one list (the platforms'
exporters come from ``grader.platforms.REGISTRY``): ``grade`` writes
the folder by looping over it, and every tool that reads an output file takes
its name from here (``SCORE_JSON``, ``SUMMARY_MD``, ...). A publishing
exporter (a grade for a platform) is skipped for a ``--quick`` self-check.
"""

from __future__ import annotations

import json

from grader import platforms
from grader.exporters import score_json, summary_md
from grader.exporters.protocol import ExportEnv, Exporter
from grader.platforms.classroom50 import exporter as classroom50
from grader.platforms.gradescope import exporter as gradescope
from grader.platforms.legacy_classroom import exporter as legacy_classroom
from grader.results import GradingResult

SCORE_JSON = "score.json"
SUMMARY_MD = "summary.md"
REPORT_JSON = "report.json"
RESULT_JSON = classroom50.RESULT_FILENAME
RELEASE_BODY_MD = classroom50.RELEASE_BODY_FILENAME
GRADESCOPE_JSON = gradescope.GRADESCOPE_JSON
LEGACY_CLASSROOM_B64 = legacy_classroom.LEGACY_CLASSROOM_B64
STUDENT_OUTPUT_TXT = "student-output.txt"


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


# The platforms' exporters under the names this module gave them before they
# moved into their platform packages.
Classroom50 = classroom50.Classroom50Files
Gradescope = gradescope.GradescopeFiles
LegacyClassroom = legacy_classroom.LegacyClassroomFiles


class StudentOutput:
    names, publishing = (STUDENT_OUTPUT_TXT,), False

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {STUDENT_OUTPUT_TXT: env.student_output}


# Files of every grading first, then each platform's (grader.platforms.REGISTRY), then the student's output.
EXPORTERS: tuple[Exporter, ...] = (ScoreJson(), SummaryMd(), ReportJson(), *platforms.exporters(), StudentOutput())
OUTPUT_FILES = tuple(name for exporter in EXPORTERS for name in exporter.names)


def files(result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
    """Every output file of ``result``: name -> content (publishing files only for a full grading)."""
    found: dict[str, str | bytes] = {}
    for exporter in EXPORTERS:
        if exporter.publishing and result.mode != "full":
            continue
        found.update(exporter.files(result, env))
    return found
