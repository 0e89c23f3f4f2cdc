"""Score every free-text file of a submission: the answers q1..q7 and the
exploration sheet, in a child process, each file under a time limit.

The files are capped in size (``[rubric] max_file_kb``) and parsed in linear
time, so scoring takes milliseconds; the child process is the guarantee
that no file (and no rubric regex an instructor writes) can hold a grading
longer than ``[rubric] time_limit`` seconds per file. The child reports one
file at a time; when a file overruns, the child is killed, that file's check
scores 0 with a message saying why, and a new child scores the files after
it: a slow file costs only its own points.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.answers.exploration import (
    ExplorationScore,
    ExplorationSettings,
    score_exploration,
)
from grader.answers.markdown import FileTooLarge, extract_answer, has_answer_markers, read_text, remove_placeholder
from grader.answers.rubric import (
    QUESTION_IDS,
    AnswerScore,
    AnswerSettings,
    QuestionRubric,
    load_rubric,
    score_answer,
    unscored,
)

ANSWERS_DIR = "answers"  # inside the submission folder (assignment/)
SHEET = "exploration.md"
EXPLORATION = "exploration"
FILES = (*QUESTION_IDS, EXPLORATION)  # what is scored, in order
# The folder that holds the grader package, put first on the child's path
# (the child runs isolated: no working folder, no PYTHONPATH).
PACKAGE_PARENT = Path(__file__).resolve().parents[2]
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from grader.answers.freetext import serve; serve()"


@dataclass
class FreeTextScores:
    answers: dict[str, AnswerScore]  # by question id
    texts: dict[str, str]  # the answer as read, for the instructor's review
    exploration: ExplorationScore


def _kib(size: int) -> int:
    return -(-size // 1024)


class Scorer:
    """Scores one free-text file at a time, in this process."""

    def __init__(
        self, submission: str | Path, rubric_table: dict[str, Any], exploration_table: dict[str, Any], rubrics: dict[str, QuestionRubric] | None = None
    ) -> None:
        """``rubrics``: ``rubric_table`` already compiled (``Config.answers``), so it is not compiled again here."""
        self.submission = Path(submission)
        self.rubrics = rubrics if rubrics is not None else load_rubric(rubric_table)
        self.settings = AnswerSettings.from_raw(rubric_table)
        self.sheet = ExplorationSettings.from_raw(exploration_table)

    def answer(self, question: str) -> tuple[AnswerScore, str]:
        path = self.submission / ANSWERS_DIR / f"{question}.md"
        rubric = self.rubrics[question]
        try:
            raw = read_text(path, self.settings.max_bytes)
        except FileTooLarge as error:
            return (
                unscored(
                    question,
                    rubric,
                    "too_large",
                    size_kb=_kib(error.size),
                    limit_kb=self.settings.max_file_kb,
                ),
                "",
            )
        # The raw file: score_answer tells an answer below the end marker or an emptied one from an untouched file.
        text = None if raw is None else extract_answer(raw).text if has_answer_markers(raw) else remove_placeholder(raw)
        return score_answer(question, raw, rubric, self.settings), text or ""

    def exploration(self) -> ExplorationScore:
        return score_exploration(
            self.submission / SHEET,
            self.sheet.table_path(self.submission),
            self.sheet,
            self.settings.max_bytes,
        )

    def timed_out(self, name: str, limit: float) -> dict[str, Any]:
        """The record of a file that overran ``limit`` seconds: 0 points."""
        shown = f"{limit:g}"
        if name == EXPLORATION:
            params = {"file": f"assignment/{SHEET}", "limit": shown, "percent": 0}
            score = ExplorationScore.zero(len(self.sheet.exercises), "time_limit", params)
            return {"name": name, "score": asdict(score)}
        score = unscored(name, self.rubrics[name], "time_limit", limit=shown)
        return {"name": name, "score": asdict(score), "text": ""}

    def record(self, name: str) -> dict[str, Any]:
        """One file's result as a JSON-ready record."""
        if name == EXPLORATION:
            return {"name": name, "score": asdict(self.exploration())}
        score, text = self.answer(name)
        return {"name": name, "score": asdict(score), "text": text}


def assemble(records: list[dict[str, Any]]) -> FreeTextScores:
    by_name = {r["name"]: r for r in records}
    exploration = dict(by_name[EXPLORATION]["score"])
    exploration["words"] = {int(k): v for k, v in exploration["words"].items()}
    return FreeTextScores(
        answers={q: AnswerScore(**by_name[q]["score"]) for q in QUESTION_IDS},
        texts={q: by_name[q]["text"] for q in QUESTION_IDS},
        exploration=ExplorationScore(**exploration),
    )


def score_submission(
    submission: str | Path, rubric_table: dict[str, Any], exploration_table: dict[str, Any], rubrics: dict[str, QuestionRubric] | None = None
) -> FreeTextScores:
    """Score the free-text files in this process (no time limit); ``rubrics`` as for :class:`Scorer`."""
    scorer = Scorer(submission, rubric_table, exploration_table, rubrics)
    # Through JSON like the child's records, so both paths give equal results.
    return assemble([json.loads(json.dumps(scorer.record(name))) for name in FILES])


def _read_lines(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)  # the child ended


def score_submission_limited(
    submission: str | Path,
    rubric_table: dict[str, Any],
    exploration_table: dict[str, Any],
    seconds: float | None = None,
    rubrics: dict[str, QuestionRubric] | None = None,
) -> FreeTextScores:
    """:func:`score_submission` in a child process; a file not scored within
    ``seconds`` (default ``[rubric] time_limit``) scores 0 on its own.

    The child compiles the rubric from the raw table (compiled patterns do not
    cross a pipe); this process uses ``rubrics`` when the config compiled it.
    """
    scorer = Scorer(submission, rubric_table, exploration_table, rubrics)
    limit = seconds or scorer.settings.time_limit
    records: list[dict[str, Any]] = []
    pending = list(FILES)
    while pending:
        request = {
            "submission": str(submission),
            "rubric": rubric_table,
            "exploration": exploration_table,
            "files": pending,
        }
        child = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c", _CHILD, str(PACKAGE_PARENT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_read_lines, args=(child.stdout, lines), daemon=True).start()
        assert child.stdin is not None
        child.stdin.write(json.dumps(request))
        child.stdin.close()
        try:
            while pending:
                line = lines.get(timeout=limit)
                if line is None:
                    child.wait()
                    error = child.stderr.read() if child.stderr else ""
                    raise RuntimeError(f"free-text scoring failed: {error[-2000:]}")
                records.append(json.loads(line))
                pending.pop(0)
        except queue.Empty:  # the file in progress overran: it alone scores 0
            records.append(scorer.timed_out(pending.pop(0), limit))
        finally:
            child.kill()
            child.wait()
    return assemble(records)


def serve() -> None:
    """The child: a JSON request on stdin, one JSON line per file on stdout."""
    request = json.loads(sys.stdin.read())
    scorer = Scorer(request["submission"], request["rubric"], request["exploration"])
    for name in request["files"]:
        sys.stdout.write(json.dumps(scorer.record(name), ensure_ascii=False) + "\n")
        sys.stdout.flush()
