"""Similarity between the submissions of a class: a flag, never a penalty.

For every pair of graded submissions and every part (``q1``..``q7``,
``exploration.N`` for each section of the exploration sheet, ``code``) a
score in [0, 1]: the fingerprints both share divided by the fingerprints of
the shorter one (at least ``min_features``, so a two-line answer cannot
score 1 on one common phrase). Before counting, what the student did not
write is removed (``fingerprints``: the template and the question text),
and so is whatever more than ``common_share`` of the class wrote (the lines
the docstrings dictate, the phrases every answer uses): such passages say
nothing about who copied from whom.

Pairs are counted at once: an inverted index (fingerprint -> submissions)
gives a submissions x fingerprints matrix whose product with itself is the
shared count of every pair, so a class of 300 costs one pass over its
fingerprints and one matrix product per part, not 45,000 comparisons of
whole documents. ``batch`` writes ``similarity.csv``: one row per pair and
part scoring at least ``listed_from`` (0.1: below it two answers share a
stray phrase or two; a pair and part not listed scores less, most of them 0),
with the longest shared passage; the class report shows the pairs at or
above ``threshold`` side by side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.answers.markdown import extract_answer, extract_sections
from grader.config import SimilaritySettings
from grader.instructor import fingerprints
from grader.instructor.cells import write_rows
from grader.instructor.fingerprints import Document, Spans
from grader.spec import ANSWER_IDS, MODULE_FILE

CSV_FILE = "similarity.csv"
CSV_COLUMNS = ("a", "b", "part", "score", "passage")
CODE_FILE = f"assignment/{MODULE_FILE}"
SHEET_FILE = "assignment/exploration.md"
PASSAGE_CHARS = 300  # of the longest shared passage, in similarity.csv
CONTEXT_CHARS = 160  # unshared text kept on each side of a shared passage in the report


def answer_file(question: str) -> str:
    return f"assignment/answers/{question}.md"


# [similarity], typed and described in grader/config.py (Config.similarity); its name here kept for callers.
Settings = SimilaritySettings


@dataclass(frozen=True)
class Template:
    """The released files of the parts: what every student was given."""

    answers: Mapping[str, str]  # question -> the whole question file
    sheet: str
    code: str

    @classmethod
    def from_root(cls, root: Path) -> Template:
        def read(rel: str) -> str:
            path = root / rel
            return path.read_text(encoding="utf-8") if path.is_file() else ""

        return cls({q: read(answer_file(q)) for q in ANSWER_IDS}, read(SHEET_FILE), read(CODE_FILE))


def parts(files: Mapping[str, bytes]) -> dict[str, str]:
    """The student-written text of each part of one submission."""

    def text(rel: str) -> str:
        return files.get(rel, b"").decode("utf-8", errors="replace")

    found = {q: extract_answer(text(answer_file(q))).text for q in ANSWER_IDS}
    for section in extract_sections(text(SHEET_FILE)):
        found.setdefault(f"exploration.{section.number}", section.text)
    found["code"] = text(CODE_FILE)
    return found


@dataclass
class Pair:
    a: str
    b: str
    part: str
    score: float
    a_spans: Spans = field(default_factory=list)
    b_spans: Spans = field(default_factory=list)
    a_text: str = ""
    b_text: str = ""

    @property
    def passage(self) -> str:
        """The longest passage of ``a`` shared with ``b``, on one line."""
        if not self.a_spans:
            return ""
        start, end = max(self.a_spans, key=lambda s: s[1] - s[0])
        return " ".join(self.a_text[start:end].split())[:PASSAGE_CHARS]

    def segments(self, side: str) -> list[tuple[str, bool]]:
        """(text, shared) pieces of one side, for highlighting; long unshared
        stretches (the rest of a code file) keep only some context."""
        text, spans = (self.a_text, self.a_spans) if side == "a" else (self.b_text, self.b_spans)
        pieces: list[tuple[str, bool]] = []
        position = 0
        for start, end in sorted(spans):
            start = max(start, position)
            if start > position:
                pieces.append((_context(text[position:start], head=bool(pieces), tail=True), False))
            if end > start:
                pieces.append((text[start:end], True))
            position = max(position, end)
        if position < len(text):
            pieces.append((_context(text[position:], head=bool(pieces), tail=False), False))
        return pieces


def _context(text: str, head: bool, tail: bool) -> str:
    """``text`` cut to its first (``head``) and last (``tail``) CONTEXT_CHARS."""
    if len(text) <= 2 * CONTEXT_CHARS + 5:
        return text
    kept_head = text[:CONTEXT_CHARS] if head else ""
    kept_tail = text[-CONTEXT_CHARS:] if tail else ""
    return f"{kept_head} […] {kept_tail}".strip(" ") if (head or tail) else text


@dataclass
class Comparison:
    settings: Settings
    pairs: list[Pair]  # every pair and part scoring at least settings.listed_from, by part then score
    students: list[str]
    parts: list[str]

    def top(self) -> list[Pair]:
        """The parts at or above the threshold of the ``top_pairs`` most similar
        pairs: pairs by their highest score, then parts in assignment order."""
        flagged = [p for p in self.pairs if p.score >= self.settings.threshold]
        best: dict[tuple[str, str], float] = {}
        for p in flagged:
            best[p.a, p.b] = max(best.get((p.a, p.b), 0.0), p.score)
        chosen = sorted(best, key=lambda pair: (-best[pair], pair))[: self.settings.top_pairs]
        rank = {pair: index for index, pair in enumerate(chosen)}
        return sorted((p for p in flagged if (p.a, p.b) in rank), key=lambda p: (rank[p.a, p.b], _part_order(p.part)))

    def top_pairs(self) -> list[tuple[str, str, list[Pair]]]:
        """(a, b, flagged parts) of ``top()``, one entry per pair."""
        grouped: dict[tuple[str, str], list[Pair]] = {}
        for p in self.top():
            grouped.setdefault((p.a, p.b), []).append(p)
        return [(a, b, parts) for (a, b), parts in grouped.items()]

    def score(self, a: str, b: str, part: str) -> float:
        """The pair's score for ``part``; 0.0 when not listed (below ``listed_from``)."""
        a, b = sorted((a, b))
        return next((p.score for p in self.pairs if (p.a, p.b, p.part) == (a, b, part)), 0.0)


