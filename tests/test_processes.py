"""One process-tree kill for the grader (grader/sandbox/processes.py): kept processes live, the rest go."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from grader.sandbox import processes

pytestmark = pytest.mark.skipif(not processes.POSIX, reason="process trees as POSIX makes them")

# A child that starts a grandchild and then both sleep: a small tree.
TREE = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"


def _tree() -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", TREE], start_new_session=True)
    deadline = time.monotonic() + 10
    while not psutil.Process(child.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return child


def test_kill_below_spares_the_kept_and_kills_the_rest_with_their_trees():
    kept, doomed = _tree(), _tree()
    doomed_grandchild = psutil.Process(doomed.pid).children()[0]
    try:
        assert processes.kill_below({kept.pid}) == 1
        doomed.wait(timeout=5)
        assert not doomed_grandchild.is_running() or doomed_grandchild.status() == psutil.STATUS_ZOMBIE
        assert kept.poll() is None and psutil.Process(kept.pid).children()
    finally:
        processes.kill_tree(kept.pid)
        kept.wait(timeout=5)


def test_kill_below_recursive_kills_each_stray_inside_a_kept_tree():
    kept = _tree()
    stray = psutil.Process(kept.pid).children()[0]
    try:
        assert processes.kill_below({kept.pid}, recursive=True) == 1
        assert not stray.is_running() or stray.status() == psutil.STATUS_ZOMBIE
        assert kept.poll() is None
    finally:
        processes.kill_process(kept)
        kept.wait(timeout=5)
    assert kept.returncode == -9
