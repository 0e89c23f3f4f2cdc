"""A hard memory limit for the worker's whole tree, where the machine offers one.

A cgroup (v1 memory controller, as on this project's CI machine) counts
everything the tree's processes charge, shared memory and tmpfs pages among
them, and the kernel stops the tree at the limit: no burst between two of
the supervisor's RSS samples gets through. Where no cgroup can be made (not
root, cgroup v2 without delegation, Windows, macOS) the supervisor's RSS
watch and the namespaces level's tmpfs caps remain.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

V1_ROOT = Path("/sys/fs/cgroup/memory")
_names = itertools.count()


class MemoryCgroup:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, limit_mb: int, root: Path = V1_ROOT) -> MemoryCgroup | None:
        """A new cgroup limited to ``limit_mb``, or None where none can be made."""
        path = root / f"grader-{os.getpid()}-{next(_names)}"
        try:
            path.mkdir()
        except OSError:
            return None
        try:
            (path / "memory.limit_in_bytes").write_text(str(limit_mb * 2**20))
            swap = path / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(limit_mb * 2**20))
        except OSError:
            path.rmdir()
            return None
        return cls(path)

    def enter(self) -> None:
        """For a child, before exec: it and everything it starts are counted here."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def oom_killed(self) -> bool:
        """True when the kernel stopped a process of this cgroup at the limit."""
        try:
            text = (self.path / "memory.oom_control").read_text()
        except OSError:
            return False
        # (memory.failcnt also counts page-cache reclaims: not a kill.)
        kills = [int(line.split()[1]) for line in text.splitlines() if line.startswith("oom_kill ")]
        return bool(kills and kills[0])

    def peak_mb(self) -> float:
        try:
            return int((self.path / "memory.max_usage_in_bytes").read_text()) / 2**20
        except (OSError, ValueError):
            return 0.0

    def remove(self) -> None:
        """Delete the cgroup (its processes must be gone)."""
        try:
            self.path.rmdir()
        except OSError:
            pass
