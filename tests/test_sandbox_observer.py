"""The observer's decisions, from scripted answers: no answerer process, no Keras.

The observer is the only process that decides a step's status, its facts and
its stand-ins. Here a script plays the answerer (``Observer.ask`` replaced by
a function that returns the replies a real answerer would, arrays written to
the outbox with ``grader.sandbox.wire``), so each test shows one decision a
student's grade rests on: a correct answer's facts, a wrong answer's facts,
a forged answer's ``tampered``, the stand-in a failed step gets. The real
answerer is driven by tests/test_observer.py (slow, TensorFlow).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import facts, reference
from grader.config import load_config
from grader.sandbox import isolation as isolation_module
from grader.sandbox import link as link_module
from grader.sandbox import observer as observer_module
from grader.sandbox import supervisor as supervisor_module
from grader.sandbox import wire
from grader.sandbox.observer import AnswererDied, Observer, StepFailed
from grader.sandbox.protocol import StepStatus

N_TRAIN, N_TEST = 40, 12


def tiny_dataset(folder: Path) -> Path:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, N_TRAIN).astype(np.uint8)
    path = folder / "mnist.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:N_TEST], y_test=y[:N_TEST])
    return path


class Script:
    """Plays the answerer: ``replies[(op, what)]`` is a reply, or a function of the request that returns one."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer
        self.replies: dict[tuple[str, str | None], Any] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, op: str, limit: float | None = None, **request: Any) -> dict[str, Any]:
        self.requests.append((op, request))
        what = request.get("function") or request.get("ref") or request.get("kind")
        reply = self.replies.get((op, what), self.replies.get((op, None), {"ok": True, "value": None}))
        reply = reply(request) if callable(reply) else reply
        return reply if isinstance(reply, dict) and "ok" in reply else {"ok": True, "value": reply}

    def array(self, array: np.ndarray) -> dict[str, Any]:
        """An array as the answerer sends it: a .npy file in the outbox, described."""
        self.array_count = getattr(self, "array_count", 0) + 1
        return wire.write_array(self.observer.outbox, f"a{self.array_count}.npy", np.asarray(array))

    def value(self, value: Any) -> dict[str, Any]:
        return {"ok": True, "value": value}

    def ops(self, op: str) -> list[dict[str, Any]]:
        return [r for o, r in self.requests if o == op]


@pytest.fixture
def observed(tmp_path, monkeypatch):
    # No process is killed here: a step's end kills the strays of a real answerer (tests/test_sandbox_planted.py).
    monkeypatch.setattr(observer_module, "_kill_strays", lambda protected: 0)
    observer = Observer(load_config(), _module(tmp_path), tiny_dataset(tmp_path), tmp_path / "sandbox", threads=1)
    for folder in (observer.outbox, observer.inbox):
        folder.mkdir(parents=True, exist_ok=True)
    script = Script(observer)
    observer.ask = script
    observer.process = types.SimpleNamespace(pid=-1)  # an answerer that lives: nothing to restart
    return observer, script


def _module(folder: Path) -> Path:
    module = folder / "mnist_dense.py"
    module.write_text("def load_data():\n    return None\n", encoding="utf-8")
    return module


def returned(value: Any, **answer: Any) -> dict[str, Any]:
    """The reply to a call: what the function returned (encoded) and what else the answerer saw."""
    return {"ok": True, "value": {"value": value, **answer}}


def plain(value: Any) -> dict[str, Any]:
    return {"kind": "plain", "type": type(value).__name__, "value": value}


def pair(*items: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "sequence", "type": "tuple", "length": len(items), "items": list(items)}


# -- pure decisions --------------------------------------------------------------------------


def test_an_exception_the_answerer_describes_becomes_a_bounded_typed_error():
    info = link_module.error_info({"type": "V" * 500, "message": "m" * 5000, "line": 12, "function": "f" * 300, "code": 3})
    assert (len(info.type), len(info.message), info.line, len(info.function), info.code) == (100, 400, 12, 100, 3)
    forged = link_module.error_info({"line": "12", "code": True, "function": 5})
    assert (forged.line, forged.code, forged.function, forged.type) == (None, None, None, "?")
    assert link_module.error_info("not a dict").type == "?"


@pytest.mark.parametrize(
    ("kind", "status"),
    [("timeout", "timeout"), ("not_implemented", "not_implemented"), ("missing", "missing"), ("exited", "exited"), ("memory", "memory"), ("other", "error")],
)
def test_the_kind_of_exception_decides_the_status(kind, status):
    failed = link_module._failure({"ok": False, "error": {"kind": kind, "type": "X"}})
    assert failed.status == status and failed.error["type"] == "X"
    assert link_module._failure({"ok": False, "error": "forged"}).status == StepStatus.ERROR


def test_weights_digest_and_finiteness():
    a = [np.zeros((2, 2)), np.ones(2)]
    assert observer_module._digest(a) == observer_module._digest([w.copy() for w in a])
    assert observer_module._digest(a) != observer_module._digest([np.zeros((2, 2)), np.full(2, 2.0)])
    assert observer_module._finite(a) and not observer_module._finite([np.array([np.nan])]) and not observer_module._finite([np.array([np.inf])])


def test_usable_images_must_match_shape_be_numbers_and_finite():
    like = np.zeros((3, 28, 28))
    assert observer_module._usable_images(np.ones((3, 28, 28), dtype="float32"), like)
    assert not observer_module._usable_images(np.ones((2, 28, 28)), like)
    assert not observer_module._usable_images(np.full((3, 28, 28), np.nan), like)
    assert not observer_module._usable_images(np.array([["a"] * 28] * 28 * 3).reshape(3, 28, 28), like)
    assert not observer_module._usable_images([[0.0]], like)


def _sequential(*layers: dict[str, Any], module: str = "keras") -> str:
    return json.dumps({"class_name": "Sequential", "module": module, "config": {"layers": list(layers)}})


def test_only_a_plain_keras_sequential_is_rebuilt_by_clean_keras():
    dense = {"class_name": "Dense", "module": "keras.layers", "config": {"activation": "relu"}}
    assert observer_module._plain_sequential(_sequential({"class_name": "Flatten", "module": "keras.layers", "config": {}}, dense))
    assert not observer_module._plain_sequential(_sequential(dense, module="mnist_dense"))
    assert not observer_module._plain_sequential(_sequential({"class_name": "Lambda", "module": "keras.layers", "config": {}}))
    assert not observer_module._plain_sequential(_sequential({"class_name": "Dense", "module": "mnist_dense", "config": {}}))
    assert not observer_module._plain_sequential(_sequential({"class_name": "Dense", "module": "keras.layers", "config": {"activation": {"f": 1}}}))
    assert not observer_module._plain_sequential(json.dumps({"class_name": "Functional", "module": "keras", "config": {"layers": []}}))
    assert not observer_module._plain_sequential(json.dumps({"class_name": "Sequential", "module": "keras", "config": {"layers": "x"}}))
    assert not observer_module._plain_sequential("{not json")
    assert not observer_module._plain_sequential("x" * 200_001)
    assert not observer_module._plain_sequential(None)


def _described(*layers: facts.Layer) -> facts.ModelDescription:
    return facts.ModelDescription(is_model=True, layers=list(layers))


def test_a_model_description_must_agree_with_its_weights():
    flatten, hidden, out = facts.Layer("flatten", "Flatten"), facts.Layer("dense", "Dense", units=4), facts.Layer("dense", "Dense", units=10)
    weights = [np.zeros((784, 4)), np.zeros(4), np.zeros((4, 10)), np.zeros(10)]
    assert observer_module._matches_weights(_described(flatten, hidden, out), weights)
    assert not observer_module._matches_weights(_described(flatten, facts.Layer("dense", "Dense", units=5), out), weights)
    assert not observer_module._matches_weights(_described(flatten, hidden), weights)  # weights left over
    assert not observer_module._matches_weights(_described(flatten, hidden, out, facts.Layer("dense", "Dense", units=10)), weights)
    assert not observer_module._matches_weights(_described(flatten, hidden, out), [np.zeros((784, 4)), np.zeros(5), np.zeros((4, 10)), np.zeros(10)])
    assert not observer_module._matches_weights(_described(flatten, hidden, out), [np.zeros((784, 4)), np.zeros(4), np.zeros((4, 10))])
    assert not observer_module._matches_weights(_described(flatten, hidden, out), [np.zeros(4), np.zeros(4), np.zeros((4, 10)), np.zeros(10)])
    no_bias = facts.Layer("dense", "Dense", units=10, use_bias=False)
    assert observer_module._matches_weights(_described(flatten, no_bias), [np.zeros((784, 10))])
    assert observer_module._matches_weights(_described(facts.Layer("other", "Conv2D"), out), [])  # not checkable


