"""The answerer's replies, in this process, with a stand-in for Keras (NumPy only, no TensorFlow).

The answerer is the only process that imports student code; it decides
nothing, but what it sends is all the observer sees: the value a function
returned (bounded: capped text, capped sequences, arrays as .npy files), the
exception it raised (its kind decides the step's status), the line the
student printed, and what a call of ``model.fit`` received. A real answerer
runs in tests/test_observer.py and tests/test_import_runtime.py (slow).
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.sandbox import answerer as answerer_module
from grader.sandbox import wire
from grader.sandbox.answerer import Answerer, MissingFunction, StepTimeout, describe_error


class History:
    def __init__(self) -> None:
        self.history: dict[str, Any] = {}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model


class Model:
    def __init__(self, weights: list[np.ndarray] | None = None) -> None:
        self.weights = weights or [np.ones((3, 2), "float32"), np.zeros(2, "float32")]
        self.compiled: dict[str, Any] | None = None

    def fit(self, x=None, y=None, batch_size=None, epochs=1, callbacks=None, **kwargs):
        history = History()
        history.history, history.epoch = {"loss": [1.0] * epochs}, list(range(epochs))
        for callback in callbacks or []:
            for epoch in range(epochs):
                callback.on_epoch_end(epoch)
        return history

    def get_weights(self) -> list[np.ndarray]:
        return self.weights

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.weights = weights

    def compile(self, **settings: Any) -> None:
        self.compiled = settings

    def to_json(self) -> str:
        return json.dumps({"class_name": "Sequential"})

    def __call__(self, x, training=False):
        return np.zeros((len(x), 10), "float32")


@pytest.fixture
def keras(monkeypatch):
    """Just enough of Keras for the answerer's own code (its types, seeds, callbacks)."""
    fake = types.ModuleType("keras")
    fake.Model = Model
    fake.callbacks = types.SimpleNamespace(History=History, Callback=object)
    seeds: list[int] = []
    fake.utils = types.SimpleNamespace(set_random_seed=seeds.append)
    fake.models = types.SimpleNamespace(model_from_json=lambda text: Model())
    fake.seeds = seeds
    monkeypatch.setitem(sys.modules, "keras", fake)
    return fake


class Undo:
    def __init__(self) -> None:
        self.replaced: list[str] = []

    def restore(self) -> list[str]:
        replaced, self.replaced = self.replaced, []
        return replaced


@pytest.fixture
def answering(tmp_path, keras):
    plan = {"outbox": str(tmp_path / "outbox"), "inbox": str(tmp_path / "inbox"), "module": str(tmp_path / "mnist_dense.py"), "wall_factor": 2.0}
    for folder in ("outbox", "inbox"):
        (tmp_path / folder).mkdir()
    sent: list[dict[str, Any]] = []
    output = open(tmp_path / "student-output.txt", "wb+")  # noqa: SIM115 - closed by the fixture
    undo = Undo()
    answerer = Answerer(plan, lambda **event: sent.append(event), output, undo)
    answerer.dataset = {"x_train": np.arange(5 * 4).reshape(5, 4), "y_train": np.arange(5)}
    answerer.student = types.SimpleNamespace()
    yield answerer, sent, undo, tmp_path
    output.close()


def _student(answerer: Answerer, **functions: Any) -> None:
    answerer.student = types.SimpleNamespace(**functions)


# -- exceptions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (StepTimeout(), "timeout"),
        (NotImplementedError("todo"), "not_implemented"),
        (MissingFunction("normalize"), "missing"),
        (SystemExit(3), "exited"),
        (MemoryError(), "memory"),
        (ValueError("bad"), "error"),
    ],
)
def test_the_kind_of_an_exception_is_what_the_status_is_made_from(error, kind):
    assert describe_error(error)["kind"] == kind


def test_an_exit_code_is_kept_and_a_message_is_one_bounded_line():
    assert describe_error(SystemExit())["code"] == 0
    assert describe_error(SystemExit(4))["code"] == 4
    assert describe_error(SystemExit("bye"))["code"] == 1
    assert "code" not in describe_error(ValueError())
    described = describe_error(ValueError("a\n  b " + "x" * 1000))
    assert described["message"].startswith("a b ") and len(described["message"]) == 400


