"""Read the student's text out of the Markdown answer files.

Answer files (``assignment/answers/qN.md``) hold the answer between::

    <!-- RESPUESTA: escribe debajo de esta línea -->
    _Escribe aquí tu respuesta._
    <!-- FIN DE LA RESPUESTA -->

The exploration sheet (``assignment/exploration.md``) holds one block per
exercise between ``<!-- OBSERVACIONES: ejercicio N -->`` and ``<!-- FIN -->``
with the placeholder ``_Escribe aquí tus observaciones._``.

Everything here runs in time linear in the file's length, whatever a
student writes: HTML comments are found with ``str.find`` (an unclosed
``<!--`` runs to the end of the file, as in CommonMark), the block structure
(headings, block quotes) comes from markdown-it-py's block parser, and the
few regexes left are anchored on literal words so that no input makes them
backtrack over the whole text.
"""

from __future__ import annotations

import bisect
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from grader.untrusted import open_regular

ANSWER_PLACEHOLDER = "_Escribe aquí tu respuesta._"
SECTION_PLACEHOLDER = "_Escribe aquí tus observaciones._"

COMMENT_OPEN = "<!--"
COMMENT_CLOSE = "-->"
# Only the start of a comment is read to tell a marker from a comment.
MARKER_CHARS = 120

# Marker comments, matched against a comment's body with white space
# collapsed, accents removed and case folded (see _marker_text).
_ANSWER_START = re.compile(r"respuesta\b.*")
_ANSWER_END = re.compile(r"fin de la respuesta")
_SECTION_START = re.compile(r"observaciones ?: ?ejercicio (\d+)")
_SECTION_END = re.compile(r"fin")

# The placeholders, however the student left them: with or without the
# underscores or asterisks, the accent or the final full stop. Nothing of
# unbounded length comes before the word "escribe", and the lookbehind makes
# a long run of "_" or "*" cost one attempt, not one per character: so no
# input (60 000 spaces, underscores...) makes this regex quadratic.
_PLACEHOLDERS = re.compile(
    r"(?<![_*])[_*]*[ \t]?escribe\s+aqu[ií]\s+tus?\s+(?:respuesta|observaciones)\b"
    r"[ \t]*\.?[ \t]*[_*]*",
    re.IGNORECASE,
)

# Block structure only: inline parsing is not needed and costs more.
_BLOCKS = MarkdownIt("commonmark").disable("inline")


class FileTooLarge(ValueError):
    """A student's file is over the size cap; it is not read."""

    def __init__(self, path: Path, size: int, limit: int) -> None:
        super().__init__(f"{path}: {size} bytes, over the cap of {limit}")
        self.path, self.size, self.limit = path, size, limit


@dataclass(frozen=True)
class Comment:
    start: int  # offset of "<!--"
    end: int  # offset just after "-->" (len(text) if unclosed)
    body: str  # the text between the delimiters


def iter_comments(text: str, start: int = 0, stop: int | None = None) -> Iterator[Comment]:
    """The HTML comments of ``text[start:stop]``, in order, in linear time."""
    stop = len(text) if stop is None else stop
    position = start
    while True:
        opening = text.find(COMMENT_OPEN, position, stop)
        if opening < 0:
            return
        closing = text.find(COMMENT_CLOSE, opening + len(COMMENT_OPEN), stop)
        end = stop if closing < 0 else closing + len(COMMENT_CLOSE)
        body_end = stop if closing < 0 else closing
        yield Comment(opening, end, text[opening + len(COMMENT_OPEN) : body_end])
        position = end


def remove_comments(text: str) -> str:
    kept, position = [], 0
    for comment in iter_comments(text):
        kept.append(text[position : comment.start])
        position = comment.end
    kept.append(text[position:])
    return "".join(kept)


def _marker_text(comment: Comment) -> str:
    head = comment.body[:MARKER_CHARS]
    decomposed = unicodedata.normalize("NFKD", head)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def _markers(text: str, pattern: re.Pattern[str], start: int = 0, stop: int | None = None) -> Iterator[tuple[Comment, re.Match[str]]]:
    for comment in iter_comments(text, start, stop):
        match = pattern.fullmatch(_marker_text(comment))
        if match:
            yield comment, match


def _first_marker(text: str, pattern: re.Pattern[str], start: int = 0, stop: int | None = None) -> Comment | None:
    return next((comment for comment, _ in _markers(text, pattern, start, stop)), None)


def has_answer_markers(text: str) -> bool:
    """Whether ``text`` is a raw answer file (it has the start marker)."""
    return _first_marker(text, _ANSWER_START) is not None


def remove_placeholder(text: str) -> str:
    """``text`` without the placeholder line(s) and HTML comments, stripped."""
    return _PLACEHOLDERS.sub("", remove_comments(text)).strip()


def _block_lines(markdown: str, kinds: tuple[str, ...]) -> list[tuple[int, int]]:
    """Line ranges [begin, end) of the top-level blocks of the given kinds
    (markdown-it token types such as "heading_open")."""
    return [(token.map[0], token.map[1]) for token in _BLOCKS.parse(markdown) if token.level == 0 and token.type in kinds and token.map]


