"""How much of the released template a submission changed: the lines added
or removed in the student files (``assignment/`` code, answers, exploration
sheet) against the files the release gave out, counted with difflib.

0 lines is an untouched template; a handful (``NEARLY_UNTOUCHED`` or fewer)
is a template opened and saved, a name typed, a line tried: both head the
class report's "needs attention" list, because such a submission is graded
like any other and only its low score would show it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path

NEARLY_UNTOUCHED = 10  # changed lines at or below which a template is "nearly untouched"


def lines_changed(content: Mapping[str, bytes], released: Path, paths: Iterable[str]) -> int:
    """Lines added plus lines removed over ``paths``, the submission's
    ``content`` against the files under ``released`` (a missing file counts
    all its lines as removed)."""
    total = 0
    for rel in paths:
        original = released / rel
        before = original.read_bytes().decode("utf-8", errors="replace").splitlines() if original.is_file() else []
        after = content[rel].decode("utf-8", errors="replace").splitlines() if rel in content else []
        if before == after:
            continue
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        total += sum((i2 - i1) + (j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal")
    return total
