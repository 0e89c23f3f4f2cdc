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
and ``done``. An event out of that order, or naming a phase or a status the
worker never sends (``grader.sandbox.protocol``), was written by the
student's code, which shares the worker's process: the step it ran in is
marked tampered.
"""

from __future__ import annotations

import json
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
from grader.sandbox.limits import StepClock, StepLimit
from grader.sandbox.memory import MemoryCgroup
from grader.sandbox.processes import POSIX, PR_SET_DUMPABLE, become_subreaper, die_with_parent, kill_descendants, kill_group, prctl
from grader.sandbox.protocol import Phase, StepStatus
from grader.sandbox.tree import Quota, empty_folder
from grader.sandbox.untrusted import copy_regular, remove_entry
from grader.spec import MODULE_FILE, STEP_NAMES

GRACE_SECONDS = 5.0
POLL_SECONDS = 0.1
MAX_WORKERS = 12
BETWEEN_STEPS_SECONDS = 60.0  # checkpointing after training; no student code runs
REPO_ROOT = Path(__file__).resolve().parents[2]
GRADER_PACKAGE = REPO_ROOT / "grader"
# What the training step leaves for the parent's measurement (grader/measure.py).
EVIDENCE_FILES = ("weights.npz", "model.json", "x_test_n.npy", "probabilities.npy", "history.json")
EVIDENCE_MAX_BYTES = 1 << 30  # the worker's per-file cap (worker.MAX_FILE_BYTES): a bigger file is not the checkpoint
# The variables a worker inherits; nothing else (no GITHUB_*, ACTIONS_*, RUNNER_* or tokens).
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
        self.evidence = False
        self.protected: set[int] = set()
        self.memory_wall = "rss"
        self.output_file = self.state_dir / "student-output.txt"
        self.outcomes: dict[str, StepOutcome] = {}
        self.replaced: set[str] = set()
        self.dead: list[str] = []
        self.import_mode: str | None = None
        self.peak_mb = 0.0
        self.finished = False
        self.workers = 0
        self.last: Phase | None = None  # the last step or phase the worker started
        self.tampered: dict[str, list[str]] = {}
        self.strays = 0
        self.restored: set[str] = set()
        # A step's limit counts its tree's CPU time; the wall deadline _handle returns is the backstop.
        self.clock = StepClock(_descendants, GRACE_SECONDS)
        # Without a tmpfs (process, user) the total the worker writes is checked, not prevented.
        self.quota = Quota((self.state_dir, self.cwd), self.isolation.storage_mb) if self.isolation.level != "namespaces" else None

    # -- public ------------------------------------------------------------
    def run(self) -> SandboxRun:
        _harden()
        while not self.finished and self.workers < MAX_WORKERS:
            if self.workers and self.between_workers is not None:
                self.restored.update(self.between_workers())
            if self.workers:
                self._restore_evidence()
            self.workers += 1
            self._run_worker()
        kill_descendants()
        for step, names in self.tampered.items():
            if step.startswith("import"):
                # Undone right after the import: nothing graded depends on it.
                outcome = self.outcomes.setdefault(step, StepOutcome(step=step, status=StepStatus.TAMPERED))
                outcome.tampered = sorted(set(outcome.tampered + names))
            else:
                self.outcomes[step] = StepOutcome(step=step, status=StepStatus.TAMPERED, error={"names": names[:10]}, tampered=names)
        return SandboxRun(
            outcomes=self.outcomes,
            replaced=self.replaced | set(self.dead) | {s for s in self.tampered if not s.startswith("import")},
            state_dir=self.state_dir,
            peak_memory_mb=round(self.peak_mb, 1),
            workers=self.workers,
            output_file=self.output_file,
            evidence_dir=self.evidence_dir if self.evidence else None,
            isolation=self.isolation.level,
            memory_wall=self.memory_wall,
            stray_processes=self.strays,
        )

    # -- one worker ------------------------------------------------------------
    def _plan(self) -> Path:
        # Steps that killed a worker or were tampered with are replaced by
        # their stand-in in the next worker; the others are re-created.
        tampered = {s for s, o in self.outcomes.items() if o.status == StepStatus.TAMPERED} | set(self.tampered)
        unusable = list(dict.fromkeys(self.dead + sorted(s for s in tampered if not s.startswith("import"))))
        done = [s for s in self.outcomes if s not in unusable]
        plan = {
            "module": str(self.inside.state / self.module.name),
            "dataset": str(self.inside.dataset),
            "state_dir": str(self.inside.state),
            "seed": self.config.grading.seed,
            "train_subset": self.config.grading.train_subset,
            "threads": self.threads,
            "time_limits": self.config.time_limits,
            "wall_factor": self.config.grading.wall_factor,
            "done": done,
            "dead": unusable,
            "import_mode": self.import_mode,
        }
        self.paths.plan.write_text(json.dumps(plan))
        self.isolation.prepare(self.paths)
        return self.inside.plan

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

    def _run_worker(self) -> None:
        process = self._spawn("grader.sandbox.worker", self._plan())
        self.protected = set()
        try:
            self._watch(process, _lines(process.stdout))
        finally:
            self._stop(process)
            process.stdout.close()
            if self.cgroup is not None:
                self.cgroup.remove()

    def _spawn(self, module: str, plan: Path, stdin: Any = subprocess.DEVNULL) -> subprocess.Popen:
        """Start ``python -m module plan`` in the sandbox, under the memory limit (the observer's answerer too)."""
        # The channel is the worker's standard output: the worker moves it to
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

    def _watch(self, process: subprocess.Popen, lines: queue.Queue, deadline: float | None = None) -> None:
        self.current: Phase | None = None
        deadline = deadline or time.monotonic() + self.config.time_limit("import") + 60.0  # start-up
        while True:
            try:
                line = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                line = b""
            if line is None:
                break  # the worker is gone
            if line:
                if not self.protected:
                    # The first event comes before any student code runs: the
                    # processes alive now are the worker (and its sandbox).
                    self.protected = {process.pid} | {p.pid for p in _descendants()}
                deadline = self._handle(parse_line(line.rstrip(b"\n")), process, deadline)
                if self.finished:
                    # An answer ends the wait: what the call wrote is checked now, so the blame is that call's.
                    self._over_storage(process, force=True)
                    return
            memory = _rss_mb(_descendants())
            self.peak_mb = max(self.peak_mb, memory)
            if memory > self.config.grading.memory_limit_mb:
                self._kill(process)
                self._died(self.current, StepStatus.MEMORY, {"memory_mb": round(memory)})
                return
            if time.monotonic() > deadline or self.clock.over_cpu():
                self._kill(process)
                self._died(self.current, StepStatus.TIMEOUT, {})
                return
            # Checked every second, and whenever a step has just ended (the blame is then that step's).
            if self._over_storage(process, force=bool(line) and self.current is None):
                return
        code = self.isolation.exit_status(process.wait())
        if self.cgroup is not None and self.cgroup.oom_killed():
            self._died(self.current, StepStatus.MEMORY, {"memory_mb": self.config.grading.memory_limit_mb})
            return
        self._died(self.current, StepStatus.EXITED if code >= 0 else StepStatus.CRASHED, {"code": code})

    def _handle(self, event: dict[str, Any] | None, process: subprocess.Popen, deadline: float) -> float:
        """Act on one event; return the new deadline."""
        kind = event.get("event") if event else None
        phase = _phase_of(event)
        in_phase = self.current is None or not self.current.is_step
        limit = self.config.time_limits.get(phase.limit_key) if phase is not None else None
        if kind == "start" and in_phase and limit is not None:
            if not self.evidence and _after_training(phase.step):
                self._secure_evidence()  # a stand-in training in a restore or fallback phase
            self.current = self.last = phase
            self._tell({"event": "start", "step": str(phase)})
            return self.clock.start(StepLimit.of(limit, self.config.grading.wall_factor))
        if kind == "progress" and phase is not None and phase == self.current:
            # Epoch k of N: only ever displayed, so a forged one changes no grade.
            self._tell({"event": "epoch", "step": str(phase), "epoch": event.get("epoch"), "epochs": event.get("epochs")})
            return deadline
        if kind == "end" and phase is not None and phase == self.current and phase.is_step:
            self._record(event, phase.step)
            self.current, self.last = None, phase
            self.clock.stop()
            self.strays += _kill_strays(self.protected or {process.pid})
            if phase.step == "train_model":
                self._secure_evidence()
            return time.monotonic() + BETWEEN_STEPS_SECONDS
        if kind == "tampered" and phase is not None and phase.is_step and self.current is not None and self.current.step == phase.step:
            # Reported by the worker inside a phase, under the phase's step.
            names = event.get("names")
            self.tampered.setdefault(phase.step, []).extend(str(n) for n in (names if isinstance(names, list) else []))
            return deadline
        if kind == "done" and in_phase:
            replaced = event.get("replaced")
            self.replaced |= {str(r) for r in replaced} if isinstance(replaced, list) else set()
            self.finished = True
            return deadline
        # Out of order or unreadable: the student's code wrote to the channel.
        self._forged((self.current or self.last or Phase("import")).step)
        return deadline

    def _forged(self, step: str) -> None:
        """The student's code wrote to the channel while ``step`` ran: its facts are not trusted."""
        self.tampered.setdefault(step, []).append("grader channel")

    def _tell(self, event: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress(event)

    def _record(self, event: dict[str, Any], step: str) -> None:
        seconds = event.get("seconds")
        error, tampered = event.get("error"), event.get("tampered")
        status = StepStatus.parse(event.get("status"))
        if status != event.get("status"):
            self._forged(step)  # a status the worker never sends
        outcome = StepOutcome(
            step=step,
            status=status,
            error=error if isinstance(error, dict) else None,
            data=event.get("data"),
            seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0,
            printed=str(event.get("printed") or ""),
            tampered=[str(n) for n in tampered] if isinstance(tampered, list) else [],
        )
        self.outcomes[step] = outcome
        if step == "import" and outcome.status == StepStatus.OK:
            self.import_mode = "import"
        elif step == "import-salvage" and outcome.status == StepStatus.OK:
            self.import_mode = "salvaged"

    def _died(self, phase: Phase | None, status: StepStatus, details: dict[str, Any]) -> None:
        """Record a dead worker against the step (or phase) it was running."""
        phase = phase or self.last
        if phase is None:
            if self.workers == 1:
                raise SandboxError("the grading worker stopped before running any step")
            # A restarted worker stopped before running any step: keep what the first one saw.
            self.finished = True
            return
        step = phase.step
        if step in self.dead:
            # It died again even without running that step: give up, keep what we have.
            self.finished = True
            return
        self.dead.append(step)
        previous = self.outcomes.get(step)
        # A death while re-creating a step that had worked is that step's fault;
        # while standing in for a failed one, its own failure stays the reason.
        if phase.is_step or previous is None or previous.status == StepStatus.OK:
            self.outcomes[step] = StepOutcome(step=step, status=status, error=details or None)
        if step == "import":
            self.import_mode = None

    def _secure_evidence(self) -> None:
        """Copy the checkpoint out of the worker's reach as soon as training ended.

        Later steps run student code that may rewrite the state folder; the
        measurement reads only this copy. At ``namespaces`` the state folder
        is the sandbox's tmpfs, read through the worker's /proc root.
        """
        state = self.isolation.outside_state(self.paths, self.protected)
        if not (state / EVIDENCE_FILES[0]).is_file():
            return
        self.evidence_dir.mkdir(exist_ok=True)
        copied = [copy_regular(state / name, self.evidence_dir / name, EVIDENCE_MAX_BYTES) for name in EVIDENCE_FILES]
        # Only a whole checkpoint is evidence; a part (a later step wrecked the rest first) is
        # replaced by the next checkpoint a worker leaves, a stand-in's included.
        self.evidence = all(copied)

    def _over_storage(self, process: subprocess.Popen, force: bool) -> bool:
        """At ``process`` and ``user``: True (the worker stopped, its files removed) when its folders hold more than ``storage_mb``."""
        if self.quota is None or not self.quota.over(time.monotonic(), force=force):
            return False
        self._stop(process)  # every writer gone before its files are removed
        self._reclaim_storage()
        self._died(self.current, StepStatus.STORAGE, {"storage_mb": round(self.quota.used / 2**20)})
        return True

    def _reclaim_storage(self) -> None:
        """Remove what a worker over the storage cap left in its host folders (the grader's own files stay)."""
        try:
            empty_folder(self.state_dir, keep=(self.module.name, self.output_file.name))
            empty_folder(self.cwd)
        except OSError:
            pass  # what cannot be removed goes with the grading's folder

    def _restore_evidence(self) -> None:
        """A restarted worker resumes from the checkpoint as training left it, not as later steps did."""
        if not self.evidence or self.isolation.level == "namespaces":
            return  # at namespaces a new sandbox starts empty: the observer re-sends the checkpoint as data
        for name in EVIDENCE_FILES:
            target = self.state_dir / name
            if (self.evidence_dir / name).is_file():
                remove_entry(target)  # a later step may have left a folder or a link there
                shutil.copyfile(self.evidence_dir / name, target)

    def _kill(self, process: subprocess.Popen) -> None:
        if POSIX:
            kill_group(process.pid)
        try:
            process.kill()
        except OSError:
            pass

    def _stop(self, process: subprocess.Popen) -> None:
        self._kill(process)
        process.wait()
        kill_descendants()


def _phase_of(event: dict[str, Any] | None) -> Phase | None:
    """The step or phase an event names; None when it names none the worker runs (a forgery)."""
    try:
        return Phase.parse(str(event.get("step"))) if event else None
    except ValueError:
        return None


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


def _after_training(step: str) -> bool:
    return step in STEP_NAMES and STEP_NAMES.index(step) > STEP_NAMES.index("train_model")


def _lines(stream: Any) -> queue.Queue:
    """The worker's channel, line by line, read by a thread (select() takes no pipes on Windows).

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
    """Kill every process below this one except the worker; return how many."""
    strays = [p for p in _descendants() if p.pid not in protected]
    for process in strays:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(strays, timeout=2)
    return len(strays)
