"""Checks of training and its results: train, evaluate, history, predict, min_accuracy."""

from __future__ import annotations

import numpy as np

from grader import reference
from grader.checks import check_model
from grader.checks.check_model import compile_deviations, effective_layers, optimizer_words
from grader.checks.registry import check
from grader.checks.verdict import CheckFailed, Verdict, fail, part
from grader.checks.words import found_type, found_types
from grader.facts import ErrorInfo, NormalizeFacts, TrainFacts
from grader.reference import STANDIN_EPOCHS, STANDIN_SAMPLES
from grader.spec import function_of, number_of

EXPECTED_EPOCHS = reference.EPOCHS
# How train_model can have ended without leaving a trained model, each said in the catalogue (measure.status.*).
TRAIN_ENDINGS = ("timeout", "memory", "storage", "exited", "crashed", "tampered", "not_run")
# A batch larger than this leaves few weight updates in 5 epochs (Keras's default is 32).
LARGE_BATCH = 1024
# How far a normalized pixel may stray from [0, 1] (the data's own rounding).
UNIT_TOLERANCE = 1e-5


def tracked_metrics(keys) -> tuple[str, ...]:
    """The four curves a History must hold. The accuracy may carry the name of
    its object form (``SparseCategoricalAccuracy()`` records
    ``sparse_categorical_accuracy``), which compile accepts too."""
    named = sorted(k for k in keys if k.endswith("accuracy") and not k.startswith("val_"))
    accuracy = "accuracy" if "accuracy" in named or not named else named[0]
    return ("loss", accuracy, "val_loss", f"val_{accuracy}")


PIPELINE = ("normalize", "build_model", "compile_model", "train_model")
# A stand-in for one of these means the model, or its training, is not the student's.
MODEL_STEPS = ("build_model", "train_model")
# A stand-in for these steps hands evaluate/history/predict a model or a
# History that is not the student's. (A stand-in normalization is not one:
# the model is still the student's, measured on properly scaled images.)
FEEDS = {
    "evaluate_model": MODEL_STEPS,
    "history": ("train_model",),
    "predict": MODEL_STEPS,
}


def _status(ctx, step: str) -> str | None:
    outcome = ctx.run.outcome(step)
    return None if outcome is None else outcome.status


def stand_ins(ctx, steps=PIPELINE) -> list[str]:
    """The steps among ``steps`` whose result the grader replaced with its own."""
    return [s for s in steps if s in ctx.run.replaced or _status(ctx, s) != "ok"]


def steps_phrase(steps: list[str]) -> list[dict]:
    """ "paso 3 (normalize), paso 5 (compile_model) y paso 6 (train_model)" in the verdict's language."""
    last = len(steps) - 1
    keys = ["step_ref.item" if i == last else "step_ref.item_and" if i == last - 1 else "step_ref.item_comma" for i in range(len(steps))]
    return [part(key, number=number_of(s) or "?", function=function_of(s)) for key, s in zip(keys, steps, strict=True)]


@check("train", step="train_model")
def test_train(ctx, verdict):
    facts = ctx.facts("train_model")
    first = facts.first_error
    if first is not None:
        # The student's own compile made the first attempt fail; the second ran on the stand-in compile.
        compile_facts = ctx.observed("compile_model")
        if compile_facts is None or not compile_deviations(compile_facts):
            _fail_first_attempt(first)
    train_problems(facts)
    fit_range = _fit_data_range(facts)
    if fit_range is not None and normalize_output_right(ctx.observed("normalize")):
        # normalize (or its stand-in) gave [0, 1]: train_model itself changed the data.
        fail("train.fit_data", min=f"{fit_range[0]:.4g}", max=f"{fit_range[1]:.4g}")
    seconds = round(ctx.run.outcome("train_model").seconds, 1)
    model_replaced = stand_ins(ctx, ("build_model",))
    if model_replaced:
        # The student's train_model worked, on a model the grader built: say so, as evaluate and predict do.
        verdict.ok("train.ok_standin", epochs=EXPECTED_EPOCHS, seconds=seconds, steps=steps_phrase(model_replaced))
    elif first is not None:
        verdict.ok("train.ok_after_standin", epochs=EXPECTED_EPOCHS, seconds=seconds, error_type=first.type, cause=steps_phrase(["compile_model"]))
    else:
        verdict.ok("train.ok", epochs=EXPECTED_EPOCHS, seconds=seconds)


