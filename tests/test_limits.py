"""Step limits count CPU time of the worker's tree, with wall time as a backstop (grader/sandbox/limits.py).

Fast: no training. The CPU figures are taken from real processes that burn
or sleep, so a planted bug (wall instead of CPU, a flipped comparison, a
child not counted) fails here.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from grader.config import load_config
from grader.sandbox import answerer
from grader.sandbox.limits import StepClock, StepLimit, TreeCpu

BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end:\n    pass\n"


def _tree(process: subprocess.Popen):
    def processes():
        try:
            root = psutil.Process(process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    return processes


def test_step_limit_has_a_wall_backstop_of_at_least_the_cpu_limit():
    assert StepLimit.of(10, 3) == StepLimit(cpu=10.0, wall=30.0)
    assert StepLimit.of(10, 0.5) == StepLimit(cpu=10.0, wall=10.0)


def test_config_wall_factor_is_typed_and_described():
    config = load_config()
    assert config.grading.wall_factor >= 1.0


def test_a_busy_child_counts_and_a_sleeping_one_does_not():
    # A grandchild burns CPU through the shell: counted. The shell itself only waits.
    busy = subprocess.Popen(["sh", "-c", f"{sys.executable} -c '{BURN.format(seconds=1.0)}'; sleep 30"])
    sleeping = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        clock, idle = StepClock(_tree(busy), grace=0.0), StepClock(_tree(sleeping), grace=0.0)
        clock.start(StepLimit.of(0.5, 100))
        idle.start(StepLimit.of(0.5, 100))
        deadline = time.monotonic() + 20
        while not clock.over_cpu() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert clock.over_cpu(), "a tree that burnt 1 CPU second is over a 0.5 s limit"
        assert not idle.over_cpu(), "a sleeping tree burns no CPU"
        clock.stop()
        assert not clock.over_cpu(), "between steps no CPU limit applies"
    finally:
        for process in (busy, sleeping):
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
            process.wait()


def test_a_process_that_ended_keeps_its_cpu():
    cpu = TreeCpu()
    script = BURN.format(seconds=0.5) + "print('burnt', flush=True)\nimport sys\nsys.stdin.read()\n"
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    handle = psutil.Process(child.pid)
    assert child.stdout.readline() == b"burnt\n"  # done burning, whatever the load
    seen = cpu.sample([handle])
    child.communicate(b"")
    assert seen >= 0.4
    assert cpu.sample([]) == seen  # gone from the tree, still counted


def _burn_threads(count: int, stop: threading.Event):
    def spin():
        while not stop.is_set():
            pass

    def action():
        for _ in range(count):
            threading.Thread(target=spin, daemon=True).start()
        spin()

    return action


@pytest.mark.skipif(not answerer.HAS_ALARM, reason="POSIX timers")
def test_answerer_alarm_stops_cpu_work_at_the_cpu_limit_and_sleep_at_the_wall_backstop():
    start, stop = time.monotonic(), threading.Event()
    _, error = answerer._timed(_burn_threads(1, stop), 0.5, 10.0)
    stop.set()
    assert error["kind"] == "timeout" and time.monotonic() - start < 8, "CPU timer at 0.5 s of CPU, long before the 10 s wall"
    start = time.monotonic()
    _, error = answerer._timed(lambda: time.sleep(30), 0.3, 0.6)
    elapsed = time.monotonic() - start
    assert error["kind"] == "timeout" and 0.5 <= elapsed < 5, f"the wall backstop is 0.6 s, took {elapsed:.1f} s"
    assert answerer._timed(lambda: 7, 5, 15) == (7, None)
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0) and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_portable_alarm_counts_cpu_of_every_thread(monkeypatch):
    monkeypatch.setattr(answerer, "HAS_ALARM", False)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        start = time.monotonic()
        _, error = answerer._timed(lambda: _spin_for(30), 0.4, 20.0)
        assert error["kind"] == "timeout" and time.monotonic() - start < 10
    finally:
        signal.signal(signal.SIGINT, previous)


def _spin_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_new_worker_does_not_inherit_the_cpu_of_the_step_that_killed_the_last(tmp_path, monkeypatch):
    """The supervisor's clock is stopped when an answerer starts: only a step's own start sets a CPU limit."""
    from grader.sandbox import supervisor as supervisor_module

    module = tmp_path / "mnist_dense.py"
    module.write_text("")
    sup = supervisor_module.Supervisor(load_config(), module, tmp_path / "mnist.npz", tmp_path / "sandbox")
    sup.clock.start(StepLimit.of(0.0, 1))
    sup.clock.started_cpu = -1000.0  # as if the last step had burnt far past its limit
    assert sup.clock.over_cpu()

    sup.cgroup = None
    process = sup._spawn("json.tool", module)  # a new answerer starts (any short-lived module will do)
    process.wait()
    process.stdout.close()
    if sup.cgroup is not None:
        sup.cgroup.remove()
    assert sup.clock.limit is None and not sup.clock.over_cpu()


def test_the_tree_is_listed_again_only_when_its_listing_is_old_or_a_step_starts():
    from grader.sandbox.supervisor import TreeSampler

    now = [100.0]
    listings = []

    def lister():
        listings.append(now[0])
        return [f"listing {len(listings)}"]

    tree = TreeSampler(lister, max_age=0.5, clock=lambda: now[0])
    assert tree() == ["listing 1"]
    now[0] += 0.4
    assert tree() == ["listing 1"]  # younger than max_age: the same list, no scan of /proc
    now[0] += 0.1
    assert tree() == ["listing 2"]  # exactly max_age old: listed again
    now[0] += 0.01
    assert tree.fresh() == ["listing 3"]  # an event: listed now whatever its age
    assert listings == [100.0, 100.5, 100.51]
