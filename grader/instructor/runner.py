"""Run grading processes in parallel, each under a wall-clock limit.

Each job is ``python -m grader`` in its own workspace and its own session.
A job past its limit is frozen and killed with every process below it
(the grader's sandbox starts workers in sessions of their own, so killing
the process group alone would leave them running). Jobs never wait for one
another: a hanging submission costs its own limit and nothing more.

On Linux the batch process is a "child subreaper": a student process whose
grader died (or was killed by the student's code) is re-parented to the
batch instead of escaping to init, and is killed at the next poll, since
the batch's only legitimate children are the graders it started.
"""

from __future__ import annotations

import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox.processes import become_subreaper, kill_below, kill_group, kill_tree

POLL_SECONDS = 0.2


@dataclass
class Job:
    id: str
    command: list[str]
    cwd: Path
    log: Path  # stdout and stderr of the process
    timeout: float
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[], None] | None = None  # called just before the start (e.g. writes cwd)
    # Filled in when the job ends.
    returncode: int | None = None
    timed_out: bool = False
    seconds: float = 0.0
    error: str = ""  # the job could not even start


def kill_orphans(expected: set[int]) -> None:
    """Kill every child of this process that is not one of the ``expected`` graders (with its tree)."""
    kill_below(expected)


@dataclass
class _Running:
    job: Job
    process: subprocess.Popen[bytes]
    started: float


def run_jobs(jobs: Iterable[Job], parallel: int, on_start: Callable[[Job], None], on_end: Callable[[Job], None], tick: Callable[[], None]) -> None:
    """Run every job, at most ``parallel`` at a time; call ``on_end`` as each finishes."""
    pending = deque(jobs)
    running: list[_Running] = []
    reaping = become_subreaper()
    try:
        while pending or running:
            while pending and len(running) < parallel:
                job = pending.popleft()
                on_start(job)
                try:
                    running.append(_start(job))
                except Exception as error:  # noqa: BLE001 - reported as this job's failure
                    job.error = f"could not start the grader: {error!r}"
                    on_end(job)
            for item in list(running):
                elapsed = time.monotonic() - item.started
                code = item.process.poll()
                if code is None and elapsed > item.job.timeout:
                    kill_tree(item.process.pid)
                    item.process.wait()
                    item.job.timed_out = True
                elif code is None:
                    continue
                else:
                    kill_group(item.process.pid)  # anything left in its session's group
                item.job.returncode = item.process.returncode
                item.job.seconds = round(time.monotonic() - item.started, 1)
                running.remove(item)
                on_end(item.job)
            if reaping:
                kill_orphans({item.process.pid for item in running})
            tick()
            time.sleep(POLL_SECONDS)
    finally:
        for item in running:
            kill_tree(item.process.pid)
            item.process.wait()
        if reaping:
            kill_orphans(set())


def _start(job: Job) -> _Running:
    if job.prepare is not None:
        job.prepare()
    job.log.parent.mkdir(parents=True, exist_ok=True)
    with open(job.log, "wb") as log:
        process = subprocess.Popen(
            job.command,
            cwd=job.cwd,
            env=job.env or None,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return _Running(job, process, time.monotonic())