def test_same_image_real_integer_and_reference_compile():
    expected = np.arange(4.0).reshape(2, 2)
    assert observer_module._same_image(expected.tolist(), expected) and not observer_module._same_image([[0, 1], [2, 4]], expected)
    assert not observer_module._same_image([[0, 1, 2]], expected) and not observer_module._same_image([["a", {}]], expected)
    assert observer_module._real(plain(0.5)) == 0.5 and observer_module._real({"kind": "scalar", "type": "float32", "value": 2}) == 2.0
    assert observer_module._real(plain(True)) is None and observer_module._real({"kind": "scalar", "type": "bool_", "value": 1}) is None
    assert observer_module._real({"kind": "array"}) is None
    assert observer_module._integer(plain(7)) == 7 and observer_module._integer(plain(7.0)) is None and observer_module._integer(plain(True)) is None
    assert observer_module._integer({"kind": "scalar", "type": "int64", "value": 3}) == 3 and observer_module._integer({"kind": "array"}) is None
    loss = facts.LossDescription("sparse_categorical_crossentropy")
    accuracy = [facts.LossDescription("accuracy")]
    assert observer_module._reference_loss_and_metric(facts.CompileDescription(loss=loss, metrics=accuracy))
    assert not observer_module._reference_loss_and_metric(facts.CompileDescription(loss=None, metrics=accuracy))
    assert not observer_module._reference_loss_and_metric(facts.CompileDescription(loss=facts.LossDescription("mse"), metrics=accuracy))
    assert not observer_module._reference_loss_and_metric(
        facts.CompileDescription(loss=facts.LossDescription("sparse_categorical_crossentropy", from_logits=True), metrics=accuracy)
    )
    assert not observer_module._reference_loss_and_metric(facts.CompileDescription(loss=loss, metrics=[]))


def test_fresh_weights_and_plain_params():
    assert not observer_module._fresh_like(np.ones(3)).any()
    kernel = observer_module._fresh_like(np.ones((4, 3), dtype="float32"))
    assert kernel.shape == (4, 3) and kernel.dtype == np.float32 and kernel.any()
    assert observer_module._plain_params({"epochs": 5, "verbose": None, "x": [1]}) == {"epochs": 5, "verbose": None, "x": "[1]"}
    assert observer_module._plain_params(None) == {}


def test_type_of_names_what_came_back():
    assert Observer.type_of({"kind": "array"}) == "ndarray"
    assert Observer.type_of(plain(3)) == "int" and Observer.type_of({"kind": "plain", "value": 2.5}) == "float"
    assert Observer.type_of({"kind": "object", "type": "T" * 300}) == "T" * 100
    with pytest.raises(wire.WireError):
        Observer.type_of("forged")


def test_a_history_that_crossed_must_hold_numbers():
    good = Observer._history_data({"history": {"loss": [1.0, 0.5]}, "epoch": [0, 1], "params": {"epochs": 2}})
    assert good == {"history": {"loss": [1.0, 0.5]}, "epoch": [0, 1], "params": {"epochs": 2}}
    assert Observer._history_data({"history": {}, "epoch": None, "params": "x"}) == {"history": {}, "epoch": [], "params": {}}
    with pytest.raises(wire.WireError):
        Observer._history_data({"history": {"loss": ["nan"]}})
    with pytest.raises(wire.WireError):
        Observer._history_data({"history": [1.0]})


# -- the answerer's channel ------------------------------------------------------------------


def test_one_reply_with_the_awaited_id_ends_the_wait_anything_else_is_forged(observed):
    observer, _ = observed
    observer.ready, observer.current_step = False, "import"
    observer._handle({"event": "ready"}, None, 5.0)
    assert observer.ready and observer.call_tampered == []
    observer._handle({"event": "ready"}, None, 5.0)  # a second "ready": the student's code wrote it
    assert observer.call_tampered == ["grader channel"]
    observer.call_tampered, observer.waiting, observer.finished = [], 3, False
    observer._handle({"event": "reply", "id": 2, "ok": True}, None, 5.0)
    assert observer.reply is None and not observer.finished and observer.call_tampered == ["grader channel"]
    observer._handle({"event": "reply", "id": 3, "ok": True, "value": plain(1)}, None, 5.0)
    assert observer.finished and observer.reply["value"] == plain(1)
    observer.finished = False
    observer._handle({"event": "reply", "id": 3, "value": [0] * (wire.MAX_ITEMS + 1)}, None, 5.0)
    assert observer.reply["ok"] is False and observer.reply["tampered"] == ["grader channel"]
    observer._handle(None, None, 5.0)
    assert observer.call_tampered.count("grader channel") == 2


def test_training_progress_is_told_only_during_training(observed):
    observer, _ = observed
    events = []
    observer.progress, observer.waiting = events.append, 1
    observer.current_step = "normalize"
    observer._handle({"event": "progress", "epoch": 1, "epochs": 5}, None, 5.0)
    assert events == [] and observer.call_tampered == ["grader channel"]
    observer.current_step, observer.call_tampered = "train_model", []
    observer._handle({"event": "progress", "epoch": 2, "epochs": "5"}, None, 5.0)
    assert events == [{"event": "epoch", "step": "train_model", "epoch": 2, "epochs": None}] and observer.call_tampered == []


def test_a_dead_answerer_is_held_against_the_call(observed):
    observer, _ = observed
    observer._died(StepStatus.MEMORY, {"memory_mb": 9})
    assert isinstance(observer.death, AnswererDied) and observer.death.status == StepStatus.MEMORY
    observer._died(StepStatus.CRASHED, {})
    assert observer.death.error is None


# -- the steps' facts ------------------------------------------------------------------------


def test_load_data_facts_say_which_arrays_are_mnist(observed):
    observer, script = observed
    arrays = [observer.x_train, observer.y_train, observer.x_test, observer.y_test[::-1]]

    def load(request):
        a, b, c, d = (script.array(x) for x in arrays)
        return returned(pair(pair(a, b), pair(c, d)))

    script.replies[("call", "load_data")] = load
    facts_ = observer.load_data()
    assert facts_.structure_ok and [a.equal for a in facts_.arrays] == [True, True, True, False]
    assert facts_.arrays[0].shape == [N_TRAIN, 28, 28] and facts_.arrays[0].dtype == "uint8"
    assert {"refs": ["loaded"]} in script.ops("forget")
    script.replies[("call", "load_data")] = returned(pair(plain(1), plain(2)))
    assert not observer.load_data().structure_ok
    script.replies[("call", "load_data")] = returned({"kind": "sequence", "type": "list", "length": 3, "items": []})
    assert observer.load_data().type == "list" and not observer.load_data().structure_ok


def test_show_sample_facts_compare_the_image_shown(observed):
    observer, script = observed
    image = observer.x_train[observer_module.SAMPLE_INDEX].tolist()
    figure = {"is_figure": True, "type": "Figure", "axes": [{"images": [{"shape": [1]}, image], "lines": []}]}
    script.replies[("describe", "figure")] = figure
    shown = observer.show_sample()
    assert shown.is_figure and shown.images == 2 and shown.image_matches
    assert shown.label == int(observer.y_train[observer_module.SAMPLE_INDEX]) and shown.index == observer_module.SAMPLE_INDEX
    figure["axes"][0]["images"] = [observer.x_train[0].tolist()]
    assert not observer.show_sample().image_matches


def _normalizing(script: Script, observer: Observer, divide: float = 255.0, dtype: str = "float32", touch_probe: bool = False):
    def normalize(request):
        spec = request["args"][0]
        source = {"x_train": observer.x_train, "x_test": observer.x_test}[spec["data"]][: spec.get("stop")]
        return returned(script.array((source / divide).astype(dtype)), shares=False)

    def describe(request):
        probe = observer.x_train[: observer_module.NORMALIZE_PROBE]
        return script.value(script.array(probe + 1 if touch_probe else probe))

    script.replies[("call", "normalize")] = normalize
    script.replies[("describe", "probe")] = describe


