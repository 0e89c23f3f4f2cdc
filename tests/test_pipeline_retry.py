"""The worker's train step on tiny random data: retried on the stand-in compile
only when the student's compile is the suspect, and reporting each epoch.

Runs the pipeline in this process (no sandbox, no MNIST): a few seconds.
"""

from __future__ import annotations

import types

import keras
import numpy as np
import pytest

from grader.sandbox import fallbacks
from grader.sandbox.pipeline import Pipeline

SOLUTION_STEPS = """
import keras

def build_model(hidden_units=128, activation="relu", num_classes=10):
    return keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                             keras.layers.Dense(8, activation=activation), keras.layers.Dense(num_classes, activation="softmax")])

def compile_model(model, optimizer="adam"):
    model.compile(optimizer=optimizer, loss=LOSS, metrics=["accuracy"])
    return model

def train_model(model, x_train, y_train, epochs=5, validation_split=0.1):
    FAIL_IF_CALLED
    return model.fit(x_train, y_train, epochs=epochs, validation_split=validation_split, verbose=0)
"""


def student(loss: str = "sparse_categorical_crossentropy", train_raises: bool = False) -> types.ModuleType:
    module = types.ModuleType("mnist_dense")
    source = SOLUTION_STEPS.replace("LOSS", repr(loss)).replace("FAIL_IF_CALLED", "raise RuntimeError('own bug')" if train_raises else "pass")
    exec(compile(source, "mnist_dense.py", "exec"), module.__dict__)  # noqa: S102 - a test's own module
    return module


def pipeline(module: types.ModuleType, tmp_path) -> Pipeline:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (120, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 120).astype(np.uint8)
    steps = Pipeline(module, ((x, y), (x[:40], y[:40])), seed=1, train_subset=0, state_dir=tmp_path)
    steps.x_train_n, steps.x_test_n = fallbacks.normalize(x), fallbacks.normalize(x[:40])
    steps.model = module.build_model()
    steps.compile_model()
    return steps


def test_wrong_loss_is_retried_on_the_standin_compile(tmp_path):
    steps = pipeline(student(loss="categorical_crossentropy"), tmp_path)
    epochs: list[tuple] = []
    steps.progress = lambda **event: epochs.append((event["epoch"], event["epochs"]))
    facts = steps.train_model()
    assert facts.first_error.type == "ValueError" and facts.stand_ins == ["compile_model"]
    assert facts.epochs == 5 and facts.from_fit and facts.weights_changed
    assert "compile_model" in steps.replaced and "train_model" not in steps.replaced
    assert epochs == [(k, 5) for k in range(1, 6)]
    assert facts.epochs_probe.epochs == 1 and facts.epochs_probe.error is None
    assert isinstance(steps.model.loss, str) and steps.model.loss == "sparse_categorical_crossentropy"


def test_a_train_bug_with_a_correct_compile_is_not_retried(tmp_path):
    steps = pipeline(student(train_raises=True), tmp_path)
    with pytest.raises(RuntimeError, match="own bug"):
        steps.train_model()
    assert "compile_model" not in steps.replaced
    # The stand-in training that follows is not recorded or reported as the student's.
    assert "fit" not in vars(steps.model)


def test_a_correct_pipeline_trains_once(tmp_path):
    steps = pipeline(student(), tmp_path)
    facts = steps.train_model()
    assert facts.first_error is None and facts.epochs == 5
    assert isinstance(steps.history, keras.callbacks.History) and steps.replaced == set()
