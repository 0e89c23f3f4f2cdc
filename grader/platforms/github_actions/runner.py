"""GitHub Actions glue for ``.github/workflows/grade.yml``: ``python -m grader.actions``.

Runs in its own workflow step, after the grading step and outside its
``::stop-commands::`` guard, and reads only what the grader wrote:

* appends ``summary.md`` to the job summary (``$GITHUB_STEP_SUMMARY``);
* sets the step outputs ``result`` (the legacy GitHub Classroom payload, the
  base64 line of ``legacy-classroom.b64``), ``points`` and ``max`` (the
  platforms' whole points) and ``exact`` (score.json's own score, fractional
  when a check earned part of its points: what "full marks" is judged on) in
  ``$GITHUB_OUTPUT``;
* prints the legacy reporter's notices, ``::notice title=Autograding
  complete::Points X/Y`` and ``::notice title=Autograding report::{...}``,
  taken from ``score.json``.

Paths come from the environment: ``GRADING_DIR`` (default ``grading``),
``GITHUB_STEP_SUMMARY`` and ``GITHUB_OUTPUT`` (skipped when unset, so the
command also works on a laptop). Exit status: 0 when the grade was
published, 1 when the grading folder is missing or inconsistent (the job
summary then says so).

A legacy reporter step reads the payload when this step's id is the
reporter's runner id, e.g. with ``id: mnist``::

    - uses: classroom-resources/autograding-grading-reporter@v1
      env:
        MNIST_RESULTS: ${{ steps.mnist.outputs.result }}
      with:
        runners: mnist
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path

from grader import i18n
from grader.exporters import legacy_classroom
from grader.exporters.escape import markdown_code, workflow_data, workflow_property
from grader.exporters.outputs import LEGACY_CLASSROOM_B64, SCORE_JSON, SUMMARY_MD
from grader.results import GradingResult, whole_points

DEFAULT_GRADING_DIR = "grading"
SCORE_FILE = SCORE_JSON
SUMMARY_FILE = SUMMARY_MD
PAYLOAD_FILE = LEGACY_CLASSROOM_B64


class ActionsError(RuntimeError):
    """The grading folder is missing or its files disagree."""


def grading_dir(argv_value: str | None = None) -> Path:
    return Path(argv_value or os.environ.get("GRADING_DIR") or DEFAULT_GRADING_DIR)


def exact_points(score: int | float) -> str:
    """score.json's score as text, never rounded (99.5 stays 99.5; 100 is 100)."""
    return str(score) if isinstance(score, int) else repr(float(score))


def load(folder: Path) -> tuple[GradingResult, str, str, str]:
    """The whole-point result, the legacy payload (base64), summary.md and the exact score of ``folder``.

    Raises ActionsError when a file is missing or the payload's points do not
    match score.json.
    """
    score_path = folder / SCORE_FILE
    if not score_path.is_file():
        raise ActionsError(str(score_path))
    # The platforms' whole points (the payload's and the step outputs').
    exact = GradingResult.from_dict(json.loads(score_path.read_text(encoding="utf-8")))
    result = whole_points(exact)
    payload_path = folder / PAYLOAD_FILE
    if not payload_path.is_file():
        raise ActionsError(str(payload_path))
    encoded = payload_path.read_text(encoding="ascii").strip()
    payload = legacy_classroom.decode(encoded)
    points = sum(int(test.get("score", 0)) for test in payload.get("tests", []))
    if (points, payload.get("max_score")) != (result.score, result.max_score):
        raise ActionsError(f"{payload_path} says {points}/{payload.get('max_score')}, {score_path} says {result.score}/{result.max_score}")
    summary_path = folder / SUMMARY_FILE
    summary = summary_path.read_text(encoding="utf-8") if summary_path.is_file() else ""
    return result, encoded, summary, exact_points(exact.score)


def append(path: str | None, text: str) -> None:
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def output_lines(outputs: dict[str, str]) -> str:
    """``$GITHUB_OUTPUT`` lines; a value with a line break uses a delimiter."""
    lines = []
    for name, value in outputs.items():
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            lines.append(f"{name}={value}\n")
    return "".join(lines)


def publish(folder: Path, env: dict[str, str] | None = None, out=None) -> int:
    env = dict(os.environ if env is None else env)
    out = out or sys.stdout
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    try:
        result, encoded, summary, exact = load(folder)
    except (ActionsError, ValueError, KeyError, TypeError) as error:
        lang = env.get("GRADER_LANG", "es")
        append(summary_file, i18n.render(lang if lang in i18n.LANGUAGES else "es", "summary.not_graded", path=markdown_code(error)))
        print(f"::error title={workflow_property('Calificación automática')}::{legacy_classroom_data(str(error))}", file=out)
        return 1
    if summary and not summary.endswith("\n"):
        summary += "\n"
    append(summary_file, summary)
    outputs = {"result": encoded, "points": str(result.score), "max": str(result.max_score), "exact": exact}
    append(env.get("GITHUB_OUTPUT"), output_lines(outputs))
    for line in (legacy_classroom.points_notice(result), legacy_classroom.report_notice(result)):
        if line:
            print(line, file=out)
    out.flush()
    return 0


def legacy_classroom_data(text: str) -> str:
    """A workflow command's message: % CR LF escaped, as @actions/core does."""
    return workflow_data(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader.actions",
        description="Publish a grading folder in a GitHub Actions job: job summary, step outputs result/points/max and the legacy Classroom notices.",
    )
    parser.add_argument("--grading", default=None, help="grading folder (default: $GRADING_DIR or grading)")
    args = parser.parse_args(argv)
    return publish(grading_dir(args.grading))


if __name__ == "__main__":
    sys.exit(main())
