"""The suite's two grading slots (tests/grading_slots.py): never more than two holders at once."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grading_slots as plugin
import pytest
from grading_slots import SLOTS, grading_slots, slots_of

pytestmark = pytest.mark.skipif(plugin.fcntl is None, reason="the slots are flock locks (POSIX)")


@pytest.fixture(autouse=True)
def private_slots(tmp_path, monkeypatch):
    """Slots of this test alone: the suite's own may be held by a grading in the other worker."""
    monkeypatch.setenv("GRADER_TEST_SLOTS", str(tmp_path))


def _holders(counts: list[int], hold: float = 0.3) -> int:
    """Run one thread per count, each holding that many slots for ``hold`` seconds; the most slots held at once."""
    lock, held, most = threading.Lock(), [0], [0]

    def work(count: int) -> None:
        with grading_slots(count):
            with lock:
                held[0] += count
                most[0] = max(most[0], held[0])
            time.sleep(hold)
            with lock:
                held[0] -= count

    threads = [threading.Thread(target=work, args=(count,)) for count in counts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a holder never got its slots"
    return most[0]


def test_at_most_two_single_holders_at_once():
    assert _holders([1, 1, 1, 1]) == SLOTS == 2


def test_a_holder_of_both_runs_alone_and_nobody_waits_forever():
    assert _holders([2, 1, 2, 1]) == 2


def test_a_test_that_trains_holds_one_slot_and_a_pool_two():
    class Item:
        def __init__(self, *markers):
            self.markers = {m.name: m for m in markers}

        def get_closest_marker(self, name):
            return self.markers.get(name)

    assert slots_of(Item()) == 0
    assert slots_of(Item(pytest.mark.slow.mark)) == 1
    assert slots_of(Item(pytest.mark.slow.mark, pytest.mark.slots(2).mark)) == 2


@pytest.fixture
def machine_tmp(tmp_path, monkeypatch):
    """The machine's temporary folder, moved to ``tmp_path`` for this process and its children."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return tmp_path


def test_two_sessions_of_one_user_share_the_slots(machine_tmp, monkeypatch):
    """Two suites at once (two CI runs): they find the same slots, so the machine still grades two at a time."""
    folder = plugin.machine_folder()
    assert folder == plugin.machine_folder() and folder.parent == machine_tmp
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    other_session = (
        "import os, sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import grading_slots as slots\n"
        "os.environ[slots.ENV_VAR] = str(slots.machine_folder())\n"
        "with slots.grading_slots(2):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(1.5)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", other_session], stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(machine_tmp)})
    try:
        assert other.stdout.readline().strip() == "held"
        monkeypatch.setenv("GRADER_TEST_SLOTS", str(folder))
        started = time.monotonic()
        with grading_slots(1):
            waited = time.monotonic() - started
    finally:
        other.wait(timeout=30)
    assert waited >= 1.0, "the other session's slots did not exclude this one"


def test_a_slots_folder_that_is_not_a_private_folder_is_not_used(machine_tmp):
    elsewhere = machine_tmp / "elsewhere"
    elsewhere.mkdir()
    (machine_tmp / f"grader-test-slots-{os.getuid()}").symlink_to(elsewhere)
    folder = plugin.machine_folder()
    assert folder.resolve() != elsewhere and folder.is_dir() and not folder.is_symlink()
