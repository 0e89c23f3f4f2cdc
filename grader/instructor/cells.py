"""Spreadsheet-safe CSV cells, for every CSV the instructor tools write.

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell that starts
with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or carriage return)
as a formula. A student id, a file name or a passage of an answer can start
that way, so such a cell is written with a leading single quote, which the
spreadsheet shows as text. Real numbers (``-3``, ``+0.5``) are left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


def neutralize(value: object) -> object:
    """``value`` as a spreadsheet shows it as text (numbers pass unchanged)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS) or _is_number(value):
        return value
    return "'" + value


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Mapping[str, object]], labels: Mapping[str, str] | None = None) -> None:
    """A CSV with ``header`` (shown as ``labels[column]`` when given), every cell neutralized."""
    labels = labels or {}
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralize(labels.get(c, c)) for c in header])
        for row in rows:
            writer.writerow([neutralize(row.get(c, "")) for c in header])
