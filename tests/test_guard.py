"""What the answerer's guard puts back after each step (fast).

The student's code runs in the answerer's process: it can replace a function
the grader relies on (one of the grader's own, ``numpy.array_equal``,
``keras.Model.evaluate``), rewrite one in place (its code, its defaults), add
a method to a Keras class, or change a process-wide setting (the working
folder, Keras's float type, the alarm handler, ``sys.stdout``, a tracer).
After each step the guard puts all of it back; replaced functions are reported
(that step's observations are not trusted), changed settings are reset
silently. The student's own module and data attributes are the student's.

Keras here is the stand-in of tests/keras_fakes.py (no TensorFlow), and the
grader's code is a small module registered as ``grader.guard_probe``; the
slow test in tests/test_sandbox_guards.py does the same on the real Keras.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import types

import numpy as np
import pytest
from keras_fakes import SETTINGS, fake_keras

from grader.sandbox.guard import Guard

GRADER_CODE = """
THRESHOLD = 0.9


def passed(accuracy, minimum=THRESHOLD, *, strict=False):
    return accuracy > minimum if strict else accuracy >= minimum


class Judge:
    def verdict(self, accuracy):
        return passed(accuracy)
"""

STUDENT_CODE = """
history = None


def build_model():
    return "modelo"
"""


def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


@pytest.fixture
def keras(monkeypatch):
    fake = fake_keras()
    monkeypatch.setitem(sys.modules, "keras", fake)
    monkeypatch.setitem(sys.modules, "keras.ops", fake.ops)
    monkeypatch.setitem(sys.modules, "keras.utils", fake.utils)
    return fake


@pytest.fixture
def grader_code(monkeypatch, keras):
    module = _module("grader.guard_probe", GRADER_CODE)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


@pytest.fixture
def student(monkeypatch, keras):
    module = _module("mnist_dense", STUDENT_CODE)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def test_a_step_that_changed_nothing_reports_nothing(grader_code, student):
    guard = Guard()
    assert guard.restore() == []
    assert guard.restore() == []


def test_a_replaced_grader_function_is_reported_and_put_back(grader_code):
    original = grader_code.passed
    guard = Guard()
    grader_code.passed = lambda accuracy, minimum=0.9, *, strict=False: True
    assert guard.restore() == ["grader.guard_probe.passed"]
    assert grader_code.passed is original and not grader_code.passed(0.5)
    assert guard.restore() == []


def test_a_changed_grader_global_is_put_back(grader_code):
    guard = Guard()
    grader_code.THRESHOLD = 0.0
    assert guard.restore() == ["grader.guard_probe.THRESHOLD"]
    assert grader_code.THRESHOLD == 0.9


def test_a_replaced_or_added_method_of_a_grader_class_is_reported_and_undone(grader_code):
    judge = grader_code.Judge
    verdict = judge.verdict
    guard = Guard()
    judge.verdict = lambda self, accuracy: True
    judge.always = lambda self: True
    assert guard.restore() == ["grader.guard_probe.Judge.always", "grader.guard_probe.Judge.verdict"]
    assert vars(judge)["verdict"] is verdict and not hasattr(judge, "always")
    assert not judge().verdict(0.5)


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda f: setattr(f, "__code__", (lambda accuracy, minimum=0.9, *, strict=False: True).__code__),
        lambda f: setattr(f, "__defaults__", (0.0,)),
        lambda f: setattr(f, "__kwdefaults__", {"strict": True}),
    ],
    ids=["code", "defaults", "kwdefaults"],
)
def test_a_grader_function_rewritten_in_place_is_reported_and_put_back(grader_code, rewrite):
    function = grader_code.passed
    code, defaults, kwdefaults = function.__code__, function.__defaults__, function.__kwdefaults__
    guard = Guard()
    rewrite(function)
    assert guard.restore() == ["grader.guard_probe.passed"]
    assert (function.__code__, function.__defaults__, function.__kwdefaults__) == (code, defaults, kwdefaults)
    assert function(0.9) is True and function(0.5) is False


def test_replaced_library_functions_are_reported_and_put_back(keras, monkeypatch):
    array_equal, dumps = np.array_equal, json.dumps
    guard = Guard()
    monkeypatch.setattr(np, "array_equal", lambda a, b: True)  # monkeypatch undoes it too, should the guard not
    monkeypatch.setattr(json, "dumps", lambda value: "{}")
    assert guard.restore() == ["json.dumps", "numpy.array_equal"]
    assert np.array_equal is array_equal and json.dumps is dumps


def test_a_replaced_or_added_keras_method_is_reported_and_undone(keras):
    dense_call = vars(keras.layers.Dense)["call"]
    guard = Guard()
    keras.layers.Dense.call = lambda self, x: x * 0
    keras.Model.evaluate = lambda self, *args, **kwargs: [0.0, 1.0]  # Model's own: evaluate came from a base class
    assert guard.restore() == ["keras_fakes.Dense.call", "keras_fakes.Model.evaluate"]
    assert vars(keras.layers.Dense)["call"] is dense_call
    assert "evaluate" not in vars(keras.Model) and keras.Sequential([]).evaluate() == [0.0, 0.0]


def test_methods_added_to_a_keras_class_go_but_data_attributes_stay(keras):
    layer = keras.layers.Flatten
    guard = Guard()
    layer.note = "la capa que aplana"
    layer.size = property(lambda self: 0)
    layer.make = staticmethod(lambda: None)
    layer.build_from = classmethod(lambda cls: None)
    assert guard.restore() == ["keras_fakes.Flatten.build_from", "keras_fakes.Flatten.make", "keras_fakes.Flatten.size"]
    assert layer.note == "la capa que aplana"
    assert not any(hasattr(layer, name) for name in ("size", "make", "build_from"))


def test_the_student_s_own_module_is_the_student_s(student, grader_code):
    guard = Guard()
    student.history = {"accuracy": [0.9]}
    student.build_model = lambda: "otro"
    assert guard.restore() == []
    assert student.history == {"accuracy": [0.9]} and student.build_model() == "otro"


def test_settings_are_reset_silently(keras, tmp_path, monkeypatch):
    work = tmp_path / "trabajo"
    work.mkdir()
    monkeypatch.chdir(work)
    streams = (sys.stdout, sys.stderr, sys.stdin)
    trace = (sys.gettrace(), sys.getprofile())
    alarm = signal.getsignal(signal.SIGALRM) if hasattr(signal, "SIGALRM") else None
    guard = Guard()
    try:
        os.chdir(tmp_path)
        sys.stdout, sys.stderr, sys.stdin = io.StringIO(), io.StringIO(), io.StringIO()
        sys.setprofile(lambda *args: None)
        if hasattr(signal, "SIGALRM"):
            signal.signal(signal.SIGALRM, lambda *args: None)
        keras.config.set_floatx("float64")
        keras.config.set_epsilon(0.5)
        keras.config.set_image_data_format("channels_first")
        keras.config.set_dtype_policy("mixed_float16")
        changed = guard.restore()
    finally:
        sys.stdout, sys.stderr, sys.stdin = streams
        sys.settrace(trace[0])
        sys.setprofile(trace[1])
        if hasattr(signal, "SIGALRM"):
            signal.signal(signal.SIGALRM, alarm)
    assert changed == []
    assert os.getcwd() == str(work)
    assert guard.settings["streams"] == streams and guard.settings["trace"] == trace
    if hasattr(signal, "SIGALRM"):
        assert guard.settings["alarm"] == alarm
    assert {name: getattr(keras.config, name)() for name in SETTINGS} == SETTINGS


def test_the_streams_tracer_and_alarm_handler_are_put_back(keras):
    streams = (sys.stdout, sys.stderr, sys.stdin)
    trace = (sys.gettrace(), sys.getprofile())
    guard = Guard()
    handler = (lambda *args: None) if hasattr(signal, "SIGALRM") else None
    try:
        sys.stdout = io.StringIO()
        sys.setprofile(lambda *args: None)
        if handler:
            alarm = signal.getsignal(signal.SIGALRM)
            signal.signal(signal.SIGALRM, handler)
        guard.restore()
        assert (sys.stdout, sys.stderr, sys.stdin) == streams
        assert (sys.gettrace(), sys.getprofile()) == trace
        if handler:
            assert signal.getsignal(signal.SIGALRM) is alarm
    finally:
        sys.stdout, sys.stderr, sys.stdin = streams
        sys.setprofile(trace[1])


def test_a_working_folder_the_step_deleted_is_made_again(keras, tmp_path, monkeypatch):
    work = tmp_path / "trabajo"
    work.mkdir()
    monkeypatch.chdir(work)
    guard = Guard()
    os.chdir(tmp_path)
    work.rmdir()
    assert guard.restore() == []
    assert os.getcwd() == str(work) and work.is_dir()