def _fail_first_attempt(first: ErrorInfo) -> None:
    if first.type == "weights_not_finite":
        fail("train.weights_not_finite")
    fail("step.error", function="train_model", error_type=first.type, error_message=first.message, line=first.line or "?")


def train_problems(facts: TrainFacts) -> None:
    """Fail on the first thing wrong with one training attempt's facts."""
    if not facts.fit_calls and facts.is_history:
        # A History, but no fit of the model received: another model was trained.
        fail("train.other_model")
    if not facts.fit_calls:
        fail("train.no_fit", found=found_type(facts.returned_type))
    if not facts.weights_changed:
        fail("train.weights_unchanged")
    if not facts.weights_finite:
        fail("train.weights_not_finite")
    if not facts.is_history:
        fail("train.not_history", found=found_type(facts.returned_type))
    if not facts.from_fit:
        fail("train.not_from_fit")
    if facts.default_epochs != EXPECTED_EPOCHS:
        fail("train.epochs", found=facts.epochs, expected=EXPECTED_EPOCHS)
    if facts.epochs != EXPECTED_EPOCHS:
        # The signature is right; the body trains a fixed number of epochs instead.
        fail("train.epochs_fixed", found=facts.epochs, expected=EXPECTED_EPOCHS)
    missing = [m for m in tracked_metrics(facts.metrics) if m not in facts.metrics]
    if missing:
        fail("train.metrics", missing=", ".join(missing))
    if facts.epochs_probe.epochs != reference.EPOCHS_PROBE:
        fail("train.epochs_parameter", fraction=0.5)


@check("evaluate", step="evaluate_model")
def test_evaluate(ctx, verdict):
    facts = ctx.facts("evaluate_model")
    if facts.values is None or len(facts.values) != 2:
        fail("evaluate.not_pair", found=found_type(facts.type))
    if not facts.numbers:
        fail("evaluate.not_floats", found=found_types(facts.types or []))
    loss, accuracy = facts.values
    if not facts.finite:
        fail("evaluate.not_finite", found=f"({loss}, {accuracy})")
    measured = _measured(ctx, "evaluate_model")
    tolerance = ctx.config.grading.evaluate_tolerance
    if _swapped(loss, accuracy, measured, tolerance):
        fail("evaluate.swapped", loss=f"{loss:.4f}", accuracy=f"{accuracy:.4f}")
    # Written as "not close" so that a NaN from anywhere fails.
    if not abs(accuracy - measured.accuracy) <= tolerance:
        fail("evaluate.accuracy_mismatch", found=f"{accuracy:.4f}", expected=f"{measured.accuracy:.4f}")
    sums_to_one = np.allclose(measured.probabilities.sum(axis=-1), 1.0, atol=1e-3)
    if sums_to_one and not abs(loss - measured.loss) <= max(0.01, 0.02 * measured.loss):
        fail("evaluate.loss_mismatch", found=f"{loss:.4f}", expected=f"{measured.loss:.4f}")
    replaced = stand_ins(ctx, FEEDS["evaluate_model"])
    if replaced:
        verdict.ok("evaluate.ok_standin", accuracy=f"{accuracy:.4f}", steps=steps_phrase(replaced))
    else:
        verdict.ok("evaluate.ok", accuracy=f"{accuracy:.4f}")


def _swapped(loss: float, accuracy: float, measured, tolerance: float) -> bool:
    """The pair came back as (accuracy, loss): each value is the other one the grader measured."""
    return (
        abs(loss - measured.accuracy) <= tolerance
        and abs(accuracy - measured.loss) <= max(0.01, 0.02 * measured.loss)
        and abs(accuracy - measured.accuracy) > tolerance
    )


def _series_match(values, expected) -> bool:
    # A NaN copied faithfully from the history (a diverged training) is a match.
    return len(values) == len(expected) and bool(np.allclose(values, expected, rtol=1e-5, atol=1e-6, equal_nan=True))


def _part_error(function: str, key: str, error: ErrorInfo) -> tuple[str, dict]:
    if error.type == "NotImplementedError":
        return "step.not_implemented", {"function": function}
    if error.type == "MissingFunction":
        return "step.missing", {"function": function}
    return key, {"error_type": error.type, "line": error.line or "?"}


