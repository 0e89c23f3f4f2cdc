"""Isolation levels: how far the operating system keeps the worker from the grader.

``namespaces`` (Linux with bubblewrap): the worker runs in new PID, mount,
IPC, network and UTS namespaces. It sees only the system folders, the
Python installation, the grader package and the dataset, all read-only;
its only writable places are size-capped private tmpfs for ``/tmp`` and
``/dev/shm`` and the grading's own state and scratch folders. It cannot see,
signal or read the environment of any process outside (the grader, the
batch runner, the Actions runner); it dies with its parent; when the grader
runs as root it runs as an unprivileged user with no capabilities.

``process`` (everywhere, Windows and macOS included): a plain subprocess.
The parent still enforces the time and memory limits, but the student's code
runs as the grader's user with the grader's view of the files.

``GRADER_ISOLATION`` forces a level (the tests force ``process`` on Linux to
exercise the portable path).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LEVELS = ("process", "namespaces")  # weakest first
FORCE_ENV = "GRADER_ISOLATION"
NOBODY = 65534  # the unprivileged uid and gid the worker runs as under a root grader
SANDBOX_ROOT = Path("/sandbox")
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


class IsolationError(RuntimeError):
    """The level a road requires is not available on this machine."""


def rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass(frozen=True)
class Paths:
    """Where the worker finds its plan, the dataset and its writable folders."""

    plan: Path
    dataset: Path
    state: Path
    run: Path


@dataclass(frozen=True)
class Isolation:
    level: str
    tmpfs_mb: int = 256

    def inside(self, outside: Paths) -> Paths:
        """The worker's view of ``outside`` (the same paths without namespaces)."""
        if self.level == "process":
            return outside
        return Paths(
            plan=SANDBOX_ROOT / "plan.json",
            dataset=SANDBOX_ROOT / "mnist.npz",
            state=SANDBOX_ROOT / "state",
            run=SANDBOX_ROOT / "run",
        )

    def prepare(self, outside: Paths) -> None:
        """Hand the writable folders to the unprivileged user the worker runs as."""
        if self.level == "process" or not _drops_user():
            return
        for folder in (outside.state, outside.run):
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, NOBODY, NOBODY, follow_symlinks=False)

    def exit_status(self, code: int) -> int:
        """The worker's own exit status: negative for a signal, as subprocess reports it.

        bubblewrap exits with 128 + N when its child was killed by signal N.
        """
        if self.level == "namespaces" and code > 128:
            return -(code - 128)
        return code

    def command(self, argv: list[str], outside: Paths, grader_package: Path) -> list[str]:
        """``argv`` (the worker's command) wrapped for this level."""
        if self.level == "process":
            return argv
        return bwrap_arguments(outside, self.inside(outside), grader_package, self.tmpfs_mb) + _user_switch() + argv


def _drops_user() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("setpriv") is not None


def _user_switch() -> list[str]:
    if not _drops_user():
        return []  # not root: bubblewrap's user namespace keeps the grader's own uid, without capabilities
    return [
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
    ]


def python_dirs() -> list[Path]:
    """The Python installation the worker needs: prefixes and installed import folders.

    A working folder or a PYTHONPATH entry on ``sys.path`` is not installed
    code: it stays out (the grader package is bound on its own).
    """
    found = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent]
    for entry in sys.path:
        path = Path(entry).resolve() if entry else None
        if path is not None and path.is_dir() and ({"site-packages", "dist-packages"} & set(path.parts)):
            found.append(path)
    unique: list[Path] = []
    for path in sorted(set(found), key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(kept) for kept in unique):
            unique.append(path)
    return unique


# The namespaces the level uses, and the kernel views inside them: the worker's
# command and the availability probe start bubblewrap with the same ones.
NAMESPACES = ("--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts", "--proc", "/proc", "--dev", "/dev")


def _system_binds() -> list[str]:
    """The system folders, read-only (symbolic links such as /lib -> usr/lib kept as links)."""
    binds: list[str] = []
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            binds += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            binds += ["--ro-bind", name, name]
    return binds


def bwrap_arguments(outside: Paths, inside: Paths, grader_package: Path, tmpfs_mb: int) -> list[str]:
    arguments = ["bwrap", *NAMESPACES, "--new-session"]
    arguments += _system_binds()
    size = str(tmpfs_mb * 2**20)
    arguments += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    arguments += ["--perms", "1777", "--size", size, "--tmpfs", "/dev/shm"]
    made: set[Path] = set()
    for folder in python_dirs():
        if grader_package.parent.is_relative_to(folder):
            continue  # a folder holding the repository root (solutions/, the submission) stays out
        if not any(folder.is_relative_to(system) for system in SYSTEM_DIRS):
            arguments += _bind("--ro-bind", folder, folder, made)
    arguments += _bind("--ro-bind", grader_package, grader_package, made)
    arguments += _bind("--ro-bind", outside.plan, inside.plan, made)
    arguments += _bind("--ro-bind", outside.dataset, inside.dataset, made)
    arguments += _bind("--bind", outside.state, inside.state, made)
    arguments += _bind("--bind", outside.run, inside.run, made)
    arguments += ["--chdir", str(inside.run), "--"]
    return arguments


def _bind(flag: str, source: Path, target: Path, made: set[Path]) -> list[str]:
    """Bind ``source`` at ``target``, its missing parents made traversable (bubblewrap makes them 0700)."""
    arguments: list[str] = []
    for parent in reversed(target.parents[:-1]):
        if parent not in made and not any(parent.is_relative_to(system) for system in SYSTEM_DIRS):
            arguments += ["--perms", "0755", "--dir", str(parent)]
            made.add(parent)
    made.add(target)
    return arguments + [flag, str(source), str(target)]


@functools.lru_cache(maxsize=1)
def namespaces_available() -> bool:
    """True when bubblewrap can start a process in all the namespaces the level uses."""
    if not sys.platform.startswith("linux") or shutil.which("bwrap") is None:
        return False
    probe = [
        "bwrap",
        *NAMESPACES,
        "--size",
        str(2**20),
        "--tmpfs",
        "/tmp",
    ]
    probe += _system_binds()
    probe += ["--", *_user_switch(), "true"]
    try:
        done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def available() -> list[str]:
    """The levels this machine offers, weakest first."""
    return ["process", "namespaces"] if namespaces_available() else ["process"]


def strongest() -> str:
    return available()[-1]


def choose(minimum: str, tmpfs_mb: int = 256) -> Isolation:
    """The strongest level available (or the one forced), if it meets ``minimum``.

    Raises IsolationError when it does not: the road must not grade below it.
    """
    forced = os.environ.get(FORCE_ENV, "").strip()
    if forced and forced not in LEVELS:
        raise IsolationError(f"{FORCE_ENV}={forced!r} is not a level ({', '.join(LEVELS)})")
    level = forced if forced else strongest()
    if forced == "namespaces" and not namespaces_available():
        level = "process"
    if rank(level) < rank(minimum):
        raise IsolationError(level)
    return Isolation(level, tmpfs_mb)
