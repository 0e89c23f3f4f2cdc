"""Fingerprints of one part of one submission, for ``similarity``.

- Prose (answers q1..q7, each exploration section): the words, folded as
  the rubric folds them (``grader.answers.rubric.normalize``: accents
  removed, case folded), without function words, cut into shingles of
  ``shingle`` words. Plain shingles rather than MinHash: a class has a few
  hundred documents of a few dozen words per part, so exact sets are both
  exact and fast.
- Code (``mnist_dense.py``): the winnowing of MOSS as copydetect implements
  it (``hashed_kgrams``, ``winnow``, ``get_copied_slices``) over the code
  with every name replaced by ``V``, every string by ``S`` and comments
  dropped, so renaming variables or rewording comments hides nothing. The
  name abstraction is a single regular-expression pass rather than
  copydetect's pygments lexer, which costs about 70 ms a file: 20 s for a
  class of 300, against 2 ms here.

Template text is removed before anything is compared: for prose, every
shingle found in the question file or exploration sheet as released
(question, instructions, placeholder); for code, every k-gram of the stub.
"""

from __future__ import annotations

import keyword
import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from copydetect.utils import get_copied_slices, hashed_kgrams, winnow

from grader.answers.rubric import FUNCTION_WORDS, WORD, normalize

Spans = list[tuple[int, int]]
fold = lru_cache(maxsize=1 << 16)(normalize)  # the rubric's folding, once per distinct word


@dataclass
class Document(ABC):
    """One part of one submission: its text and its fingerprints."""

    text: str
    features: set[Hashable] = field(default_factory=set)

    @abstractmethod
    def spans(self, shared: Collection[Hashable]) -> Spans:
        """Character spans of ``self.text`` covered by the ``shared`` fingerprints."""

    def drop(self, features: Collection[Hashable]) -> None:
        self.features.difference_update(features)


@dataclass
class ProseDocument(Document):
    words: Spans = field(default_factory=list)  # character span of each kept word
    keys: list[tuple[str, ...]] = field(default_factory=list)  # the shingle starting at each kept word
    shingle: int = 4

    def spans(self, shared: Collection[Hashable]) -> Spans:
        marked = sorted({w for start, key in enumerate(self.keys) if key in shared for w in range(start, start + self.shingle)})
        found: Spans = []
        for previous, index in zip([-2, *marked], marked, strict=False):
            start, end = self.words[index]
            if found and index == previous + 1:
                found[-1] = (found[-1][0], end)
            else:
                found.append((start, end))
        return found


def prose(text: str, shingle: int, template: AbstractSet[Hashable] = frozenset()) -> ProseDocument:
    kept = [(folded, m.span()) for m in WORD.finditer(text) if (folded := fold(m.group())) not in FUNCTION_WORDS]
    words = [w for w, _ in kept]
    keys = list(zip(*(words[i:] for i in range(shingle)), strict=False))
    return ProseDocument(text, set(keys).difference(template), words=[span for _, span in kept], keys=keys, shingle=shingle)


def prose_template(texts: Iterable[str], shingle: int) -> set[Hashable]:
    found: set[Hashable] = set()
    for text in texts:
        found |= prose(text, shingle).features
    return found


# --- code ----------------------------------------------------------------------

CODE_TOKEN = re.compile(
    r"""(?P<string>[rRbBuUfF]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))"""
    r"""|(?P<comment>\#[^\n]*)|(?P<name>[^\W\d]\w*)|(?P<number>\d[\w.]*)|(?P<op>\S)"""
)
KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


@dataclass
class Filtered:
    """Code with names, strings and comments abstracted, and where each character came from."""

    text: str
    raw_start: np.ndarray  # per filtered character: start of its token in the original
    raw_end: np.ndarray  # ... and its end


def abstract_code(code: str) -> Filtered:
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for match in CODE_TOKEN.finditer(code):
        kind, piece = match.lastgroup, match.group()
        if kind == "comment":
            continue
        if kind == "string":
            piece = "S"
        elif kind == "name" and piece not in KEYWORDS:
            piece = "V"
        pieces.append(piece)
        starts.append(match.start())
        ends.append(match.end())
    lengths = [len(p) for p in pieces]
    return Filtered("".join(pieces), np.repeat(np.array(starts, dtype=np.int64), lengths), np.repeat(np.array(ends, dtype=np.int64), lengths))


@dataclass
class CodeDocument(Document):
    positions: dict[Hashable, list[int]] = field(default_factory=dict)  # hash -> where its k-gram starts
    filtered: Filtered | None = None
    k: int = 25

    def spans(self, shared: Collection[Hashable]) -> Spans:
        where = [i for key in shared for i in self.positions.get(key, ())]
        if not where or self.filtered is None:
            return []
        starts, ends = get_copied_slices(np.array(where), self.k)
        return [(int(self.filtered.raw_start[s]), int(self.filtered.raw_end[e - 1])) for s, e in zip(starts, ends, strict=True)]


def code_kgrams(code: str, k: int) -> set[Hashable]:
    """Every k-gram hash of the abstracted ``code`` (the stub's: what every submission starts from)."""
    text = abstract_code(code).text
    return set(hashed_kgrams(text, k).tolist()) if len(text) >= k else set()


def code(text: str, k: int, window: int, boilerplate: Collection[Hashable] = ()) -> CodeDocument:
    filtered = abstract_code(text)
    if len(filtered.text) < k:
        return CodeDocument(text, filtered=filtered, k=k)
    hashes, where = winnow(hashed_kgrams(filtered.text, k), window, remove_duplicates=False)
    positions: dict[Hashable, list[int]] = defaultdict(list)
    for value, index in zip(hashes.tolist(), where.tolist(), strict=True):
        if value not in boilerplate:
            positions[value].append(index)
    return CodeDocument(text, set(positions), positions=dict(positions), filtered=filtered, k=k)