@check("history", step="history")
def test_history(ctx, verdict):
    facts = ctx.facts("history")
    history, epochs = facts.history, facts.epochs
    problems = []
    frame = facts.frame
    if frame.error is not None:
        problems.append(_part_error("history_frame", "history.frame_error", frame.error))
    elif not frame.is_frame:
        problems.append(("history.not_frame", {"found": found_type(frame.type)}))
    elif frame.rows != epochs:
        problems.append(("history.frame_rows", {"found": frame.rows, "expected": epochs}))
    else:
        wrong = [m for m in tracked_metrics(history) if m in history and not _series_match(frame.columns.get(m, []), history[m])]
        if wrong:
            problems.append(("history.frame_columns", {"missing": ", ".join(wrong)}))
    figure = facts.figure
    if figure.error is not None and frame.error is not None and figure.error.function == "history_frame":
        # plot_history failed inside the student's history_frame: the same mistake, already counted once.
        problems[0] = ("history.frame_error_both", {"error_type": frame.error.type, "line": frame.error.line or "?"})
    elif figure.error is not None:
        problems.append(_part_error("plot_history", "history.plot_error", figure.error))
    elif not figure.is_figure:
        problems.append(("history.not_figure", {"found": found_type(figure.type)}))
    else:
        lines = [line for ax in figure.axes for line in ax.lines]
        missing = [m for m in tracked_metrics(history) if m in history and not any(_series_match(line, history[m]) for line in lines)]
        if missing:
            problems.append(("history.plot_curves", {"missing": ", ".join(missing)}))
    if problems:
        key, params = problems[0]
        fail(key, fraction=0.5 if len(problems) == 1 else 0.0, **params)
    replaced = stand_ins(ctx, FEEDS["history"])
    if replaced:
        verdict.ok("history.ok_standin", epochs=epochs, steps=steps_phrase(replaced))
    else:
        verdict.ok("history.ok", epochs=epochs)


@check("predict", step="predict")
def test_predict(ctx, verdict):
    facts = ctx.facts("predict")
    probabilities = _measured(ctx, "predict").probabilities
    tolerance = ctx.config.grading.prediction_tolerance
    totals = []
    for sample in facts.samples:
        index = sample.index
        if sample.probs_type is None:
            fail("predict.not_pair", found=found_type(sample.type))
        if sample.probs_shape is None or len(sample.probs_shape) != 1 or sample.probs is None:
            fail("predict.probs_shape", found=str(sample.probs_shape) if sample.probs_shape else found_type(sample.probs_type))
        probs = np.asarray(sample.probs, dtype=float)
        if sample.label is None:
            fail("predict.label_type", found=found_type(sample.label_type))
        if not 0 <= index < len(probabilities):
            fail("step.tampered", function="predict_sample", names="?")  # the grader asks for indices of the test set only
        expected = probabilities[index]
        if not np.isfinite(probs).all():
            fail("predict.not_finite", index=index)
        # A model without softmax gives no probabilities: that is the
        # architecture's fault, not predict_sample's, which must return them as they are.
        if abs(float(probs.sum()) - 1.0) > 1e-3 and abs(float(expected.sum()) - 1.0) <= 1e-3:
            fail("predict.not_probabilities", total=f"{probs.sum():.4f}")
        if int(np.argmax(probs)) != sample.label:
            fail("predict.label_not_argmax", index=index, label=sample.label, argmax=int(np.argmax(probs)))
        if probs.shape != expected.shape or not np.allclose(probs, expected, atol=tolerance):
            fail("predict.not_model_output", index=index)
        totals.append(float(probs.sum()))
    off = [t for t in totals if abs(t - 1.0) > 1e-3]
    replaced = stand_ins(ctx, FEEDS["predict"])
    if off:
        # The model's own outputs, faithfully returned: not probabilities, and the message says why.
        verdict.ok("predict.ok_logits", total=f"{off[0]:.4f}")
    elif replaced:
        verdict.ok("predict.ok_standin", steps=steps_phrase(replaced))
    else:
        verdict.ok("predict.ok")


