"""What every score exporter needs: consistent totals and unique test names."""

from __future__ import annotations

from grader.results import CheckResult, GradingResult, points


class UnpublishableResult(ValueError):
    """A result that must never become a grade (a ``--quick`` self-check)."""


def refuse_quick(result: GradingResult) -> None:
    """Raise UnpublishableResult for a quick result: its accuracy is provisional."""
    if result.mode != "full":
        raise UnpublishableResult(
            f"a {result.mode!r} grading (python -m grader --quick) is a provisional self-check, never a grade: grade without --quick to publish"
        )


def check_totals(result: GradingResult) -> None:
    """Raise ValueError unless every check is within its points and they add up."""
    for check in result.checks:
        if not 0 <= check.score <= check.max_score:
            raise ValueError(f"check {check.id!r} scores {check.score} of {check.max_score}")
    if result.checks:
        got = points(sum(c.score for c in result.checks))
        want = sum(c.max_score for c in result.checks)
        if (got, want) != (points(result.score), result.max_score):
            raise ValueError(f"checks add up to {got}/{want}, but the result says {result.score}/{result.max_score}")


def clean(text: str) -> str:
    """One line, no control characters."""
    return " ".join("".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text).split())


def unique_names(checks: list[CheckResult]) -> list[str]:
    """One non-empty, distinct name per check, in order: the title, then
    "title (id)" when titles repeat, then a counter."""
    bases = [clean(c.title) or clean(c.id) or "check" for c in checks]
    names: list[str] = []
    seen: set[str] = set()
    for base, check in zip(bases, checks):
        name = base
        if bases.count(base) > 1 and clean(check.id):
            name = f"{base} ({clean(check.id)})"
        candidate, n = name, 2
        while candidate in seen:
            candidate, n = f"{name} #{n}", n + 1
        seen.add(candidate)
        names.append(candidate)
    return names
