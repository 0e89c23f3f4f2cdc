"""The suite's two grading slots (tests/grading_slots.py): never more than two holders at once."""

from __future__ import annotations

import threading
import time

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
