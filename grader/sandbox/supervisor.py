"""The supervisor: the mechanism that starts the student's process and holds it to its limits.

It lives in the grader's own process and never imports student code. It
starts ``python -m <module> <plan>`` in the sandbox (``_spawn``: isolation
level, environment, memory cgroup), reads its channel line by line and
watches it (``_watch``): a process over its CPU time (plus a grace period),
its wall backstop, the memory limit or the storage cap is stopped, and one
that exits or crashes is noticed. Every process the student started is
killed when a step ends, including daemons that left the process group (the
supervisor makes itself their "subreaper" so orphans come back to it).

What a line on the channel means and what a death costs is policy, not
mechanism: a subclass decides it in two hooks, ``_handle`` (one event) and
``_died`` (the process stopped). The observer (``grader/sandbox/observer.py``)
is that policy: which step runs, restarts, stand-ins. The types a grading's
run produces (``StepOutcome``, ``SandboxRun``) are here, shared by both.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from grader.config import Config
from grader.sandbox.channel import MAX_LINE, parse_line
from grader.sandbox.isolation import Isolation, Paths
from grader.sandbox.limits import StepClock
from grader.sandbox.memory import MemoryCgroup
from grader.sandbox.processes import POSIX, PR_SET_DUMPABLE, become_subreaper, die_with_parent, kill_below, kill_descendants, kill_process, prctl
from grader.sandbox.protocol import StepStatus
from grader.sandbox.tree import Quota, empty_folder
from grader.spec import MODULE_FILE

GRACE_SECONDS = 5.0
POLL_SECONDS = 0.1
# How often the worker's tree is listed for its memory and CPU time. Listing it
# reads every process's /proc/<pid>/stat (psutil's ppid map): at each poll it
# cost the grading process about a fifth of a core, taken from the student's training.
SAMPLE_SECONDS = 0.5
MAX_WORKERS = 12
REPO_ROOT = Path(__file__).resolve().parents[2]
GRADER_PACKAGE = REPO_ROOT / "grader"
# The variables the student's process inherits; nothing else (no GITHUB_*, ACTIONS_*, RUNNER_* or tokens).
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")


class SandboxError(RuntimeError):
    """The worker could not start at all: grading is impossible."""


@dataclass
class StepOutcome:
    step: str
    status: StepStatus
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
    output_file: Path
    evidence_dir: Path | None = None  # copied by the parent when training ended; None: never trained
    isolation: str = "process"
    memory_wall: str = "rss"  # "cgroup": the kernel's hard limit too; "rss": the supervisor's watch only
    stray_processes: int = 0
    # How the grader trained when train_model's own training could not be kept: "student_model"
    # (the reference training, on the student's own model), "standin" (the short stand-in), or "".
    grader_training: str = ""

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


class TreeSampler:
    """The worker's tree as last listed, listed again when older than ``max_age`` seconds (or when asked)."""

    def __init__(self, lister=None, max_age: float = SAMPLE_SECONDS, clock=time.monotonic) -> None:
        self.lister = lister or _descendants
        self.max_age = max_age
        self.clock = clock
        self.listed_at: float | None = None
        self.processes: list[psutil.Process] = []

    def __call__(self) -> list[psutil.Process]:
        now = self.clock()
        if self.listed_at is None or now - self.listed_at >= self.max_age:
            self.processes, self.listed_at = self.lister(), now
        return self.processes

    def fresh(self) -> list[psutil.Process]:
        """List now (a step starts or ends: its CPU must count from this moment)."""
        self.listed_at = None
        return self()


