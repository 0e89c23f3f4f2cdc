"""Folder trees the student's code made, handled by the parent without ever building their paths.

A submission can leave a chain of folders deeper than the path limit
(``PATH_MAX``, 4096 bytes on Linux) or deeper than Python's recursion
limit, links to places only the grader may touch, FIFOs and devices.
Everything here opens one folder at a time relative to its parent's
descriptor (``dir_fd``), never follows a link, works without recursion,
and stops at ``max_entries``: no name the kernel or Python must resolve
grows with the depth. An ``OSError`` is the caller's to turn into the
step's failure; nothing here raises anything else.

Off POSIX (no ``dir_fd`` support) the same functions walk by path, which
is what Windows offers.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

DIR_FD = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd and os.unlink in os.supports_dir_fd
OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
MAX_ENTRIES = 1_000_000


class TooManyEntries(OSError):
    """The tree holds more entries than the caller allowed itself to visit."""


def _walk(root: Path, on_entry: Callable[[int, str, os.stat_result], None], max_entries: int) -> None:
    """Call ``on_entry(parent_fd, name, lstat)`` for every entry below ``root``, iteratively."""
    _walk_from(os.open(root, OPEN_DIR), on_entry, max_entries, None)


def disk_usage(root: Path, max_entries: int = MAX_ENTRIES) -> int:
    """Bytes of disk the tree under ``root`` holds (allocated blocks: a ``fallocate`` counts)."""
    total = 0

    def add(_parent: int, _name: str, info: os.stat_result) -> None:
        nonlocal total
        total += getattr(info, "st_blocks", 0) * 512 or info.st_size

    if not DIR_FD:
        for path in root.rglob("*"):
            add(0, "", path.lstat())
        return total
    _walk(root, add, max_entries)
    return total


def empty_folder(root: Path, keep: tuple[str, ...] = (), max_entries: int = MAX_ENTRIES) -> None:
    """Remove everything inside ``root`` but the top-level names in ``keep``; links are removed, never followed."""
    if not DIR_FD:
        for entry in root.iterdir():
            if entry.name not in keep:
                remove_path(entry)
        return
    top = os.open(root, OPEN_DIR)
    try:
        for name in os.listdir(top):
            if name not in keep:
                _remove_at(top, name, max_entries)
    finally:
        os.close(top)


def remove_path(path: Path, max_entries: int = MAX_ENTRIES) -> None:
    """Remove whatever is at ``path`` (a file, a link, a folder tree of any depth); nothing there is fine."""
    if not DIR_FD:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return
        shutil.rmtree(path) if stat.S_ISDIR(mode) else os.unlink(path)
        return
    parent = os.open(path.parent, OPEN_DIR)
    try:
        _remove_at(parent, path.name, max_entries)
    finally:
        os.close(parent)


def remove_at(parent: int, name: str, max_entries: int = MAX_ENTRIES) -> None:
    """Remove whatever is at ``name`` in the open folder ``parent`` (POSIX, ``DIR_FD``); nothing there is fine."""
    _remove_at(parent, name, max_entries)


def _remove_at(parent: int, name: str, max_entries: int) -> None:
    try:
        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(name, dir_fd=parent)
        return
    inner = os.open(name, OPEN_DIR, dir_fd=parent)
    try:

        def unlink_file(fd: int, entry: str, entry_info: os.stat_result) -> None:
            if not stat.S_ISDIR(entry_info.st_mode):
                os.unlink(entry, dir_fd=fd)

        def remove_folder(fd: int, entry: str) -> None:
            os.rmdir(entry, dir_fd=fd)

        _walk_from(os.dup(inner), unlink_file, max_entries, remove_folder)
    finally:
        os.close(inner)
    os.rmdir(name, dir_fd=parent)


def _walk_from(top: int, on_entry: Callable[[int, str, os.stat_result], None], max_entries: int, bottom_up: Callable[[int, str], None] | None) -> None:
    """Visit every entry below the open folder ``top`` (closed at the end), depth first, without recursion.

    ``on_entry(parent_fd, name, lstat)`` for each entry; ``bottom_up(parent_fd, name)`` for each folder
    once its contents were visited. One descriptor is open at a time (a chain thousands of folders deep
    needs no more): going up reopens ``..`` relative to the folder left.
    """
    fd = top
    # Each frame: the names of a folder left to visit, and that folder's own name (None for the top).
    stack: list[tuple[list[str], str | None]] = [(os.listdir(fd), None)]
    seen = 0
    try:
        while stack:
            names, own = stack[-1]
            if not names:
                stack.pop()
                if own is None:
                    break
                parent = os.open("..", OPEN_DIR, dir_fd=fd)
                os.close(fd)
                fd = parent
                if bottom_up is not None:
                    bottom_up(fd, own)
                continue
            name = names.pop()
            seen += 1
            if seen > max_entries:
                raise TooManyEntries(f"more than {max_entries} entries")
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                on_entry(fd, name, info)
                child = os.open(name, OPEN_DIR, dir_fd=fd) if stat.S_ISDIR(info.st_mode) else None
            except FileNotFoundError:
                continue  # removed meanwhile by a process still writing there
            if child is not None:
                os.close(fd)
                fd = child
                stack.append((os.listdir(fd), name))
    finally:
        os.close(fd)


class Quota:
    """The total disk the worker's host folders hold, checked every ``every`` seconds (levels without a tmpfs).

    A check, not a wall: a write between two checks lands (``fallocate`` is
    instant); the supervisor then stops the worker and removes what it left.
    A tree the walk cannot finish (too many entries, an error) counts as over.
    """

    def __init__(self, folders: tuple[Path, ...], limit_mb: int, every: float = 1.0) -> None:
        self.folders = folders
        self.limit = limit_mb * 2**20
        self.every = every
        self.next = 0.0
        self.used = 0

    def over(self, now: float, force: bool = False) -> bool:
        """True when the folders hold more than the limit; checked at most every ``every`` seconds unless ``force``."""
        if now < self.next and not force:
            return False
        self.next = now + self.every
        try:
            self.used = sum(disk_usage(folder) for folder in self.folders)
        except OSError:
            return True
        return self.used > self.limit


def chown_entries(root: Path, uid: int, gid: int) -> None:
    """Give ``root`` and the entries directly inside it (not below: no walk) to ``uid``:``gid``, links not followed.

    An entry that already belongs to ``uid`` is left alone, and so is a file
    with more than one name: a hard link the student made to a file of the
    grader's must not change hands.
    """
    os.chown(root, uid, gid, follow_symlinks=False)
    top = os.open(root, OPEN_DIR)
    try:
        for name in os.listdir(top):
            info = os.stat(name, dir_fd=top, follow_symlinks=False)
            if info.st_uid == uid or (not stat.S_ISDIR(info.st_mode) and info.st_nlink > 1):
                continue
            os.chown(name, uid, gid, dir_fd=top, follow_symlinks=False)
    finally:
        os.close(top)
