"""Score every free-text file of a submission: the answers q1..q7 and the
exploration sheet, in a child process under a time limit.

The files are capped in size (``[rubric] max_file_kb``) and parsed in linear
time, so scoring takes milliseconds; the child process is the guarantee
that no file (and no rubric regex an instructor writes) can hold a grading
longer than ``[rubric] time_limit`` seconds: on time-out it is killed and
every free-text check scores 0 with a message saying why.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.answers.exploration import (
    ExplorationScore,
    ExplorationSettings,
    score_exploration,
)
from grader.answers.markdown import FileTooLarge, read_answer
from grader.answers.rubric import (
    QUESTION_IDS,
    AnswerScore,
    AnswerSettings,
    load_rubric,
    score_answer,
    unscored,
)

ANSWERS_DIR = "answers"  # inside the submission folder (assignment/)
SHEET = "exploration.md"
# The folder that holds the grader package, put first on the child's path
# (the child runs isolated: no working folder, no PYTHONPATH).
PACKAGE_PARENT = Path(__file__).resolve().parents[2]
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from grader.answers.freetext import serve; serve()"
)


@dataclass
class FreeTextScores:
    answers: dict[str, AnswerScore]  # by question id
    texts: dict[str, str]  # the answer as read, for the instructor's review
    exploration: ExplorationScore

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> FreeTextScores:
        data = json.loads(text)
        exploration = dict(data["exploration"])
        exploration["words"] = {int(k): v for k, v in exploration["words"].items()}
        return cls(
            answers={q: AnswerScore(**a) for q, a in data["answers"].items()},
            texts=dict(data["texts"]),
            exploration=ExplorationScore(**exploration),
        )


def _kib(size: int) -> int:
    return -(-size // 1024)


def score_submission(
    submission: str | Path, rubric_table: dict[str, Any], exploration_table: dict[str, Any]
) -> FreeTextScores:
    """Score the free-text files in this process (no time limit)."""
    submission = Path(submission)
    rubrics = load_rubric(rubric_table)
    settings = AnswerSettings.from_raw(rubric_table)
    answers: dict[str, AnswerScore] = {}
    texts: dict[str, str] = {}
    for question in QUESTION_IDS:
        path = submission / ANSWERS_DIR / f"{question}.md"
        try:
            text = read_answer(path, settings.max_bytes)
        except FileTooLarge as error:
            answers[question] = unscored(
                question,
                rubrics[question],
                "too_large",
                size_kb=_kib(error.size),
                limit_kb=settings.max_file_kb,
            )
            texts[question] = ""
            continue
        answers[question] = score_answer(question, text, rubrics[question], settings)
        texts[question] = text or ""
    sheet = ExplorationSettings.from_raw(exploration_table)
    exploration = score_exploration(
        submission / SHEET, sheet.table_path(submission), sheet, settings.max_bytes
    )
    return FreeTextScores(answers, texts, exploration)


def timed_out(
    rubric_table: dict[str, Any], exploration_table: dict[str, Any], limit: float
) -> FreeTextScores:
    """Every free-text check at 0, with the time-limit message."""
    rubrics = load_rubric(rubric_table)
    sheet = ExplorationSettings.from_raw(exploration_table)
    total = len(sheet.exercises)
    exploration = ExplorationScore(
        0.0,
        0,
        total,
        False,
        "exploration.time_limit",
        {"file": f"assignment/{SHEET}", "limit": f"{limit:g}", "percent": 0},
        status="time_limit",
        pending=list(range(1, total + 1)),
    )
    answers = {
        q: unscored(q, rubrics[q], "time_limit", limit=f"{limit:g}") for q in QUESTION_IDS
    }
    return FreeTextScores(answers, {q: "" for q in QUESTION_IDS}, exploration)


def score_submission_limited(
    submission: str | Path,
    rubric_table: dict[str, Any],
    exploration_table: dict[str, Any],
    seconds: float | None = None,
) -> FreeTextScores:
    """:func:`score_submission` in a child process, killed after ``seconds``
    (default ``[rubric] time_limit``)."""
    limit = seconds or AnswerSettings.from_raw(rubric_table).time_limit
    request = json.dumps(
        {
            "submission": str(submission),
            "rubric": rubric_table,
            "exploration": exploration_table,
        }
    )
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _CHILD, str(PACKAGE_PARENT)],
            input=request,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return timed_out(rubric_table, exploration_table, limit)
    if done.returncode != 0:
        raise RuntimeError(f"free-text scoring failed: {done.stderr[-2000:]}")
    return FreeTextScores.from_json(done.stdout)


def serve() -> None:
    """The child: a JSON request on stdin, the scores as JSON on stdout."""
    request = json.loads(sys.stdin.read())
    scores = score_submission(
        request["submission"], request["rubric"], request["exploration"]
    )
    sys.stdout.write(scores.to_json())
