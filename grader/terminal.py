"""What ``python -m grader`` shows in a terminal: progress, then the table.

Progress goes to stderr while the worker runs (the step running, epoch k/N
while training, seconds elapsed): a live line on a TTY, one plain line per
event otherwise (a CI log). The result is a table wrapped to the terminal's
width, in colour only on a TTY; ``summary.md`` stays Markdown for the web.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from grader import i18n, spec
from grader.results import GradingResult
from grader.sandbox.protocol import Phase

# The title shown for each step (phases show their step's title), from the step table.
STEP_TITLES = {**{s.name: s.title for s in spec.STEPS}, spec.SALVAGE: spec.step_of(spec.SALVAGE).title}
STYLES = {"passed": "green", "partial": "yellow", "failed": "red"}
# Off a TTY, a line at least this often while one step runs (import, training), so a log never goes quiet.
HEARTBEAT_SECONDS = 10.0
# How a worker can end that makes the supervisor start another (progress.restart.<cause>).
RESTART_CAUSES = ("memory", "timeout", "crashed", "exited", "tampered")
# The number a step has in the student's file and in the titles ("paso 8"), from the step table.
STEP_NUMBERS = {s.name: spec.number_of(s.name) for s in spec.STEPS if spec.number_of(s.name)}


class ProgressDisplay:
    """Receives the supervisor's events (``start`` of a step, ``epoch``) and shows them on ``stream``."""

    def __init__(self, lang: str, stream: TextIO | None = None, heartbeat: float = HEARTBEAT_SECONDS) -> None:
        self.lang = lang
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.live = self.stream.isatty()
        self.progress: Progress | None = None
        self.task: Any = None
        self.heartbeat = heartbeat
        self.current = ""  # the step being shown, repeated by the heartbeat
        self.last_line = self.started
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.beater: threading.Thread | None = None

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            # The spinner and the elapsed time move on their own: never a silent terminal.
            console = Console(file=self.stream)
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(i18n.render(self.lang, "progress.starting"), total=None)
        else:
            # A piped run (CI log, | tee) prints a line at once, then one at least every heartbeat.
            self.show(i18n.render(self.lang, "progress.starting"))
            self.beater = threading.Thread(target=self._beat, name="progress-heartbeat", daemon=True)
            self.beater.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        if self.beater is not None:
            self.beater.join(timeout=1.0)
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, event: dict[str, Any]) -> None:
        self.show(describe(event, self.lang))

    def show(self, text: str) -> None:
        self.current = text
        if self.progress is not None:
            self.progress.update(self.task, description=text)
        else:
            self._print(text)

    def _print(self, text: str) -> None:
        with self.lock:
            now = time.monotonic()
            self.last_line = now
            print(i18n.render(self.lang, "progress.line", seconds=round(now - self.started), text=text), file=self.stream, flush=True)

    def _beat(self) -> None:
        """Off a TTY: repeat the step being run, saying it is still running, when nothing was printed for a while."""
        while not self.stopped.wait(min(1.0, self.heartbeat)):
            if time.monotonic() - self.last_line >= self.heartbeat and self.current:
                self._print(i18n.render(self.lang, "progress.still", text=self.current))

    def checking(self) -> None:
        """The worker is done: the checks run in this process."""
        self.show(i18n.render(self.lang, "progress.checks"))


def describe(event: dict[str, Any], lang: str) -> str:
    """One progress line for a supervisor event, in ``lang``."""
    try:
        phase: Phase | None = Phase.parse(str(event.get("step", "")))
    except ValueError:
        phase = None  # the supervisor passes on only the phases it accepted
    title = i18n.render(lang, STEP_TITLES.get(phase.step if phase else "", "progress.import"))
    epoch, epochs = event.get("epoch"), event.get("epochs")
    if event.get("event") == "restart":
        # The supervisor starts another worker: say why in plain words, and that grading goes on.
        cause = str(event.get("cause", ""))
        step = phase.step if phase else ""
        number = STEP_NUMBERS.get(step)
        where = i18n.render(lang, "progress.in_step", number=number) if number else i18n.render(lang, "progress.in_import")
        return i18n.render(lang, f"progress.restart.{cause if cause in RESTART_CAUSES else 'other'}", where=where)
    if event.get("event") == "epoch" and isinstance(epoch, int):
        return i18n.render(lang, "progress.epoch", title=title, epoch=epoch, epochs=epochs if isinstance(epochs, int) else "?")
    if phase is not None and phase.kind == "restore":
        # After a restart, a step already graded is re-created (not graded again): say so, or it looks like a replay.
        return i18n.render(lang, "progress.restore", title=title)
    if phase is not None and phase.kind == "fallback":
        # The step failed; its stand-in runs so the next steps can be graded (not a second try of the student's code).
        return i18n.render(lang, "progress.fallback", title=title)
    return title


def status_of(score: float, max_score: float, passed: bool) -> str:
    return "passed" if passed else ("partial" if score > 0 else "failed")


def print_result(result: GradingResult, out: str, stream: TextIO | None = None) -> None:
    """The result as a table wrapped to the terminal's width; colour only on a TTY."""
    lang = result.language
    console = Console(file=stream or sys.stdout, highlight=False, emoji=False)

    def t(key: str, **params: object) -> str:
        return i18n.render(lang, key, **params)

    console.print(Text(t("summary.title"), style="bold"))
    total = t("summary.total", score=result.score, max_score=result.max_score)
    if result.metrics.get("test_accuracy") is not None:
        total += " · " + t("summary.accuracy", accuracy=f"{result.metrics['test_accuracy']:.4f}")
    if result.isolation:
        total += " · " + t("summary.isolation", level=result.isolation)
    console.print(total)
    if result.mode == "quick":
        console.print(Text(t("summary.quick", subset=result.metrics.get("train_subset", "?")), style="yellow"))
    table = Table(show_lines=True, expand=True)
    # With a ratio, width is the minimum: "(predict_sample)" fits; a longer word folds rather than being cut to "(compile_mode…".
    table.add_column(t("summary.col_check"), ratio=2, width=16, overflow="fold")
    table.add_column(t("summary.col_points"), justify="right", no_wrap=True)
    table.add_column(t("summary.col_result"), no_wrap=True)
    table.add_column(t("summary.col_message"), ratio=5)
    for check in result.checks:
        status = status_of(check.score, check.max_score, check.passed)
        table.add_row(check.title, f"{check.score}/{check.max_score}", Text(t(f"summary.term_{status}"), style=STYLES[status]), check.message)
    console.print(table)
    if result.flags:
        console.print(Text(t("summary.flags"), style="bold"))
        for flag in result.flags:
            key, params = result.flag_message(flag)
            console.print(f"- {t(key, **params)}")
    console.print(t("summary.written_quick" if result.mode == "quick" else "summary.written", out=out))
