"""How the supervisor's watch ends a step: the statuses a student reads for a process that misbehaves.

A tiny Python process stands in for the answerer (no student module, no
TensorFlow): it answers, hangs, exits, crashes, grows, or fills its folder,
and the watch must end it with the matching status (``timeout``,
``exited`` with its code, ``crashed``, ``memory``, ``storage``) and the
details the feedback quotes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from grader.config import load_config
from grader.sandbox import supervisor as supervisor_module
from grader.sandbox.protocol import Phase, StepStatus
from grader.sandbox.supervisor import Supervisor

POSIX = os.name == "posix"


class Watched(Supervisor):
    """The supervisor's watch, with the answerer's protocol reduced to one line: "ready" ends the wait."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deaths: list[tuple[StepStatus, dict[str, Any]]] = []
        self.events: list[dict[str, Any] | None] = []

    def _handle(self, event, process, deadline):
        self.events.append(event)
        if event and event.get("event") == "ready":
            self.finished = True
        return deadline

    def _died(self, status, details):
        self.deaths.append((status, details))


def _watched(tmp_path: Path, memory_mb: int | None = None, storage_mb: int | None = None) -> Watched:
    config = load_config()
    if memory_mb is not None:
        config = replace(config, grading=replace(config.grading, memory_limit_mb=memory_mb))
    module = tmp_path / "mnist_dense.py"
    module.write_text("")
    watched = Watched(config, module, tmp_path / "mnist.npz", tmp_path / "work")
    if storage_mb is not None:
        watched.quota.limit = storage_mb * 2**20
    watched.current = Phase("normalize")
    watched.cgroup = None  # set by _spawn: no memory cgroup for these processes
    return watched


def _run(watched: Watched, code: str, deadline: float = 20.0) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=watched.cwd, start_new_session=POSIX)
    try:
        watched._watch(process, supervisor_module._lines(process.stdout), time.monotonic() + deadline)
    finally:
        watched._stop(process)
        process.stdout.close()
    return process


def test_an_answer_ends_the_wait_and_the_process_lives_on(tmp_path):
    watched = _watched(tmp_path)
    process = _run(watched, 'import time; print(\'{"event": "ready"}\', flush=True); time.sleep(30)')
    assert watched.finished and watched.deaths == [] and watched.events == [{"event": "ready"}]
    assert process.pid in watched.protected  # alive at its first line: the answerer, spared by the stray kill


def test_a_line_that_is_not_an_event_reaches_the_handler_as_malformed(tmp_path):
    watched = _watched(tmp_path)
    _run(watched, "print('[1, 2]'); print('{\"event\": \"ready\"}', flush=True)")
    assert watched.events == [None, {"event": "ready"}]


def test_a_process_that_hangs_is_a_timeout(tmp_path):
    watched = _watched(tmp_path)
    started = time.monotonic()
    _run(watched, "import time; time.sleep(30)", deadline=0.5)
    assert watched.deaths == [(StepStatus.TIMEOUT, {})] and time.monotonic() - started < 10


def test_an_exit_is_exited_with_its_code(tmp_path):
    watched = _watched(tmp_path)
    _run(watched, "import os; os._exit(3)")
    assert watched.deaths == [(StepStatus.EXITED, {"code": 3})]


@pytest.mark.skipif(not POSIX, reason="signals")
def test_a_signal_is_a_crash(tmp_path):
    watched = _watched(tmp_path)
    _run(watched, f"import os; os.kill(os.getpid(), {int(signal.SIGSEGV)})")
    assert watched.deaths == [(StepStatus.CRASHED, {"code": -int(signal.SIGSEGV)})]


def test_a_process_over_the_memory_limit_is_memory(tmp_path):
    watched = _watched(tmp_path, memory_mb=1)
    _run(watched, "import time; time.sleep(30)")
    (status, details), *_ = watched.deaths
    assert status == StepStatus.MEMORY and details["memory_mb"] >= 1 and watched.peak_mb > 1


def test_a_process_that_fills_its_folder_is_storage_and_its_files_are_removed(tmp_path):
    watched = _watched(tmp_path, storage_mb=1)
    _run(watched, "import time; open('big', 'wb').write(b'x' * 3 * 2**20); time.sleep(30)")
    (status, details), *_ = watched.deaths
    assert status == StepStatus.STORAGE and details["storage_mb"] >= 1
    assert not (watched.cwd / "big").exists() and watched.module.exists()  # the grader's own files stay


def test_under_the_storage_cap_nothing_is_stopped(tmp_path):
    watched = _watched(tmp_path, storage_mb=10)
    _run(watched, "open('small', 'wb').write(b'x' * 2**20); print('{\"event\": \"ready\"}', flush=True)")
    assert watched.deaths == [] and (watched.cwd / "small").exists()


def test_the_workers_environment_is_the_graders_own_not_the_runners(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "secret")
    monkeypatch.setenv("PATH", "/usr/bin")
    env = _watched(tmp_path)._environment()
    assert "GITHUB_TOKEN" not in env and env["PATH"] == "/usr/bin" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["HOME"].endswith("run")  # process level: its own working folder


def test_a_worker_is_spawned_under_the_memory_limit_plus_what_its_tmpfs_may_hold(tmp_path, monkeypatch):
    from grader.sandbox.isolation import Isolation

    watched = _watched(tmp_path)
    limits = []
    monkeypatch.setattr(supervisor_module.MemoryCgroup, "create", staticmethod(lambda limit: limits.append(limit)))
    monkeypatch.setattr(Isolation, "command", lambda self, argv, outside, package: argv)
    monkeypatch.setattr(watched, "isolation", Isolation("namespaces", tmpfs_mb=10, storage_mb=100))
    watched.paths.plan.write_text('{"plan": 1}')
    process = watched._spawn("json.tool", watched.paths.plan)
    out, _ = process.communicate(timeout=30)
    assert limits == [watched.config.grading.memory_limit_mb + 120] and watched.cgroup is None and watched.memory_wall == "rss"
    assert b'"plan": 1' in out  # the command ran in the run folder with the plan's path
    assert (watched.workdir / "worker.log").exists()


def test_a_process_that_answers_before_its_deadline_is_not_stopped(tmp_path):
    watched = _watched(tmp_path)
    process = subprocess.Popen([sys.executable, "-c", 'import time; time.sleep(0.5); print(\'{"event": "ready"}\', flush=True)'], stdout=subprocess.PIPE)
    try:
        watched._watch(process, supervisor_module._lines(process.stdout), time.monotonic() + 20.0)
    finally:
        watched._stop(process)
        process.stdout.close()
    assert watched.finished and watched.deaths == []


def test_a_channel_line_as_long_as_allowed_arrives_whole():
    import io

    line = b"x" * (supervisor_module.MAX_LINE - 1) + b"\n"
    lines = supervisor_module._lines(io.BytesIO(line + b"{}\n"))
    assert lines.get(timeout=10) == line and lines.get(timeout=10) == b"{}\n" and lines.get(timeout=10) is None
