"""The worker process: imports the student's module and runs its steps.

Started by the supervisor as ``python -m grader.sandbox.worker PLAN.json``.
Its standard output and error go to a file (everything the student prints);
events go to the supervisor over the private channel. A step over its time
limit is interrupted here first (``StepTimeout``); if that does not work, the
supervisor kills the process and starts another past that step.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

from grader.sandbox.channel import FD_ENV, Channel


class StepTimeout(BaseException):
    """Raised in the worker when a step exceeds its time limit."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise StepTimeout()


def _quiet_runtime(threads: int) -> None:
    """No TensorFlow log noise; deterministic kernels on a fixed thread count."""
    warnings.filterwarnings("ignore")
    import absl.logging
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.get_logger().setLevel("ERROR")
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.config.experimental.enable_op_determinism()


def _status(error: BaseException) -> str:
    from grader.sandbox.pipeline import MissingFunction

    if isinstance(error, StepTimeout):
        return "timeout"
    if isinstance(error, NotImplementedError):
        return "not_implemented"
    if isinstance(error, MissingFunction):
        return "missing"
    if isinstance(error, SystemExit):
        return "exited"
    if isinstance(error, MemoryError):
        return "memory"
    return "error"


class Runner:
    def __init__(self, channel: Channel, plan: dict[str, Any], output: Any) -> None:
        self.channel = channel
        self.plan = plan
        self.output = output

    def run(self, step: str, action: Callable[[], Any], recover: Callable[[], Any] | None) -> Any:
        """Run one step under its time limit and report it; recover on failure."""
        from grader.sandbox.pipeline import describe_error

        limit = self.limit(step)
        self.channel.send(event="start", step=step, limit=limit)
        start = time.monotonic()
        offset = self.output.tell()
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            data = action()
            status, error = "ok", None
        except BaseException as caught:  # noqa: BLE001 - the student's code may raise anything
            data, status, error = None, _status(caught), describe_error(caught)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        seconds = time.monotonic() - start
        printed = _printed_since(self.output, offset)
        self.channel.send(event="end", step=step, status=status, error=error, data=data, seconds=seconds, printed=printed)
        if status != "ok" and recover is not None:
            recover()
        return data

    def restore(self, step: str, action: Callable[[], Any], fallback: Callable[[], Any] | None = None) -> None:
        """Re-create a finished step's state after a restart, without reporting."""
        signal.setitimer(signal.ITIMER_REAL, self.limit(step))
        try:
            action()
        except BaseException:  # noqa: BLE001 - it worked before; now use the stand-in
            signal.setitimer(signal.ITIMER_REAL, 0)
            if fallback is None:
                raise
            fallback()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def limit(self, step: str) -> float:
        return float(self.plan["time_limits"][step.split("-")[0]])


def _printed_since(output: Any, offset: int, limit: int = 2000) -> str:
    output.flush()
    end = output.seek(0, os.SEEK_END)
    output.seek(offset)
    text = output.read(min(limit, end - offset)).decode("utf-8", errors="replace")
    output.seek(end)
    return text


def main(plan_path: str) -> int:
    plan = json.loads(Path(plan_path).read_text())
    channel = Channel(int(os.environ.pop(FD_ENV)))
    state_dir = Path(plan["state_dir"])
    # TensorFlow's start-up chatter goes to the worker's log, not to the student.
    _quiet_runtime(int(plan["threads"]))
    # Everything printed from here on, by anyone, lands in the output file.
    output = open(state_dir / "student-output.txt", "ab+")
    os.dup2(output.fileno(), 1)
    os.dup2(output.fileno(), 2)
    signal.signal(signal.SIGALRM, _on_alarm)
    from grader import data as mnist
    from grader.sandbox import student_module
    from grader.sandbox.pipeline import Pipeline

    dataset = mnist.read_npz(Path(plan["dataset"]))
    mnist.use_local_mnist()
    runner = Runner(channel, plan, output)
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
        runner.restore("import", plain_import, salvage)
    elif mode == "salvaged":
        runner.restore("import", salvage)
    elif "import-salvage" in dead:
        pass  # even the definitions alone killed the worker: no module
    elif "import" in dead:
        runner.run("import-salvage", salvage, None)
    else:
        runner.run("import", plain_import, None)
        if student is None:
            runner.run("import-salvage", salvage, None)
    if student is None:
        student = student_module.empty()

    pipeline = Pipeline(student, dataset, int(plan["seed"]), int(plan["train_subset"]), state_dir)
    steps: list[tuple[str, Callable[[], Any], Callable[..., Any] | None]] = [
        ("load_data", pipeline.load_data, None),
        ("show_sample", pipeline.show_sample, None),
        ("normalize", pipeline.normalize, pipeline.restore_normalize),
        ("build_model", pipeline.build_model, pipeline.restore_build),
        ("compile_model", pipeline.compile_model, pipeline.restore_compile),
        ("train_model", pipeline.train_model, pipeline.restore_train),
        ("evaluate_model", pipeline.evaluate_model, None),
        ("history", pipeline.history_step, None),
        ("predict", pipeline.predict, None),
    ]
    for step, action, restore in steps:
        if step in dead:
            if restore is not None:
                restore(dead=True)
        elif step in done:
            if restore is not None:
                runner.restore(step, restore, lambda r=restore: r(dead=True))
        else:
            runner.run(step, action, (lambda r=restore: r(dead=True)) if restore else None)
    channel.send(event="done", replaced=sorted(pipeline.replaced))
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv[1]))
