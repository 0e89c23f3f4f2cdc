"""The worker process: imports the student's module and runs its steps.

Started by the supervisor as ``python -m grader.sandbox.worker PLAN.json``.
Its standard output and error go to a file (everything the student prints);
events go to the supervisor over the private channel. A step over its time
limit is interrupted here first (``StepTimeout``); if that does not work, the
supervisor kills the process and starts another past that step.
"""

from __future__ import annotations

import _thread
import functools
import json
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.sandbox.channel import Channel
from grader.sandbox.guard import Guard
from grader.sandbox.protocol import Phase, StepStatus

MAX_FILE_BYTES = 1 << 30
# SIGALRM interrupts a step on POSIX; elsewhere a timer thread interrupts the main thread.
HAS_ALARM = hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")


class StepTimeout(BaseException):
    """Raised in the worker when a step exceeds its time limit."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise StepTimeout()


def _quiet_runtime(threads: int, seed: int = 0) -> None:
    """No TensorFlow log noise; deterministic kernels on a fixed thread count.

    Op determinism makes any random op without a seed raise ("Random ops
    require a seed to be set when determinism is enabled"); a global seed
    (Python, NumPy, TensorFlow) set before the student's module is imported
    gives every such op one, so module-level code that runs alone runs here too.
    """
    warnings.filterwarnings("ignore")
    import absl.logging
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.get_logger().setLevel("ERROR")
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.config.experimental.enable_op_determinism()
    import keras

    keras.utils.set_random_seed(seed)


def _status(error: BaseException, missing: type) -> StepStatus:
    if isinstance(error, StepTimeout):
        return StepStatus.TIMEOUT
    if isinstance(error, NotImplementedError):
        return StepStatus.NOT_IMPLEMENTED
    if isinstance(error, missing):
        return StepStatus.MISSING
    if isinstance(error, SystemExit):
        return StepStatus.EXITED
    if isinstance(error, MemoryError):
        return StepStatus.MEMORY
    return StepStatus.ERROR


class Runner:
    """Runs steps and phases under their time limits, and reports them.

    Everything it calls on is bound here, before the student's module is
    imported, so replacing a class attribute later cannot redirect it.
    """

    def __init__(self, channel: Channel, plan: dict[str, Any], output: Any, guard: Guard) -> None:
        from grader.sandbox.pipeline import MissingFunction, describe_error

        self.send = channel.send
        self.undo = guard.restore
        self.timed = functools.partial(_timed, describe=describe_error, missing=MissingFunction, wall_factor=float(plan.get("wall_factor", 1.0)))
        self.plan = plan
        self.output = output

    def run(self, step: str, action: Callable[[], Any], recover: Callable[[], Any] | None) -> Any:
        """Run one step and report it; put its stand-in in place on failure."""
        limit = self.limit(Phase(step))
        self.send(event="start", step=step, limit=limit)
        start = time.monotonic()
        offset = self.output.tell()
        data, status, error = self.timed(action, limit)
        tampered = self.undo()
        if tampered and not step.startswith("import"):
            # The step replaced functions the grader observes it with: its facts may be forged.
            data, status, error = None, StepStatus.TAMPERED, {"names": tampered[:10]}
        seconds = time.monotonic() - start
        printed = _printed_since(self.output, offset)
        self.send(event="end", step=step, status=status, error=error, data=data, seconds=seconds, printed=printed, tampered=tampered[:10])
        if status != StepStatus.OK and recover is not None:
            self.phase(Phase(step, "fallback"), recover)
        return data

    def phase(self, phase: Phase, action: Callable[[], Any], fallback: Callable[[], Any] | None = None) -> None:
        """Re-create a step's state without reporting it; use ``fallback`` if that fails.

        Announced to the supervisor, so a phase that hangs or kills the
        worker is held against its own step.
        """
        limit = self.limit(phase)
        self.send(event="start", step=str(phase), limit=limit)
        _, status, _ = self.timed(action, limit)
        tampered = self.undo()
        if tampered:
            self.send(event="tampered", step=phase.step, names=tampered[:10])
        if (status != StepStatus.OK or tampered) and fallback is not None:
            self.timed(fallback, limit)
            self.undo()

    def limit(self, phase: Phase) -> float:
        return float(self.plan["time_limits"][phase.limit_key])


class _Alarm:
    """Interrupts the main thread after ``limit`` CPU seconds of this process (all its
    threads) or ``limit * wall_factor`` real seconds, whichever comes first
    (grader/sandbox/limits.py: the supervisor's own count, a grace period later).

    POSIX: a CPU timer (SIGPROF) and a wall timer (SIGALRM); elsewhere a thread
    that watches ``time.process_time()`` and the clock.
    """

    def __init__(self, limit: float, wall_factor: float = 1.0) -> None:
        self.limit = limit
        self.wall = limit * max(1.0, wall_factor)
        self.timer: threading.Thread | None = None
        self.stopped = threading.Event()
        self.fired = False

    def __enter__(self) -> _Alarm:
        if HAS_ALARM:
            signal.signal(signal.SIGALRM, _on_alarm)
            signal.signal(signal.SIGPROF, _on_alarm)
            signal.setitimer(signal.ITIMER_PROF, self.limit)
            signal.setitimer(signal.ITIMER_REAL, self.wall)
        else:
            # interrupt_main() raises KeyboardInterrupt only through SIGINT's Python
            # handler: a grader started with SIGINT ignored (a background job, nohup)
            # would otherwise never stop a step that hangs.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.timer = threading.Thread(target=self._watch, args=(time.process_time(), time.monotonic()), daemon=True)
            self.timer.start()
        return self

    def _watch(self, cpu: float, wall: float) -> None:
        while not self.stopped.wait(0.05):
            if time.process_time() - cpu > self.limit or time.monotonic() - wall > self.wall:
                self._interrupt()
                return

    def _interrupt(self) -> None:
        self.fired = True
        _thread.interrupt_main()  # a KeyboardInterrupt in the main thread

    def cancel(self) -> None:
        if HAS_ALARM:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.setitimer(signal.ITIMER_REAL, 0)
        self.stopped.set()

    def __exit__(self, *exc: Any) -> None:
        self.cancel()


def _timed(
    action: Callable[[], Any], limit: float, describe: Callable[..., Any], missing: type, wall_factor: float = 1.0
) -> tuple[Any, StepStatus, dict[str, Any] | None]:
    """``action()``, interrupted after ``limit`` CPU seconds (or its wall backstop)."""
    with _Alarm(limit, wall_factor) as alarm:
        try:
            return action(), StepStatus.OK, None
        except BaseException as caught:  # noqa: BLE001 - the student's code may raise anything
            alarm.cancel()
            if alarm.fired and isinstance(caught, KeyboardInterrupt):
                caught = StepTimeout()
            return None, _status(caught, missing), describe(caught)


def _printed_since(output: Any, offset: int, limit: int = 2000) -> str:
    output.flush()
    end = output.seek(0, os.SEEK_END)
    output.seek(offset)
    text = output.read(min(limit, end - offset)).decode("utf-8", errors="replace")
    output.seek(end)
    return text


def _limit_file_size() -> None:
    """No file the worker writes may fill the disk (SIGXFSZ stops it instead); POSIX only."""
    try:
        import resource
    except ImportError:
        return  # Windows: the parent's limits only
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))


def main(plan_path: str) -> int:
    # The supervisor reads events on our standard output: keep it as the
    # channel, and send anything else printed there to the log (stderr).
    channel = Channel(os.dup(1))
    os.dup2(2, 1)
    plan = json.loads(Path(plan_path).read_text())
    state_dir = Path(plan["state_dir"])
    # TensorFlow's start-up chatter goes to the worker's log, not to the student.
    _quiet_runtime(int(plan["threads"]), int(plan["seed"]))
    _limit_file_size()
    # Everything printed from here on, by anyone, lands in the output file.
    output = open(state_dir / "student-output.txt", "ab+")
    os.dup2(output.fileno(), 1)
    os.dup2(output.fileno(), 2)
    if HAS_ALARM:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.signal(signal.SIGPROF, _on_alarm)
    from grader import data as mnist
    from grader.sandbox import student_module
    from grader.sandbox.pipeline import Pipeline
    from grader.spec import STEPS

    dataset = mnist.read_npz(Path(plan["dataset"]))
    mnist.use_local_mnist()
    runner = Runner(channel, plan, output, Guard())
    # Bound now: a class attribute the student's code replaces later cannot redirect them.
    run, phase, send = runner.run, runner.phase, runner.send
    done, dead = set(plan["done"]), set(plan["dead"])
    source = Path(plan["module"])

    student: Any = None

    def plain_import() -> dict[str, Any]:
        nonlocal student
        student = student_module.load(source)
        return {"mode": "import"}

    def salvage() -> dict[str, Any]:
        nonlocal student
        student, dropped = student_module.salvage(source)
        return {"mode": "salvaged", "dropped": dropped}

    mode = plan.get("import_mode")  # how an earlier worker got the module
    if mode == "import":
        phase(Phase("import", "restore"), plain_import, salvage)
    elif mode == "salvaged":
        phase(Phase("import-salvage", "restore"), salvage)
    elif "import-salvage" in dead:
        pass  # even the definitions alone killed the worker: no module
    elif "import" in dead:
        run("import-salvage", salvage, None)
    else:
        run("import", plain_import, None)
        if student is None:
            run("import-salvage", salvage, None)
    if student is None:
        student = student_module.empty()

    pipeline = Pipeline(student, dataset, int(plan["seed"]), int(plan["train_subset"]), state_dir)
    pipeline.progress = functools.partial(send, event="progress", step="train_model")
    steps = [(s.name, getattr(pipeline, s.action), getattr(pipeline, s.restore) if s.restore else None) for s in STEPS if s.action]
    for step, action, restore in steps:
        if step in dead:
            if restore is not None:
                phase(Phase(step, "fallback"), lambda r=restore: r(dead=True))
        elif step in done:
            if restore is not None:
                phase(Phase(step, "restore"), restore, lambda r=restore: r(dead=True))
        else:
            run(step, action, (lambda r=restore: r(dead=True)) if restore else None)
    send(event="done", replaced=sorted(pipeline.replaced))
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv[1]))
