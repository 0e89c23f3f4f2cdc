"""The finer rules inside the checks, each pinned by a fast test.

Every case here was a bug planted by ``bench/planted_bugs.py`` (one comparison
flipped) that no other fast test noticed: together with
``test_check_table.py`` and ``test_feedback_rules.py`` they make a flipped
comparison in the judging code fail in seconds.
"""

from __future__ import annotations

import pytest
from test_check_table import grading_context

from test_feedback_rules import FLATTEN, NORMALIZED, RAW_PIXELS, Outcome, build_facts, compile_facts, context, dense, model, train_facts, verdict_of

from grader import spec
from grader.checks import check_data, check_model, check_training
from grader.checks.verdict import CheckOutcome
from grader.config import load_config
from grader.scoring import result_from_outcomes

CONFIG = load_config()


def activation(name: str) -> dict:
    return {"kind": "activation", "class_name": "Activation", "activation": name}


# -- normalize ------------------------------------------------------------------------
def test_wrong_values_show_the_range_found_or_a_question_mark():
    _, _, message = verdict_of(check_data.test_normalize, context(normalize=RAW_PIXELS))
    assert "255" in message and "?" not in message
    unknown = {**NORMALIZED, "dtype": "object", "is_float": True, "min": None, "max": None, "max_error": None}
    key, _, message = verdict_of(check_data.test_normalize, context(normalize=unknown))
    assert key == "normalize.wrong_values" and "?" in message


# -- architecture -------------------------------------------------------------------------
def test_a_dense_layer_followed_by_an_activation_layer_counts_as_one():
    folded = model(FLATTEN, dense(128, "linear"), activation("relu"), dense(10, "linear"), activation("softmax"))
    assert verdict_of(check_model.test_architecture, context(build_model=build_facts(folded)))[:2] == ("architecture.ok", 1.0)


def test_an_activation_layer_after_a_dense_that_already_has_one_is_extra():
    stacked = model(FLATTEN, dense(128, "relu"), activation("relu"), dense(10, "softmax"))
    assert verdict_of(check_model.test_architecture, context(build_model=build_facts(stacked)))[0] == "architecture.extra_layers"


def test_the_list_of_units_decides_only_the_units():
    # build_model([256, 128]) keeps the default activation argument: only the units are judged.
    tanh = model(FLATTEN, dense(256, "tanh"), dense(128, "tanh"), dense(10, "softmax"))
    assert verdict_of(check_model.test_architecture, context(build_model=build_facts(list_256_128=tanh)))[:2] == ("architecture.ok", 1.0)


def test_the_activation_argument_must_be_honoured():
    ignored = model(FLATTEN, dense(64, "relu"), dense(10, "softmax"))
    assert verdict_of(check_model.test_architecture, context(build_model=build_facts(units_64_tanh=ignored)))[0] == "architecture.parameters"


def test_parameter_count_is_checked_through_activation_and_dropout_layers():
    padded = model(FLATTEN, dense(128, "linear"), activation("relu"), dense(10, "softmax"), params=999)
    key, _, message = verdict_of(check_model.test_architecture, context(build_model=build_facts(padded)))
    assert key == "architecture.param_count" and "999" in message


def test_an_unknown_layer_is_not_counted_again_as_a_parameter_difference():
    other = {"kind": "other", "class_name": "BatchNormalization"}
    unknown = model(FLATTEN, dense(128, "relu"), other, dense(10, "softmax"), params=102_282)
    assert verdict_of(check_model.test_architecture, context(build_model=build_facts(unknown)))[0] == "architecture.extra_layers"


# -- history --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error_type", "key"),
    [("NotImplementedError", "step.not_implemented"), ("MissingFunction", "step.missing"), ("KeyError", "history.frame_error")],
)
def test_a_failing_history_frame_is_said_by_what_failed(error_type, key):
    history = context().run.outcome("history").data
    broken = {**history, "frame": {"error": {"type": error_type, "line": 7}}}
    got, fraction, message = verdict_of(check_training.test_history, context(history=broken))
    assert (got, fraction) == (key, 0.5) and "history_frame" in message


