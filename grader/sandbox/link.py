"""The link to one answerer: the observer's mechanism for asking the student's process.

``AnswererLink`` starts the answerer (``answerer.py``) in the sandbox with the
supervisor's mechanism (limits, killing, the storage quota), opens the two
exchange folders, sends one request at a time and reads the reply as bounded
data (``wire.py``), within the running step's budget: CPU seconds of the
answerer's tree with ``wall_factor`` times it as the wall backstop. A call that
raised is ``StepFailed`` with its status; an answerer that stopped is
``AnswererDied``. What to ask, what an answer means and what to do when the
answerer died (``_revive``) is the observer's policy (``observer.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from grader import facts as observed
from grader.sandbox import wire
from grader.sandbox.limits import StepLimit
from grader.sandbox.protocol import StepStatus
from grader.sandbox.supervisor import GRACE_SECONDS, MAX_WORKERS, SandboxError, Supervisor, _lines
from grader.sandbox.untrusted import remove_entry

STUDENT_OPS = ("call", "import", "signature")  # requests that run the student's functions
GRADER_REQUEST_SECONDS = 60.0
STATUS_OF_KIND = {
    "timeout": StepStatus.TIMEOUT,
    "not_implemented": StepStatus.NOT_IMPLEMENTED,
    "missing": StepStatus.MISSING,
    "exited": StepStatus.EXITED,
    "memory": StepStatus.MEMORY,
}


class StepFailed(Exception):
    """A step (or a call in it) did not give an answer: its status and error."""

    def __init__(self, status: StepStatus, error: dict[str, Any] | None = None) -> None:
        super().__init__(status)
        self.status, self.error = status, error


class AnswererDied(StepFailed):
    """The answerer stopped (killed over a limit, exited, crashed) during a call."""


def error_info(error: Any) -> observed.ErrorInfo:
    """An exception as the answerer described it, as a typed fact (bounded, never trusted beyond its type)."""
    error = error if isinstance(error, dict) else {}
    line, code = error.get("line"), error.get("code")
    return observed.ErrorInfo(
        type=wire.cap(error.get("type", "?"))[:100],
        message=wire.cap(error.get("message", ""))[:400],
        line=line if type(line) is int else None,
        function=wire.cap(error["function"])[:100] if isinstance(error.get("function"), str) else None,
        code=code if type(code) is int else None,
    )


def _failure(reply: dict[str, Any]) -> StepFailed:
    error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
    status = STATUS_OF_KIND.get(str(error.get("kind")), StepStatus.ERROR)
    return StepFailed(status, dataclasses.asdict(error_info(error)))


class AnswererLink(Supervisor):
    """One answerer at a time, asked one request at a time; the observer says what to ask."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seed = int(self.config.grading.seed)
        # The exchange folders: host folders at process and user; at namespaces the same
        # folders of the sandbox's tmpfs, held as descriptors while an answerer lives (_open_exchange).
        self.outbox: Path | int | None = self.state_dir / "outbox"
        self.inbox: Path | int | None = self.state_dir / "inbox"
        self.step_limit: StepLimit | None = None
        self.step_deadline = 0.0  # the running step's wall backstop (monotonic), set by _budget
        self.current_step = "import"  # the step (or phase's step) the requests are made for
        self.process: subprocess.Popen | None = None
        self.lines: queue.Queue | None = None  # the answerer's channel, line by line
        self.ready = False  # the answerer said it is ready (before any student code ran)
        self.requests = 0
        self.reply: dict[str, Any] | None = None
        self.waiting: int | None = None
        self.death: StepFailed | None = None
        self.last_death: tuple[str, StepStatus] | None = None
        self.call_tampered: list[str] = []
        self.call_printed: list[str] = []

    def _plan_answerer(self) -> Path:
        if self.isolation.level != "namespaces":  # at namespaces the answerer makes them in its new tmpfs
            for folder in (self.state_dir / "outbox", self.state_dir / "inbox"):
                remove_entry(folder)
                folder.mkdir()
        plan = {
            "module": str(self.inside.state / self.module.name),
            "dataset": str(self.inside.dataset),
            "state_dir": str(self.inside.state),
            "outbox": str(self.inside.state / "outbox"),
            "inbox": str(self.inside.state / "inbox"),
            "threads": self.threads,
            "seed": self.seed,
            "wall_factor": self.config.grading.wall_factor,
        }
        self.paths.plan.write_text(json.dumps(plan))
        self.isolation.prepare(self.paths)
        return self.inside.plan

    def _start(self) -> None:
        if self.workers >= MAX_WORKERS:
            raise StepFailed(StepStatus.CRASHED, {"type": "TooManyRestarts"})
        if self.workers and self.between_workers is not None:
            self.restored.update(self.between_workers())
        self.workers += 1
        self.process = self._spawn("grader.sandbox.answerer", self._plan_answerer(), stdin=subprocess.PIPE)
        self.lines = _lines(self.process.stdout)
        self.protected = set()
        self.ready = False
        self.finished = False
        self._watch(self.process, self.lines, time.monotonic() + self.config.time_limit("import") + 60.0)
        if not self.ready or self.death is not None:
            death, self.death = self.death, None
            self._stop_answerer()
            if self.workers == 1:
                raise SandboxError("the grading worker stopped before running any step")
            raise death or StepFailed(StepStatus.CRASHED)
        self._open_exchange()

    def _open_exchange(self) -> None:
        """Where the observer reads answers and writes the data it sends.

        At ``namespaces`` the state folder is the sandbox's size-capped tmpfs
        (``storage_mb``): the exchange stays inside that cap, and the observer
        reaches it through ``/proc/<pid>/root``, one component at a time, never
        through a link the student's code put there. Elsewhere they are the host
        state folder's (counted by the supervisor's storage quota).
        """
        if self.isolation.level != "namespaces":
            self.outbox, self.inbox = self.state_dir / "outbox", self.state_dir / "inbox"
            return
        try:
            # No student code has run yet in this answerer: a failure here is the grader's.
            self.outbox = self.isolation.open_state_folder(self.paths, self.protected, "outbox")
            self.inbox = self.isolation.open_state_folder(self.paths, self.protected, "inbox")
        except OSError as error:
            self._stop_answerer()
            raise SandboxError(f"the sandbox's exchange folders cannot be reached: {error}") from error

    def _close_exchange(self) -> None:
        for fd in (self.outbox, self.inbox):
            if isinstance(fd, int):
                os.close(fd)
        if self.isolation.level == "namespaces":
            self.outbox = self.inbox = None

    def _stop_answerer(self) -> None:
        if self.process is None:
            return
        self._stop(self.process)
        for stream in (self.process.stdout, self.process.stdin):
            try:
                stream.close()
            except OSError:
                pass
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        self.process = None
        self._close_exchange()

    def ask(self, op: str, limit: float | None = None, **request: Any) -> dict[str, Any]:
        """Send one request; the answerer's reply (checked as plain data), or AnswererDied."""
        if self.process is None:
            self._revive()
        self.requests += 1
        student, own_limit = op in STUDENT_OPS, limit is not None
        if limit is None:
            # A student's function runs within its step's time: the CPU seconds the answerer's tree
            # has left, and the step's wall backstop. The grader's own requests (weights,
            # descriptions, the stand-ins' data) get at least GRADER_REQUEST_SECONDS of either.
            limit, wall = self.remaining(), self.wall_remaining()
            if not student:
                limit, wall = max(limit, GRADER_REQUEST_SECONDS), max(wall, GRADER_REQUEST_SECONDS)
        else:
            wall = limit * max(1.0, self.config.grading.wall_factor)
        limit, wall = max(0.1, limit), max(0.1, wall)
        request.update(op=op, id=self.requests, limit=limit, wall=wall)
        line = (json.dumps(request) + "\n").encode()
        try:
            self.process.stdin.write(line)
            self.process.stdin.flush()
        except OSError:
            pass  # it died: the watch below sees the end of its channel
        self.waiting, self.reply, self.finished = self.requests, None, False
        counted = self.clock.limit
        if not student or own_limit:
            # The grader's own request, or a call with its own limit: the supervisor's CPU count
            # kills at that limit (plus the grace) and not at the step's.
            self.clock.limit = StepLimit(cpu=self.clock.used() + limit, wall=wall)
        try:
            self._watch(self.process, self.lines, time.monotonic() + wall + GRACE_SECONDS)
        finally:
            self.clock.limit = counted
        self.waiting = None
        if self.reply is None or self.death is not None:  # no answer, or one that came with a death (over the storage cap)
            death, self.death = self.death or AnswererDied(StepStatus.CRASHED), None
            self.last_death = (self.current_step, death.status)  # told with the restart that follows
            self._stop_answerer()
            raise death
        reply = self.reply
        self.call_tampered += [wire.cap(n)[:200] for n in reply.get("tampered") or [] if isinstance(n, str)][:10]
        self.call_printed.append(wire.cap(reply.get("printed") or ""))
        return reply

    def answer(self, op: str, **request: Any) -> Any:
        """``ask``, and the value when the call returned; StepFailed with the exception's status when it raised."""
        reply = self.ask(op, **request)
        if not reply.get("ok"):
            raise _failure(reply)
        return reply.get("value")

    def _budget(self, key: str) -> None:
        """The running step's time: ``[time_limits] key`` CPU seconds of the answerer's whole tree
        (grader/sandbox/limits.py), and ``wall_factor`` times that in real time as the backstop."""
        self.step_limit = StepLimit.of(self.config.time_limit(key), self.config.grading.wall_factor)
        self.step_deadline = self.clock.start(self.step_limit) - GRACE_SECONDS

    def remaining(self) -> float:
        """CPU seconds the running step has left."""
        if self.step_limit is None:
            return self.wall_remaining()
        return max(0.1, self.step_limit.cpu - self.clock.used())

    def wall_remaining(self) -> float:
        return max(0.1, self.step_deadline - time.monotonic())

    # Supervisor hooks: one reply ends a wait; anything else on the channel is forged.
    def _handle(self, event: dict[str, Any] | None, process: subprocess.Popen, deadline: float) -> float:
        kind = event.get("event") if event else None
        if kind == "ready" and not self.ready:
            self.ready, self.finished = True, True
            return deadline
        if kind == "reply" and self.waiting is not None and event.get("id") == self.waiting:
            try:
                self.reply = wire.check_value(event)
            except wire.WireError:
                self.reply = {"ok": False, "error": {"type": "MalformedReply"}, "tampered": ["grader channel"]}
            self.finished = True
            return deadline
        if kind == "progress" and self.waiting is not None and self.current_step == "train_model":
            epoch, epochs = event.get("epoch"), event.get("epochs")
            self._tell(
                {"event": "epoch", "step": "train_model", "epoch": epoch if type(epoch) is int else None, "epochs": epochs if type(epochs) is int else None}
            )
            return deadline
        self.call_tampered.append("grader channel")
        return deadline

    def _died(self, status: StepStatus, details: dict[str, Any]) -> None:
        self.death = AnswererDied(status, details or None)

    def array(self, ref: Any, max_bytes: int = wire.MAX_ARRAY_BYTES) -> np.ndarray:
        array = wire.read_array(self.outbox, ref, max_bytes)
        wire.remove_in(self.outbox, ref["file"])
        return array

    @staticmethod
    def type_of(value: Any) -> str:
        if not isinstance(value, dict):
            raise wire.WireError("not a value")
        kind = value.get("kind")
        if kind == "array":
            return "ndarray"
        if kind == "plain":
            return value.get("type") or type(value.get("value")).__name__
        return wire.cap(value.get("type", kind))[:100]

    def _revive(self) -> None:
        """Start a new answerer when a request finds none (the last one died): the observer's policy."""
        raise NotImplementedError
