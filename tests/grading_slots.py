"""Pytest plugin: at most two gradings at a time on the machine, whatever runs them.

The suite runs on two cores under pytest-xdist (two workers). A test that
trains (marked ``slow``) holds one *grading slot* for its whole run: setup,
call and teardown, so a module-scoped fixture that grades is inside it. A test
whose fixture grades two submissions at a time (a thread pool, ``batch --jobs
2``) says so with ``@pytest.mark.slots(2)`` and holds both. Fast tests hold
none and fill the gaps.

The slots are ``flock`` locks on files in one folder per user on the machine
(``grader-test-slots-<uid>`` in the temporary folder, or the folder named by
``GRADER_TEST_SLOTS``): the controller, its workers and any other test session
of the same user share them, so two suites started at once (two CI runs, a
maintainer's run beside CI) still put at most two gradings on the machine;
each takes longer, none times out. Two slots are taken in one order (0 then
1), so two holders can never wait for each other. The lock files are never
removed: a lock taken on a file that a neighbour then replaced would exclude
nobody.

The step limits of a grading count CPU time (grader/sandbox/limits.py), so a
grading slowed by a neighbour is not timed out; the slots keep the wall-clock
bounds some tests assert (a hang costs its limit plus a margin) honest.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

try:
    import fcntl
except ImportError:  # Windows: no flock; the slots are not held (each worker still grades one at a time)
    fcntl = None

SLOTS = 2
ENV_VAR = "GRADER_TEST_SLOTS"
_OWNED = pytest.StashKey[bool]()


def slots_folder() -> Path:
    return Path(os.environ[ENV_VAR])


def machine_folder() -> Path:
    """The slots of every session this user runs on the machine: a private folder, made once."""
    folder = Path(tempfile.gettempdir()) / f"grader-test-slots-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    status = folder.lstat()
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():  # not ours (or a link): a private one
        return Path(tempfile.mkdtemp(prefix="grading-slots-"))
    return folder


@contextmanager
def _slot(index: int) -> Iterator[None]:
    with open(slots_folder() / f"slot-{index}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _any_slot() -> Iterator[None]:
    """The first free slot; waits (polling) while both are taken."""
    handles = [open(slots_folder() / f"slot-{i}.lock", "a+b") for i in range(SLOTS)]  # noqa: SIM115 - closed below
    try:
        while True:
            for handle in handles:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
                return
            time.sleep(0.2)
    finally:
        for handle in handles:
            handle.close()


@contextmanager
def grading_slots(count: int) -> Iterator[None]:
    """Hold ``count`` slots (1 or 2) while the block runs."""
    if count <= 0 or fcntl is None:
        yield
    elif count == 1:
        with _any_slot():
            yield
    else:
        with ExitStack() as stack:
            for index in range(min(count, SLOTS)):
                stack.enter_context(_slot(index))
            yield


def slots_of(item: pytest.Item) -> int:
    marker = item.get_closest_marker("slots")
    if marker is not None:
        return int(marker.args[0])
    return 1 if item.get_closest_marker("slow") is not None else 0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slots(n): the test grades n submissions at a time (tests/grading_slots.py)")
    if ENV_VAR not in os.environ and fcntl is not None:  # the controller (or a run without xdist): workers inherit it
        os.environ[ENV_VAR] = str(machine_folder())
        config.stash[_OWNED] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_OWNED, False):
        os.environ.pop(ENV_VAR)  # the folder and its lock files stay: other sessions may hold them


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    with grading_slots(slots_of(item)):
        return (yield)