@dataclass(frozen=True)
class AnswerText:
    """The answer part of an answer file."""

    text: str  # the student's answer, without the placeholder; "" if none
    markers_found: bool  # False: the student removed the markers
    placeholder: bool = False  # the example line is still between the markers
    outside: str = ""  # text written below the end marker (not headings, quotes or comments)


def extract_answer(markdown: str) -> AnswerText:
    """The text between the answer markers of an answer file.

    If the start marker was deleted, the answer is the whole file without
    headings, block quotes (the question and instructions) and comments; if
    only the end marker was deleted, the answer runs to the end of the file.
    """
    start = _first_marker(markdown, _ANSWER_START)
    if start is None:
        lines = markdown.splitlines()
        dropped = set()
        for begin, end in _block_lines(markdown, ("heading_open", "blockquote_open")):
            dropped.update(range(begin, end))
        kept = [line for number, line in enumerate(lines) if number not in dropped]
        return AnswerText(remove_placeholder("\n".join(kept)), markers_found=False)
    end = _first_marker(markdown, _ANSWER_END, start.end)
    body = markdown[start.end : end.start if end else len(markdown)]
    outside = prose(markdown[end.end :]) if end else ""
    return AnswerText(remove_placeholder(body), markers_found=end is not None, placeholder=has_placeholder(body), outside=outside)


def has_placeholder(text: str) -> bool:
    """Whether the example line is still in ``text`` (outside comments)."""
    return _PLACEHOLDERS.search(remove_comments(text)) is not None


def prose(markdown: str) -> str:
    """What a student wrote in ``markdown``: without headings, block quotes, comments and placeholders."""
    lines = markdown.splitlines()
    dropped: set[int] = set()
    for begin, end in _block_lines(markdown, ("heading_open", "blockquote_open")):
        dropped.update(range(begin, end))
    return remove_placeholder("\n".join(line for number, line in enumerate(lines) if number not in dropped))


def read_text(path: str | Path, max_bytes: int | None = None) -> str | None:
    """The text of ``path`` (None if missing); FileTooLarge over ``max_bytes``."""
    path = Path(path)
    # The student's file: a link (to any file of the grader's user) or a FIFO reads as missing.
    handle = open_regular(path)
    if handle is None:
        return None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if max_bytes is not None and size > max_bytes:
            raise FileTooLarge(path, size, max_bytes)
        data = handle.read(max_bytes + 1 if max_bytes is not None else -1)  # it may have grown since
    if max_bytes is not None and len(data) > max_bytes:
        raise FileTooLarge(path, len(data), max_bytes)
    return data.decode("utf-8", errors="replace")


def read_answer(path: str | Path, max_bytes: int | None = None) -> str | None:
    """The answer written in ``path``: None if the file is missing, "" if the
    student has not written anything (placeholder only or empty). Raises
    :class:`FileTooLarge` when the file is over ``max_bytes``."""
    markdown = read_text(path, max_bytes)
    return None if markdown is None else extract_answer(markdown).text


@dataclass(frozen=True)
class Section:
    """One exercise block of the exploration sheet."""

    number: int
    statement: str  # the sheet's text before the block (the exercise)
    text: str  # the student's observations, without the placeholder
    title: str = ""  # the exercise's heading, without "Ejercicio N."
    outside: str = ""  # text below the block's end marker, before the next heading or block


_EXERCISE_HEADING = re.compile(r"#+\s*(?:ejercicio\s+\d+\s*[.:]\s*)?", re.IGNORECASE)


def _title(statement: str) -> str:
    """The last heading line of ``statement``, without "## Ejercicio N."."""
    lines = statement.splitlines()
    for begin, _ in reversed(_block_lines(statement, ("heading_open",))):
        line = lines[begin].strip()
        match = _EXERCISE_HEADING.match(line)
        return line[match.end() :].strip() if match else line
    return ""


def extract_sections(markdown: str) -> list[Section]:
    """The observation blocks of the exploration sheet, in file order."""
    starts = list(_markers(markdown, _SECTION_START))
    offsets = _line_offsets(markdown)
    headings = [offsets[begin] for begin, _ in _block_lines(markdown, ("heading_open",))]
    sections: list[Section] = []
    position = 0
    for index, (start, match) in enumerate(starts):
        limit = starts[index + 1][0].start if index + 1 < len(starts) else len(markdown)
        end = _first_marker(markdown, _SECTION_END, start.end, limit)
        if end is not None:
            stop, position_after = end.start, end.end
        else:  # end marker deleted: stop at the next heading or block
            following = bisect.bisect_left(headings, start.end)
            heading = headings[following] if following < len(headings) else limit
            stop = position_after = min(heading, limit)
        statement = remove_comments(markdown[position : start.start])
        outside = ""
        if end is not None:
            following = bisect.bisect_left(headings, end.end)
            outside = prose(markdown[end.end : min(headings[following] if following < len(headings) else limit, limit)])
        sections.append(
            Section(
                number=int(match.group(1)),
                statement=statement,
                text=remove_placeholder(markdown[start.end : stop]),
                title=_title(statement),
                outside=outside,
            )
        )
        position = position_after
    return sections


def _line_offsets(text: str) -> list[int]:
    """Offset of the start of each line (and one past the end)."""
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets
