"""Reading files the student's code could have written, from the grader's side.

The worker's state folder is writable inside the sandbox; what lies there may
be a symbolic link (to a file only the grader can read: a key, a token), a
FIFO (the grader would block on it) or a device. The parent reads such a
path only when it is a regular file, opened without following links.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def open_regular(path: Path):
    """A binary file object for ``path`` if it is a regular file (not a link), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


def copy_regular(source: Path, target: Path, max_bytes: int | None = None) -> bool:
    """Copy ``source`` to ``target`` when it is a regular file (of at most ``max_bytes``); True if copied."""
    handle = open_regular(source)
    if handle is None:
        return False
    with handle:
        if max_bytes is not None and os.fstat(handle.fileno()).st_size > max_bytes:
            return False
        with open(target, "wb") as out:
            shutil.copyfileobj(handle, out)
    return True
