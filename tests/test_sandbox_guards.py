"""Fast tests of the sandbox's tripwires, without running a worker.

* The observer accepts on the answerer's channel only the reply it waits
  for (and ``ready`` once, training epochs for display); any other line (a
  forgery from the student's code, which shares the answerer's process)
  marks the running call tampered, never ends the wait and never crashes it.
* A death is held for the call that was waiting; the first answerer dying
  before it is ready is a grading error, not the student's.
* The answerer's guard undoes replaced functions and changed settings.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from grader.config import load_config
from grader.sandbox import link as link_module
from grader.sandbox import supervisor as supervisor_module
from grader.sandbox.channel import parse_line
from grader.sandbox.observer import AnswererDied, Observer
from grader.sandbox.protocol import StepStatus


class _Process:
    pid = -1


@pytest.fixture
def observer(tmp_path):
    module = tmp_path / "mnist_dense.py"
    module.write_text("")
    told: list[dict] = []
    obs = Observer(load_config(), module, Path(os.environ["MNIST_NPZ"]), tmp_path / "sandbox", progress=told.append)
    obs.told = told
    return obs


def _feed(obs: Observer, *events) -> None:
    for event in events:
        line = event if isinstance(event, bytes) else json.dumps(event).encode()
        obs._handle(parse_line(line), _Process(), time.monotonic())


def test_the_awaited_reply_ends_the_wait(observer):
    _feed(observer, {"event": "ready"})
    assert observer.ready and observer.finished
    observer.waiting, observer.finished = 3, False
    _feed(observer, {"event": "reply", "id": 3, "ok": True, "value": {"kind": "plain", "type": "int", "value": 1}})
    assert observer.finished and observer.reply["ok"] is True
    assert observer.call_tampered == []


def test_forged_lines_mark_the_call_and_never_end_the_wait(observer):
    _feed(observer, {"event": "ready"})
    observer.waiting, observer.finished = 4, False
    _feed(
        observer,
        {"event": "ready"},  # a second ready: only the answerer's start sends one
        {"event": "reply", "id": 3, "ok": True},  # an answer to a request not waited for
        b"not json at all",
        {"event": "progress", "epoch": 1, "epochs": 5},  # an epoch outside train_model
        {"event": "done"},  # an event the answerer never sends
    )
    assert not observer.finished and observer.reply is None
    assert observer.call_tampered == ["grader channel"] * 5
    assert observer.told == []


def test_a_malformed_reply_is_a_tampered_answer(observer):
    observer.waiting = 1
    _feed(observer, {"event": "reply", "id": 1, "ok": True, "value": {"x": "y" * 100_000}})
    assert observer.finished and observer.reply["error"] == {"type": "MalformedReply"} and observer.reply["tampered"] == ["grader channel"]


def test_training_epochs_are_only_displayed(observer):
    observer.waiting, observer.current_step = 1, "train_model"
    _feed(observer, {"event": "progress", "epoch": 2, "epochs": "five"})
    assert observer.told == [{"event": "epoch", "step": "train_model", "epoch": 2, "epochs": None}]
    assert not observer.finished and observer.call_tampered == []


def test_a_death_is_held_for_the_waiting_call(observer):
    observer._died(StepStatus.MEMORY, {"memory_mb": 5000})
    assert isinstance(observer.death, AnswererDied) and observer.death.status is StepStatus.MEMORY
    assert observer.death.error == {"memory_mb": 5000}


def test_the_first_answerer_dying_before_it_is_ready_is_a_grading_error(observer, monkeypatch):
    class _Dead:
        pid, stdout, stdin = -1, None, None

    def spawn(module, plan, stdin=None):
        observer.workers = 1
        return _Dead()

    monkeypatch.setattr(observer, "_spawn", spawn)
    monkeypatch.setattr(link_module, "_lines", lambda stream: None)
    monkeypatch.setattr(observer, "_watch", lambda process, lines, deadline: observer._died(StepStatus.EXITED, {"code": 1}))
    monkeypatch.setattr(observer, "_stop_answerer", lambda: None)
    with pytest.raises(supervisor_module.SandboxError):
        observer._start()


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
