"""Line-delimited JSON between the worker and the supervisor.

The worker writes to a pipe inherited on a file descriptor that is not its
standard output, so nothing the student prints can pass for an event.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

FD_ENV = "GRADER_CHANNEL_FD"
MAX_LINE = 1 << 20  # an event larger than this is the worker's bug or a forgery


def _clean(value: Any) -> Any:
    """JSON cannot hold NaN or infinities: send them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class Channel:
    """The worker's end: append-only events."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def send(self, **event: Any) -> None:
        line = json.dumps(_clean(event), ensure_ascii=False) + "\n"
        data = line.encode("utf-8")
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