def test_a_correct_normalize_is_kept_and_its_facts_say_so(observed):
    observer, script = observed
    _normalizing(script, observer)
    result = observer.normalize()
    assert result.is_float and result.input_unchanged and result.dtype == "float32"
    assert result.min == pytest.approx(observer.x_train.min() / 255) and result.max == pytest.approx(observer.x_train.max() / 255)
    assert result.max_error < 1e-6 and result.shape is None
    assert "normalize" not in observer.replaced and observer.x_train_file.is_file() and not result.shares_input
    assert observer.x_test_n.shape == observer.x_test.shape and observer.standin_x.dtype == np.float32


def test_a_wrong_normalize_is_measured_and_replaced_by_the_grader(observed):
    observer, script = observed
    _normalizing(script, observer, divide=1.0, dtype="uint8", touch_probe=True)
    result = observer.normalize()
    assert not result.is_float and not result.input_unchanged and result.max_error > 1
    # Its images are still usable (a shape and numbers): kept as they are
    assert "normalize" not in observer.replaced
    script.replies[("call", "normalize")] = returned({"kind": "object", "type": "list", "shape": [N_TRAIN, 28, 28, "x"]})
    result = observer.normalize()
    assert result.type == "list" and result.shape == [N_TRAIN, 28, 28] and result.dtype is None
    assert "normalize" in observer.replaced  # the grader's x / 255 sent to the answerer instead
    sent = [r["keep"] for r in script.ops("load") if r["kind"] == "array"]
    assert sent == ["x_train_n", "x_test_n"]
    stored = np.load(observer.x_train_file)
    assert np.allclose(stored, observer.x_train / 255.0) and np.allclose(observer.x_test_n, observer.x_test / 255.0)


def test_a_normalize_of_another_shape_is_reported_with_its_shape(observed):
    observer, script = observed
    _normalizing(script, observer)
    script.replies[("call", "normalize")] = lambda request: returned(script.array(np.zeros((3, 3), dtype="float32")))
    result = observer.normalize()
    assert result.shape == [3, 3] and result.dtype is None and not result.is_float
    assert "normalize" in observer.replaced


def test_a_dead_normalize_gets_the_grader_stand_in_without_asking_again(observed):
    observer, script = observed
    observer.restore_normalize(dead=True)
    assert "normalize" in observer.replaced and not script.ops("call")
    observer.subset = 10
    observer.replaced.clear()
    observer.restore_normalize(dead=True)
    assert np.load(observer.x_train_file).shape == (10, 28, 28)


def test_evaluate_facts_read_two_finite_numbers(observed):
    observer, script = observed
    compiled = {"is_model": True, "compiled": True, "loss": {"name": "sparse_categorical_crossentropy"}, "metrics": [{"name": "accuracy"}]}
    script.replies[("describe", "model")] = compiled
    script.replies[("call", "evaluate_model")] = returned(pair(plain(0.3), {"kind": "scalar", "type": "float32", "value": 0.9}))
    result = observer.evaluate_model()
    assert result.numbers and result.finite and result.values == [0.3, 0.9] and result.types == ["float", "float32"]
    assert not script.ops("compile")  # the student's compile was the reference's
    script.replies[("call", "evaluate_model")] = returned(pair(plain(float("nan")), plain(0.9)))
    result = observer.evaluate_model()
    assert result.numbers and not result.finite
    script.replies[("call", "evaluate_model")] = returned(pair(plain(True), plain(0.9)))
    result = observer.evaluate_model()
    assert not result.numbers and not result.finite and result.values == [None, 0.9]
    script.replies[("call", "evaluate_model")] = returned(plain(0.9))
    assert observer.evaluate_model().types is None
    compiled["loss"] = {"name": "mse"}
    observer.evaluate_model()
    assert script.ops("compile")[-1]["settings"] == reference.compile_settings()


def test_predict_facts_read_the_first_sample_and_a_wrong_one(observed):
    observer, script = observed
    probabilities = np.eye(10, dtype="float32")[observer.y_test]
    probabilities[3] = np.roll(probabilities[3], 1)  # sample 3 is predicted wrong
    observer.evidence_dir.mkdir(parents=True)
    np.save(observer.evidence_dir / "probabilities.npy", probabilities)

    def predict(request):
        index = request["args"][2]["value"]
        return returned(pair(script.array(probabilities[index]), plain(int(probabilities[index].argmax()))))

    script.replies[("call", "predict_sample")] = predict
    result = observer.predict()
    assert [s.index for s in result.samples] == [0, 3]
    first = result.samples[0]
    assert first.probs_shape == [10] and first.probs == probabilities[0].tolist() and first.label == int(observer.y_test[0])
    script.replies[("call", "predict_sample")] = lambda request: returned(pair(script.array(np.zeros(101)), plain("7")))
    sample = observer.predict().samples[0]
    assert sample.probs is None and sample.probs_shape == [101] and sample.label is None and sample.label_type == "str"


def test_history_facts_keep_the_frame_and_figure_errors_apart(observed):
    observer, script = observed
    observer.history = {"history": {"loss": [1.0, 0.5]}, "epoch": [0, 1], "params": {}}
    script.replies[("describe", "frame")] = {"is_frame": True, "type": "DataFrame", "rows": 2, "columns": {"loss": [1.0, 0.5]}}
    script.replies[("call", "plot_history")] = {"ok": False, "error": {"kind": "not_implemented", "type": "NotImplementedError"}}
    result = observer.history_step()
    assert result.epochs == 2 and result.frame.rows == 2 and result.figure.error.type == "NotImplementedError"
    script.replies[("call", "history_frame")] = lambda request: (_ for _ in ()).throw(AnswererDied(StepStatus.EXITED))
    with pytest.raises(AnswererDied):
        observer.history_step()


# -- build, compile, train ---------------------------------------------------------------------


def _model(units: int = 10, output: list[int] | None = None) -> dict[str, Any]:
    layers = [{"kind": "flatten", "class_name": "Flatten"}, {"kind": "dense", "class_name": "Dense", "units": units, "activation": "softmax"}]
    return {"is_model": True, "type": "Sequential", "is_sequential": True, "built": True, "layers": layers, "output_on_batch": output or [1, units]}


def _weights(script: Script, units: int = 10):
    return lambda request: {"ok": True, "value": {"weights": [script.array(np.zeros((784, units), "float32")), script.array(np.zeros(units, "float32"))]}}


def test_build_model_facts_and_the_student_model_kept(observed, monkeypatch):
    observer, script = observed
    stand_in = []
    monkeypatch.setattr(observer, "_standin_build", lambda: stand_in.append(True))
    script.replies[("describe", None)] = _model()
    script.replies[("weights", None)] = _weights(script)
    failing = {"ok": False, "error": {"kind": "error", "type": "TypeError"}}
    script.replies[("call", "build_model")] = lambda request: failing if request.get("kwargs") else returned({"kind": "model"})
    result = observer.build_model()
    assert result.default.is_model and observer.model_source == "student" and not stand_in
    assert result.variants["classes_5"].error.type == "TypeError" and result.variants["units_64_tanh"].is_model
    script.replies[("describe", None)] = _model(output=[1, 5])
    observer.build_model()
    assert stand_in == [True]


def test_a_model_description_that_lies_about_its_weights_is_tampered(observed):
    observer, script = observed
    script.replies[("describe", None)] = _model(units=10)
    script.replies[("weights", None)] = _weights(script, units=7)
    with pytest.raises(wire.WireError):
        observer.build_model()


def test_restore_build_keeps_a_working_student_model_or_stands_in(observed, monkeypatch):
    observer, script = observed
    stand_in = []
    monkeypatch.setattr(observer, "_standin_build", lambda: stand_in.append(True))
    script.replies[("describe", None)] = _model()
    observer.restore_build()
    assert observer.model_source == "student" and not stand_in
    observer.restore_build(dead=True)
    assert stand_in == [True] and len(script.ops("call")) == 1


def _compiled(optimizer: str = "Adam", loss: str = "sparse_categorical_crossentropy", compiled: bool = True) -> dict[str, Any]:
    return {"is_model": True, "compiled": compiled, "optimizer": optimizer, "loss": {"name": loss}, "metrics": [{"name": "accuracy"}]}