def test_the_line_named_is_the_students_never_the_graders(tmp_path):
    module = tmp_path / answerer_module.MODULE_FILE
    module.write_text("def normalize(x):\n    return helper(x)\n\ndef helper(x):\n    raise ValueError('deep')\n")
    namespace: dict[str, Any] = {}
    exec(compile(module.read_text(), str(module), "exec"), namespace)  # noqa: S102 - a test's own source
    try:
        namespace["normalize"](1)
    except ValueError as error:
        described = describe_error(error)
    assert (described["line"], described["function"]) == (5, "helper")
    try:
        compile("def f(:\n", str(module), "exec")
    except SyntaxError as error:
        assert describe_error(error)["line"] == 1
    try:
        compile("def f(:\n", str(tmp_path / "other.py"), "exec")
    except SyntaxError as error:
        assert describe_error(error)["line"] is None


def test_a_call_that_returns_raises_or_overruns(monkeypatch):
    assert answerer_module._timed(lambda: 5, 1.0) == (5, None)
    value, error = answerer_module._timed(lambda: 1 / 0, 1.0)
    assert value is None and error["type"] == "ZeroDivisionError"

    def spin():
        while True:
            pass

    value, error = answerer_module._timed(spin, 0.2, 0.4)
    assert error["kind"] == "timeout"


def test_a_keyboard_interrupt_the_alarm_did_not_send_is_the_students_error():
    def interrupt():
        raise KeyboardInterrupt

    assert answerer_module._timed(interrupt, 5.0)[1]["kind"] == "error"


def test_the_alarm_wall_is_never_below_its_cpu_limit():
    alarm = answerer_module._Alarm(2.0, 1.0)
    assert (alarm.limit, alarm.wall) == (2.0, 2.0)
    assert answerer_module._Alarm(0.0).limit == 0.05
    assert answerer_module._Alarm(1.0, 3.0).wall == 3.0


# -- values ----------------------------------------------------------------------------------


def test_plain_values_cross_capped(answering):
    answerer, *_ = answering
    assert answerer.encode(None) == {"kind": "plain", "type": "NoneType", "value": None}
    assert answerer.encode(True) == {"kind": "plain", "type": "bool", "value": True}
    assert answerer.encode("x" * 5000)["value"] == "x" * wire.MAX_STRING
    assert answerer.encode(3) == {"kind": "plain", "value": 3, "type": "int"}
    assert answerer.encode(2**70)["value"] == float(2**70) and isinstance(answerer.encode(2**62)["value"], float)
    assert answerer.encode(2**61)["value"] == 2**61
    assert answerer.encode(np.float32(0.5)) == {"kind": "scalar", "type": "float32", "value": 0.5}
    assert answerer.encode(np.datetime64("2026-01-01"))["value"] is None  # not a number: its type only


def test_arrays_cross_as_files_and_sequences_are_capped(answering):
    answerer, _, _, folder = answering
    ref = answerer.encode(np.arange(6, dtype="int64").reshape(2, 3))
    assert wire.read_array(folder / "outbox", ref).tolist() == [[0, 1, 2], [3, 4, 5]]
    sequence = answerer.encode(list(range(40)))
    assert sequence["length"] == 40 and len(sequence["items"]) == 16 and sequence["type"] == "list"
    deep: Any = 1
    for _ in range(wire.MAX_DEPTH + 3):
        deep = [deep]
    inner = answerer.encode(deep)
    for _ in range(wire.MAX_DEPTH + 1):
        inner = inner["items"][0]
    assert inner == {"kind": "object", "type": "nested"}
    assert answerer.encode(Model()) == {"kind": "model", "type": "Model"}
    assert answerer.encode({"a": 1}) == {"kind": "object", "type": "dict"}


def test_a_history_crosses_as_numbers_with_bounds(answering):
    answerer, *_ = answering
    history = History()
    history.history = {"loss": [np.float32(0.5), 0.25], "bad": ["x"], **{f"k{i}": [1.0] for i in range(40)}}
    history.epoch, history.params = [0, 1], {"epochs": 2, "callback": object(), "k" * 300: None}
    encoded = answerer.encode(history)
    assert encoded["kind"] == "history" and encoded["history"]["loss"] == [0.5, 0.25] and encoded["history"]["bad"] is None
    assert len(encoded["history"]) == 32 and encoded["epoch"] == [0, 1]
    assert encoded["params"]["epochs"] == 2 and isinstance(encoded["params"]["callback"], str) and "k" * 100 in encoded["params"]
    history.epoch, history.params = "forged", "forged"
    assert answerer.encode_history(history)["epoch"] == [] and answerer.encode_history(history)["params"] == {}


