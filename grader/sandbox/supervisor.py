"""The supervisor: runs the worker under time and memory limits.

It lives in the grader's own process and never imports student code. A step
that hangs past its limit (plus a grace period), blows the memory limit,
exits the process or crashes it is recorded against that step, and a new
worker continues from the next step. Every process the student started is
killed when its step ends, including daemons that left the process group
(the supervisor makes itself their "subreaper" so orphans come back to it).

The worker's events follow a fixed order: ``start`` and ``end`` of a step,
``start`` of a phase (``step:restore``, ``step:fallback``: re-creating a
step's state, which runs no report of its own), ``tampered`` inside a phase,
and ``done``. An event out of that order was written by the student's code,
which shares the worker's process: the step it ran in is marked tampered.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from grader.config import Config
from grader.sandbox.processes import PR_SET_DUMPABLE, become_subreaper, die_with_parent, kill_descendants, prctl
from grader.sandbox.channel import FD_ENV, parse_line

GRACE_SECONDS = 5.0
POLL_SECONDS = 0.1
MAX_WORKERS = 12
BETWEEN_STEPS_SECONDS = 60.0  # checkpointing after training; no student code runs
REPO_ROOT = Path(__file__).resolve().parents[2]


class SandboxError(RuntimeError):
    """The worker could not start at all: grading is impossible."""


@dataclass
class StepOutcome:
    step: str
    status: str
    error: dict[str, Any] | None = None
    data: Any = None
    seconds: float = 0.0
    printed: str = ""
    tampered: list[str] = field(default_factory=list)


@dataclass
class SandboxRun:
    outcomes: dict[str, StepOutcome]
    replaced: set[str]
    state_dir: Path
    peak_memory_mb: float
    workers: int
    seconds: float
    output_file: Path
    notes: list[str] = field(default_factory=list)
    stray_processes: int = 0
    restored_files: list[str] = field(default_factory=list)

    def outcome(self, step: str) -> StepOutcome | None:
        return self.outcomes.get(step)


def _harden() -> None:
    """Orphans of the worker come back to this process, so they can be killed;
    and, for a non-root grader, its /proc files (its stdout among them) and
    ptrace are closed to the student's processes of the same user."""
    become_subreaper()
    prctl(PR_SET_DUMPABLE, 0)


def _descendants() -> list[psutil.Process]:
    """The worker and everything below this process (orphans come back here)."""
    return psutil.Process().children(recursive=True)


