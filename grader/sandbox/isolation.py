"""Isolation levels: how far the operating system keeps the worker from the grader.

``namespaces`` (Linux with bubblewrap): the worker runs in new PID, mount,
IPC, network and UTS namespaces. It sees only the system folders, the
Python installation, the grader package and the dataset, all read-only;
its only writable places are private size-capped tmpfs (the grading's state
and scratch folders, ``storage_mb``; ``/tmp`` and ``/dev/shm``, ``tmpfs_mb``
each), and the one output file the parent reads back (capped per file by
``RLIMIT_FSIZE``). Nothing it writes reaches the
host's disk beyond that: the observer exchanges data with the answerer
through two folders of that tmpfs (``outbox``, ``inbox``), reached through
``/proc/<pid>/root``, and keeps the trained weights itself, re-sending them
to a restarted answerer; no writable host folder is bound. It cannot see,
signal or read the environment of any process outside (the grader, the
batch runner, the Actions runner); it dies with its parent; when the grader
runs as root it runs as an unprivileged user with no capabilities.

``user`` (POSIX, a root grader without namespaces: Gradescope's container,
Docker, a self-hosted runner as root): the worker runs as the unprivileged
uid and gid 65534 with no supplementary groups, no capabilities and
``no_new_privs`` (util-linux ``setpriv``). It cannot signal, trace or read
``/proc/<pid>/environ`` of the grader's processes (another uid, and the
grader is not dumpable), and cannot write the grader's files nor the results
folder (owned by root, not writable by others). It still sees the host's
files that are readable by everyone, and shares ``/tmp``; its writable
folders are host folders, so their total is checked by the parent
(``storage_mb``), not prevented.

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

from grader.levels import LEVELS  # weakest first (the config validates against the same tuple)

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


# The file in the state folder that the worker writes everything printed to, and the parent reads back.
OUTPUT_NAME = "student-output.txt"


@dataclass(frozen=True)
class Isolation:
    level: str
    tmpfs_mb: int = 256  # each of /tmp and /dev/shm at namespaces
    storage_mb: int = 1536  # the state and working folders: a tmpfs at namespaces, a checked quota elsewhere

    @property
    def writable_mb(self) -> int:
        """All the level's tmpfs may hold: the total the worker can write (and the memory cgroup's allowance above the RSS limit)."""
        return self.storage_mb + 2 * self.tmpfs_mb if self.level == "namespaces" else 0

    def inside(self, outside: Paths) -> Paths:
        """The worker's view of ``outside`` (the same paths without namespaces)."""
        if self.level != "namespaces":
            return outside
        return Paths(
            plan=SANDBOX_ROOT / "plan.json",
            dataset=SANDBOX_ROOT / "mnist.npz",
            state=SANDBOX_ROOT / "state",
            run=SANDBOX_ROOT / "run",
        )

    def prepare(self, outside: Paths) -> None:
        """Make the files the worker's user needs usable by it, walking no tree the student made.

        ``namespaces``: the output file the sandbox writes through (bubblewrap
        needs it to exist). ``user``: the state and run folders and what lies
        directly in them (what a previous worker made below is its user's
        already); the grading folder becomes traversable, not listable.
        """
        from grader.sandbox import tree

        if self.level == "process":
            return
        output = outside.state / OUTPUT_NAME
        if not output.is_symlink():
            output.touch()
        if self.level == "namespaces" and _drops_user():
            os.chown(output, NOBODY, NOBODY, follow_symlinks=False)
        if self.level == "user":
            # The grading folder and the private folder holding it (0700): traversable, not listable.
            for folder in (outside.plan.parent, outside.plan.parent.parent):
                if folder.stat().st_uid == os.geteuid():
                    folder.chmod(folder.stat().st_mode & 0o7777 | 0o011)
            outside.plan.chmod(0o644)
            for folder in (outside.state, outside.run):
                tree.chown_entries(folder, NOBODY, NOBODY)

    def outside_state(self, outside: Paths, pids: set[int]) -> Path:
        """Where the parent reads the worker's state folder while the worker lives.

        At ``namespaces`` it is the sandbox's own tmpfs, reached through
        ``/proc/<pid>/root`` of a process of the worker's mount namespace.
        """
        if self.level != "namespaces":
            return outside.state
        own = _mount_namespace("self")
        for pid in sorted(pids):
            if _mount_namespace(str(pid)) not in (None, own):
                return Path(f"/proc/{pid}/root") / self.inside(outside).state.relative_to("/")
        return outside.state

    def open_state_folder(self, outside: Paths, pids: set[int], name: str) -> int:
        """A descriptor of the folder ``name`` in the worker's state folder, at ``namespaces``.

        The folder is in the sandbox's tmpfs: it is reached through
        ``/proc/<pid>/root`` of a process of the sandbox's mount namespace, one
        component at a time, never through a link the worker put in place of one
        (an absolute link there would resolve in the grader's own root).
        """
        own = _mount_namespace("self")
        inside = [p for p in pids if _mount_namespace(str(p)) not in (None, own)]
        if not inside:
            raise FileNotFoundError(f"no process of the sandbox among {sorted(pids)}")
        fd = os.open(f"/proc/{min(inside)}/root", os.O_RDONLY | os.O_DIRECTORY)
        try:
            for part in [*self.inside(outside).state.relative_to("/").parts, name]:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = child
        except OSError:
            os.close(fd)
            raise
        return fd

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
        if self.level == "user":
            return user_switch() + argv
        storage = Storage(self.storage_mb, self.tmpfs_mb)
        return bwrap_arguments(outside, self.inside(outside), grader_package, storage) + _user_switch() + argv