def test_compile_facts_and_a_compile_that_did_not_compile_stands_in(observed):
    observer, script = observed
    observer.model_source = "student"
    script.replies[("call", "compile_model")] = returned({"kind": "model"}, same=True)
    script.replies[("describe", "model")] = _compiled()
    script.replies[("describe", "other")] = _compiled(optimizer="SGD")
    script.replies[("describe", None)] = _model()
    result = observer.compile_model()
    assert result.returns_model and result.default.optimizer == "Adam" and result.sgd.optimizer == "SGD"
    assert "compile_model" not in observer.replaced and observer.compiled_by == "student"
    script.replies[("describe", "model")] = _compiled(compiled=False)
    script.replies[("call", "compile_model")] = returned({"kind": "model"}, same=False)
    result = observer.compile_model()
    assert not result.returns_model and "compile_model" in observer.replaced and observer.compiled_by == "reference"
    assert script.ops("compile")[-1] == {"ref": "model", "settings": reference.compile_settings()}


def test_restore_compile_asks_the_student_again_unless_dead(observed):
    observer, script = observed
    script.replies[("describe", "model")] = _compiled()
    observer.restore_compile()
    assert observer.compiled_by == "student" and "compile_model" not in observer.replaced
    observer.restore_compile(dead=True)
    assert observer.compiled_by == "reference" and "compile_model" in observer.replaced


def test_a_compile_is_suspected_only_off_the_reference(observed):
    observer, _ = observed
    observer.compiled = facts.CompileDescription(optimizer="Adam", loss=facts.LossDescription("sparse_categorical_crossentropy"))
    assert not observer._compile_suspect()
    observer.compiled = facts.CompileDescription(optimizer="SGD", loss=facts.LossDescription("sparse_categorical_crossentropy"))
    assert observer._compile_suspect()
    observer.compiled = facts.CompileDescription(optimizer="Adam", loss=facts.LossDescription("mse"))
    assert observer._compile_suspect()
    observer.compiled = facts.CompileDescription(optimizer="Adam", loss=facts.LossDescription("SparseCategoricalCrossentropy", from_logits=True))
    assert observer._compile_suspect()
    observer.replaced.add("compile_model")
    assert not observer._compile_suspect()


def test_labels_follow_the_training_subset(observed):
    observer, _ = observed
    observer.subset = 0
    assert observer._labels() == {"data": "y_train"} and observer._labels(5) == {"data": "y_train", "stop": 5}
    observer.subset = 20
    assert observer._labels() == {"data": "y_train", "stop": 20}


def test_weights_are_read_within_the_checkpoint_bound(observed, monkeypatch):
    observer, script = observed
    script.replies[("weights", None)] = _weights(script)
    weights, _ = observer.weights()
    assert [w.shape for w in weights] == [(784, 10), (10,)]
    monkeypatch.setattr(observer_module, "MAX_CHECKPOINT_BYTES", 784 * 10 * 4 + 39)
    with pytest.raises(wire.WireError):
        observer.weights()  # the bias would pass the bound
    script.replies[("weights", None)] = script.value({"weights": None})
    assert observer.weights()[0] == []


def _training(script: Script, history: dict[str, Any], changed: bool = True, genuine: bool = True, finite: bool = True):
    state = {"calls": 0}

    def weights(request):
        state["calls"] += 1
        value = 0.0 if state["calls"] == 1 or not changed else (np.nan if not finite else 1.0)
        return script.value({"weights": [script.array(np.full((784, 10), value, "float32")), script.array(np.zeros(10, "float32"))]})

    script.replies[("weights", None)] = weights
    answer = returned(history, from_fit=True, genuine=genuine, fit_calls=[{"epochs": 2, "batch_size": 32}])
    script.replies[("call", "train_model")] = lambda request: answer if request.get("fit_on") else returned(history)
    script.replies[("signature", None)] = script.value(5)


def test_train_once_reads_the_training_facts(observed):
    observer, script = observed
    history = {"kind": "history", "type": "History", "history": {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]}, "epoch": [0, 1], "params": {}}
    _training(script, history)
    result, _ = observer._train_once()
    assert result.is_history and result.from_fit and result.weights_changed and result.weights_finite
    assert result.epochs == 2 and result.metrics == ["accuracy", "loss"] and result.default_epochs == 5 and result.fit_calls[0].epochs == 2
    _training(script, {"kind": "object", "type": "dict"}, changed=False)
    result, _ = observer._train_once()
    assert not result.is_history and not result.weights_changed and result.epochs is None and result.returned_type == "dict"
    _training(script, history, finite=False)
    assert not observer._train_once()[0].weights_finite


def test_a_genuine_training_is_kept_and_a_fake_one_replaced(observed, monkeypatch):
    observer, script = observed
    monkeypatch.setattr(observer, "_epochs_probe", lambda: facts.EpochsProbe(epochs=1))
    monkeypatch.setattr(observer, "_checkpoint", lambda: None)
    fallback = []
    monkeypatch.setattr(observer, "_fallback_training", lambda: fallback.append(True))
    history = {"kind": "history", "history": {"loss": [1.0]}, "epoch": [0], "params": {}}
    kept = observer._keep_training(facts.TrainFacts("History", True, True, True), {"value": history, "genuine": True})
    assert not fallback and observer.history["history"] == {"loss": [1.0]} and kept.epochs_probe.epochs == 1
    assert script.ops("load")[-1]["keep"] == "history"
    for answer, changed, finite in (({"genuine": False}, True, True), ({"genuine": True}, False, True), ({"genuine": True}, True, False)):
        fallback.clear()
        observer._keep_training(facts.TrainFacts("History", True, True, changed, weights_finite=finite), {"value": history, **answer})
        assert fallback == [True]


def test_a_training_that_fails_on_a_suspect_compile_is_retried_on_the_reference_compile(observed, monkeypatch):
    observer, script = observed
    observer.compiled = facts.CompileDescription(optimizer="SGD", loss=facts.LossDescription("mse"))
    attempts = []

    def once():
        attempts.append(True)
        if len(attempts) == 1:
            raise StepFailed(StepStatus.ERROR, {"type": "ValueError", "message": "bad loss"})
        return facts.TrainFacts("History", True, True, True), {}

    monkeypatch.setattr(observer, "_train_once", once)
    monkeypatch.setattr(observer, "weights", lambda *a, **k: ([np.zeros(2)], {}))
    monkeypatch.setattr(observer, "_set_weights", lambda w: None)
    monkeypatch.setattr(observer, "_keep_training", lambda f, a: f)
    result = observer.train_model()
    assert len(attempts) == 2 and result.first_error.type == "ValueError" and result.stand_ins == ["compile_model"]
    assert "compile_model" in observer.replaced
    # A failure with the reference compile, or a death, is the training's own: not retried.
    attempts.clear()
    observer.compiled = facts.CompileDescription(optimizer="Adam", loss=facts.LossDescription("sparse_categorical_crossentropy"))
    observer.replaced.clear()
    with pytest.raises(StepFailed):
        observer.train_model()
    attempts.clear()
    observer.compiled = facts.CompileDescription(optimizer="SGD")
    monkeypatch.setattr(observer, "_train_once", lambda: (_ for _ in ()).throw(StepFailed(StepStatus.MEMORY)))
    with pytest.raises(StepFailed):
        observer.train_model()


def test_the_epochs_probe_counts_the_epochs_of_a_one_epoch_call(observed):
    observer, script = observed
    script.replies[("describe", "probe_model")] = _compiled()
    one = {"kind": "history", "history": {"loss": [1.0]}, "epoch": [0], "params": {}}
    script.replies[("call", "train_model")] = returned(one)
    assert observer._epochs_probe().epochs == 1
    assert {"refs": ["probe_model"]} in script.ops("forget")
    script.replies[("call", "train_model")] = {"ok": False, "error": {"kind": "error", "type": "TypeError", "message": "epochs"}}
    probe = observer._epochs_probe()
    assert probe.epochs is None and probe.error.type == "TypeError"
    script.replies[("call", "train_model")] = returned({"kind": "object", "type": "dict"})
    assert observer._epochs_probe().epochs is None


# -- a step's outcome ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        (StepFailed(StepStatus.TIMEOUT, {"type": "StepTimeout"}), "timeout"),
        (wire.WireError("array dtype"), "tampered"),
        (KeyError("value"), "tampered"),
        (facts.MalformedFacts("x"), "tampered"),
    ],
)
def test_a_failed_step_gets_its_status_and_its_stand_in(observed, raised, status):
    observer, _ = observed
    restored = []

    def action():
        raise raised

    observer.step("normalize", action, lambda dead=False: restored.append(dead))
    outcome = observer.outcomes["normalize"]
    assert outcome.status == status and outcome.data is None
    assert restored == [True]


