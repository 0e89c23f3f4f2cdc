"""Line-delimited JSON between the worker and the supervisor.

The channel is the worker's original standard output, which the worker
moves to another descriptor before anything else runs (and points fd 1 at
the output file), so nothing the student prints can pass for an event.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

MAX_LINE = 1 << 20  # an event larger than this is the worker's bug or a forgery


def _plain(value: Any) -> Any:
    """A step's facts (``grader.facts`` dataclasses) as objects, NumPy scalars
    as numbers, anything else unknown as text.

    NaN and infinities travel as Python's json writes them (``NaN``), and
    come back as floats: the checks must see a NaN as a NaN.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    item = getattr(value, "item", None)
    plain = item() if callable(item) and getattr(value, "ndim", None) == 0 else None
    return plain if isinstance(plain, (int, float, bool)) else str(value)


class Channel:
    """The worker's end: append-only events."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def send(self, **event: Any) -> None:
        data = (json.dumps(event, ensure_ascii=False, default=_plain) + "\n").encode("utf-8")
        if len(data) > MAX_LINE and ("data" in event or "value" in event):
            # Observations this large come from an absurd result (a figure of
            # the whole dataset): the step is reported as failed, not lost.
            error = {"kind": "error", "type": "ResultTooLarge", "message": f"{len(data)} bytes", "line": None, "function": None}
            data = (json.dumps(dict(event, data=None, value=None, ok=False, status="error", error=error), default=_plain) + "\n").encode("utf-8")
        while data:
            written = os.write(self._fd, data)
            data = data[written:]


def parse_line(line: bytes) -> dict[str, Any] | None:
    """The supervisor's reading of one line; None for anything malformed."""
    if len(line) > MAX_LINE:
        return None
    try:
        event = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return event if isinstance(event, dict) else None