def _rss_mb(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total / 2**20


class Supervisor:
    """Starts the student's process in the sandbox and watches it; a subclass decides what its events mean."""

    def __init__(
        self,
        config: Config,
        module: Path,
        dataset: Path,
        workdir: Path,
        threads: int = 2,
        between_workers: Callable[[], list[str]] | None = None,
        progress: Callable[[dict[str, Any]], None] | None = None,
        isolation: Isolation | None = None,
    ) -> None:
        self.config = config
        self.isolation = isolation or Isolation("process")
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
        self.module = self.state_dir / MODULE_FILE
        shutil.copyfile(module, self.module)
        self.paths = Paths(plan=workdir / "plan.json", dataset=Path(dataset), state=self.state_dir, run=self.cwd)
        self.inside = self.isolation.inside(self.paths)
        self.evidence_dir = workdir / "evidence"  # only this process writes here
        self.evidence = False  # a whole checkpoint is in evidence_dir
        self.protected: set[int] = set()  # the sandbox's own processes (alive before any student code ran)
        self.cgroup: MemoryCgroup | None = None  # the running process's memory cgroup, when the kernel gives one
        self.memory_wall = "rss"
        self.output_file = self.state_dir / "student-output.txt"
        self.outcomes: dict[str, StepOutcome] = {}
        self.replaced: set[str] = set()
        self.peak_mb = 0.0
        self.finished = False  # set by _handle: the wait _watch is in has its answer
        self.workers = 0  # processes started
        self.strays = 0  # processes killed after a step ended
        self.restored: set[str] = set()  # grader files put back between two processes (between_workers)
        # A step's limit counts its tree's CPU time; the wall deadline _handle returns is the backstop.
        self.tree = TreeSampler()
        self.clock = StepClock(self.tree, GRACE_SECONDS)
        # Without a tmpfs (process, user) the total the worker writes is checked, not prevented.
        self.quota = Quota((self.state_dir, self.cwd), self.isolation.storage_mb) if self.isolation.level != "namespaces" else None

    # -- mechanism ---------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}
        home = "/tmp" if self.isolation.level != "process" else str(self.cwd)
        env.update(
            HOME=home,
            USERPROFILE=home,
            MNIST_NPZ=str(self.inside.dataset),
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

    def _spawn(self, module: str, plan: Path, stdin: Any = subprocess.DEVNULL) -> subprocess.Popen:
        """Start ``python -m module plan`` in the sandbox, under the memory limit (the observer's answerer)."""
        # The channel is the process's standard output: the process moves it to
        # another descriptor before anything else runs, and points its own
        # stdout at the output file (portable: no inherited extra descriptor).
        self.clock.stop()  # a step a previous worker died in counts no more
        command = self.isolation.command([sys.executable, "-m", module, str(plan)], self.paths, GRADER_PACKAGE)
        # The kernel's hard wall, above the RSS watch's limit by what the tmpfs may hold.
        limit = self.config.grading.memory_limit_mb + self.isolation.writable_mb
        self.cgroup = MemoryCgroup.create(limit) if POSIX else None
        self.memory_wall = "cgroup" if self.cgroup is not None else self.memory_wall
        posix = {"start_new_session": True, "preexec_fn": _child_setup(self.cgroup)} if POSIX else {}
        with open(self.workdir / "worker.log", "ab") as log:
            process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self._environment(),
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=log,
                **posix,
            )
        return process

    def _watch(self, process: subprocess.Popen, lines: queue.Queue, deadline: float) -> None:
        """Read ``process``'s channel until ``_handle`` says the wait is over, the process stops or a limit stops it."""
        while True:
            try:
                line = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                line = b""
            if line is None:
                break  # the worker is gone
            if line:
                self.tree.fresh()  # an event (a step's start or end): its CPU counts from this moment
                if not self.protected:
                    # The first event comes before any student code runs: the
                    # processes alive now are the answerer (and its sandbox).
                    self.protected = {process.pid} | {p.pid for p in _descendants()}
                deadline = self._handle(parse_line(line.rstrip(b"\n")), process, deadline)
                if self.finished:
                    # An answer ends the wait: what the call wrote is checked now, so the blame is that call's.
                    self._over_storage(process, force=True)
                    return
            memory = _rss_mb(self.tree())
            self.peak_mb = max(self.peak_mb, memory)
            if memory > self.config.grading.memory_limit_mb:
                self._kill(process)
                self._died(StepStatus.MEMORY, {"memory_mb": round(memory)})
                return
            if time.monotonic() > deadline or self.clock.over_cpu():
                self._kill(process)
                self._died(StepStatus.TIMEOUT, {})
                return
            # Checked every second, and whenever a line came (the blame is then the call's that wrote it).
            if self._over_storage(process, force=bool(line)):
                return
        code = self.isolation.exit_status(process.wait())
        if self.cgroup is not None and self.cgroup.oom_killed():
            self._died(StepStatus.MEMORY, {"memory_mb": self.config.grading.memory_limit_mb})
            return
        self._died(StepStatus.EXITED if code >= 0 else StepStatus.CRASHED, {"code": code})

    # -- policy hooks ------------------------------------------------------
    def _handle(self, event: dict[str, Any] | None, process: subprocess.Popen, deadline: float) -> float:
        """Act on one event of the channel (None: an unreadable line); return the new deadline."""
        raise NotImplementedError

    def _died(self, status: StepStatus, details: dict[str, Any]) -> None:
        """The process stopped (``status``: how) while a wait was on."""
        raise NotImplementedError

    def _tell(self, event: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress(event)

    def _over_storage(self, process: subprocess.Popen, force: bool) -> bool:
        """At ``process`` and ``user``: True (the worker stopped, its files removed) when its folders hold more than ``storage_mb``."""
        if self.quota is None or not self.quota.over(time.monotonic(), force=force):
            return False
        self._stop(process)  # every writer gone before its files are removed
        self._reclaim_storage()
        self._died(StepStatus.STORAGE, {"storage_mb": round(self.quota.used / 2**20)})
        return True

    def _reclaim_storage(self) -> None:
        """Remove what a worker over the storage cap left in its host folders (the grader's own files stay)."""
        try:
            empty_folder(self.state_dir, keep=(self.module.name, self.output_file.name))
            empty_folder(self.cwd)
        except OSError:
            pass  # what cannot be removed goes with the grading's folder

    def _kill(self, process: subprocess.Popen) -> None:
        kill_process(process)

    def _stop(self, process: subprocess.Popen) -> None:
        self._kill(process)
        process.wait()
        kill_descendants()


def _child_setup(cgroup: MemoryCgroup | None) -> Callable[[], None]:
    """Run in the worker's process before exec: die with the grader, enter the memory cgroup."""

    def setup() -> None:
        die_with_parent()
        if cgroup is not None:
            try:
                cgroup.enter()
            except OSError:
                pass  # the RSS watch still applies

    return setup


def _lines(stream: Any) -> queue.Queue:
    """The process's channel, line by line, read by a thread (select() takes no pipes on Windows).

    ``None`` marks the end of the stream.
    """
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        try:
            for line in iter(lambda: stream.readline(MAX_LINE + 1), b""):
                lines.put(line)
        except (OSError, ValueError):
            pass  # closed by the supervisor
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _kill_strays(protected: set[int]) -> int:
    """Kill every process below this one except the answerer's sandbox (``protected``); return how many."""
    return kill_below(protected, recursive=True)