@dataclass(frozen=True)
class Storage:
    """The sandbox's writable places at ``namespaces``: their sizes."""

    storage_mb: int  # /sandbox: the state and working folders
    shm_mb: int  # each of /tmp and /dev/shm


def _mount_namespace(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def _drop_to_nobody() -> list[str]:
    """setpriv's arguments that make the command the unprivileged uid and gid, with no groups and no capabilities."""
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]


def user_switch() -> list[str]:
    """The ``user`` level's command prefix: the unprivileged uid and gid, no groups, no capabilities, no new privileges."""
    # --pdeathsig: changing uid clears the one the supervisor set.
    return [*_drop_to_nobody(), "--no-new-privs", "--pdeathsig=KILL", "--"]


def _drops_user() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("setpriv") is not None


def _user_switch() -> list[str]:
    if not _drops_user():
        return []  # not root: bubblewrap's user namespace keeps the grader's own uid, without capabilities
    return [*_drop_to_nobody(), "--"]


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


def bwrap_arguments(outside: Paths, inside: Paths, grader_package: Path, storage: Storage) -> list[str]:
    arguments = ["bwrap", *NAMESPACES, "--new-session"]
    arguments += _system_binds()
    # Three size-capped tmpfs hold everything the worker may write but the
    # output file: /tmp and /dev/shm (tmpfs_mb each) and /sandbox, its state
    # and working folders (storage_mb). (/tmp cannot be a link into /sandbox:
    # a grader or a venv kept under /tmp is bound below it.)
    size = str(storage.shm_mb * 2**20)
    arguments += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    arguments += ["--perms", "1777", "--size", size, "--tmpfs", "/dev/shm"]
    arguments += ["--perms", "0755", "--size", str(storage.storage_mb * 2**20), "--tmpfs", str(SANDBOX_ROOT)]
    for folder in (inside.state, inside.run):
        arguments += ["--perms", "0777", "--dir", str(folder)]
    made: set[Path] = {SANDBOX_ROOT, inside.state, inside.run}
    for folder in python_dirs():
        if grader_package.parent.is_relative_to(folder):
            continue  # a folder holding the repository root (solutions/, the submission) stays out
        if not any(folder.is_relative_to(system) for system in SYSTEM_DIRS):
            arguments += _bind("--ro-bind", folder, folder, made)
    arguments += _bind("--ro-bind", grader_package, grader_package, made)
    arguments += _bind("--ro-bind", outside.plan, inside.plan, made)
    arguments += _bind("--ro-bind", outside.dataset, inside.dataset, made)
    # The host's state folder holds only what the parent put there: the module
    # (read-only) and the output file (the one file written through to the host).
    for name in sorted(os.listdir(outside.state)):
        if (outside.state / name).is_file() and not (outside.state / name).is_symlink():
            flag = "--bind" if name == OUTPUT_NAME else "--ro-bind"
            arguments += _bind(flag, outside.state / name, inside.state / name, made)
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


def _can_set_ids() -> bool:
    """Root, or CAP_SETUID and CAP_SETGID in the effective set (a container's root may lack them)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                effective = int(line.split()[1], 16)
                return bool(effective & (1 << 6)) and bool(effective & (1 << 7))
    except (OSError, ValueError):
        pass
    return hasattr(os, "geteuid") and os.geteuid() == 0


@functools.lru_cache(maxsize=1)
def user_available() -> bool:
    """True when the worker can be started as the unprivileged uid (the ``user`` level): probed, not assumed."""
    if os.name != "posix" or shutil.which("setpriv") is None or not _can_set_ids():
        return False
    probe = [*user_switch(), "sh", "-c", f'test "$(id -u)" = {NOBODY}']
    try:
        done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def available() -> list[str]:
    """The levels this machine offers, weakest first."""
    levels = ["process"]
    if user_available():
        levels.append("user")
    if namespaces_available():
        levels.append("namespaces")
    return levels


def strongest() -> str:
    return available()[-1]


def choose(minimum: str, tmpfs_mb: int = 256, storage_mb: int = 1536) -> Isolation:
    """The strongest level available (or the one forced), if it meets ``minimum``.

    Raises IsolationError when it does not: the road must not grade below it.
    """
    forced = os.environ.get(FORCE_ENV, "").strip()
    if forced and forced not in LEVELS:
        raise IsolationError(f"{FORCE_ENV}={forced!r} is not a level ({', '.join(LEVELS)})")
    level = forced if forced else strongest()
    if level not in available():
        # Forced but missing here: the strongest level below it that is available.
        level = [offered for offered in available() if rank(offered) < rank(level)][-1]
    if rank(level) < rank(minimum):
        raise IsolationError(level)
    return Isolation(level, tmpfs_mb, storage_mb)
