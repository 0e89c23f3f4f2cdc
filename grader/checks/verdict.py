"""How a check says what it found: full marks, partial credit or a failure.

A check passes by calling ``verdict.ok(key, ...)`` and fails by raising
(``fail(key, fraction, ...)``). Whatever else it wants the grading to keep
(a metric such as the measured accuracy, an answer for the instructor's
review) goes on the same ``Verdict``, so each check leaves exactly one
:class:`CheckOutcome`, collected in memory by the plugin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

from grader.results import AnswerReview


class CheckFailed(AssertionError):
    """A check's verdict short of full marks: a catalogue key, its fields, a fraction."""

    def __init__(self, key: str, fraction: float = 0.0, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.fraction = max(0.0, min(1.0, fraction))
        self.params = params


def part(key: str, **params: Any) -> dict[str, Any]:
    """A message inside a message: rendered by ``i18n.render`` in the verdict's language."""
    return {"key": key, "params": params}


def fail(key: str, fraction: float = 0.0, **params: Any) -> NoReturn:
    raise CheckFailed(key, fraction, **params)


@dataclass
class Verdict:
    """What a check hands back: the message of a pass (failures raise), and its metrics and review entries."""

    key: str = "check.ok"
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    review: list[AnswerReview] = field(default_factory=list)

    def ok(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params

    def metric(self, name: str, value: Any) -> None:
        """A figure the grading reports (score.json's ``metrics``), whatever the verdict."""
        self.metrics[name] = value

    def for_review(self, entry: AnswerReview) -> None:
        """An answer the instructor reviews (score.json's ``review``), whatever the verdict."""
        self.review.append(entry)


@dataclass
class CheckOutcome:
    """One check's result before points and language: the catalogue key, its fields, the fraction earned."""

    check: str
    key: str
    fraction: float
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    review: list[AnswerReview] = field(default_factory=list)

    @classmethod
    def of(cls, check: str, verdict: Verdict, error: BaseException | None) -> CheckOutcome:
        """The outcome of a check that returned (``error`` None) or raised ``error``."""
        if isinstance(error, CheckFailed):
            return cls(check, error.key, error.fraction, error.params, verdict.metrics, verdict.review)
        if error is not None:
            # Not a verdict: the check itself broke (a grader bug), and says so.
            return cls.internal_error(check, type(error).__name__, verdict)
        return cls(check, verdict.key, 1.0, verdict.params, verdict.metrics, verdict.review)

    @classmethod
    def internal_error(cls, check: str, error_type: str, verdict: Verdict | None = None) -> CheckOutcome:
        verdict = verdict or Verdict()
        return cls(check, "check.internal_error", 0.0, {"error_type": error_type}, verdict.metrics, verdict.review)
