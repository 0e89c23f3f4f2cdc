"""Read the student's text out of the Markdown answer files.

Answer files (``assignment/answers/qN.md``) hold the answer between::

    <!-- RESPUESTA: escribe debajo de esta línea -->
    _Escribe aquí tu respuesta._
    <!-- FIN DE LA RESPUESTA -->

The exploration sheet (``assignment/exploration.md``) holds one block per
exercise between ``<!-- OBSERVACIONES: ejercicio N -->`` and ``<!-- FIN -->``
with the placeholder ``_Escribe aquí tus observaciones._``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ANSWER_START = re.compile(r"<!--\s*RESPUESTA\b[^>]*-->", re.IGNORECASE)
ANSWER_END = re.compile(r"<!--\s*FIN\s+DE\s+LA\s+RESPUESTA\s*-->", re.IGNORECASE)
ANSWER_PLACEHOLDER = "_Escribe aquí tu respuesta._"

SECTION_START = re.compile(
    r"<!--\s*OBSERVACIONES\s*:\s*ejercicio\s+(\d+)\s*-->", re.IGNORECASE
)
SECTION_END = re.compile(r"<!--\s*FIN\s*-->", re.IGNORECASE)
SECTION_PLACEHOLDER = "_Escribe aquí tus observaciones._"

# The placeholders, however the student left them: with or without the
# underscores or asterisks, the accent or the final full stop.
_PLACEHOLDERS = re.compile(
    r"[_*]*\s*escribe\s+aqu[ií]\s+tu(s)?\s+(respuesta|observaciones)\s*\.?\s*[_*]*",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)


def remove_placeholder(text: str) -> str:
    """``text`` without the placeholder line(s) and HTML comments, stripped."""
    return _PLACEHOLDERS.sub("", _COMMENT.sub("", text)).strip()


@dataclass(frozen=True)
class AnswerText:
    """The answer part of an answer file."""

    text: str  # the student's answer, without the placeholder; "" if none
    markers_found: bool  # False: the student removed the markers


def extract_answer(markdown: str) -> AnswerText:
    """The text between the answer markers of an answer file.

    If the start marker was deleted, the answer is the whole file without
    headings, block quotes (the question and instructions) and comments; if
    only the end marker was deleted, the answer runs to the end of the file.
    """
    start = ANSWER_START.search(markdown)
    if start is None:
        kept = [
            line
            for line in markdown.splitlines()
            if not line.lstrip().startswith(("#", ">"))
        ]
        return AnswerText(remove_placeholder("\n".join(kept)), markers_found=False)
    end = ANSWER_END.search(markdown, start.end())
    body = markdown[start.end() : end.start() if end else len(markdown)]
    return AnswerText(remove_placeholder(body), markers_found=end is not None)


def read_answer(path: str | Path) -> str | None:
    """The answer written in ``path``: None if the file is missing, "" if the
    student has not written anything (placeholder only or empty)."""
    path = Path(path)
    if not path.is_file():
        return None
    return extract_answer(path.read_text(encoding="utf-8", errors="replace")).text


@dataclass(frozen=True)
class Section:
    """One exercise block of the exploration sheet."""

    number: int
    statement: str  # the sheet's text before the block (the exercise)
    text: str  # the student's observations, without the placeholder


def extract_sections(markdown: str) -> list[Section]:
    """The observation blocks of the exploration sheet, in file order."""
    sections: list[Section] = []
    position = 0
    for start in SECTION_START.finditer(markdown):
        end = SECTION_END.search(markdown, start.end())
        following = SECTION_START.search(markdown, start.end())
        limit = following.start() if following else len(markdown)
        if end is not None and end.start() < limit:
            stop, position_after = end.start(), end.end()
        else:  # end marker deleted: stop at the next heading or block
            heading = _HEADING.search(markdown, start.end(), limit)
            stop = position_after = heading.start() if heading else limit
        sections.append(
            Section(
                number=int(start.group(1)),
                statement=_COMMENT.sub("", markdown[position : start.start()]),
                text=remove_placeholder(markdown[start.end() : stop]),
            )
        )
        position = position_after
    return sections
