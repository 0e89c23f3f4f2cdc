"""The supervisor: runs the worker under time and memory limits.

It lives in the grader's own process and never imports student code. A step
that hangs past its limit (plus a grace period), blows the memory limit,
exits the process or crashes it is recorded against that step, and a new
worker continues from the next step. At the end every process the student
started is killed, including daemons that left the process group (the
supervisor makes itself their "subreaper" so orphans come back to it).
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from grader.config import Config
from grader.sandbox.channel import FD_ENV, parse_line

GRACE_SECONDS = 5.0
POLL_SECONDS = 0.1
MAX_WORKERS = 12
PR_SET_CHILD_SUBREAPER = 36
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

    def outcome(self, step: str) -> StepOutcome | None:
        return self.outcomes.get(step)


def _become_subreaper() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: orphans are then only killed through their process group


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _rss_mb(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total / 2**20


def kill_descendants() -> None:
    """Kill every process below this one (the worker and anything it left)."""
    me = psutil.Process()
    for _ in range(3):
        children = me.children(recursive=True)
        if not children:
            return
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                continue
        psutil.wait_procs(children, timeout=2)


class Supervisor:
    def __init__(self, config: Config, module: Path, dataset: Path, workdir: Path, threads: int = 2) -> None:
        self.config = config
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

    # -- public ------------------------------------------------------------
    def run(self) -> SandboxRun:
        _become_subreaper()
        start = time.monotonic()
        workers = 0
        while not self.finished and workers < MAX_WORKERS:
            workers += 1
            self._run_worker(first=workers == 1)
        kill_descendants()
        return SandboxRun(
            outcomes=self.outcomes,
            replaced=self.replaced | set(self.dead),
            state_dir=self.state_dir,
            peak_memory_mb=round(self.peak_mb, 1),
            workers=workers,
            seconds=time.monotonic() - start,
            output_file=self.output_file,
        )

    # -- one worker ------------------------------------------------------------
    def _plan(self) -> Path:
        done = [s for s in self.outcomes if s not in self.dead]
        plan = {
            "module": str(self.module),
            "dataset": str(self.dataset),
            "state_dir": str(self.state_dir),
            "seed": self.config.grading.seed,
            "train_subset": self.config.grading.train_subset,
            "threads": self.threads,
            "time_limits": self.config.time_limits,
            "done": done,
            "dead": list(self.dead),
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

    def _run_worker(self, first: bool) -> None:
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
            )
        os.close(write_fd)
        try:
            self._watch(process, read_fd)
        finally:
            os.close(read_fd)
            self._stop(process)

    def _watch(self, process: subprocess.Popen, read_fd: int) -> None:
        watcher = psutil.Process(process.pid)
        selector = selectors.DefaultSelector()
        selector.register(read_fd, selectors.EVENT_READ)
        buffer = b""
        current: str | None = None
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
                    event = parse_line(line)
                    if event is None:
                        continue
                    kind = event.get("event")
                    if kind == "start":
                        current = str(event.get("step"))
                        deadline = time.monotonic() + self.config.time_limit(current.split("-")[0]) + GRACE_SECONDS
                    elif kind == "end":
                        self._record(event)
                        current = None
                        deadline = time.monotonic() + 120.0  # restoring state between steps
                    elif kind == "done":
                        self.replaced |= set(event.get("replaced") or [])
                        self.finished = True
                        return
            memory = _rss_mb(_tree(watcher))
            self.peak_mb = max(self.peak_mb, memory)
            if memory > self.config.grading.memory_limit_mb:
                self._kill(process)
                self._died(current, "memory", {"memory_mb": round(memory)})
                return
            if time.monotonic() > deadline:
                self._kill(process)
                self._died(current, "timeout", {})
                return
        code = process.wait()
        self._died(current, "exited" if code >= 0 else "crashed", {"code": code})

    def _record(self, event: dict[str, Any]) -> None:
        step = str(event.get("step"))
        outcome = StepOutcome(
            step=step,
            status=str(event.get("status")),
            error=event.get("error"),
            data=event.get("data"),
            seconds=float(event.get("seconds") or 0.0),
            printed=str(event.get("printed") or ""),
        )
        self.outcomes[step] = outcome
        if step == "import" and outcome.status == "ok":
            self.import_mode = "import"
        elif step == "import-salvage" and outcome.status == "ok":
            self.import_mode = "salvaged"

    def _died(self, step: str | None, status: str, details: dict[str, Any]) -> None:
        if step is None:
            if not self.outcomes:
                raise SandboxError("the grading worker stopped before running any step")
            # Died between steps (while restoring state): blame the last step run.
            step = next(reversed(self.outcomes))
            if step in self.dead:
                raise SandboxError(f"the grading worker keeps stopping after {step}")
        self.outcomes[step] = StepOutcome(step=step, status=status, error=details or None)
        self.dead.append(step)
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