@check("min_accuracy")
def test_min_accuracy(ctx, verdict):
    ctx.fail_if_unimportable(None)
    replaced = stand_ins(ctx)
    # train_model failed but the grader trained the student's own model (the reference training of the
    # activity's length): the model is the student's, so it is measured, and the message says so.
    # The observer records which training it did; an observation without that record is read from the History kept.
    observed_training = getattr(ctx.run, "grader_training", "")
    graded_training = "train_model" in replaced and (observed_training == "student_model" or (not observed_training and _full_grader_training(ctx)))
    blocking = [s for s in replaced if (s in MODEL_STEPS and not (s == "train_model" and graded_training)) or _status(ctx, s) == "tampered"]
    helped = [s for s in replaced if s not in blocking]
    threshold = ctx.config.grading.min_accuracy
    if blocking:
        those = part("min_accuracy.those.one" if len(blocking) == 1 else "min_accuracy.those.several")
        # The figure comes from the stand-in's short training when train_model was replaced: say so.
        training = (
            part("min_accuracy.training.standin", epochs=STANDIN_EPOCHS, samples=f"{STANDIN_SAMPLES:,}".replace(",", " "))
            if "train_model" in replaced
            else part("min_accuracy.training.student")
        )
        fail(
            "min_accuracy.blocked", steps=steps_phrase(blocking), those=those, accuracy=_standin_accuracy(ctx), threshold=f"{threshold:.2f}", training=training
        )
    measured = _measured(ctx, None)
    verdict.metric("test_accuracy", round(measured.accuracy, 4))
    if not measured.recomputed:
        # Only the grader's own forward pass counts, never the worker's report.
        fail("min_accuracy.not_recomputed")
    if not measured.inputs_consistent:
        fail("min_accuracy.inputs_inconsistent")
    if graded_training:
        note = part("min_accuracy.note.grader_training", steps=steps_phrase(helped), epochs=EXPECTED_EPOCHS)
    else:
        note = part("min_accuracy.note.standins", steps=steps_phrase(helped)) if helped else part("min_accuracy.note.own")
    if measured.accuracy < threshold:
        failed = [s for s in failed_steps(ctx) if s not in helped]
        fail("min_accuracy.low", accuracy=f"{measured.accuracy:.4f}", threshold=f"{threshold:.2f}", note=note, causes=accuracy_causes(_hint_facts(ctx), failed))
    if graded_training:
        verdict.ok(
            "min_accuracy.ok_grader_training",
            accuracy=f"{measured.accuracy:.4f}",
            threshold=f"{threshold:.2f}",
            steps=steps_phrase(helped),
            epochs=EXPECTED_EPOCHS,
        )
    elif helped:
        verdict.ok("min_accuracy.ok_with_standins", accuracy=f"{measured.accuracy:.4f}", threshold=f"{threshold:.2f}", steps=steps_phrase(helped))
    else:
        verdict.ok("min_accuracy.ok", accuracy=f"{measured.accuracy:.4f}", threshold=f"{threshold:.2f}")


def _full_grader_training(ctx) -> bool:
    """The History kept with the model has the activity's epochs: the grader trained the student's model in full."""
    training = ctx.grader_training
    return training is not None and training.epochs == EXPECTED_EPOCHS


def failed_steps(ctx) -> list[str]:
    """The pipeline steps whose own check does not give full marks, so a low accuracy never contradicts them."""
    from grader.checks import check_data

    checks = {
        "normalize": check_data.test_normalize,
        "build_model": check_model.test_architecture,
        "compile_model": check_model.test_compile,
        "train_model": test_train,
    }
    failed = []
    for step, run_check in checks.items():
        try:
            run_check(ctx, Verdict())
        except CheckFailed as failure:
            if failure.fraction < 1.0:
                failed.append(step)
    return failed


def _standin_accuracy(ctx) -> str:
    """The accuracy of the model the grader measured (with its stand-ins), as text; "?" if none."""
    return "?" if ctx.measurement is None else f"{ctx.measurement.accuracy:.4f}"


def _measured(ctx, step: str | None):
    """The grader's measurement of the trained model; fails the check, saying why, when there is none."""
    if ctx.measurement is None:
        outcome = ctx.run.outcome("train_model")
        status = outcome.status if outcome is not None else "not_run"
        fail(
            "measure.no_model",
            function=function_of(step) if step else "min_accuracy",
            status=part(f"measure.status.{status}" if status in TRAIN_ENDINGS else "measure.status.other"),
        )
    return ctx.measurement


