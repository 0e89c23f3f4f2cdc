"""A platform runner's time budget and process-tree kill; standard library only.

Every platform runner (the Classroom 50 ``autograder.py``, Gradescope's
``runner.py``) starts the grader as a child within a time budget and must leave
nothing of the student's behind. This is the one copy of that mechanism.

Standard library only, and it imports nothing of the grader: ``autograder.py``
imports it from the bundle's ``grader/`` copy on whatever ``python3`` the
runner has, before any dependency is installed. Off Linux (no ``/proc``, no
``prctl``) only the direct child is stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
KILL_ROUNDS = 3
FREEZE_ROUNDS = 5


class Deadline:
    """``seconds`` from now, keeping ``reserve`` seconds for writing the result."""

    def __init__(self, seconds: float, reserve: float = 0.0) -> None:
        self.total = seconds
        self.reserve = reserve
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds a child process may still take (at least one)."""
        return max(1.0, self.end - time.monotonic() - self.reserve)


def budget(candidates: Iterable[object], default: float) -> float:
    """The first candidate that reads as a number of seconds (None and "" are skipped), else ``default``."""
    for value in candidates:
        if value in (None, ""):
            continue
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return default


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError, TypeError):
        return False


def become_subreaper(dumpable: bool = True) -> bool:
    """Orphans of our children (a student's daemons) come back to this process, to be killed.

    With ``dumpable=False`` a process of the same user can neither read this
    process's /proc files (its environment) nor ptrace it.
    """
    done = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if not dumpable:
        _prctl(PR_SET_DUMPABLE, 0)
    return done


def descendants(root: int) -> list[int]:
    """Every process below ``root``, from /proc (empty where there is no /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = entry.read_text()
            pid = int(stat.split(" ", 1)[0])
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _signal(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except OSError:
            continue  # gone, or not ours to signal


def kill_descendants(root: int | None = None) -> None:
    """Freeze every process below ``root`` (default: this one), then kill them all.

    Freezing first (SIGSTOP, looking again until no new process appears) keeps
    a fork loop from outrunning the kill; the ones that were our own children
    are reaped.
    """
    root = os.getpid() if root is None else root
    stop = getattr(signal, "SIGSTOP", None)
    for _ in range(KILL_ROUNDS):
        seen: list[int] = []
        for _ in range(FREEZE_ROUNDS):
            new = [pid for pid in descendants(root) if pid not in seen]
            if not new:
                break
            seen += new
            if stop is not None:
                _signal(new, stop)
        if not seen:
            return
        _signal(seen, signal.SIGKILL)
        time.sleep(0.2)
        for pid in seen:
            try:
                os.waitpid(pid, os.WNOHANG)
            except OSError:
                continue


def run_bounded(command: Sequence[str], log_file: Path, seconds: float, **popen: object) -> int | None:
    """Run ``command`` with its output appended to ``log_file``; its exit code, or None when ``seconds`` ran out.

    Whatever the command leaves running (or still runs at the timeout) is
    killed before this returns, so no student process outlives the step.
    """
    with open(log_file, "ab") as handle:
        process = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, **popen)  # type: ignore[call-overload]
        try:
            return process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None
        finally:
            kill_descendants()
            if process.poll() is None:
                process.kill()
            process.wait()
