"""Checks of training and its results: train, evaluate, history, predict, min_accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.context import FUNCTION_OF_STEP
from grader.checks.verdict import fail

EXPECTED_EPOCHS = 5


def tracked_metrics(keys) -> tuple[str, ...]:
    """The four curves a History must hold. The accuracy may carry the name of
    its object form (``SparseCategoricalAccuracy()`` records
    ``sparse_categorical_accuracy``), which compile accepts too."""
    named = sorted(k for k in keys if k.endswith("accuracy") and not k.startswith("val_"))
    accuracy = "accuracy" if "accuracy" in named or not named else named[0]
    return ("loss", accuracy, "val_loss", f"val_{accuracy}")
PIPELINE = ("normalize", "build_model", "compile_model", "train_model")


@pytest.mark.check("train")
def test_train(ctx, verdict):
    facts = ctx.facts("train_model")
    if not facts["fit_calls"]:
        fail("train.no_fit", found=facts["returned_type"])
    if not facts["weights_changed"]:
        fail("train.weights_unchanged")
    if not facts.get("weights_finite", True):
        fail("train.weights_not_finite")
    if not facts["is_history"]:
        fail("train.not_history", found=facts["returned_type"])
    if not facts["from_fit"]:
        fail("train.not_from_fit")
    if facts.get("default_epochs") != EXPECTED_EPOCHS or facts.get("epochs") != EXPECTED_EPOCHS:
        fail("train.epochs", found=facts.get("epochs"), expected=EXPECTED_EPOCHS)
    recorded = facts.get("metrics", [])
    missing = [m for m in tracked_metrics(recorded) if m not in recorded]
    if missing:
        fail("train.metrics", missing=", ".join(missing))
    if facts["epochs_probe"].get("epochs") != 1:
        fail("train.epochs_parameter", fraction=0.5)
    verdict.ok("train.ok", epochs=EXPECTED_EPOCHS, seconds=round(ctx.run.outcome("train_model").seconds, 1))


@pytest.mark.check("evaluate")
def test_evaluate(ctx, verdict):
    facts = ctx.facts("evaluate_model")
    if "values" not in facts:
        fail("evaluate.not_pair", found=facts["type"])
    if not facts["numbers"]:
        fail("evaluate.not_floats", found=", ".join(facts["types"]))
    loss, accuracy = facts["values"]
    if not facts.get("finite", True):
        fail("evaluate.not_finite", found=f"({loss}, {accuracy})")
    measured = ctx.measurement
    tolerance = ctx.config.grading.evaluate_tolerance
    # Written as "not close" so that a NaN from anywhere fails.
    if not abs(accuracy - measured.accuracy) <= tolerance:
        fail("evaluate.accuracy_mismatch", found=f"{accuracy:.4f}", expected=f"{measured.accuracy:.4f}")
    sums_to_one = np.allclose(measured.probabilities.sum(axis=-1), 1.0, atol=1e-3)
    if sums_to_one and not abs(loss - measured.loss) <= max(0.01, 0.02 * measured.loss):
        fail("evaluate.loss_mismatch", found=f"{loss:.4f}", expected=f"{measured.loss:.4f}")
    verdict.ok("evaluate.ok", accuracy=f"{accuracy:.4f}")


def _series_match(values, expected) -> bool:
    # A NaN copied faithfully from the history (a diverged training) is a match.
    return len(values) == len(expected) and bool(np.allclose(values, expected, rtol=1e-5, atol=1e-6, equal_nan=True))


def _part_error(function: str, key: str, error: dict) -> tuple[str, dict]:
    if error["type"] == "NotImplementedError":
        return "step.not_implemented", {"function": function}
    if error["type"] == "MissingFunction":
        return "step.missing", {"function": function}
    return key, {"error_type": error["type"], "line": error.get("line") or "?"}


@pytest.mark.check("history")
def test_history(ctx, verdict):
    facts = ctx.facts("history")
    history, epochs = facts["history"], facts["epochs"]
    problems = []
    frame = facts["frame"]
    if "error" in frame:
        problems.append(_part_error("history_frame", "history.frame_error", frame["error"]))
    elif not frame["is_frame"]:
        problems.append(("history.not_frame", {"found": frame["type"]}))
    elif frame["rows"] != epochs:
        problems.append(("history.frame_rows", {"found": frame["rows"], "expected": epochs}))
    else:
        wrong = [m for m in tracked_metrics(history) if m in history and not _series_match(frame["columns"].get(m, []), history[m])]
        if wrong:
            problems.append(("history.frame_columns", {"missing": ", ".join(wrong)}))
    figure = facts["figure"]
    if "error" in figure:
        problems.append(_part_error("plot_history", "history.plot_error", figure["error"]))
    elif not figure["is_figure"]:
        problems.append(("history.not_figure", {"found": figure["type"]}))
    else:
        lines = [line for ax in figure["axes"] for line in ax["lines"]]
        missing = [m for m in tracked_metrics(history) if m in history and not any(_series_match(line, history[m]) for line in lines)]
        if missing:
            problems.append(("history.plot_curves", {"missing": ", ".join(missing)}))
    if problems:
        key, params = problems[0]
        fail(key, fraction=0.5 if len(problems) == 1 else 0.0, **params)
    verdict.ok("history.ok", epochs=epochs)


@pytest.mark.check("predict")
def test_predict(ctx, verdict):
    facts = ctx.facts("predict")
    probabilities = ctx.measurement.probabilities
    tolerance = ctx.config.grading.prediction_tolerance
    for sample in facts["samples"]:
        index = sample["index"]
        if "probs_type" not in sample:
            fail("predict.not_pair", found=sample["type"])
        if sample["probs_shape"] is None or len(sample["probs_shape"]) != 1 or sample["probs"] is None:
            fail("predict.probs_shape", found=sample["probs_shape"] or sample["probs_type"])
        probs = np.asarray(sample["probs"], dtype=float)
        if sample["label"] is None:
            fail("predict.label_type", found=sample["label_type"])
        expected = probabilities[index]
        if not np.isfinite(probs).all():
            fail("predict.not_finite", index=index)
        # A model without softmax gives no probabilities: that is the
        # architecture's fault, not predict_sample's, which must return them as they are.
        if abs(float(probs.sum()) - 1.0) > 1e-3 and abs(float(expected.sum()) - 1.0) <= 1e-3:
            fail("predict.not_probabilities", total=f"{probs.sum():.4f}")
        if int(np.argmax(probs)) != sample["label"]:
            fail("predict.label_not_argmax", index=index, label=sample["label"], argmax=int(np.argmax(probs)))
        if probs.shape != expected.shape or not np.allclose(probs, expected, atol=tolerance):
            fail("predict.not_model_output", index=index)
    verdict.ok("predict.ok")


@pytest.mark.check("min_accuracy")
def test_min_accuracy(ctx, verdict):
    unusable = [s for s in PIPELINE if s in ctx.run.replaced or getattr(ctx.run.outcome(s), "status", None) != "ok"]
    blocked = [FUNCTION_OF_STEP[s] for s in unusable]
    if blocked:
        fail("min_accuracy.blocked", steps=", ".join(blocked))
    measured = ctx.measurement
    threshold = ctx.config.grading.min_accuracy
    ctx.metrics["test_accuracy"] = round(measured.accuracy, 4)
    if not measured.recomputed:
        # Only the grader's own forward pass counts, never the worker's report.
        fail("min_accuracy.not_recomputed")
    if not measured.inputs_consistent:
        fail("min_accuracy.inputs_inconsistent")
    if measured.accuracy < threshold:
        fail("min_accuracy.low", accuracy=f"{measured.accuracy:.4f}", threshold=f"{threshold:.2f}")
    verdict.ok("min_accuracy.ok", accuracy=f"{measured.accuracy:.4f}", threshold=f"{threshold:.2f}")
