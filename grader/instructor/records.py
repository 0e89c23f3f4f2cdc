"""One student's outcome in a batch: ``students/<id>/batch.json`` next to the
grader's own outputs (score.json, summary.md, ...).

The gradebook and the class report are rebuilt from these folders alone, so
``merge`` can join the folders of several shards.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.exporters.outputs import SCORE_JSON
from grader.results import GradingResult

RECORD_FILE = "batch.json"
SCORE_FILE = SCORE_JSON
# "graded": the grader wrote its report; "timeout": killed at --timeout;
# "error": the grader could not grade it (message says why);
# "unavailable": the submission could not be fetched.
RECORD_STATUSES = ("graded", "timeout", "error", "unavailable")
RETRY_STATUSES = ("error", "unavailable")  # graded again on a rerun even when unchanged


@dataclass
class StudentRecord:
    id: str
    status: str
    source: str = ""
    key: str = ""  # hash of the student's files and the grading setup
    seconds: float | None = None  # wall-clock time of the grading process
    message: str = ""
    # "path (modified|added|deleted)", or "grader/** (N files deleted)" for many
    changed_files: list[str] = field(default_factory=list)
    compared_with: str = ""  # the manifest, or "instructor files"
    commit: str = ""  # the graded commit's sha, for a submission fetched with git
    # submission paths that were symbolic links or led outside it: not graded
    symlinks: list[str] = field(default_factory=list)
    # when this grade was last judged again from stored observations (batch --rejudge), and with which config
    rejudged: str = ""
    # lines added or removed in the student files against the released template (None: not measured)
    lines_changed: int | None = None
    result: GradingResult | None = None

    @property
    def flags(self) -> list[str]:
        flags = list(self.result.flags) if self.result else []
        if self.changed_files:
            flags.append("protected_files_changed")
        if self.symlinks:
            flags.append("symlinks_ignored")
        return flags

    @property
    def isolation(self) -> str:
        """The sandbox level the grading ran at, as the grader recorded it ("" if unknown)."""
        return str(getattr(self.result, "isolation", "") or "") if self.result else ""

    @property
    def changed_paths(self) -> list[str]:
        return [c.rsplit(" (", 1)[0] for c in self.changed_files]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("result")
        return data


def save(folder: Path, record: StudentRecord) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record.to_json(), ensure_ascii=False, indent=2) + "\n"
    (folder / RECORD_FILE).write_text(text, encoding="utf-8")


def load(folder: Path) -> StudentRecord | None:
    """The record in ``folder`` with its score.json, or None if there is none."""
    try:
        data = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    known = set(StudentRecord.__dataclass_fields__) - {"result"}
    try:
        record = StudentRecord(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return None  # a record missing its id or status: graded again
    score = folder / SCORE_FILE
    if record.status == "graded" and score.is_file():
        try:
            record.result = GradingResult.from_dict(json.loads(score.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as error:
            record.status, record.message = "error", f"unreadable score.json: {error}"
    elif record.status == "graded":
        record.status, record.message = "error", "score.json is missing"
    return record


def load_all(students_dir: Path) -> list[StudentRecord]:
    if not students_dir.is_dir():
        return []
    found = (load(folder) for folder in sorted(students_dir.iterdir()) if folder.is_dir())
    return sorted((r for r in found if r is not None), key=lambda r: r.id)