def _documents(submissions: Mapping[str, Mapping[str, bytes]], template: Template, settings: Settings) -> dict[str, dict[str, Document]]:
    """part -> student -> document."""
    answer_template = {q: fingerprints.prose_template([t], settings.shingle) for q, t in template.answers.items()}
    sheet_template = fingerprints.prose_template([template.sheet], settings.shingle)
    boilerplate = fingerprints.code_kgrams(template.code, settings.code_k)
    by_part: dict[str, dict[str, Document]] = defaultdict(dict)
    for student, files in submissions.items():
        for part, text in parts(files).items():
            if part == "code":
                by_part[part][student] = fingerprints.code(text, settings.code_k, settings.code_window, boilerplate)
            else:
                removed = answer_template.get(part, sheet_template)
                by_part[part][student] = fingerprints.prose(text, settings.shingle, removed)
    return by_part


def _shared_counts(docs: Mapping[str, Document], limit: int) -> tuple[list[str], np.ndarray]:
    """The students and a matrix of the fingerprints each pair shares, over
    fingerprints found in 2..limit submissions (those in more are dropped).

    Fingerprints are numbered, grouped by owner count, and every group of
    ``g`` owners adds its ``g * (g - 1) / 2`` pairs to one ``bincount``."""
    students = sorted(docs)
    n = len(students)
    numbers: dict[Hashable, int] = {}
    features: list[int] = []
    rows: list[int] = []
    for row, student in enumerate(students):
        found = [numbers.setdefault(f, len(numbers)) for f in docs[student].features]
        features += found
        rows += [row] * len(found)
    feature, owner = np.array(features, dtype=np.int64), np.array(rows, dtype=np.int64)
    owners = np.bincount(feature, minlength=len(numbers))
    if (owners > limit).any():
        every = list(numbers)
        common = [every[i] for i in np.flatnonzero(owners > limit)]
        for doc in docs.values():
            doc.drop(common)
    keep = (owners[feature] >= 2) & (owners[feature] <= limit)
    feature, owner = feature[keep], owner[keep]
    order = np.lexsort((owner, feature))
    feature, owner = feature[order], owner[order]
    counts = np.zeros(n * n, dtype=np.int64)
    if feature.size:
        starts = np.flatnonzero(np.r_[True, feature[1:] != feature[:-1]])
        sizes = np.diff(np.r_[starts, feature.size])
        for size in np.unique(sizes):
            members = owner[starts[sizes == size][:, None] + np.arange(size)]
            first, second = np.triu_indices(int(size), 1)
            counts += np.bincount((members[:, first] * n + members[:, second]).ravel(), minlength=n * n)
    return students, counts.reshape(n, n)


def compare(submissions: Mapping[str, Mapping[str, bytes]], template: Template, settings: Settings | None = None) -> Comparison:
    """Every pair of ``submissions`` (id -> editable files) compared, part by part."""
    settings = settings or Settings()
    by_part = _documents(submissions, template, settings)
    limit = max(settings.common_floor, int(np.ceil(settings.common_share * len(submissions))))
    pairs = []
    for part in sorted(by_part, key=_part_order):
        docs = by_part[part]
        students, counts = _shared_counts(docs, limit)
        sizes = np.array([len(docs[s].features) for s in students], dtype=np.float32)
        sizes = np.maximum(np.minimum.outer(sizes, sizes), settings.min_features)
        listed = np.triu((counts > 0) & (counts >= settings.listed_from * sizes), k=1)
        for row, column in zip(*np.nonzero(listed), strict=True):
            first, second = docs[students[row]], docs[students[column]]
            score = round(min(1.0, float(counts[row, column] / sizes[row, column])), 3)
            common = first.features & second.features
            pairs.append(Pair(students[row], students[column], part, score, first.spans(common), second.spans(common), first.text, second.text))
    pairs.sort(key=lambda p: (_part_order(p.part), -p.score, p.a, p.b))
    return Comparison(settings, pairs, sorted(submissions), sorted(by_part, key=_part_order))


def _part_order(part: str) -> tuple[int, int, str]:
    if part in ANSWER_IDS:
        return (0, ANSWER_IDS.index(part), part)
    if part.startswith("exploration."):
        number = part.split(".", 1)[1]
        return (1, int(number) if number.isdigit() else 0, part)
    return (2, 0, part)


def write_csv(path: Path, comparison: Comparison) -> None:
    rows = ({"a": p.a, "b": p.b, "part": p.part, "score": p.score, "passage": p.passage} for p in comparison.pairs)
    write_rows(path, CSV_COLUMNS, rows)


def read_folders(folders: Mapping[str, Path], editable: tuple[str, ...]) -> dict[str, dict[str, bytes]]:
    """id -> editable files, read from checkouts (for tests and benchmarks)."""
    found: dict[str, dict[str, bytes]] = {}
    for student, folder in folders.items():
        found[student] = {rel: (folder / rel).read_bytes() for rel in editable if (folder / rel).is_file() and not (folder / rel).is_symlink()}
    return found
