"""A one-line progress bar with an ETA, on standard error.

On a terminal the line is redrawn in place (``\\r``); elsewhere (CI logs,
pipes) one plain line is printed per finished submission.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 28


def clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.running = 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0

    def eta(self) -> str:
        if not self.done:
            return "?"
        elapsed = time.monotonic() - self.started
        return clock(elapsed / self.done * (self.total - self.done))

    def line(self) -> str:
        filled = int(WIDTH * self.done / self.total) if self.total else WIDTH
        bar = "#" * filled + "." * (WIDTH - filled)
        elapsed = clock(time.monotonic() - self.started)
        return f"[{bar}] {self.done}/{self.total} · {self.running} running · {elapsed} elapsed · ETA {self.eta()}"

    def start(self) -> None:
        self.running += 1
        self.draw(force=True)

    def finish(self, text: str) -> None:
        self.running = max(0, self.running - 1)
        self.done += 1
        if self.tty:
            self.stream.write("\r\033[K" + text + "\n")
            self.draw(force=True)
        else:
            self.stream.write(f"[{self.done}/{self.total}] {text} (ETA {self.eta()})\n")
            self.stream.flush()

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.tty or (not force and now - self.last_draw < 0.5):
            return
        self.last_draw = now
        self.stream.write("\r\033[K" + self.line())
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()
