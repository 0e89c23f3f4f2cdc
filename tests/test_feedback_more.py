"""Facts in, verdict out, for the findings tests/test_feedback_rules.py leaves
out: each check's verdict on one wrong fact, rendered in both languages (its
facts and context helpers, imported)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from test_feedback_rules import CONFIG, Run, compile_facts, context, train_facts

from grader import i18n
from grader.checks import check_model, check_training
from grader.checks.context import GradingContext
from grader.checks.verdict import CheckFailed, Verdict


def judged(check, ctx) -> tuple[str, float, dict[str, str]]:
    """(key, fraction, {lang: message}) of one check on ``ctx``."""
    try:
        verdict = Verdict()
        check(ctx, verdict)
        key, fraction, params = verdict.key, 1.0, verdict.params
    except CheckFailed as failed:
        key, fraction, params = failed.key, failed.fraction, failed.params
    return key, fraction, {lang: i18n.render(lang, key, **params) for lang in i18n.LANGUAGES}


HISTORY = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
FIGURE = {"is_figure": True, "axes": [{"lines": [[1.0, 0.5], [1.1, 0.7]], "images": []}]}
FRAME = {"is_frame": True, "rows": 2, "columns": dict(HISTORY)}


def history_facts(frame: dict | None = None, figure: dict | None = None) -> dict:
    return {"history": HISTORY, "epochs": 2, "frame": frame or FRAME, "figure": figure or FIGURE}


def sample(**changes: Any) -> dict:
    probs = [0.01] * 10
    probs[3] = 0.91
    facts = {"index": 0, "type": "tuple", "probs_type": "ndarray", "probs_shape": [10], "probs": probs, "label_type": "int", "label": 3}
    facts.update(changes)
    return facts


# (check, facts of the step it judges, key, fraction, words of the Spanish message, words of the English one)
CASES = {
    "train.weights_unchanged": (
        check_training.test_train,
        {"train_model": train_facts(weights_changed=False)},
        0.0,
        "los pesos del modelo no cambiaron",
        "weights did not change",
    ),
    "train.not_from_fit": (check_training.test_train, {"train_model": train_facts(from_fit=False)}, 0.0, "no es el de model.fit", "not the one from model.fit"),
    "train.metrics": (
        check_training.test_train,
        {"train_model": train_facts(metrics=["accuracy", "loss"])},
        0.0,
        "al historial le falta val_loss, val_accuracy",
        "the history lacks val_loss, val_accuracy",
    ),
    "train.epochs_parameter": (
        check_training.test_train,
        {"train_model": train_facts(epochs_probe={"epochs": 5})},
        0.5,
        "train_model(..., epochs=1) no entrenó 1 época",
        "train_model(..., epochs=1) did not train 1 epoch",
    ),
    "evaluate.not_pair": (
        check_training.test_evaluate,
        {"evaluate_model": {"type": "NoneType"}},
        0.0,
        "se encontró None (la función no devuelve nada",
        "found None",
    ),
    "evaluate.loss_mismatch": (
        check_training.test_evaluate,
        {"evaluate_model": {"type": "tuple", "types": ["float", "float"], "numbers": True, "values": [0.5, 0.95], "finite": True}},
        0.0,
        "devolvió una pérdida de 0.5000, pero el modelo tiene 0.2000",
        "it returned a loss of 0.5000, but the model's loss is 0.2000",
    ),
    "history.frame_rows": (
        check_training.test_history,
        {"history": history_facts(frame={**FRAME, "rows": 5})},
        0.5,
        "una fila por época (2); se encontró 5",
        "one row per epoch (2); found 5",
    ),
    "history.frame_columns": (
        check_training.test_history,
        {"history": history_facts(frame={**FRAME, "columns": {"loss": [1.0, 0.5], "val_loss": [0.0, 0.0]}})},
        0.5,
        "las columnas val_loss no coinciden",
        "columns val_loss do not match",
    ),
    "history.plot_curves": (
        check_training.test_history,
        {"history": history_facts(figure={**FIGURE, "axes": [{"lines": [[1.0, 0.5]], "images": []}]})},
        0.5,
        "faltan las curvas val_loss",
        "the curves val_loss are missing",
    ),
    "history.plot_error": (
        check_training.test_history,
        {"history": history_facts(figure={"error": {"type": "KeyError", "line": 42}})},
        0.5,
        "plot_history falló con KeyError en la línea 42",
        "plot_history failed with KeyError on line 42",
    ),
    "step.missing": (
        check_training.test_history,
        {"history": history_facts(figure={"error": {"type": "MissingFunction"}})},
        0.5,
        "plot_history: la función no existe en tu mnist_dense.py",
        "plot_history: the function does not exist in your mnist_dense.py",
    ),
    "predict.not_pair": (
        check_training.test_predict,
        {"predict": {"samples": [{"index": 0, "type": "list"}]}},
        0.0,
        "(probabilidades, clase); se encontró una lista de Python",
        "(probabilities, class); found a Python list",
    ),
    "predict.label_type": (
        check_training.test_predict,
        {"predict": {"samples": [sample(label_type="str", label=None)]}},
        0.0,
        "la clase debe ser un entero; se encontró un texto (str)",
        "the class must be an integer; found",
    ),
    "predict.not_probabilities": (
        check_training.test_predict,
        {"predict": {"samples": [sample(probs=[0.1] * 3 + [0.91] + [0.1] * 6)]}},
        0.0,
        "las probabilidades suman 1.8100, no 1",
        "the probabilities sum to 1.8100, not 1",
    ),
    "compile.not_compiled": (
        check_model.test_compile,
        {"compile_model": {**compile_facts(), "default": {**compile_facts()["default"], "compiled": False}}},
        0.0,
        "el modelo no quedó compilado",
        "the model was not compiled",
    ),
}


@pytest.mark.parametrize("key", CASES)
def test_one_wrong_fact_gives_its_own_message_in_both_languages(key: str) -> None:
    check, facts, fraction, spanish, english = CASES[key]
    got, got_fraction, messages = judged(check, context(**facts))
    assert (got, got_fraction) == (key, pytest.approx(fraction))
    assert spanish in messages["es"], messages["es"]
    assert english in messages["en"], messages["en"]


def grading_context(run: Run) -> GradingContext:
    """The real context (its ``facts`` judges a step's status), on a run made of facts."""
    return GradingContext(CONFIG, run, None, None, Path("."))


def test_a_step_that_never_ran_says_so_in_both_languages() -> None:
    ctx = grading_context(Run({"train_model": train_facts()}))  # no evaluate_model outcome at all
    key, fraction, messages = judged(check_training.test_evaluate, ctx)
    assert (key, fraction) == ("step.not_run", 0.0)
    assert messages == {
        "es": "evaluate_model: no llegó a ejecutarse. Pista: revisa los pasos anteriores.",
        "en": "evaluate_model: never ran. Hint: check the previous steps.",
    }


def test_a_step_whose_function_is_missing_names_it() -> None:
    ctx = grading_context(Run({"compile_model": compile_facts()}, statuses={"compile_model": "missing"}))
    key, _, messages = judged(check_model.test_compile, ctx)
    assert key == "step.missing"
    assert messages["es"].startswith("compile_model: la función no existe") and messages["en"].startswith("compile_model: the function does not exist")
