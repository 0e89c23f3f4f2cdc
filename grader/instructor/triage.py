"""Who needs a look first: the "needs attention" list at the top of the class
report (report.html and report.md).

A student is listed with every reason that applies, most urgent first:

- ``unavailable``: no submission to grade (clone failed, no tag at ``--ref``);
- ``not_graded``: the grading timed out or failed;
- ``untouched`` / ``nearly_untouched``: the student files differ from the
  released template by no line, or by ``NEARLY_UNTOUCHED`` lines or fewer;
- ``import_failed``: the student's code could not be imported;
- ``isolation``: graded at a sandbox level below the one required;
- ``flags``: protected files changed, links ignored, tampering, ...;
- ``similar``: a part shares passages with a classmate's at or above the
  similarity threshold;
- ``review``: free-text answers the rubric marked for a human read.

Each reason is a catalogue key (``instructor.attention.<key>``) and its
parameters, so the templates word it in the report's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.instructor.records import StudentRecord
from grader.instructor.similarity import Comparison
from grader.instructor.untouched import NEARLY_UNTOUCHED
from grader.levels import LEVELS

ORDER = ("unavailable", "not_graded", "untouched", "nearly_untouched", "import_failed", "isolation", "flags", "similar", "review")
# flags that have their own reason, or that say nothing an instructor must act on
OWN_REASON_FLAGS = frozenset({"import_failed"})


@dataclass
class Reason:
    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Attention:
    id: str
    reasons: list[Reason]

    @property
    def rank(self) -> int:
        return min(ORDER.index(r.key) for r in self.reasons)


def _level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else -1


def reasons_for(record: StudentRecord, required_isolation: str | None, similar: dict[str, dict[str, list[tuple[str, float]]]]) -> list[Reason]:
    found: list[Reason] = []
    if record.status == "unavailable":
        found.append(Reason("unavailable", {"message": record.message}))
    elif record.status != "graded":
        found.append(Reason("not_graded", {"status": record.status, "message": record.message}))
    if record.lines_changed == 0:
        found.append(Reason("untouched"))
    elif record.lines_changed is not None and record.lines_changed <= NEARLY_UNTOUCHED:
        found.append(Reason("nearly_untouched", {"lines": record.lines_changed}))
    flags = record.flags
    if "import_failed" in flags:
        found.append(Reason("import_failed"))
    if required_isolation and record.result is not None and record.isolation and _level_rank(record.isolation) < _level_rank(required_isolation):
        found.append(Reason("isolation", {"level": record.isolation, "required": required_isolation}))
    other = [f for f in flags if f not in OWN_REASON_FLAGS]
    if other:
        found.append(Reason("flags", {"flags": ", ".join(other)}))
    for partner, parts in similar.get(record.id, {}).items():
        found.append(Reason("similar", {"other": partner, "parts": ", ".join(f"{part} {score:.2f}" for part, score in parts)}))
    uncertain = [a.id for a in record.result.review if a.uncertain] if record.result else []
    if uncertain:
        found.append(Reason("review", {"answers": ", ".join(uncertain), "count": len(uncertain)}))
    return found


def similar_partners(comparison: Comparison | None) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """Student -> classmate -> (part, score) of every flagged part, in the report's order."""
    partners: dict[str, dict[str, list[tuple[str, float]]]] = {}
    if comparison is None:
        return partners
    for pair in comparison.top():
        partners.setdefault(pair.a, {}).setdefault(pair.b, []).append((pair.part, pair.score))
        partners.setdefault(pair.b, {}).setdefault(pair.a, []).append((pair.part, pair.score))
    return partners


def needs_attention(records: list[StudentRecord], required_isolation: str | None = None, similar: Comparison | None = None) -> list[Attention]:
    partners = similar_partners(similar)
    listed = [Attention(r.id, reasons) for r in records if (reasons := reasons_for(r, required_isolation, partners))]
    for item in listed:
        item.reasons.sort(key=lambda r: ORDER.index(r.key))
    return sorted(listed, key=lambda a: (a.rank, a.id))