def test_a_step_that_worked_keeps_its_facts_unless_the_grader_was_tampered_with(observed):
    observer, _ = observed
    restored = []
    observer.step("evaluate_model", lambda: facts.EvaluateFacts(type="list"), lambda dead=False: restored.append(dead))
    outcome = observer.outcomes["evaluate_model"]
    assert outcome.status == "ok" and outcome.data["type"] == "list" and not restored

    def tampering():
        observer.call_tampered.append("numpy.array_equal")
        return facts.EvaluateFacts(type="list")

    observer.step("evaluate_model", tampering, lambda dead=False: restored.append(dead))
    outcome = observer.outcomes["evaluate_model"]
    assert outcome.status == "tampered" and outcome.data is None and outcome.tampered == ["numpy.array_equal"] and restored == [True]


def test_tampering_while_a_state_is_re_created_marks_the_step(observed):
    observer, _ = observed
    observer.step("normalize", lambda: None, None)

    def tampering():
        observer.call_tampered.append("keras.Model.fit")

    observer.phase("normalize", "restore", tampering)
    assert observer.outcomes["normalize"].status == "tampered" and "normalize" in observer.replaced


def test_a_death_while_re_creating_a_step_that_worked_is_held_against_it(observed, monkeypatch):
    observer, _ = observed
    fallbacks = []
    monkeypatch.setattr(observer, "_restores", lambda: {"normalize": lambda dead=False: fallbacks.append(dead)})
    observer.step("normalize", lambda: None, None)

    def dying():
        raise AnswererDied(StepStatus.CRASHED, {"code": -11})

    observer.phase("normalize", "restore", dying)
    assert observer.outcomes["normalize"].status == "crashed" and fallbacks == [True]
    with pytest.raises(StepFailed):
        observer.phase("normalize", "fallback", dying)


def test_a_failure_of_the_stand_in_keeps_the_steps_own_failure(observed):
    observer, _ = observed
    observer.step("load_data", lambda: (_ for _ in ()).throw(StepFailed(StepStatus.MISSING)), None)

    def failing():
        raise StepFailed(StepStatus.ERROR)

    with pytest.raises(StepFailed):
        observer.phase("load_data", "fallback", failing)
    assert observer.outcomes["load_data"].status == "missing"


def test_time_left_is_never_below_a_tenth_of_a_second(observed):
    observer, _ = observed
    observer.step_limit, observer.step_deadline = None, 0.0
    assert observer.remaining() == 0.1 and observer.wall_remaining() == 0.1
    observer._budget("normalize")
    assert observer.step_limit.cpu == observer.config.time_limit("normalize")
    assert 0.1 <= observer.remaining() <= observer.step_limit.cpu


# -- asking, restarting, re-sending ----------------------------------------------------------------


class Stdin:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.lines.append(json.loads(data))

    def flush(self) -> None:
        pass


@pytest.fixture
def asking(tmp_path, monkeypatch):
    """An observer whose answerer is a fake process: ``replies`` is what the watch reads, in order."""
    monkeypatch.setattr(observer_module, "_kill_strays", lambda protected: 0)
    observer = Observer(load_config(), _module(tmp_path), tiny_dataset(tmp_path), tmp_path / "sandbox", threads=1)
    observer.process = types.SimpleNamespace(pid=-1, stdin=Stdin())
    observer.lines = None
    replies: list[dict[str, Any] | None] = []
    stopped: list[bool] = []
    watched: list[float] = []

    def watch(process, lines, deadline):
        watched.append(deadline - time.monotonic())
        observer.reply = replies.pop(0) if replies else None

    monkeypatch.setattr(observer, "_watch", watch)
    monkeypatch.setattr(observer, "_stop_answerer", lambda: stopped.append(True))
    observer.current_step = "normalize"
    observer._budget("normalize")
    return observer, replies, stopped, watched


def test_a_students_call_runs_within_its_steps_time_and_the_graders_get_a_minute(asking):
    observer, replies, _, watched = asking
    replies += [{"ok": True, "value": 1}, {"ok": True, "value": 2}, {"ok": True, "value": 3}]
    step = observer.config.time_limit("normalize")
    assert observer.answer("call", function="normalize") == 1
    sent = observer.process.stdin.lines[-1]
    assert sent["op"] == "call" and sent["id"] == 1 and sent["limit"] <= step and sent["limit"] > step - 5
    assert sent["wall"] + supervisor_grace() - 1 < watched[-1] <= sent["wall"] + supervisor_grace() + 1  # killed a grace after the wall
    observer.answer("weights", ref="model")
    grader = observer.process.stdin.lines[-1]
    assert grader["id"] == 2 and grader["limit"] >= link_module.GRADER_REQUEST_SECONDS and grader["wall"] >= link_module.GRADER_REQUEST_SECONDS
    observer.answer("import", mode="empty", limit=30.0)
    own = observer.process.stdin.lines[-1]
    assert own["limit"] == 30.0 and own["wall"] == 30.0 * max(1.0, observer.config.grading.wall_factor)
    assert observer.clock.limit == observer.step_limit  # the step's own count is back after the call


def supervisor_grace() -> float:
    return link_module.GRACE_SECONDS


def test_a_call_never_gets_less_than_a_tenth_of_a_second(asking):
    observer, replies, *_ = asking
    replies.append({"ok": True})
    observer.answer("call", function="normalize", limit=0.0)
    assert observer.process.stdin.lines[-1]["limit"] == 0.1 and observer.process.stdin.lines[-1]["wall"] == 0.1


def test_no_reply_is_a_dead_answerer_and_the_next_restart_names_the_step(asking):
    observer, replies, stopped, _ = asking
    replies.append(None)
    with pytest.raises(AnswererDied) as died:
        observer.answer("call", function="normalize")
    assert died.value.status == StepStatus.CRASHED and stopped == [True]
    assert observer.last_death == ("normalize", StepStatus.CRASHED)


def test_a_reply_that_came_with_a_death_is_not_an_answer(asking):
    observer, replies, stopped, _ = asking
    replies.append({"ok": True, "value": 1})
    observer.death = AnswererDied(StepStatus.STORAGE, {"storage_mb": 2000})
    with pytest.raises(AnswererDied) as died:
        observer.answer("call", function="normalize")
    assert died.value.status == StepStatus.STORAGE and observer.death is None and stopped == [True]


def test_what_a_call_replaced_and_printed_is_kept_bounded(asking):
    observer, replies, *_ = asking
    replies.append({"ok": True, "tampered": ["numpy.array_equal", 5, "x" * 500] + [f"f{i}" for i in range(20)], "printed": "hola"})
    observer.answer("call", function="normalize")
    assert observer.call_tampered[0] == "numpy.array_equal" and len(observer.call_tampered[1]) == 200 and len(observer.call_tampered) == 10
    assert observer.call_printed == ["hola"]


def test_a_call_that_raised_is_a_step_failure_with_its_status(asking):
    observer, replies, *_ = asking
    replies.append({"ok": False, "error": {"kind": "not_implemented", "type": "NotImplementedError"}})
    with pytest.raises(StepFailed) as failed:
        observer.answer("call", function="normalize")
    assert failed.value.status == StepStatus.NOT_IMPLEMENTED and not isinstance(failed.value, AnswererDied)


def test_an_import_that_fails_is_salvaged_and_a_salvage_that_fails_leaves_an_empty_module(observed):
    observer, script = observed
    script.replies[("import", None)] = lambda request: (
        {"ok": False, "error": {"kind": "error", "type": "NameError"}} if request["mode"] == "import" else {"ok": True, "value": {"dropped": 2}}
    )
    observer._import()
    assert observer.outcomes["import"].status == "error" and observer.outcomes["import-salvage"].data == {"mode": "salvaged", "dropped": 2}
    assert 0 <= observer.outcomes["import"].seconds < 30 and 0 <= observer.outcomes["import-salvage"].seconds < 30
    assert observer.module_mode == "salvage"
    script.replies[("import", None)] = lambda request: (
        {"ok": True, "value": None} if request["mode"] == "empty" else {"ok": False, "error": {"kind": "error", "type": "SyntaxError"}}
    )
    observer._import()
    assert observer.outcomes["import-salvage"].status == "error" and observer.module_mode == "empty"
    assert script.ops("import")[-1] == {"mode": "empty"}
    script.replies[("import", None)] = {"ok": True, "value": {"mode": "import"}}
    observer._import()
    assert observer.outcomes["import"].status == "ok" and observer.outcomes["import"].data == {"mode": "import"}
    assert 0 <= observer.outcomes["import"].seconds < 30