def test_arguments_are_held_objects_dataset_copies_or_values(answering):
    answerer, *_ = answering
    held = np.arange(10)
    answerer.objects["x"] = held
    assert answerer.argument({"ref": "x"}) is held
    assert answerer.argument({"ref": "x", "copy": True}) is not held
    sliced = answerer.argument({"ref": "x", "stop": 3})
    assert sliced.tolist() == [0, 1, 2] and not np.shares_memory(sliced, held)
    data = answerer.argument({"data": "x_train", "start": 1, "stop": 3})
    assert data.shape == (2, 4) and not np.shares_memory(data, answerer.dataset["x_train"])
    assert answerer.argument({"value": 7}) == 7 and answerer.argument({}) is None


# -- requests --------------------------------------------------------------------------------


def test_a_reply_carries_its_id_the_value_the_printed_text_and_what_was_replaced(answering):
    answerer, sent, undo, _ = answering

    def normalize(x):
        answerer.output.write(b"hola\n")
        undo.replaced.append("numpy.array_equal")
        return x / 255.0

    _student(answerer, normalize=normalize)
    answerer.handle({"op": "call", "id": 4, "function": "normalize", "args": [{"data": "y_train"}], "limit": 5})
    reply = sent[-1]
    assert reply["event"] == "reply" and reply["id"] == 4 and reply["ok"] and reply["error"] is None
    assert reply["printed"] == "hola\n" and reply["tampered"] == ["numpy.array_equal"]
    assert 0 <= reply["seconds"] < 30
    assert reply["value"]["value"]["kind"] == "array"
    answerer.handle({"op": "call", "id": 5, "function": "absent", "limit": 5})
    assert sent[-1]["ok"] is False and sent[-1]["error"]["kind"] == "missing" and sent[-1]["printed"] == ""


def test_only_the_last_2000_characters_printed_since_the_call_cross(tmp_path):
    with open(tmp_path / "out", "wb+") as output:
        output.write(b"before")
        offset = output.tell()
        output.write(b"y" * 3000)
        assert answerer_module._printed_since(output, offset) == "y" * 2000
        assert output.tell() == 6 + 3000


def test_a_call_keeps_its_value_its_arguments_and_says_whether_it_shares_memory(answering):
    answerer, *_ = answering
    _student(answerer, same=lambda x: x, fresh=lambda x: x * 2)
    answerer.objects["probe"] = np.arange(4.0)
    answer = answerer.op_call({"function": "same", "args": [{"ref": "probe"}], "shares": True, "keep": "out", "keep_args": ["arg"], "same_as": "probe"})
    assert answer["shares"] is True and answer["same"] is True and answerer.objects["out"] is answerer.objects["probe"]
    assert answerer.objects["arg"] is answerer.objects["probe"]
    answer = answerer.op_call({"function": "fresh", "args": [{"ref": "probe"}], "shares": True, "same_as": "probe"})
    assert answer["shares"] is False and answer["same"] is False
    answer = answerer.op_call({"function": "fresh", "args": [{"ref": "probe"}], "send": False})
    assert answer["value"] == {"kind": "object", "type": "ndarray"}


def test_a_call_with_a_seed_seeds_keras_first(answering, keras):
    answerer, *_ = answering
    _student(answerer, build=lambda: Model())
    answerer.op_call({"function": "build", "seed": 42})
    answerer.op_call({"function": "build"})
    assert keras.seeds == [42]


def test_what_model_fit_received_is_recorded_and_the_history_it_returned_recognized(answering):
    answerer, sent, *_ = answering
    answerer.objects["model"] = Model()
    answerer.objects["x"] = np.full((4, 2), 0.5)

    def train(model, x, epochs=3):
        model.fit(x, None, 16, epochs)
        return model.fit(x, None, batch_size=8, epochs=2)

    _student(answerer, train=train)
    answer = answerer.op_call({"function": "train", "args": [{"ref": "model"}, {"ref": "x"}], "fit_on": "model", "keep": "returned"})
    first, second = answer["fit_calls"]
    assert first == {"epochs": 3, "batch_size": 16, "x_min": 0.5, "x_max": 0.5, "x_shape": [4, 2]}
    assert (second["epochs"], second["batch_size"]) == (2, 8)
    assert answer["from_fit"] and answer["genuine"] and answer["genuine_history"]["epoch"] == [0, 1]
    assert "fit" not in vars(answerer.objects["model"])  # the interception is undone
    assert [e["epoch"] for e in sent if e.get("event") == "progress"] == [1, 2, 3, 1, 2]


