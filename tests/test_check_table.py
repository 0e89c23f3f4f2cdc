"""Facts in -> (message key, fraction) out, for every check id in the registry.

One table drives every check through the real ``GradingContext`` (its step
failures included) without Keras or a sandbox: a change to a check is tested
in seconds. ``test_feedback_rules.py`` holds the finer cases of each check.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from test_feedback_rules import CONFIG, FLATTEN, Outcome, build_facts, compile_facts, context, dense, model, outcome_of, train_facts, verdict_of

from grader import spec
from grader.answers import freetext
from grader.checks import check_answers, check_data, check_model, check_training
from grader.checks.context import GradingContext

ROOT = Path(__file__).resolve().parents[1]
TEST_OF = {
    "load_data": check_data.test_load_data,
    "show_sample": check_data.test_show_sample,
    "normalize": check_data.test_normalize,
    "architecture": check_model.test_architecture,
    "compile": check_model.test_compile,
    "train": check_training.test_train,
    "evaluate": check_training.test_evaluate,
    "history": check_training.test_history,
    "predict": check_training.test_predict,
    "min_accuracy": check_training.test_min_accuracy,
}
ARRAYS = [{"name": n, "equal": True, "type": "ndarray", "shape": [10], "dtype": "uint8"} for n in ("x_train", "y_train", "x_test", "y_test")]
LOADED = {"structure_ok": True, "type": "tuple", "arrays": ARRAYS}
SAMPLE = {"is_figure": True, "type": "Figure", "images": 1, "image_matches": True, "label": 5, "index": 0}
NORMALIZED = {"type": "ndarray", "dtype": "float32", "input_unchanged": True, "is_float": True, "max_error": 0.0, "min": 0.0, "max": 1.0}

HISTORY = {
    "history": {"loss": [1.0, 0.5]},
    "epochs": 2,
    "frame": {"is_frame": True, "rows": 2, "columns": {"loss": [1.0, 0.5]}},
    "figure": {"is_figure": True, "axes": [{"lines": [[1.0, 0.5]], "images": []}]},
}
SAMPLE_PREDICTION = context().run.outcome("predict").data["samples"][0]


def grading_context(statuses: dict[str, str] | None = None, printed: str = "la etiqueta es 5", accuracy: float = 0.95, **data: Any) -> GradingContext:
    """The real GradingContext over a run made of facts."""
    facts = context(statuses=statuses, accuracy=accuracy, **{"load_data": LOADED, "show_sample": SAMPLE, "normalize": NORMALIZED, **data})
    run = facts.run
    run.outcomes["show_sample"].printed = printed
    for step, status in (statuses or {}).items():
        run.outcomes[step] = Outcome(step, status, None, {"type": "RuntimeError", "message": "boom", "line": 3})
    ctx = GradingContext(facts.config, run, None, None, ROOT)
    ctx.__dict__["measurement"] = facts.measurement  # what the grader measured on the trained model
    return ctx


# check id, what differs from a correct submission, expected key, expected fraction
CODE_CASES = [
    ("load_data", {}, "load_data.ok", 1.0),
    ("load_data", {"load_data": {**LOADED, "structure_ok": False, "type": "list"}}, "load_data.structure", 0.0),
    ("load_data", {"load_data": {**LOADED, "arrays": [{**ARRAYS[0], "equal": False, "shape": [60000, 28, 28]}]}}, "load_data.different", 0.0),
    ("load_data", {"load_data": {**LOADED, "arrays": [{**ARRAYS[0], "equal": False, "shape": [10000, 28, 28]}]}}, "load_data.shape", 0.0),
    ("show_sample", {}, "show_sample.ok", 1.0),
    ("show_sample", {"show_sample": {**SAMPLE, "is_figure": False, "type": "NoneType"}}, "show_sample.not_figure", 0.0),
    ("show_sample", {"show_sample": {**SAMPLE, "images": 0}}, "show_sample.no_image", 0.0),
    ("show_sample", {"show_sample": {**SAMPLE, "image_matches": False}}, "show_sample.wrong_image", 0.0),
    ("show_sample", {"printed": "nada"}, "show_sample.label_not_printed", 0.0),
    ("normalize", {}, "normalize.ok", 1.0),
    ("normalize", {"normalize": {"type": "list", "input_unchanged": True}}, "normalize.not_array", 0.0),
    ("normalize", {"normalize": {**NORMALIZED, "input_unchanged": False}}, "normalize.modified_input", 0.0),
    ("normalize", {"normalize": {**NORMALIZED, "is_float": False, "dtype": "uint8"}}, "normalize.not_float", 0.0),
    ("normalize", {"normalize": {**NORMALIZED, "max_error": 254.0, "max": 255.0}}, "normalize.wrong_values", 0.0),
    ("architecture", {}, "architecture.ok", 1.0),
    ("architecture", {"build_model": build_facts(model(dense(128, "relu"), dense(10, "softmax")))}, "architecture.no_flatten", 0.75),
    ("architecture", {"build_model": build_facts(model(FLATTEN, dense(10, "softmax")))}, "architecture.missing_layers", 0.8),
    ("compile", {}, "compile.ok", 1.0),
    ("compile", {"compile_model": compile_facts(optimizer="RMSprop")}, "compile.optimizer", 0.8),
    ("compile", {"compile_model": compile_facts(loss="categorical_crossentropy")}, "compile.loss", 0.7),
    ("train", {}, "train.ok", 1.0),
    ("train", {"train_model": train_facts(is_history=False, returned_type="NoneType")}, "train.not_history", 0.0),
    ("evaluate", {}, "evaluate.ok", 1.0),
    (
        "evaluate",
        {"evaluate_model": {"type": "list", "types": ["EagerTensor", "float"], "numbers": False, "values": [None, 0.9], "finite": False}},
        "evaluate.not_floats",
        0.0,
    ),
    ("history", {}, "history.ok", 1.0),
    ("history", {"history": {**HISTORY, "figure": {"is_figure": False, "type": "NoneType"}}}, "history.not_figure", 0.5),
    (
        "history",
        {"history": {**HISTORY, "figure": {"is_figure": False, "type": "NoneType"}, "frame": {"is_frame": False, "type": "dict"}}},
        "history.not_frame",
        0.0,
    ),
    ("predict", {}, "predict.ok", 1.0),
    ("predict", {"predict": {"samples": [{**SAMPLE_PREDICTION, "label": 7}]}}, "predict.label_not_argmax", 0.0),
    # Halved outputs of a softmax model: the step, not the architecture, lost the probabilities.
    ("predict", {"predict": {"samples": [{**SAMPLE_PREDICTION, "probs": [p / 2 for p in SAMPLE_PREDICTION["probs"]]}]}}, "predict.not_probabilities", 0.0),
    ("min_accuracy", {}, "min_accuracy.ok", 1.0),
    ("min_accuracy", {"accuracy": 0.5}, "min_accuracy.low", 0.0),
]


@pytest.mark.parametrize(("check", "changes", "key", "fraction"), CODE_CASES, ids=[f"{c[0]}-{c[2]}" for c in CODE_CASES])
def test_code_check(check, changes, key, fraction):
    got_key, got_fraction, message = verdict_of(TEST_OF[check], grading_context(**changes))
    assert (got_key, got_fraction) == (key, pytest.approx(fraction)), message


@pytest.mark.parametrize("ending", ["timeout", "memory", "exited", "crashed", "tampered", "not_run", "ok"])
@pytest.mark.parametrize("check", ["evaluate", "predict", "min_accuracy"])
def test_no_trained_model_to_measure_says_how_training_ended(check, ending):
    # A sabotaged training (a thread that outlives every attempt) leaves nothing to measure:
    # the student's own step is named, never "the grader could not evaluate this step".
    ctx = grading_context()
    ctx.__dict__["measurement"] = None
    if ending == "not_run":
        del ctx.run.outcomes["train_model"]
    else:
        ctx.run.outcomes["train_model"].status = ending
    if check == "min_accuracy" and ending != "ok":
        ctx.run.replaced.add("train_model")  # a failed training is replaced: min_accuracy is blocked, with no accuracy to give
        key, fraction, message = verdict_of(TEST_OF[check], ctx)
        assert (key, fraction) == ("min_accuracy.blocked", 0.0) and "?" in message
        return
    key, fraction, message = verdict_of(TEST_OF[check], ctx)
    assert (key, fraction) == ("measure.no_model", 0.0)
    assert "train_model" in message and "calificador no pudo" not in message
    said = {
        "ok": "no estaban donde",
        "not_run": "no llegó a ejecutarse",
        "timeout": "tiempo límite",
        "memory": "memoria",
        "exited": "exit",
        "crashed": "se cayó",
        "tampered": "modificó",
    }
    assert said[ending] in message


@pytest.mark.parametrize("accuracy", [0.95, 0.5])
def test_min_accuracy_reports_the_measured_accuracy_whatever_the_verdict(accuracy):
    assert outcome_of(check_training.test_min_accuracy, grading_context(accuracy=accuracy)).metrics == {"test_accuracy": accuracy}


def test_facts_the_worker_could_not_have_written_are_refused():
    # A field of the wrong type on the channel: the step does not count, and the message says why.
    forged = {**NORMALIZED, "input_unchanged": "yes please"}
    assert verdict_of(check_data.test_normalize, grading_context(normalize=forged))[:2] == ("step.tampered", 0.0)
    assert verdict_of(check_data.test_load_data, grading_context(load_data={"arrays": "all equal"}))[:2] == ("step.tampered", 0.0)


@pytest.mark.parametrize("check", [c for c in spec.checks() if c.step], ids=lambda c: c.id)
@pytest.mark.parametrize("status", ["timeout", "not_implemented", "error", "memory"])
def test_a_failed_step_costs_its_checks_with_the_reason(check, status):
    key, fraction, message = verdict_of(TEST_OF[check.id], grading_context(statuses={check.step: status}))
    assert (key, fraction) == (f"step.{status}", 0.0)
    assert spec.function_of(check.step) in message


# -- the free-text checks ----------------------------------------------------------
@pytest.fixture
def answers_context(tmp_path, monkeypatch):
    """A submission folder with the reference answers and sheet, scored in this process."""
    shutil.copytree(ROOT / "solutions" / "answers", tmp_path / "answers")
    shutil.copy(ROOT / "solutions" / "exploration.md", tmp_path / "exploration.md")
    shutil.copytree(ROOT / "solutions" / "exploration_results", tmp_path / "exploration_results")
    monkeypatch.setattr(check_answers, "score_submission_limited", freetext.score_submission)
    check_answers._SCORED.clear()
    return SimpleNamespace(submission=tmp_path, config=replace(CONFIG))


def run_answer(ctx, check: str) -> tuple[str, float, str]:
    check_answers._SCORED.clear()
    if check == "exploration":
        return verdict_of(check_answers.test_exploration, ctx)
    return verdict_of(lambda c, v: check_answers.test_answer(c, v, check), ctx)


@pytest.mark.parametrize("check", spec.check_ids("answer"))
def test_answer_check(answers_context, check):
    assert run_answer(answers_context, check)[:2] == ("answers.complete", 1.0)
    # The answer goes to the instructor's review list with its outcome.
    outcome = outcome_of(lambda c, v: check_answers.test_answer(c, v, check), answers_context)
    assert [r.id for r in outcome.review] == [check]
    (answers_context.submission / "answers" / f"{check}.md").unlink()
    assert run_answer(answers_context, check)[:2] == ("answers.missing_file", 0.0)


def test_exploration_check(answers_context):
    key, fraction, _ = run_answer(answers_context, "exploration")
    assert (key, fraction) == ("exploration.complete", 1.0)
    shutil.rmtree(answers_context.submission / "exploration_results")
    key, fraction, _ = run_answer(answers_context, "exploration")
    assert key == "exploration.table_missing" and fraction == pytest.approx(1 - CONFIG.exploration_settings.table_weight)
    (answers_context.submission / "exploration.md").unlink()
    assert run_answer(answers_context, "exploration")[:2] == ("exploration.missing_file", 0.0)


def test_every_check_id_has_a_row():
    covered = {c[0] for c in CODE_CASES} | set(spec.check_ids("answer")) | {"exploration"}
    assert covered == set(spec.check_ids())
    assert all(any(c[0] == check and c[3] < 1 for c in CODE_CASES) for check in TEST_OF), "every code check needs a failing row"