def test_a_salvage_count_that_is_not_a_number_is_zero(observed):
    observer, script = observed
    script.replies[("import", None)] = lambda request: (
        {"ok": False, "error": {"kind": "timeout"}} if request["mode"] == "import" else {"ok": True, "value": {"dropped": "2"}}
    )
    observer._import()
    assert observer.outcomes["import"].status == "timeout" and observer.outcomes["import-salvage"].data["dropped"] == 0


def test_a_restarted_answerer_gets_the_state_back_as_data(observed, monkeypatch):
    observer, script = observed
    observer.x_train_file = observer.private / "x_train_n.npy"
    np.save(observer.x_train_file, np.zeros((2, 28, 28), "float32"))
    np.save(observer.private / "x_test_n.npy", np.zeros((2, 28, 28), "float32"))
    observer.model_source, observer.compiled_by = "student", "student"
    observer.checkpoint = observer.private / "checkpoint.npz"
    np.savez(observer.checkpoint, w0=np.zeros(2))
    observer.history = {"history": {"loss": [1.0]}, "epoch": [0], "params": {}}
    observer._resend()
    ops = [(op, r.get("function") or r.get("kind") or r.get("ref")) for op, r in script.requests]
    assert ops == [
        ("load", "array"),
        ("load", "array"),
        ("call", "build_model"),
        ("call", "compile_model"),
        ("set_weights", "model"),
        ("load", "history"),
    ]
    assert (observer.inbox / "weights.npz").is_file() and (observer.inbox / "x_train_n.npy").is_file()


def test_a_restart_re_sends_the_reference_compile_and_the_stand_in_when_the_student_ones_fail(observed, monkeypatch):
    observer, script = observed
    loaded = []
    monkeypatch.setattr(observer, "_load_standin_model", lambda: loaded.append(True))
    observer.model_source, observer.compiled_by = "student", "reference"
    script.replies[("call", "build_model")] = {"ok": False, "error": {"kind": "error", "type": "ValueError"}}
    observer._resend()
    assert loaded == [True] and script.ops("compile") == [{"ref": "model", "settings": reference.compile_settings()}]
    assert not [r for r in script.ops("call") if r.get("function") == "compile_model"]
    script.requests.clear()
    observer.model_source = None
    observer._resend()
    assert script.requests == []  # nothing was built yet: nothing to re-send


def test_a_build_model_that_kills_the_new_answerer_too_is_replaced_for_good(observed, monkeypatch):
    observer, script = observed
    revived = []
    monkeypatch.setattr(observer, "_revive", lambda: revived.append(True))
    observer.model_source = "student"
    script.replies[("call", "build_model")] = lambda request: (_ for _ in ()).throw(AnswererDied(StepStatus.MEMORY))
    observer._resend()
    assert observer.model_source == "standin" and "build_model" in observer.replaced and revived == [True]


def test_a_restart_tells_the_step_and_cause_and_does_not_charge_the_step(observed, monkeypatch):
    observer, script = observed
    events = []
    observer.progress = events.append
    started = []
    monkeypatch.setattr(observer, "_start", lambda: started.append(True))
    monkeypatch.setattr(observer, "_resend", lambda: None)
    observer.current_step = "history"
    observer._budget("history")
    deadline, limit = observer.step_deadline, observer.step_limit
    observer.last_death = ("history", StepStatus.EXITED)
    script.replies[("import", None)] = {"ok": True, "value": {"mode": "import"}}
    observer._revive()
    assert events == [{"event": "restart", "step": "history", "cause": "exited"}] and started == [True]
    assert observer.current_step == "history" and observer.step_limit == limit and deadline <= observer.step_deadline < deadline + 10
    assert script.ops("import") == [{"mode": "import"}]
    script.replies[("import", None)] = lambda request: {"ok": False, "error": {"kind": "error"}} if request["mode"] != "empty" else {"ok": True}
    observer._revive()
    assert observer.module_mode == "empty" and script.ops("import")[-1] == {"mode": "empty"}


def test_the_checkpoint_is_kept_where_the_sandbox_cannot_reach(observed):
    observer, script = observed
    observer.history = {"history": {"loss": [1.0]}, "epoch": [0], "params": {}}
    observer.x_test_n = (observer.x_test / 255.0).astype("float32")
    script.replies[("weights", None)] = _weights(script)
    script.replies[("describe", "model")] = _model()
    probabilities = np.full((N_TEST, 10), 0.1, "float32")
    script.replies[("predict", None)] = lambda request: script.array(probabilities)
    observer._checkpoint()
    evidence = observer.evidence_dir
    assert observer.evidence and observer.checkpoint.parent == observer.private
    assert sorted(p.name for p in evidence.iterdir()) == ["history.json", "model.json", "probabilities.npy", "weights.npz", "x_test_n.npy"]
    assert np.array_equal(np.load(evidence / "probabilities.npy"), probabilities)
    assert json.loads((evidence / "history.json").read_text()) == observer.history
    assert json.loads((evidence / "model.json").read_text())["output_on_batch"] == [1, 10]
    with np.load(evidence / "weights.npz") as weights:
        assert weights["w0"].shape == (784, 10) and weights["w1"].shape == (10,)


def test_probabilities_larger_than_the_test_set_allows_are_refused(observed):
    observer, script = observed
    observer.history = {"history": {}, "epoch": [], "params": {}}
    observer.x_test_n = observer.x_test.astype("float32")
    script.replies[("weights", None)] = _weights(script)
    script.replies[("describe", "model")] = _model()
    script.replies[("predict", None)] = lambda request: script.array(np.zeros((N_TEST, 65), "float64"))
    with pytest.raises(wire.WireError):
        observer._checkpoint()


def test_restoring_training_re_sends_the_checkpoint_or_trains_once(observed, monkeypatch):
    observer, script = observed
    done = []
    monkeypatch.setattr(observer, "_fallback_training", lambda: done.append("fallback"))
    monkeypatch.setattr(observer, "_checkpoint", lambda: done.append("checkpoint"))
    observer.restore_train()
    assert done == ["fallback", "checkpoint"]
    observer.checkpoint = observer.private / "checkpoint.npz"
    np.savez(observer.checkpoint, w0=np.zeros(2))
    observer.history = {"history": {}, "epoch": [], "params": {}}
    observer.restore_train(dead=True)
    assert done == ["fallback", "checkpoint"] and [op for op, _ in script.requests] == ["set_weights", "load"]


