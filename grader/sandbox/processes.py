"""Process-tree control shared by the sandbox and the batch runner.

``become_subreaper`` makes orphans of our children come back to this process
so that they can still be killed; ``kill_tree`` freezes a whole tree before
killing it, so a fork loop cannot outrun it. The Linux-only protections
(prctl, process groups) do nothing elsewhere; psutil works everywhere.
"""

from __future__ import annotations

import os
import signal
import sys

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
    for process in seen.values():
        try:
            process.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    kill_group(pid)
    psutil.wait_procs(list(seen.values()), timeout=5)


def kill_descendants() -> None:
    """Kill every process below this one (with a subreaper: orphans included)."""
    for _ in range(3):
        children = psutil.Process().children(recursive=False)
        if not children:
            return
        for child in children:
            kill_tree(child.pid)