# -- train ------------------------------------------------------------------------------
def test_an_accuracy_recorded_under_its_object_name_counts():
    # compile(metrics=[SparseCategoricalAccuracy()]) records sparse_categorical_accuracy.
    curves = ["loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy"]
    assert verdict_of(check_training.test_train, context(train_model=train_facts(metrics=curves)))[:2] == ("train.ok", 1.0)


# -- min_accuracy's causes ---------------------------------------------------------------
def _causes(**data) -> str:
    key, _, message = verdict_of(check_training.test_min_accuracy, context(accuracy=0.5, **data))
    assert key == "min_accuracy.low"
    return message


def test_a_linear_output_is_a_cause_unless_the_loss_takes_logits():
    linear = build_facts(model(FLATTEN, dense(128, "relu"), dense(10, "linear")))
    assert "la capa de salida usa linear" in _causes(build_model=linear)
    assert "la capa de salida" not in _causes(build_model=linear, compile_model=compile_facts(from_logits=True))


def test_without_a_fit_call_the_range_comes_from_normalize():
    message = _causes(normalize=RAW_PIXELS, train_model=train_facts(fit_calls=[]))
    assert "Paso 3 (normalize)" in message and "[0, 255]" in message


# -- scoring -----------------------------------------------------------------------------
def test_the_grade_lists_every_check_with_points_and_a_missing_outcome_costs_only_its_own():
    outcomes = {c.id: CheckOutcome(c.id, "check.ok", 1.0) for c in spec.checks() if c.id != "predict"}
    result = result_from_outcomes(outcomes, CONFIG, "es", {"test_accuracy": None}, [])
    assert [c.id for c in result.checks] == [c.id for c in spec.checks() if c.points_key in CONFIG.points]
    assert result.max_score == sum(CONFIG.points.values())
    predict = next(c for c in result.checks if c.id == "predict")
    assert predict.score == 0 and predict.message_key == "check.internal_error"
    assert result.score == result.max_score - CONFIG.points["predict"]


# -- what every check sees (GradingContext) -------------------------------------------------
def test_observed_gives_the_facts_of_a_clean_step_only():
    ctx = grading_context(statuses={"normalize": "error"})
    assert ctx.observed("normalize") is None and ctx.observed("predict_nothing") is None
    assert ctx.observed("build_model").default.is_model


@pytest.mark.parametrize(
    ("salvage", "key", "said"),
    [
        (None, "step.import_failed", "SyntaxError en la línea 4"),
        (Outcome("import-salvage", "ok"), "load_data.ok", ""),
        (Outcome("import-salvage", "error", None, {"type": "IndentationError", "line": 9}), "step.import_failed", "IndentationError en la línea 9"),
    ],
)
def test_a_module_that_cannot_be_loaded_fails_every_step_with_the_first_error(salvage, key, said):
    ctx = grading_context()
    ctx.run.outcomes["import"] = Outcome("import", "error", None, {"type": "SyntaxError", "line": 4})
    if salvage is not None:
        ctx.run.outcomes["import-salvage"] = salvage
    got, _, message = verdict_of(check_data.test_load_data, ctx)
    assert got == key and said in message


def test_a_timeout_names_the_steps_own_limit():
    _, _, message = verdict_of(check_training.test_train, grading_context(statuses={"train_model": "timeout"}))
    assert f"{int(CONFIG.time_limits['train_model'])} s" in message


# -- the answers' readers -----------------------------------------------------------------
def test_spanish_with_few_function_words_is_not_taken_for_english():
    from grader.answers.rubric import looks_english

    assert looks_english("The network learns the weights of each layer and it is trained with the data")
    assert not looks_english("La red neuronal aprende pesos mediante descenso de gradiente estocástico adaptativo")


def test_an_answer_without_its_end_marker_runs_to_the_end():
    from grader.answers.markdown import extract_answer

    both = extract_answer("# P1\n<!-- respuesta -->\nUna respuesta.\n<!-- fin de la respuesta -->\nnota")
    assert both.markers_found and "nota" not in both.text
    start_only = extract_answer("# P1\n<!-- respuesta -->\nUna respuesta.\nnota")
    assert not start_only.markers_found and "nota" in start_only.text
