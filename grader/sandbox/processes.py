"""Process-tree control shared by the sandbox and the batch runner.

``become_subreaper`` makes orphans of our children come back to this process
so that they can still be killed. Every kill of the grader package goes
through ``kill_all`` (freeze, then kill, then wait: a fork loop cannot outrun
it): ``kill_tree`` for one process and everything below it, ``kill_below``
for what is below this process (all of it, or all but the processes to keep),
``kill_process`` for a child started in its own session. The Linux-only
protections (prctl, process groups) do nothing elsewhere; psutil works
everywhere. (The Classroom 50 autograder, standard-library only, has its own.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Collection

import psutil

POSIX = os.name == "posix"
LINUX = sys.platform.startswith("linux")

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def prctl(option: int, value: int) -> bool:
    """True when the kernel accepted it; False off Linux (the protection is then missing)."""
    if not LINUX:
        return False  # ctypes.CDLL(None) raises TypeError on Windows; macOS has no prctl
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError, TypeError):
        return False


def become_subreaper() -> bool:
    return prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent() -> None:
    """For a child, before exec: it is killed if its parent dies (even by SIGKILL)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def kill_group(pgid: int) -> None:
    if not POSIX:
        return  # no process groups: kill_tree's psutil pass does the work
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone, or was never ours


def kill_all(processes: list[psutil.Process], timeout: float) -> None:
    """Freeze every one of ``processes``, then kill them, then wait up to ``timeout`` seconds for them to go."""
    for process in processes:
        try:
            process.suspend()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    for process in processes:
        try:
            process.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    psutil.wait_procs(processes, timeout=timeout)


def kill_process(process: subprocess.Popen) -> None:
    """Kill a child started in a session of its own (``start_new_session``), with its process group."""
    if POSIX:
        kill_group(process.pid)
    try:
        process.kill()
    except OSError:
        pass


def kill_tree(pid: int) -> None:
    """Freeze, then kill, ``pid`` and all its descendants (and its process group)."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    seen: dict[int, psutil.Process] = {}
    for _ in range(5):  # freezing stops new forks; look again until nothing new appears
        try:
            found = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            found = [p for p in seen.values() if p.is_running()]
        new = [p for p in found if p.pid not in seen]
        if not new:
            break
        for process in new:
            seen[process.pid] = process
            try:
                process.suspend()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    kill_group(pid)
    kill_all(list(seen.values()), timeout=5)


def kill_below(keep: Collection[int] = (), recursive: bool = False) -> int:
    """Kill the processes below this one except those in ``keep``; return how many there were.

    ``recursive``: every descendant outside ``keep`` (what a step left inside the
    sandbox's kept tree), each alone; otherwise every child outside ``keep``, each
    with its whole tree. With a subreaper, orphans are children too.
    """
    try:
        found = [p for p in psutil.Process().children(recursive=recursive) if p.pid not in keep]
    except psutil.NoSuchProcess:
        return 0
    if recursive:
        kill_all(found, timeout=2)
    else:
        for child in found:
            kill_tree(child.pid)
    return len(found)


def kill_descendants() -> None:
    """Kill every process below this one (with a subreaper: orphans included)."""
    for _ in range(3):
        if not kill_below():
            return
