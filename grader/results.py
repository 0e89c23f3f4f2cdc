"""The one results model of a grading run.

Every output format (score.json, summary.md, Classroom 50, Gradescope, the
legacy Classroom reporter, the gradebook) is written by an exporter in
``grader/exporters`` from a :class:`GradingResult`; none reads another.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

# Points are kept to two decimals: a check that earns part of its points
# (an answer with 2 of 4 ideas) shows exactly that part, as its message says.
POINT_DECIMALS = 2


def points(value: float) -> int | float:
    """``value`` as points: a whole number stays an int, else two decimals."""
    value = round(float(value), POINT_DECIMALS)
    return int(value) if value.is_integer() else value


@dataclass
class CheckResult:
    """Outcome of one check (one row of the student's table)."""

    id: str
    title: str
    score: int | float  # fractional when the check earns part of its points
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
    score: int | float  # the sum of the checks' scores
    max_score: int
    checks: list[CheckResult]
    metrics: dict[str, Any]
    # Facts an instructor must see (for example "grader_files_modified").
    flags: list[str] = field(default_factory=list)
    review: list[AnswerReview] = field(default_factory=list)
    language: str = "es"
    # "full", or "quick" for ``python -m grader --quick`` (trained on a subset:
    # a provisional self-check that no exporter publishes as a grade).
    mode: str = "full"
    # The isolation level the student's code ran at (grader/sandbox/isolation.py).
    isolation: str = ""
    # A flag's fields when its cause is known (flag.<name>_cause), e.g. why the import failed.
    flag_details: dict[str, dict[str, Any]] = field(default_factory=dict)

    def flag_message(self, flag: str) -> tuple[str, dict[str, Any]]:
        """The catalogue key and fields of a flag's sentence: with its cause when one was recorded."""
        details = self.flag_details.get(flag)
        return (f"flag.{flag}_cause", dict(details)) if details else (f"flag.{flag}", {})

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "checks": [asdict(c) for c in self.checks],
            "metrics": dict(self.metrics),
            "flags": list(self.flags),
            "review": [asdict(r) for r in self.review],
            "language": self.language,
            "mode": self.mode,
            "isolation": self.isolation,
            "flag_details": dict(self.flag_details),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradingResult:
        return cls(
            score=points(data["score"]),
            max_score=int(data["max_score"]),
            checks=[CheckResult(**(c | {"score": points(c["score"])})) for c in data["checks"]],
            metrics=dict(data.get("metrics", {})),
            flags=list(data.get("flags", [])),
            review=[AnswerReview(**r) for r in data.get("review", [])],
            language=data.get("language", "es"),
            mode=data.get("mode", "full"),
            isolation=str(data.get("isolation", "")),
            flag_details=dict(data.get("flag_details", {})),
        )


def whole_points(result: GradingResult) -> GradingResult:
    """``result`` with whole points, for the platforms that accept integers
    only (Classroom 50's result.json, GitHub Classroom's reporter).

    The one rounding rule: the total is rounded half up (86.5 -> 87); each
    check keeps the whole part of its points and the points left to reach
    that total go, one each, to the checks with the largest fractional parts
    (ties to the earlier check). So the checks still add up to the total and
    none goes over its maximum. score.json, summary.md and Gradescope keep
    the exact points.
    """
    floors = [math.floor(c.score) for c in result.checks]
    total = math.floor(result.score + 0.5) if result.checks else int(result.score)
    extra = max(0, total - sum(floors)) if result.checks else 0
    order = sorted(range(len(floors)), key=lambda i: (-(result.checks[i].score - floors[i]), i))
    for index in order[:extra]:
        floors[index] += 1
    checks = [replace(c, score=f) for c, f in zip(result.checks, floors, strict=True)]
    return replace(result, score=total, checks=checks)
