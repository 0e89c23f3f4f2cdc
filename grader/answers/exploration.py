"""Score the exploration sheet (``assignment/exploration.md``).

A section counts as done when the student wrote at least
``min_words_per_section`` words of their own between its markers (words
copied from the exercise text do not count). The score is::

    (1 - table_weight) * min(1, sections done / min_sections)
        + table_weight * (results table present)

and 0 for an untouched sheet, whatever the table.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.answers.markdown import FileTooLarge, extract_sections, read_text
from grader.answers.rubric import RubricError, analyse, percent
from grader.untrusted import open_regular


@dataclass(frozen=True)
class ExplorationSettings:
    exercises: tuple[str, ...] = field(metadata={"doc": "Experiment ids, in the sheet's order."})
    min_words_per_section: int = field(default=15, metadata={"doc": "Own words a section needs to count as done."})
    min_sections: int = field(default=10, metadata={"doc": "Sections done for the full sections part."})
    results_table: str = field(default="exploration_results/results.csv", metadata={"doc": "The explore runner's table, from the submission folder."})
    table_weight: float = field(default=0.2, metadata={"doc": "Share of the check's points for the results table being present."})

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> ExplorationSettings:
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise RubricError(f"[exploration]: unknown keys {sorted(unknown)}")
        exercises = raw.get("exercises")
        if not isinstance(exercises, list) or not exercises:
            raise RubricError("[exploration]: exercises must list the experiment ids")
        settings = cls(**{**raw, "exercises": tuple(str(e) for e in exercises)})
        if not 0 <= settings.table_weight <= 1:
            raise RubricError("[exploration]: table_weight must be in [0, 1]")
        if not 1 <= settings.min_sections <= len(settings.exercises):
            raise RubricError("[exploration]: min_sections must be 1..len(exercises)")
        return settings

    def table_path(self, repo_root: str | Path) -> Path:
        return Path(repo_root) / self.results_table


def load_exploration_settings(config: Any) -> ExplorationSettings:
    """From a ``grader.config.Config`` or the raw ``[exploration]`` table."""
    return ExplorationSettings.from_raw(getattr(config, "exploration", config))


@dataclass
class ExplorationScore:
    fraction: float
    sections_done: int
    sections_total: int
    table_present: bool
    message_key: str
    message_params: dict[str, Any]
    status: str = "scored"  # "missing_file", "too_large", "untouched" or "scored"
    pending: list[int] = field(default_factory=list)  # exercise numbers
    words: dict[int, int] = field(default_factory=dict)  # own words by exercise

    @classmethod
    def zero(cls, total: int, status: str, params: dict[str, Any], present: bool = False) -> ExplorationScore:
        """0 points, no section read: every exercise pending."""
        pending = list(range(1, total + 1))
        key = f"exploration.{status}"
        return cls(0.0, 0, total, present, key, params, status=status, pending=pending)


def table_present(path: str | Path | None) -> bool:
    """Whether ``path`` is a CSV file with a header and at least one row."""
    # Written by the student's code or committed: a link or a FIFO is no table.
    handle = open_regular(Path(path)) if path is not None else None
    if handle is None:
        return False
    try:
        with io.TextIOWrapper(handle, encoding="utf-8", newline="") as text:
            # A header and one row are enough: a huge table is not read whole.
            rows = list(itertools.islice((row for row in csv.reader(text) if any(c.strip() for c in row)), 2))
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return len(rows) >= 2


def _pending_names(pending: list[int], titles: dict[int, str], settings: ExplorationSettings) -> tuple[str, str]:
    """The exercises without observations, named: ("3 (Sin la capa Flatten)",
    "3 (no_flatten)"); "ninguno" / "none" when there are none."""
    spanish = [f"{n} ({titles.get(n) or settings.exercises[n - 1]})" for n in pending]
    english = [f"{n} ({settings.exercises[n - 1]})" for n in pending]
    return ", ".join(spanish) or "ninguno", ", ".join(english) or "none"


def score_exploration(
    sheet_path: str | Path,
    results_table_path: str | Path | None,
    settings: ExplorationSettings | Mapping[str, Any],
    max_bytes: int | None = None,
) -> ExplorationScore:
    if not isinstance(settings, ExplorationSettings):
        settings = ExplorationSettings.from_raw(settings)
    total = len(settings.exercises)
    present = table_present(results_table_path)
    params: dict[str, Any] = {
        "file": "assignment/exploration.md",
        "table": settings.results_table,
        "total": total,
        "needed": settings.min_sections,
        "min_words": settings.min_words_per_section,
    }
    try:
        markdown = read_text(sheet_path, max_bytes)
    except FileTooLarge as error:
        params.update(size_kb=-(-error.size // 1024), limit_kb=error.limit // 1024)
        return ExplorationScore.zero(total, "too_large", params, present)
    if markdown is None:
        return ExplorationScore.zero(total, "missing_file", params, present)

    words: dict[int, int] = {}
    titles: dict[int, str] = {}
    outside: set[int] = set()  # exercises with text below their end marker
    for section in extract_sections(markdown):
        if 1 <= section.number <= total:
            titles.setdefault(section.number, section.title)
            if section.outside:
                outside.add(section.number)
        if 1 <= section.number <= total and section.text:
            own = analyse(section.text, reference=section.statement).own_words
            words[section.number] = max(own, words.get(section.number, 0))
    done = sorted(n for n, w in words.items() if w >= settings.min_words_per_section)
    pending = [n for n in range(1, total + 1) if n not in done]
    pending_es, pending_en = _pending_names(pending, titles, settings)
    params.update(done=len(done), pending=pending_es, pending_en=pending_en, percent=0)
    misplaced = [n for n in pending if n in outside]
    if misplaced:
        # Observations written below <!-- FIN -->: named, so the student moves them where they count.
        params["outside"] = ", ".join(str(n) for n in misplaced)
        if not done:
            return ExplorationScore(0.0, 0, total, present, "exploration.outside_markers", params, status="untouched", pending=pending, words=words)
    if not done:
        return ExplorationScore(
            0.0,
            0,
            total,
            present,
            "exploration.untouched",
            params,
            status="untouched",
            pending=pending,
            words=words,
        )
    sections_part = min(1.0, len(done) / settings.min_sections)
    weight = settings.table_weight
    fraction = (1 - weight) * sections_part + weight * present
    params["percent"] = percent(fraction)
    # How the percentage follows: min(done, needed)/needed of the observations' share, plus the table's share.
    params["rule"] = {
        "key": "exploration.rule",
        "params": {
            "counted": min(len(done), settings.min_sections),
            "needed": settings.min_sections,
            "sections_weight": percent(1 - weight),
            "table_weight": percent(weight * present),
            "table_max": percent(weight),
        },
    }
    if misplaced:
        params["rule"] = [params["rule"], {"key": "exploration.outside_note", "params": {"outside": params["outside"]}}]
    if sections_part >= 1 and present:
        key = "exploration.complete_with_pending" if pending else "exploration.complete"
    elif sections_part >= 1:
        key = "exploration.table_missing"
    else:
        key = "exploration.sections_missing" if present else "exploration.incomplete"
    return ExplorationScore(fraction, len(done), total, present, key, params, pending=pending, words=words)
