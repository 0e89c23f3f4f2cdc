"""One process-tree kill for the grader (grader/sandbox/processes.py): kept processes live, the rest go."""

from __future__ import annotations

import pytest
from fresh_process import run_apart

from grader.sandbox import processes

pytestmark = pytest.mark.skipif(not processes.POSIX, reason="process trees as POSIX makes them")

# A child that starts a grandchild and then both sleep: a small tree.
TREE = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"


def _in_a_fresh_process(body: str) -> None:
    """Run ``body`` (which uses ``_tree`` and ``processes``) in a Python process of its own.

    ``kill_below`` kills the children of the process that calls it: inside the
    test process (an xdist worker, possibly made a subreaper by another test)
    those include whatever other tests left running, so the count would be
    theirs and their processes would be killed."""
    prelude = (
        "import subprocess, sys, time\n"
        "import psutil\n"
        "from grader.sandbox import processes\n"
        f"TREE = {TREE!r}\n"
        "def _tree():\n"
        "    child = subprocess.Popen([sys.executable, '-c', TREE], start_new_session=True)\n"
        "    deadline = time.monotonic() + 10\n"
        "    while not psutil.Process(child.pid).children() and time.monotonic() < deadline:\n"
        "        time.sleep(0.05)\n"
        "    return child\n"
    )
    run_apart(prelude, body)


def test_kill_below_spares_the_kept_and_kills_the_rest_with_their_trees():
    _in_a_fresh_process(
        """
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
"""
    )


def test_kill_below_recursive_kills_each_stray_inside_a_kept_tree():
    _in_a_fresh_process(
        """
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
"""
    )
