"""What an exporter is: ``files(result, env) -> {name: content}`` and the names it writes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from grader.config import GradescopeSettings
from grader.results import GradingResult


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


def json_text(document: Any) -> str:
    """A JSON output file: UTF-8 text, indented, ending in a newline."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
