"""Facts in, verdict out: the rules of the checks that only the planted-bug bench
showed unpinned (a flipped comparison that no fast test noticed).

Each test hands a check the observations the sandbox would report and reads
back what the student sees: the catalogue key, the points kept and the message.
"""

from __future__ import annotations

import pytest

from test_feedback_rules import CONFIG, NORMALIZED, RAW_PIXELS, build_facts, context, train_facts, verdict_of

from grader import i18n
from grader.checks import check_model, check_training


# -- evaluate: a right pair is never "in reverse order" -----------------------------------
def test_a_right_pair_whose_loss_equals_its_accuracy_is_not_called_swapped():
    # A weak model whose loss happens to equal its accuracy: (loss, accuracy) and
    # (accuracy, loss) read the same, and the student returned them in the right order.
    ctx = context(accuracy=0.7, evaluate_model={"type": "tuple", "types": ["float", "float"], "numbers": True, "values": [0.7004, 0.7], "finite": True})
    ctx.measurement.loss = 0.7004
    key, fraction, message = verdict_of(check_training.test_evaluate, ctx)
    assert (key, fraction) == ("evaluate.ok", 1.0)
    assert "0.7000" in message and "orden inverso" not in message


# -- build_model: a parameterised call that crashes says so -------------------------------
def test_a_call_that_crashes_keeps_its_own_message_when_the_default_model_is_right():
    facts = build_facts(units_64_tanh={"error": {"type": "TypeError"}})
    key, fraction, message = verdict_of(check_model.test_architecture, context(build_model=facts))
    assert key == "architecture.parameters_error"
    assert fraction == pytest.approx(1 - CONFIG.partial.architecture["parameters"])
    assert "build_model(64, 'tanh') falla con TypeError" in message
    # Not "does not use its parameters": the call crashed, it did not ignore them.
    assert "no usa sus parámetros" not in message


# -- min_accuracy: a cause observed names its step once --------------------------------------
def _low(**data) -> str:
    key, fraction, message = verdict_of(check_training.test_min_accuracy, context(accuracy=0.5, **data))
    assert (key, fraction) == ("min_accuracy.low", 0.0)
    return message


def test_train_model_changing_right_data_is_named_once_as_the_cause():
    # normalize gave [0, 1]; train_model multiplied the images by 255 before fit: its own check fails too.
    message = _low(train_model=train_facts(fit_calls=[{"epochs": 5, "x_min": 0.0, "x_max": 255.0}]))
    assert "[0, 255]" in message
    assert message.count("Paso 6 (train_model)") == 1
    assert "Paso 3 (normalize)" not in message


def test_raw_pixels_from_normalize_are_named_once_as_the_cause():
    message = _low(normalize=RAW_PIXELS, train_model=train_facts(fit_calls=[{"epochs": 5, "x_min": 0.0, "x_max": 255.0}]))
    assert "[0, 255]" in message
    assert message.count("Paso 3 (normalize)") == 1
    assert "Paso 6 (train_model)" not in message
    assert "Step 3 (normalize)" in i18n.render("en", "min_accuracy.cause.step_failed", number=3, function="normalize")


def test_right_data_names_no_range_cause():
    assert "[0, " not in _low(normalize=NORMALIZED)