def _rss_mb(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total / 2**20


class Supervisor:
    def __init__(
        self,
        config: Config,
        module: Path,
        dataset: Path,
        workdir: Path,
        threads: int = 2,
        between_workers: Callable[[], list[str]] | None = None,
        progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.config = config
        # Told of each step's start and each training epoch (for the terminal); display only.
        self.progress = progress
        # Puts back the grader's files before a new worker starts from them.
        self.between_workers = between_workers
        self.dataset = dataset
        self.workdir = workdir
        self.threads = threads
        self.state_dir = workdir / "state"
        self.cwd = workdir / "run"
        for folder in (self.state_dir, self.cwd):
            folder.mkdir(parents=True, exist_ok=True)
        self.module = self.state_dir / "mnist_dense.py"
        shutil.copyfile(module, self.module)
        self.output_file = self.state_dir / "student-output.txt"
        self.outcomes: dict[str, StepOutcome] = {}
        self.replaced: set[str] = set()
        self.dead: list[str] = []
        self.import_mode: str | None = None
        self.peak_mb = 0.0
        self.finished = False
        self.workers = 0
        self.last: str | None = None  # the last step or phase the worker started
        self.tampered: dict[str, list[str]] = {}
        self.strays = 0
        self.restored: set[str] = set()
        self.notes: list[str] = []

    # -- public ------------------------------------------------------------
    def run(self) -> SandboxRun:
        _harden()
        start = time.monotonic()
        while not self.finished and self.workers < MAX_WORKERS:
            if self.workers and self.between_workers is not None:
                self.restored.update(self.between_workers())
            self.workers += 1
            self._run_worker()
        kill_descendants()
        for step, names in self.tampered.items():
            if step.startswith("import"):
                # Undone right after the import: nothing graded depends on it.
                outcome = self.outcomes.setdefault(step, StepOutcome(step=step, status="tampered"))
                outcome.tampered = sorted(set(outcome.tampered + names))
            else:
                self.outcomes[step] = StepOutcome(step=step, status="tampered", error={"names": names[:10]}, tampered=names)
        return SandboxRun(
            outcomes=self.outcomes,
            replaced=self.replaced | set(self.dead) | {s for s in self.tampered if not s.startswith("import")},
            state_dir=self.state_dir,
            peak_memory_mb=round(self.peak_mb, 1),
            workers=self.workers,
            seconds=time.monotonic() - start,
            output_file=self.output_file,
            notes=self.notes,
            stray_processes=self.strays,
            restored_files=sorted(self.restored),
        )

    # -- one worker ------------------------------------------------------------
    def _plan(self) -> Path:
        # Steps that killed a worker or were tampered with are replaced by
        # their stand-in in the next worker; the others are re-created.
        tampered = {s for s, o in self.outcomes.items() if o.status == "tampered"} | set(self.tampered)
        unusable = list(dict.fromkeys(self.dead + sorted(s for s in tampered if not s.startswith("import"))))
        done = [s for s in self.outcomes if s not in unusable]
        plan = {
            "module": str(self.module),
            "dataset": str(self.dataset),
            "state_dir": str(self.state_dir),
            "seed": self.config.grading.seed,
            "train_subset": self.config.grading.train_subset,
            "threads": self.threads,
            "time_limits": self.config.time_limits,
            "done": done,
            "dead": unusable,
            "import_mode": self.import_mode,
        }
        path = self.workdir / "plan.json"
        path.write_text(json.dumps(plan))
        return path

    def _environment(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "KERAS_HOME", "MNIST_NPZ", "SYSTEMROOT")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env.update(
            PYTHONPATH=str(REPO_ROOT),
            PYTHONHASHSEED="0",
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
            TF_CPP_MIN_LOG_LEVEL="3",
            TF_DETERMINISTIC_OPS="1",
            KERAS_BACKEND="tensorflow",
            MPLBACKEND="Agg",
            CUDA_VISIBLE_DEVICES="",
            OMP_NUM_THREADS=str(self.threads),
        )
        return env

    def _run_worker(self) -> None:
        read_fd, write_fd = os.pipe()
        env = self._environment()
        env[FD_ENV] = str(write_fd)
        with open(self.state_dir / "worker.log", "ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "grader.sandbox.worker", str(self._plan())],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                pass_fds=(write_fd,),
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        os.close(write_fd)
        try:
            self._watch(process, read_fd)
        finally:
            os.close(read_fd)
            self._stop(process)

    def _watch(self, process: subprocess.Popen, read_fd: int) -> None:
        selector = selectors.DefaultSelector()
        selector.register(read_fd, selectors.EVENT_READ)
        buffer = b""
        self.current: str | None = None
        deadline = time.monotonic() + self.config.time_limit("import") + 60.0  # start-up
        while True:
            ready = selector.select(timeout=POLL_SECONDS)
            if ready:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break  # the worker is gone
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    deadline = self._handle(parse_line(line), process, deadline)
                    if self.finished:
                        return
            memory = _rss_mb(_descendants())
            self.peak_mb = max(self.peak_mb, memory)
            if memory > self.config.grading.memory_limit_mb:
                self._kill(process)
                self._died(self.current, "memory", {"memory_mb": round(memory)})
                return
            if time.monotonic() > deadline:
                self._kill(process)
                self._died(self.current, "timeout", {})
                return
        code = process.wait()
        self._died(self.current, "exited" if code >= 0 else "crashed", {"code": code})

    def _handle(self, event: dict[str, Any] | None, process: subprocess.Popen, deadline: float) -> float:
        """Act on one event; return the new deadline."""
        kind = event.get("event") if event else None
        step = str(event.get("step")) if event else ""
        in_phase = self.current is None or ":" in self.current
        limit = self.config.time_limits.get(_owner(step).split("-")[0])
        if kind == "start" and in_phase and limit is not None:
            self.current = self.last = step
            self._tell({"event": "start", "step": step})
            return time.monotonic() + float(limit) + GRACE_SECONDS
        if kind == "progress" and step == self.current:
            # Epoch k of N: only ever displayed, so a forged one changes no grade.
            self._tell({"event": "epoch", "step": step, "epoch": event.get("epoch"), "epochs": event.get("epochs")})
            return deadline
        if kind == "end" and step == self.current and ":" not in step:
            self._record(event)
            self.current, self.last = None, step
            self.strays += _kill_strays(process.pid)
            return time.monotonic() + BETWEEN_STEPS_SECONDS
        if kind == "tampered" and self.current is not None and _owner(self.current) == step:
            names = event.get("names")
            self.tampered.setdefault(step, []).extend(str(n) for n in (names if isinstance(names, list) else []))
            return deadline
        if kind == "done" and in_phase:
            replaced = event.get("replaced")
            self.replaced |= {str(r) for r in replaced} if isinstance(replaced, list) else set()
            self.finished = True
            return deadline
        # Out of order or unreadable: the student's code wrote to the channel.
        culprit = _owner(self.current or self.last or "import")
        self.tampered.setdefault(culprit, []).append("grader channel")
        return deadline

    def _tell(self, event: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress(event)

    def _record(self, event: dict[str, Any]) -> None:
        step = str(event.get("step"))
        seconds = event.get("seconds")
        error, tampered = event.get("error"), event.get("tampered")
        outcome = StepOutcome(
            step=step,
            status=str(event.get("status")),
            error=error if isinstance(error, dict) else None,
            data=event.get("data"),
            seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0,
            printed=str(event.get("printed") or ""),
            tampered=[str(n) for n in tampered] if isinstance(tampered, list) else [],
        )
        self.outcomes[step] = outcome
        if step == "import" and outcome.status == "ok":
            self.import_mode = "import"
        elif step == "import-salvage" and outcome.status == "ok":
            self.import_mode = "salvaged"

    def _died(self, phase: str | None, status: str, details: dict[str, Any]) -> None:
        """Record a dead worker against the step (or phase) it was running."""
        phase = phase or self.last
        if phase is None:
            if self.workers == 1:
                raise SandboxError("the grading worker stopped before running any step")
            self.notes.append("a restarted worker stopped before running any step")
            self.finished = True
            return
        step, _, kind = phase.partition(":")
        if step in self.dead:
            # It died again even without running that step: give up, keep what we have.
            self.notes.append(f"the worker keeps stopping at {phase}")
            self.finished = True
            return
        self.dead.append(step)
        previous = self.outcomes.get(step)
        # A death while re-creating a step that had worked is that step's fault;
        # while standing in for a failed one, its own failure stays the reason.
        if not kind or previous is None or previous.status == "ok":
            self.outcomes[step] = StepOutcome(step=step, status=status, error=details or None)
        if step == "import":
            self.import_mode = None

    def _kill(self, process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _stop(self, process: subprocess.Popen) -> None:
        self._kill(process)
        process.wait()
        kill_descendants()


def _owner(phase: str) -> str:
    """The step a phase belongs to: ``train_model:restore`` -> ``train_model``."""
    return phase.partition(":")[0]


def _kill_strays(worker_pid: int) -> int:
    """Kill every process below this one except the worker; return how many."""
    strays = [p for p in _descendants() if p.pid != worker_pid]
    for process in strays:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(strays, timeout=2)
    return len(strays)
