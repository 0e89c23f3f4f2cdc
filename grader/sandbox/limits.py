"""Step limits that do not depend on the machine's load: CPU time, with wall time as a backstop.

A step's limit (``[time_limits]`` in config.toml) counts the CPU seconds,
user and system, of the worker's whole process tree: the worker, every
thread of it, every process it started, and the children those reaped. A
submission that computes gets the same amount of work on a busy machine as
on a quiet one, so it ends the same way on both. A step that does not
compute (it sleeps, waits on a pipe, or is stopped) burns no CPU: the wall
clock stops it at ``wall_factor`` times its limit. This is how ``isolate``
pairs ``--time`` with ``--wall-time``.

The worker interrupts the step politely first (``worker._Alarm``: a CPU
timer at the limit and a wall timer at the backstop); the supervisor's
``StepClock`` kills the tree a grace period after either, in case the
student's code swallowed the interrupt.

A process of the tree that ended keeps the CPU it was last seen with, so
forking short-lived processes does not hide work; a child that a member of
the tree reaped is counted in that member's ``children`` times as well, so
the count can only err on the strict side, by the CPU of such children.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psutil


def process_cpu(process: psutil.Process) -> float:
    """CPU seconds of ``process``: user + system, its reaped children's included."""
    times = process.cpu_times()
    return times.user + times.system + getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0)


@dataclass
class TreeCpu:
    """CPU seconds a changing set of processes has used, each counted at its last sighting."""

    seen: dict[tuple[int, float], float] = field(default_factory=dict)

    def sample(self, processes: Iterable[psutil.Process]) -> float:
        for process in processes:
            try:
                with process.oneshot():
                    key = (process.pid, process.create_time())
                    used = process_cpu(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            self.seen[key] = max(used, self.seen.get(key, 0.0))
        return sum(self.seen.values())


@dataclass(frozen=True)
class StepLimit:
    """A step's CPU limit and its wall-clock backstop, in seconds."""

    cpu: float
    wall: float

    @classmethod
    def of(cls, seconds: float, wall_factor: float) -> StepLimit:
        return cls(cpu=float(seconds), wall=float(seconds) * max(1.0, float(wall_factor)))


class StepClock:
    """Whether the step that runs now used more CPU than its limit (plus ``grace``).

    ``processes`` lists the worker's tree each time it is asked (the
    supervisor's descendants). The wall backstop is the deadline ``start``
    returns, kept by the caller.
    """

    def __init__(self, processes: Callable[[], list[psutil.Process]], grace: float) -> None:
        self.processes = processes
        self.grace = grace
        self.cpu = TreeCpu()
        self.limit: StepLimit | None = None
        self.started_cpu = 0.0

    def start(self, limit: StepLimit) -> float:
        """A step begins: its CPU counts from what the tree has used until now. Returns its wall deadline."""
        self.limit = limit
        self.started_cpu = self.cpu.sample(self.processes())
        return time.monotonic() + limit.wall + self.grace

    def stop(self) -> None:
        """No step runs (the grader's own work between steps): only the caller's wall deadline applies."""
        self.limit = None

    def used(self) -> float:
        """CPU seconds the tree used since the step started."""
        return self.cpu.sample(self.processes()) - self.started_cpu

    def over_cpu(self) -> bool:
        """True when the running step used more CPU than its limit plus the grace."""
        return self.limit is not None and self.used() > self.limit.cpu + self.grace