def test_a_history_made_by_hand_is_not_from_fit(answering):
    answerer, *_ = answering
    answerer.objects["model"] = Model()
    _student(answerer, train=lambda model: History())
    answer = answerer.op_call({"function": "train", "args": [{"ref": "model"}], "fit_on": "model", "keep": "returned"})
    assert answer["fit_calls"] == [] and not answer["from_fit"] and not answer["genuine"]


def test_fit_on_text_records_no_pixel_range(answering):
    answerer, *_ = answering
    answerer.objects["model"] = Model()
    _student(answerer, train=lambda model: model.fit(np.array(["a"]), None))
    call = answerer.op_call({"function": "train", "args": [{"ref": "model"}], "fit_on": "model", "keep": "r"})["fit_calls"][0]
    assert call["x_min"] is None and call["x_shape"] is None
    _student(answerer, train=lambda model: model.fit(np.zeros((0, 2)), None))
    call = answerer.op_call({"function": "train", "args": [{"ref": "model"}], "fit_on": "model", "keep": "r"})["fit_calls"][0]
    assert call["x_min"] is None and call["x_shape"] == [0, 2]


def test_a_default_is_read_as_written(answering):
    answerer, *_ = answering

    def train(model, epochs=5, verbose=True, shuffle=None, callbacks=(1,), *, rate=0.1, name="m"):
        return None

    _student(answerer, train=train, built=len)
    ask = lambda parameter: answerer.op_signature({"function": "train", "parameter": parameter})  # noqa: E731
    assert (ask("epochs"), ask("rate"), ask("name")) == (5, 0.1, "m")
    assert ask("verbose") == "True" and ask("callbacks") == "(1,)" and ask("shuffle") == "None"
    assert ask("model") is None and ask("absent") is None
    assert answerer.op_signature({"function": "built", "parameter": "x"}) is None


def test_held_objects_load_forget_and_weights(answering):
    answerer, _, _, folder = answering
    np.save(folder / "inbox" / "x.npy", np.arange(3))
    answerer.op_load({"kind": "array", "file": "x.npy", "keep": "x"})
    assert answerer.objects["x"].tolist() == [0, 1, 2]
    answerer.op_load({"kind": "model", "architecture": "{}", "keep": "model"})
    answerer.op_load({"kind": "history", "keep": "history", "history": {"loss": [1.0]}, "epoch": [0], "params": {}, "model": "model"})
    assert answerer.objects["history"].model is answerer.objects["model"] and answerer.objects["history"].epoch == [0]
    np.savez(folder / "inbox" / "w.npz", w0=np.zeros((3, 2)), w1=np.ones(2))
    answerer.op_set_weights({"ref": "model", "file": "w.npz"})
    weights = answerer.op_weights({"ref": "model", "architecture": True})
    assert [wire.read_array(folder / "outbox", w).tolist() for w in weights["weights"]][1] == [1.0, 1.0]
    assert json.loads(weights["architecture"]) == {"class_name": "Sequential"}
    assert answerer.op_weights({"ref": "x"}) == {"weights": None}
    answerer.op_compile({"ref": "model", "settings": {"optimizer": "adam", "loss": "l", "metrics": ["accuracy"]}})
    assert answerer.objects["model"].compiled == {"optimizer": "adam", "loss": "l", "metrics": ["accuracy"]}
    answerer.op_forget({"refs": ["x", "nothing"]})
    assert "x" not in answerer.objects and "model" in answerer.objects


def test_import_modes(answering):
    answerer, _, _, folder = answering
    (folder / "mnist_dense.py").write_text("import os\nX = 1\nprint(undefined)\ndef f():\n    return X\n")
    with pytest.raises(NameError):
        answerer.op_import({"mode": "import"})
    assert answerer.op_import({"mode": "salvage"}) == {"mode": "salvaged", "dropped": 1}
    assert answerer.function("f")() == 1
    assert answerer.op_import({"mode": "empty"}) == {"mode": "empty"}
    with pytest.raises(MissingFunction):
        answerer.function("f")
    answerer.student = types.SimpleNamespace(f=3)
    with pytest.raises(MissingFunction):
        answerer.function("f")  # not callable


def test_plain_fit_arguments():
    assert answerer_module._plain(None) is None and answerer_module._plain("e" * 300) == "e" * 200
    assert answerer_module._plain(np.int64(3)) == 3 and answerer_module._plain([1]) == "[1]"


def test_requests_are_read_one_json_line_at_a_time():
    read, write = os.pipe()
    os.write(write, b'{"op": "a"}\n{"op": "b"}\n')
    os.close(write)
    assert [r["op"] for r in answerer_module._requests(read)] == ["a", "b"]