def test_the_stand_in_model_is_sent_as_data(observed, monkeypatch):
    observer, script = observed
    built = []
    monkeypatch.setattr(observer, "_standin_build", lambda: built.append(True))
    observer._load_standin_model()
    assert built == [True] and script.requests == []
    weights = observer._save_weights([np.ones((2, 2))], "standin.npz")
    observer.standin = {"architecture": '{"class_name": "Sequential"}', "weights": weights}
    observer._load_standin_model()
    assert script.requests[0] == ("load", {"kind": "model", "keep": "model", "architecture": '{"class_name": "Sequential"}'})
    assert script.requests[1] == ("set_weights", {"ref": "model", "file": "standin.npz"})
    with np.load(observer.inbox / "standin.npz") as sent:
        assert sent["w0"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert observer._standin_architecture() == '{"class_name": "Sequential"}'
    observer.standin = None
    assert json.loads(observer._standin_architecture())["class_name"] == "Sequential"  # the precomputed one


def test_the_answerers_plan_names_its_folders_and_settings(observed):
    observer, _ = observed
    (observer.state_dir / "outbox" / "old.npy").write_bytes(b"x")
    plan_path = observer._plan_answerer()
    plan = json.loads(plan_path.read_text())
    assert plan["outbox"] == str(observer.state_dir / "outbox") and plan["module"] == str(observer.module)
    assert plan["seed"] == observer.seed and plan["threads"] == 1 and plan["wall_factor"] == observer.config.grading.wall_factor
    assert list((observer.state_dir / "outbox").iterdir()) == []  # a new answerer starts with empty folders


def test_nothing_importable_runs_no_step(observed, monkeypatch):
    observer, _ = observed
    monkeypatch.setattr(observer_module, "_harden", lambda: None)
    monkeypatch.setattr(observer, "_start", lambda: None)
    monkeypatch.setattr(observer, "_stop_answerer", lambda: None)
    stepped = []
    monkeypatch.setattr(observer, "step", lambda name, action, restore: stepped.append(name))

    def empty():
        observer.module_mode = "empty"

    monkeypatch.setattr(observer, "_import", empty)
    observer.process = types.SimpleNamespace(pid=-1, stdin=Stdin())
    run = observer.run()
    assert stepped == [] and run.workers == 0 and run.evidence_dir is None
    assert observer.process.stdin.lines == [{"op": "quit"}]
    monkeypatch.setattr(observer, "_import", lambda: None)
    observer.module_mode = "import"
    observer.run()
    assert stepped == [s.name for s in observer_module.STEPS if s.action]


def test_a_step_clears_what_nobody_read_from_the_outbox(observed):
    observer, _ = observed
    (observer.outbox / "a9.npy").write_bytes(b"x")
    observer.step("evaluate_model", lambda: facts.EvaluateFacts(type="list"), None)
    assert list(observer.outbox.iterdir()) == []


# -- starting and stopping answerers ----------------------------------------------------------------


@pytest.fixture
def starting(tmp_path, monkeypatch):
    """An observer whose _spawn makes a fake process and whose watch plays the answerer's start."""
    observer = Observer(load_config(), _module(tmp_path), tiny_dataset(tmp_path), tmp_path / "sandbox", threads=1)
    spawned, watched, stopped = [], [], []
    start = {"ready": True, "death": None}

    def spawn(module, plan, stdin=None):
        spawned.append((module, plan))
        stream = types.SimpleNamespace(close=lambda: None)
        return types.SimpleNamespace(pid=-1, stdout=stream, stdin=stream)

    def watch(process, lines, deadline):
        watched.append(deadline - time.monotonic())
        observer.ready, observer.death = start["ready"], start["death"]

    monkeypatch.setattr(observer, "_spawn", spawn)
    monkeypatch.setattr(observer, "_watch", watch)
    monkeypatch.setattr(link_module, "_lines", lambda stream: None)
    monkeypatch.setattr(observer, "_stop", lambda process: stopped.append(process))
    return observer, start, spawned, watched, stopped


def test_an_answerer_is_started_with_a_plan_and_its_exchange_folders(starting):
    observer, _, spawned, watched, stopped = starting
    observer._start()
    assert spawned == [("grader.sandbox.answerer", observer.paths.plan)] and observer.workers == 1
    assert watched[0] <= observer.config.time_limit("import") + 60.0 and watched[0] > observer.config.time_limit("import")
    assert observer.outbox == observer.state_dir / "outbox" and observer.inbox == observer.state_dir / "inbox" and not stopped


def test_an_answerer_that_never_gets_ready_is_a_grading_error_first_and_a_crash_later(starting):
    observer, start, _, _, stopped = starting
    start["ready"] = False
    with pytest.raises(supervisor_module.SandboxError):
        observer._start()
    assert len(stopped) == 1
    with pytest.raises(StepFailed) as failed:
        observer._start()
    assert failed.value.status == StepStatus.CRASHED and observer.workers == 2
    start.update(ready=True, death=AnswererDied(StepStatus.MEMORY))
    with pytest.raises(AnswererDied) as died:
        observer._start()
    assert died.value.status == StepStatus.MEMORY and observer.death is None


def test_a_restarted_answerer_starts_from_the_graders_own_files_and_restarts_are_bounded(starting):
    observer, *_ = starting
    put_back = []
    observer.between_workers = lambda: put_back.append(True) or ["grader/config.toml"]
    observer._start()
    assert put_back == []  # the first answerer starts from the files as they are
    observer._start()
    assert put_back == [True] and observer.restored == {"grader/config.toml"}
    observer.workers = supervisor_module.MAX_WORKERS
    with pytest.raises(StepFailed) as failed:
        observer._start()
    assert failed.value.status == StepStatus.CRASHED and failed.value.error == {"type": "TooManyRestarts"}


def test_stopping_an_answerer_closes_its_streams_and_cgroup(starting):
    observer, _, _, _, stopped = starting
    observer._stop_answerer()
    assert stopped == []  # none to stop
    closed = []
    stream = types.SimpleNamespace(close=lambda: closed.append(True))
    observer.process = types.SimpleNamespace(pid=-1, stdout=stream, stdin=stream)
    observer.cgroup = types.SimpleNamespace(remove=lambda: closed.append("cgroup"))
    observer._stop_answerer()
    assert len(stopped) == 1 and closed == [True, True, "cgroup"] and observer.process is None
    assert observer.outbox == observer.state_dir / "outbox"  # host folders stay named at the process level


def test_the_exchange_descriptors_are_closed_at_namespaces(starting, monkeypatch):
    observer, *_ = starting
    monkeypatch.setattr(observer, "isolation", isolation_module.Isolation("namespaces"))
    observer.outbox, observer.inbox = os.open(observer.state_dir, os.O_RDONLY), os.open(observer.state_dir, os.O_RDONLY)
    fds = (observer.outbox, observer.inbox)
    observer._close_exchange()
    assert observer.outbox is None and observer.inbox is None
    for fd in fds:
        with pytest.raises(OSError):
            os.fstat(fd)


def test_a_call_with_its_own_limit_is_counted_against_that_limit(asking):
    observer, replies, *_ = asking
    seen = []
    replies.append({"ok": True})
    original = observer._watch

    def watch(process, lines, deadline):
        seen.append(observer.clock.limit)
        original(process, lines, deadline)

    observer._watch = watch
    observer.answer("import", mode="empty", limit=7.0)
    assert seen[0].cpu == pytest.approx(observer.clock.used() + 7.0, abs=1.0) and seen[0] != observer.step_limit
    replies.append({"ok": True})
    observer.answer("call", function="normalize")
    assert seen[1] == observer.step_limit  # a student's call counts against its step


def test_a_steps_budget_and_time_left(observed, monkeypatch):
    observer, _ = observed
    observer._budget("normalize")
    assert observer.step_deadline - time.monotonic() == pytest.approx(observer.step_limit.wall, abs=1.0)  # the wall, no grace
    monkeypatch.setattr(observer.clock, "used", lambda: 5.0)
    assert observer.remaining() == pytest.approx(observer.step_limit.cpu - 5.0)


def test_a_steps_seconds_are_its_own(observed):
    observer, _ = observed
    observer.step("evaluate_model", lambda: facts.EvaluateFacts(type="list"), None)
    assert 0 <= observer.outcomes["evaluate_model"].seconds < 30


def test_a_replaced_function_while_re_creating_names_what_was_replaced(observed):
    observer, _ = observed
    observer.outcomes["normalize"] = supervisor_module.StepOutcome("normalize", StepStatus.OK, tampered=["a"])

    def tampering():
        observer.call_tampered.append("keras.Model.fit")

    observer.phase("normalize", "restore", tampering)
    outcome = observer.outcomes["normalize"]
    assert outcome.tampered == ["a", "keras.Model.fit"] and outcome.error == {"names": ["a", "keras.Model.fit"]}


def test_a_failure_while_re_creating_a_step_that_worked_is_held_against_it(observed, monkeypatch):
    observer, _ = observed
    fallbacks = []
    monkeypatch.setattr(observer, "_restores", lambda: {"normalize": lambda dead=False: fallbacks.append(dead)})
    observer.step("normalize", lambda: None, None)

    def failing():
        raise StepFailed(StepStatus.ERROR, {"type": "ValueError"})

    observer.phase("normalize", "restore", failing)
    assert observer.outcomes["normalize"].status == "error" and observer.outcomes["normalize"].error == {"type": "ValueError"}
    assert fallbacks == [True]


def test_a_restart_keeps_the_cpu_the_step_used_before_the_death(observed, monkeypatch):
    observer, script = observed
    monkeypatch.setattr(observer, "_start", lambda: None)
    monkeypatch.setattr(observer, "_resend", lambda: None)
    observer.current_step = "history"
    observer._budget("history")
    monkeypatch.setattr(observer.clock, "used", lambda: 3.0)
    observer._revive()
    # The step goes on with 3 CPU seconds already spent: its count starts 3 s earlier.
    assert observer.clock.started_cpu == pytest.approx(observer.clock.cpu.sample(observer.clock.processes()) - 3.0, abs=0.5)
    assert observer.clock.limit == observer.step_limit


def test_a_salvage_that_fails_and_an_import_that_killed_the_answerer(observed, monkeypatch):
    observer, script = observed
    started, events = [], []
    observer.progress = events.append

    def start():
        started.append(True)
        observer.process = types.SimpleNamespace(pid=-1)

    monkeypatch.setattr(observer, "_start", start)

    def dying_import(request):
        if request["mode"] == "import":
            observer.process = None  # the answerer died importing the module
            raise AnswererDied(StepStatus.EXITED, {"code": 1})
        return {"ok": False, "error": {"kind": "error", "type": "SyntaxError"}} if request["mode"] == "salvage" else {"ok": True}

    script.replies[("import", None)] = dying_import
    observer._import()
    assert started == [True] and {"event": "restart", "step": "import", "cause": "exited"} in events
    assert observer.outcomes["import"].status == "exited" and observer.outcomes["import-salvage"].status == "error"
    assert 0 <= observer.outcomes["import-salvage"].seconds < 30 and observer.module_mode == "empty"
    script.replies[("import", None)] = lambda request: {"ok": False, "error": {"kind": "error"}} if request["mode"] == "import" else {"ok": True}
    observer._import()
    assert started == [True]  # the answerer lived: no restart


def test_a_normalize_that_returns_its_input_shares_it(observed):
    observer, script = observed
    _normalizing(script, observer)
    base = script.replies[("call", "normalize")]
    script.replies[("call", "normalize")] = lambda request: {**base(request), "value": {**base(request)["value"], "shares": True}}
    assert observer.normalize().shares_input
    script.replies[("call", "normalize")] = base
    assert not observer.normalize().shares_input


def test_clean_keras_is_imported_once(observed):
    observer, _ = observed
    observer.keras = sentinel = object()
    assert observer._clean_keras() is sentinel


def test_compile_model_is_probed_with_sgd_on_another_model(observed):
    observer, script = observed
    script.replies[("call", "compile_model")] = returned({"kind": "model"}, same=True)
    script.replies[("describe", "model")] = _compiled()
    script.replies[("describe", "other")] = {"is_model": True, **_compiled(optimizer="SGD")}
    observer.model_source = "student"
    observer.compile_model()
    other = [r for op, r in script.requests if r.get("keep") == "other"]
    assert [r.get("function") or r.get("kind") for r in other] == ["build_model"]  # the student's own model again
    script.requests.clear()
    script.replies[("describe", "other")] = {"is_model": False}
    observer.compile_model()
    other = [r for op, r in script.requests if r.get("keep") == "other"]
    assert [r.get("function") or r.get("kind") for r in other] == ["build_model", "model"]  # not a model: the stand-in's
    script.requests.clear()
    observer.model_source = "standin"
    observer.compile_model()
    other = [r for op, r in script.requests if r.get("keep") == "other"]
    assert [r.get("function") or r.get("kind") for r in other] == ["model"]
    assert {"function": "compile_model", "args": [{"ref": "other"}, {"value": "sgd"}], "send": False} in script.ops("call")


def test_the_epochs_probe_compiles_with_the_students_compile_unless_it_was_replaced(observed):
    observer, script = observed
    one = {"kind": "history", "history": {"loss": [1.0]}, "epoch": [0], "params": {}}
    script.replies[("call", "train_model")] = returned(one)
    script.replies[("describe", "probe_model")] = _compiled()
    observer._epochs_probe()
    assert [r["function"] for r in script.ops("call")] == ["compile_model", "train_model"] and script.ops("compile") == []
    script.requests.clear()
    script.replies[("describe", "probe_model")] = _compiled(compiled=False)
    observer._epochs_probe()
    assert script.ops("compile") == [{"ref": "probe_model", "settings": reference.compile_settings()}]
    script.requests.clear()
    observer.replaced.add("compile_model")
    observer._epochs_probe()
    assert [r["function"] for r in script.ops("call")] == ["train_model"] and len(script.ops("compile")) == 1


class FakeModel:
    def __init__(self, weights: list[np.ndarray]) -> None:
        self.weights = weights

    def get_weights(self) -> list[np.ndarray]:
        return self.weights

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.weights = [np.asarray(w) for w in weights]

    def to_json(self) -> str:
        return '{"class_name": "Sequential", "built": "here"}'


@pytest.fixture
def clean_keras(observed, monkeypatch):
    """The observer's clean Keras and the stand-ins, as stand-ins: which model gets which training."""
    observer, script = observed
    made = {"from_json": [], "built": [], "trained": []}
    keras = types.SimpleNamespace(
        models=types.SimpleNamespace(model_from_json=lambda text: made["from_json"].append(text) or FakeModel([np.zeros((784, 10)), np.zeros(10)])),
        utils=types.SimpleNamespace(set_random_seed=lambda seed: None),
    )
    observer.keras = keras

    def history(name):
        def train(model, x, y):
            made["trained"].append((name, model, len(x)))
            return types.SimpleNamespace(history={"loss": [1.0]}, epoch=[0], params={"epochs": 1})

        return train

    fallbacks = types.ModuleType("grader.sandbox.fallbacks")
    fallbacks.build_model = lambda: made["built"].append(True) or FakeModel([np.ones((784, 10)), np.ones(10)])
    fallbacks.compile_model = lambda model: model
    fallbacks.train_model = history("standin")
    fallbacks.train_model_as_reference = history("reference")
    import grader.sandbox

    monkeypatch.setitem(sys.modules, "grader.sandbox.fallbacks", fallbacks)
    monkeypatch.setattr(grader.sandbox, "fallbacks", fallbacks, raising=False)
    monkeypatch.setattr(observer, "_log_stderr", contextlib.nullcontext)
    observer.x_train_file = observer.private / "x_train_n.npy"
    np.save(observer.x_train_file, np.zeros((N_TRAIN, 28, 28), "float32"))
    observer.standin_x = np.zeros((5, 28, 28), "float32")
    return observer, script, made


def _architecture(script: Script, architecture: str | None, weight: float = 0.0):
    def weights(request):
        refs = [script.array(np.full((784, 10), weight, "float32")), script.array(np.zeros(10, "float32"))]
        return script.value({"weights": refs, **({"architecture": architecture} if architecture else {})})

    script.replies[("weights", None)] = weights


def test_the_students_own_model_gets_the_reference_training(clean_keras):
    observer, script, made = clean_keras
    observer.model_source = "student"
    dense = {"class_name": "Dense", "module": "keras.layers", "config": {"activation": "softmax"}}
    _architecture(script, _sequential(dense))
    observer._fallback_training()
    assert made["from_json"] and not made["built"] and made["trained"][0][0] == "reference" and made["trained"][0][2] == N_TRAIN
    assert observer.grader_training == "student_model" and "train_model" in observer.replaced and "build_model" not in observer.replaced
    assert script.ops("set_weights") and script.ops("load")[-1]["keep"] == "history" and observer.history["epoch"] == [0]


def test_a_model_clean_keras_must_not_rebuild_gets_the_stand_in(clean_keras):
    observer, script, made = clean_keras
    observer.model_source = "student"
    _architecture(script, _sequential({"class_name": "Lambda", "module": "keras.layers", "config": {}}))
    observer._fallback_training()
    assert made["from_json"] == [] and made["built"] == [True] and made["trained"][0][0] == "standin"
    assert observer.model_source == "standin" and {"build_model", "train_model"} <= observer.replaced and observer.grader_training == "standin"


def test_a_stand_in_model_is_rebuilt_from_its_own_architecture(clean_keras):
    observer, script, made = clean_keras
    observer.model_source = "standin"
    observer.standin = {"architecture": '{"class_name": "Sequential"}', "weights": observer._save_weights([np.zeros(1)], "standin.npz")}
    _architecture(script, None)
    observer._fallback_training()
    assert made["from_json"] == ['{"class_name": "Sequential"}'] and not made["built"] and made["trained"][0][0] == "standin"


def test_weights_that_are_not_finite_are_drawn_again_before_the_graders_training(clean_keras):
    observer, script, made = clean_keras
    observer.model_source = "student"
    dense = {"class_name": "Dense", "module": "keras.layers", "config": {}}
    _architecture(script, _sequential(dense), weight=np.nan)
    observer._fallback_training()
    trained = made["trained"][0][1]
    assert observer_module._finite(trained.get_weights())
    _architecture(script, _sequential(dense), weight=0.5)
    observer._fallback_training()
    assert float(made["trained"][1][1].get_weights()[0][0, 0]) == 0.5  # finite weights are kept as they are