def _out_of_unit_range(low, high) -> bool:
    return high is not None and low is not None and (high > 1.0 + UNIT_TOLERANCE or high < 0.5 or low < -UNIT_TOLERANCE)


def _fit_data_range(train_facts: TrainFacts) -> tuple[float, float] | None:
    """(min, max) of the first images model.fit received outside [0, 1], else None."""
    for call in train_facts.fit_calls:
        if _out_of_unit_range(call.x_min, call.x_max):
            return call.x_min, call.x_max
    return None


def normalize_output_right(normalize_facts: NormalizeFacts | None) -> bool:
    """train_model received images in [0, 1]: the student's normalize gave them, or its
    stand-in did (no values observed: it failed, or returned no array)."""
    if normalize_facts is None or normalize_facts.dtype is None:
        return True
    error = normalize_facts.max_error
    return error is not None and error <= UNIT_TOLERANCE and normalize_facts.is_float


def _hint_facts(ctx) -> dict:
    return {step: ctx.observed(step) for step in PIPELINE}


def accuracy_causes(facts: dict, failed: list[str] | tuple = ()) -> list[dict]:
    """What was observed that explains a low accuracy, one message per cause, with its step.

    ``facts`` maps each pipeline step to its observations (None when it did
    not run cleanly). ``failed`` lists the steps whose own check failed: each
    one not named by an observed cause is named as a likely cause, so this
    message never says "no difference" of a step another message faults.
    Only if nothing was seen and no step failed does the message say so and
    point at the learning curves.
    """
    causes: list[dict] = []
    named: set[str] = set()
    train, normalized = facts["train_model"], facts["normalize"]
    calls = train.fit_calls if train is not None else []
    low, high = (calls[-1].x_min, calls[-1].x_max) if calls else (normalized.min, normalized.max) if normalized is not None else (None, None)
    if _out_of_unit_range(low, high):
        # Whose fault: normalize's output, or train_model changing right data.
        cause = "fit_range" if calls and normalize_output_right(normalized) else "input_range"
        causes.append(part(f"min_accuracy.cause.{cause}", min=f"{low:.4g}", max=f"{high:.4g}"))
        named.add("train_model" if cause == "fit_range" else "normalize")
    built, compiled = facts["build_model"], facts["compile_model"]
    dense = [layer for layer in effective_layers(built.default) if layer[0] == "dense"] if built is not None else []
    compiled = compiled.default if compiled is not None else None
    from_logits = compiled is not None and compiled.loss is not None and compiled.loss.from_logits
    if dense and dense[-1][2] != reference.OUTPUT_ACTIVATION and not from_logits:
        causes.append(part("min_accuracy.cause.output_activation", activation=dense[-1][2]))
        named.add("build_model")
    if len(dense) >= 2 and dense[0][2] not in reference.LEARNING_ACTIVATIONS:
        causes.append(part("min_accuracy.cause.hidden_activation", activation=dense[0][2]))
        named.add("build_model")
    optimizer = compiled.optimizer if compiled is not None else None
    if optimizer and optimizer != reference.OPTIMIZER_CLASS:
        causes.append(part("min_accuracy.cause.optimizer", optimizer=optimizer_words(optimizer)))
        named.add("compile_model")
    batch = calls[-1].batch_size if calls else None
    if isinstance(batch, int) and not isinstance(batch, bool) and batch > LARGE_BATCH:
        # Few weight updates per epoch: what a batch of the whole training set gives.
        causes.append(part("min_accuracy.cause.batch_size", batch_size=batch))
        named.add("train_model")
    epochs = train.epochs if train is not None else None
    if isinstance(epochs, int) and epochs < EXPECTED_EPOCHS:
        causes.append(part("min_accuracy.cause.epochs", epochs=epochs, expected=EXPECTED_EPOCHS))
        named.add("train_model")
    for step in PIPELINE:
        if step in failed and step not in named:
            causes.append(part("min_accuracy.cause.step_failed", number=number_of(step), function=function_of(step)))
    return causes or [part("min_accuracy.cause.unknown")]