def test_the_answerer_reads_its_plan_paths(answering):
    answerer, _, _, folder = answering
    assert answerer.outbox == folder / "outbox" and answerer.inbox == folder / "inbox"
    assert isinstance(answerer.output, io.BufferedRandom)
    assert Path(answerer.plan["module"]).name == answerer_module.MODULE_FILE


def test_a_history_fit_returned_but_train_model_did_not_return_is_not_from_fit(answering):
    answerer, *_ = answering
    answerer.objects["model"] = Model()

    def train(model):
        model.fit(np.zeros((2, 2)), None)
        return History()

    _student(answerer, train=train)
    answer = answerer.op_call({"function": "train", "args": [{"ref": "model"}], "fit_on": "model", "keep": "returned"})
    assert not answer["from_fit"] and answer["genuine"]  # a genuine training happened; the History returned is made up


@pytest.fixture
def described(monkeypatch):
    """introspect.py needs the real Keras: a stand-in that says what it was asked to describe."""
    import grader.sandbox

    fake = types.ModuleType("grader.sandbox.introspect")
    fake.describe_model = lambda value: {"described": "model"}
    fake.describe_compile = lambda value: {"described": "compile"}
    fake.describe_figure = lambda value: {"described": "figure"}
    monkeypatch.setitem(sys.modules, "grader.sandbox.introspect", fake)
    monkeypatch.setattr(grader.sandbox, "introspect", fake, raising=False)
    return fake


def test_a_held_object_is_described_as_asked(answering, described):
    import pandas as pd

    answerer, *_ = answering
    answerer.objects.update(model=Model(), frame=pd.DataFrame({"loss": [1.0, "x"]}), value=3)
    assert answerer.op_describe({"ref": "model", "as": "model"}) == {"described": "model", "output_on_batch": [1, 10]}
    assert answerer.op_describe({"ref": "model", "as": "compile"}) == {"described": "compile"}
    assert answerer.op_describe({"ref": "model", "as": "figure"}) == {"described": "figure"}
    frame = answerer.op_describe({"ref": "frame", "as": "frame"})
    assert frame["is_frame"] and frame["rows"] == 2 and frame["columns"]["loss"][0] == 1.0 and np.isnan(frame["columns"]["loss"][1])
    assert answerer.op_describe({"ref": "value"}) == {"kind": "plain", "value": 3, "type": "int"}
    assert answerer.op_describe({"ref": "value", "as": "frame"}) == {"is_frame": False, "type": "int"}


def test_the_output_shape_is_only_asked_of_a_model(keras):
    assert answerer_module._output_shape(Model()) == [1, 10]
    assert answerer_module._output_shape(lambda x, training=False: np.zeros((1, 3))) is None


def test_a_request_line_as_long_as_the_channel_allows_is_read_whole():
    read, write = os.pipe()
    head = '{"op": "a", "pad": "'
    line = head + "x" * (answerer_module.MAX_LINE - len(head) - 3) + '"}\n'
    assert len(line) == answerer_module.MAX_LINE
    writer = threading.Thread(target=lambda: (os.write(write, line.encode()), os.close(write)))
    writer.start()
    requests = list(answerer_module._requests(read))
    writer.join()
    assert [r["op"] for r in requests] == ["a"]


@pytest.fixture
def portable_alarm(monkeypatch):
    """The alarm as it works without SIGALRM (Windows): a thread that interrupts the main one."""
    monkeypatch.setattr(answerer_module, "HAS_ALARM", False)
    saved = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, saved)


def test_the_portable_alarm_stops_cpu_work_at_its_limit_and_a_wait_at_its_wall(portable_alarm):
    def spin():
        while True:
            pass

    started = time.monotonic()
    assert answerer_module._timed(spin, 0.2, 10.0)[1]["kind"] == "timeout"
    assert time.monotonic() - started < 5

    def wait():
        while True:
            time.sleep(0.01)  # no CPU: only the wall stops it

    started = time.monotonic()
    assert answerer_module._timed(wait, 0.3, 0.5)[1]["kind"] == "timeout"  # the wall is never below the CPU limit
    assert time.monotonic() - started < 5


def test_the_portable_alarm_lets_a_call_within_its_limits_finish(portable_alarm):
    def short():
        time.sleep(0.2)
        return "done"

    spent = time.process_time()
    while time.process_time() - spent < 0.6:
        pass  # the process has used CPU before the call: only the call's own counts
    assert answerer_module._timed(short, 1.0, 5.0) == ("done", None)
