"""The one results model of a grading run.

Every output format (score.json, summary.md, Classroom 50, Gradescope, the
legacy Classroom reporter, the gradebook) is written by an exporter in
``grader/exporters`` from a :class:`GradingResult`; none reads another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class CheckResult:
    """Outcome of one check (one row of the student's table)."""

    id: str
    title: str
    score: int
    max_score: int
    passed: bool
    message: str
    # Catalogue key and parameters the message was rendered from, so that a
    # tool can re-render it in another language or group failures by cause.
    message_key: str = ""
    message_params: dict[str, Any] = field(default_factory=dict)


@dataclass
class AnswerReview:
    """A free-text answer with its rubric hits, for the instructor to review."""

    id: str
    text: str
    found: list[str]
    missing: list[str]
    uncertain: bool


@dataclass
class GradingResult:
    score: int
    max_score: int
    checks: list[CheckResult]
    metrics: dict[str, Any]
    # Facts an instructor must see (for example "grader_files_modified").
    flags: list[str] = field(default_factory=list)
    review: list[AnswerReview] = field(default_factory=list)
    language: str = "es"
    # The isolation level the student's code ran at (grader/sandbox/isolation.py).
    isolation: str = ""

    # Keys of ``metrics`` that measure time and so differ between two runs.
    TIMING_METRICS = ("grading_seconds", "train_seconds")

    def check(self, check_id: str) -> CheckResult:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "checks": [asdict(c) for c in self.checks],
            "metrics": dict(self.metrics),
            "flags": list(self.flags),
            "review": [asdict(r) for r in self.review],
            "language": self.language,
            "isolation": self.isolation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradingResult:
        return cls(
            score=int(data["score"]),
            max_score=int(data["max_score"]),
            checks=[CheckResult(**c) for c in data["checks"]],
            metrics=dict(data.get("metrics", {})),
            flags=list(data.get("flags", [])),
            review=[AnswerReview(**r) for r in data.get("review", [])],
            language=data.get("language", "es"),
            isolation=str(data.get("isolation", "")),
        )
