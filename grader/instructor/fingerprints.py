"""Fingerprints of one part of one submission, for ``similarity``.

- Prose (answers q1..q7, each exploration section): the words, folded as
  the rubric folds them (``grader.answers.rubric``: accents removed, case
  folded), without function words, cut into shingles of ``shingle`` words.
  Plain shingles rather than MinHash: a class has a few hundred documents of
  a few dozen words per part, so exact sets are both exact and fast.
- Code (``mnist_dense.py``): copydetect's winnowing (the MOSS algorithm) on
  pygments tokens with names replaced by placeholders, so renaming variables
  hides nothing; copydetect is maintained, small, and gives the copied
  slices of the original text for the shared passage.

Template text is removed before anything is compared: for prose, every
shingle found in the question file or exploration sheet as released
(question, instructions, placeholder); for code, copydetect's boilerplate
(the hashes of the stub file).
"""

from __future__ import annotations

import io
import logging
from abc import ABC, abstractmethod
from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass, field

import numpy as np
from copydetect import CodeFingerprint, compare_files

from grader.answers.rubric import FUNCTION_WORDS, WORD, normalize

LANGUAGE = "python"
logging.getLogger("copydetect").setLevel(logging.ERROR)


Spans = list[tuple[int, int]]


@dataclass
class Document(ABC):
    """One part of one submission: its text and its fingerprints."""

    text: str
    features: set[Hashable] = field(default_factory=set)

    @abstractmethod
    def shared_spans(self, other: Document, shared: Collection[Hashable]) -> tuple[Spans, Spans]:
        """Character spans of ``self.text`` and ``other.text`` made of shared fingerprints."""

    def drop(self, features: Collection[Hashable]) -> None:
        self.features -= set(features)


@dataclass
class ProseDocument(Document):
    spans: Spans = field(default_factory=list)  # character span of each kept word
    keys: list[tuple[str, ...]] = field(default_factory=list)  # the shingle starting at each kept word
    shingle: int = 4

    def shared_spans(self, other: Document, shared: Collection[Hashable]) -> tuple[Spans, Spans]:
        assert isinstance(other, ProseDocument)
        return _covered(self, shared), _covered(other, shared)


def _covered(doc: ProseDocument, shared: Collection[Hashable]) -> Spans:
    marked = [False] * len(doc.spans)
    for index, key in enumerate(doc.keys):
        if key in shared:
            for word in range(index, index + doc.shingle):
                marked[word] = True
    spans: Spans = []
    for index, on in enumerate(marked):
        if not on:
            continue
        start, end = doc.spans[index]
        if spans and index > 0 and marked[index - 1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def prose(text: str, shingle: int, template: Collection[Hashable] = ()) -> ProseDocument:
    kept = [(normalize(m.group()), m.span()) for m in WORD.finditer(text)]
    kept = [(w, span) for w, span in kept if w not in FUNCTION_WORDS]
    words = [w for w, _ in kept]
    keys = [tuple(words[i : i + shingle]) for i in range(len(words) - shingle + 1)]
    return ProseDocument(text, set(keys) - set(template), [span for _, span in kept], keys, shingle)


def prose_template(texts: Iterable[str], shingle: int) -> set[Hashable]:
    found: set[Hashable] = set()
    for text in texts:
        found |= prose(text, shingle).features
    return found


@dataclass
class CodeDocument(Document):
    fingerprint: CodeFingerprint | None = None

    def drop(self, features: Collection[Hashable]) -> None:
        super().drop(features)
        fp = self.fingerprint
        if fp is not None and features:
            fp.hashes = fp.hashes - set(features)
            fp.hash_idx = {h: i for h, i in fp.hash_idx.items() if h in fp.hashes}

    def shared_spans(self, other: Document, shared: Collection[Hashable]) -> tuple[Spans, Spans]:
        assert isinstance(other, CodeDocument)
        if self.fingerprint is None or other.fingerprint is None:
            return [], []
        _, _, (mine, theirs) = compare_files(self.fingerprint, other.fingerprint)
        return _slices(mine), _slices(theirs)


def _slices(array: np.ndarray) -> Spans:
    if array.size == 0:
        return []
    return [(int(a), int(b)) for a, b in zip(array[0], array[1], strict=True)]


def code(text: str, k: int, window: int, boilerplate: np.ndarray | None = None) -> CodeDocument:
    if not text.strip():
        return CodeDocument(text)
    fp = CodeFingerprint("mnist_dense.py", k, window, boilerplate=boilerplate, language=LANGUAGE, fp=io.StringIO(text))
    return CodeDocument(text, set(fp.hashes), fp)


def code_boilerplate(text: str, k: int, window: int) -> np.ndarray:
    """The stub's hashes: what every submission starts from."""
    fp = CodeFingerprint("mnist_dense.py", k, 1, language=LANGUAGE, fp=io.StringIO(text))
    return np.array(sorted(fp.hashes))
