"""Fast tests of the sandbox's tripwires, without running a worker.

* The supervisor accepts the worker's events only in their fixed order; an
  event out of order (a forgery from the student's code, which shares the
  worker's process) marks the step it happened in, and never crashes it.
* A worker that dies while re-creating or standing in for a step is held
  against that step, and a step that keeps killing workers ends the run
  instead of restarting forever.
* The worker's guard undoes replaced functions and changed settings.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from grader.config import load_config
from grader.sandbox import supervisor as supervisor_module
from grader.sandbox.channel import parse_line
from grader.sandbox.protocol import Phase, StepStatus
from grader.sandbox.supervisor import Supervisor


class _Process:
    pid = -1


@pytest.fixture
def supervisor(tmp_path, monkeypatch):
    monkeypatch.setattr(supervisor_module, "_kill_strays", lambda pid: 0)
    module = tmp_path / "mnist_dense.py"
    module.write_text("")
    sup = Supervisor(load_config(), module, tmp_path / "mnist.npz", tmp_path / "sandbox")
    sup.workers, sup.current = 1, None
    return sup


def _feed(sup: Supervisor, *events) -> None:
    for event in events:
        line = event if isinstance(event, bytes) else json.dumps(event).encode()
        sup._handle(parse_line(line), _Process(), time.monotonic())


def _end(step: str) -> dict:
    return {"event": "end", "step": step, "status": "ok", "error": None, "data": {}, "seconds": 0.1, "printed": ""}


def test_events_in_order_are_accepted(supervisor):
    _feed(
        supervisor,
        {"event": "start", "step": "import"},
        _end("import"),
        {"event": "start", "step": "normalize"},
        {**_end("normalize"), "status": "error"},
        {"event": "start", "step": "normalize:fallback"},
        {"event": "start", "step": "build_model:restore"},
        {"event": "tampered", "step": "build_model", "names": ["numpy.allclose"]},
        {"event": "done", "replaced": ["normalize"]},
    )
    assert supervisor.finished
    assert set(supervisor.outcomes) == {"import", "normalize"}
    assert supervisor.tampered == {"build_model": ["numpy.allclose"]}
    assert supervisor.replaced == {"normalize"}


def test_forged_events_mark_the_running_step(supervisor):
    _feed(
        supervisor,
        {"event": "start", "step": "load_data"},
        _end("history"),  # a step that is not running
        {"event": "done", "replaced": []},  # in the middle of a step
        b"not json at all",
        {"event": "start", "step": "no_such_step"},
        {"event": "end", "step": "load_data", "status": "ok", "seconds": "soon", "error": "x", "tampered": 3},
        _end("load_data"),  # a second end: the first was forged
    )
    assert not supervisor.finished
    assert "history" not in supervisor.outcomes
    assert set(supervisor.tampered) == {"load_data"}
    assert supervisor.outcomes["load_data"].seconds == 0.0  # malformed fields, no crash


def test_a_status_or_phase_the_worker_never_sends_is_a_forgery(supervisor):
    _feed(
        supervisor,
        {"event": "start", "step": "load_data"},
        {**_end("load_data"), "status": "passed"},
        {"event": "start", "step": "normalize:retry"},
        {"event": "start", "step": "normalize"},
        {**_end("normalize"), "status": None},
    )
    assert supervisor.outcomes["load_data"].status is StepStatus.TAMPERED
    assert supervisor.outcomes["normalize"].status is StepStatus.TAMPERED
    assert supervisor.tampered == {"load_data": ["grader channel", "grader channel"], "normalize": ["grader channel"]}


def test_statuses_are_recorded_as_the_enum(supervisor):
    _feed(supervisor, {"event": "start", "step": "load_data"}, {**_end("load_data"), "status": "not_implemented"})
    assert supervisor.outcomes["load_data"].status is StepStatus.NOT_IMPLEMENTED
    assert supervisor.current is None and supervisor.last == Phase("load_data")
    assert not supervisor.tampered


def test_death_while_restoring_is_held_against_that_step(supervisor):
    _feed(supervisor, {"event": "start", "step": "train_model"}, _end("train_model"))
    supervisor.workers = 2
    supervisor._died(Phase("train_model", "restore"), StepStatus.CRASHED, {"code": -11})
    assert supervisor.dead == ["train_model"]
    assert supervisor.outcomes["train_model"].status == "crashed"
    assert not supervisor.finished
    supervisor._died(Phase("train_model", "fallback"), StepStatus.CRASHED, {"code": -11})
    assert supervisor.finished  # no endless restarts


def test_the_first_worker_dying_before_any_event_is_a_grading_error(supervisor):
    with pytest.raises(supervisor_module.SandboxError):
        supervisor._died(None, StepStatus.EXITED, {"code": 1})


@pytest.mark.slow
def test_guard_undoes_replaced_functions_and_settings(tmp_path):
    import keras
    import numpy as np

    from grader.sandbox import introspect
    from grader.sandbox.guard import Guard

    evaluate, allclose, describe_code = keras.Model.evaluate, np.allclose, introspect.describe_compile.__code__
    cwd, floatx = os.getcwd(), keras.config.floatx()
    guard = Guard()
    keras.Model.evaluate = lambda self, *a, **k: [0.0, 1.0]
    np.allclose = lambda *a, **k: True
    introspect.describe_compile.__code__ = (lambda model: {}).__code__
    keras.Sequential.predict = lambda self, x: x
    os.chdir(tmp_path)
    keras.config.set_floatx("float64")
    changed = guard.restore()
    assert keras.Model.evaluate is evaluate and np.allclose is allclose
    assert introspect.describe_compile.__code__ is describe_code
    assert "predict" not in vars(keras.Sequential)
    assert os.getcwd() == cwd and keras.config.floatx() == floatx
    assert any("evaluate" in name for name in changed)
    assert any("allclose" in name for name in changed)
    assert any("describe_compile" in name for name in changed)
    assert any("Sequential.predict" in name for name in changed)
    assert guard.restore() == []


def test_channel_keeps_nan_and_numpy_scalars():
    import numpy as np

    read, write = os.pipe()
    try:
        from grader.sandbox.channel import Channel

        Channel(write).send(event="end", values=[float("nan"), np.float32(0.5), np.int64(3)], data={"big": "x" * (2 << 20)})
        line = b""
        while not line.endswith(b"\n"):
            line += os.read(read, 1 << 16)
    finally:
        os.close(read), os.close(write)
    event = parse_line(line.rstrip(b"\n"))
    assert event is not None and np.isnan(event["values"][0]) and event["values"][1:] == [0.5, 3]
    assert event["status"] == "error" and event["data"] is None  # too large: reported, not lost
