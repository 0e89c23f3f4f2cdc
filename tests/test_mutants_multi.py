"""Submissions with two or three ordinary mistakes at once.

Each mistake costs the check of its own step, never another's: a wrong
loss makes a correct ``train_model`` crash, so it is tried again on the
model compiled the reference way and keeps its points, naming step 5;
``normalize`` without ``return`` is replaced by the grader's normalization
and ``min_accuracy`` still measures the student's model, trained by the
student's functions. A mistake that really lowers the accuracy (logits out,
raw pixels, one epoch) costs ``min_accuracy`` too, and its message names the
step to fix. Graded on the first 3,000 training images (``gradingkit``).
"""

from __future__ import annotations

import pytest

from gradingkit import SOLUTION, edit, grade_all

pytestmark = [pytest.mark.slow, pytest.mark.slots(2)]

REFERENCE = SOLUTION.read_text(encoding="utf-8")


# The mistakes of the issue, each one textual edit of the reference: (old, new).
MISTAKES = {
    "wrong_loss": ('loss="sparse_categorical_crossentropy"', 'loss="categorical_crossentropy"'),
    "missing_return": ("    return images / 255.0\n", "    images / 255.0\n"),
    "no_softmax": ('keras.layers.Dense(num_classes, activation="softmax")', "keras.layers.Dense(num_classes)"),
    "sigmoid_hidden": ('activation: str = "relu"', 'activation: str = "sigmoid"'),
    "list_unsupported": ("    if isinstance(hidden_units, int):\n        hidden_units = [hidden_units]\n", "    hidden_units = [hidden_units]\n"),
    "one_epoch": ("    epochs: int = 5,\n", "    epochs: int = 1,\n"),
    "no_normalization": ("    return images / 255.0\n", "    return images\n"),
}


def apply(*mistakes: str) -> str:
    source = REFERENCE
    for mistake in mistakes:
        source = edit(source, *MISTAKES[mistake])
    return source


# name -> (mistakes, {failing check: message key}, {check: words its message must hold})
MUTANTS = {
    "loss_and_return": (
        ("wrong_loss", "missing_return"),
        {"compile": "compile.loss", "normalize": "normalize.not_array"},
        {"train": ["paso 5 (compile_model)"], "normalize": ["¿falta `return`?"], "min_accuracy": ["paso 3 (normalize)"]},
    ),
    "softmax_sigmoid_list": (
        ("no_softmax", "sigmoid_hidden", "list_unsupported"),
        {"architecture": "architecture.several", "min_accuracy": "min_accuracy.low"},
        {"architecture": ["sigmoid", "softmax", "build_model([256, 128])"], "predict": ["softmax", "paso 4"], "min_accuracy": ["Paso 4 (build_model)"]},
    ),
    "loss_and_softmax": (
        ("wrong_loss", "no_softmax"),
        {"compile": "compile.loss", "architecture": "architecture.logits", "min_accuracy": "min_accuracy.low"},
        {"train": ["paso 5 (compile_model)"], "min_accuracy": ["Paso 4 (build_model)"], "predict": ["no son probabilidades"]},
    ),
    "return_and_one_epoch": (
        ("missing_return", "one_epoch"),
        {"normalize": "normalize.not_array", "train": "train.epochs", "min_accuracy": "min_accuracy.low"},
        {"min_accuracy": ["Paso 6 (train_model)", "paso 3 (normalize)"]},
    ),
    # sigmoid alone trains to about the bar on the subset (0.883): one epoch makes it clearly low.
    "sigmoid_loss_epoch": (
        ("sigmoid_hidden", "wrong_loss", "one_epoch"),
        {"architecture": "architecture.hidden_activation", "compile": "compile.loss", "train": "train.epochs", "min_accuracy": "min_accuracy.low"},
        {"min_accuracy": ["Paso 4 (build_model)", "Paso 6 (train_model)"]},
    ),
    "list_and_raw_pixels": (
        ("list_unsupported", "no_normalization"),
        {"architecture": "architecture.parameters_error", "normalize": "normalize.not_float", "min_accuracy": "min_accuracy.low"},
        {"min_accuracy": ["Paso 3 (normalize)"]},
    ),
    "epoch_softmax_return": (
        ("one_epoch", "no_softmax", "missing_return"),
        {"train": "train.epochs", "architecture": "architecture.logits", "normalize": "normalize.not_array", "min_accuracy": "min_accuracy.low"},
        {"min_accuracy": ["Paso 4 (build_model)", "Paso 6 (train_model)"], "predict": ["softmax"]},
    ),
    "loss_list_return": (
        ("wrong_loss", "list_unsupported", "missing_return"),
        {"compile": "compile.loss", "architecture": "architecture.parameters_error", "normalize": "normalize.not_array"},
        {"train": ["paso 5 (compile_model)"], "min_accuracy": ["paso 3 (normalize) y paso 5 (compile_model)"]},
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    return grade_all(tmp_path_factory.mktemp("multi"), {name: apply(*mistakes) for name, (mistakes, _, _) in MUTANTS.items()})


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_each_mistake_costs_only_its_own_checks(graded, name):
    result = graded[name]
    assert result.returncode == 0, result.stderr[-2000:]
    accuracy = result.score["metrics"].get("test_accuracy")
    assert result.failing() == MUTANTS[name][1], f"accuracy {accuracy}"


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_each_message_names_the_right_step(graded, name):
    checks = graded[name].checks()
    for check, words in MUTANTS[name][2].items():
        for word in words:
            assert word in checks[check]["message"], (check, checks[check]["message"])


# The pipeline checks whose failure can explain a low accuracy, and the step each names.
PIPELINE_CHECKS = {"normalize": 3, "architecture": 4, "compile": 5, "train": 6}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_messages_agree_with_each_other(graded, name):
    """A low accuracy never says a step "showed no difference" when that step's own check
    failed, and it names every failed pipeline step (as an observed cause or as the likely one)."""
    checks = graded[name].checks()
    failed = [check for check in PIPELINE_CHECKS if not checks[check]["passed"]]
    accuracy = checks["min_accuracy"]
    if accuracy["message_key"] != "min_accuracy.low":
        return
    message = accuracy["message"].lower()
    if failed:
        assert "no se vio ninguna diferencia" not in message, (failed, message)
    for check in failed:
        assert f"paso {PIPELINE_CHECKS[check]} (" in message, (check, message)
