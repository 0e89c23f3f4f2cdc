"""The beginners' mistakes of issue 19, facts in and message out: no message shows
identical expected and found, evaluate's order, where min_accuracy's figure comes
from, messages that agree with the other checks' verdicts, and flags that name
their cause in summary.md and the terminal."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from test_check_table import grading_context

from test_feedback_rules import CONFIG, FLATTEN, build_facts, context, dense, model, train_facts, verdict_of

from grader import i18n, terminal
from grader.checks import causes, check_model, check_training
from grader.checks.check_model import Deviation, judge
from grader.exporters import summary_md
from grader.facts import GraderTraining
from grader.results import CheckResult, GradingResult

ROOT = Path(__file__).resolve().parents[1]
SAME = "Flatten -> Dense(128, relu) -> Dense(10, softmax)"


def _keys_with_expected_and_found() -> list[str]:
    es = i18n.catalogue("es")
    return sorted(k for k, v in es.items() if re.match(r"(architecture|compile)\.[a-z_]+$", k) and "{expected}" in v and "{found}" in v)


# Each key's own fields as the facts give them; "found" and "expected" come from the model's description.
ITEM_PARAMS = {
    "architecture.parameters": {"call": "build_model(64, 'tanh')", "found": SAME, "expected": "Flatten -> Dense(64, tanh) -> Dense(10, softmax)"},
    "architecture.param_count": {"found": 999, "expected": 101_770},
}
BOTH_SIDES = {
    "es": (r"[Ee]speraba (.+?); se encontró \1(?:[.;]|$)", r"da (.+?) en lugar de \1(?:[.:]|$)"),
    "en": (r"[Ee]xpected (.+?); found \1(?:[.;]|$)", r"gives (.+?) instead of \1(?:[.:]|$)"),
}


@pytest.mark.parametrize("key", _keys_with_expected_and_found())
@pytest.mark.parametrize("lang", ["es", "en"])
def test_no_message_shows_identical_expected_and_found(key, lang):
    """The layers read the same on both sides (the issue's build_model that ignores its
    parameters, a padded parameter count, custom layers): the message says what differs."""
    check = key.partition(".")[0]
    own = {"call": "build_model(64, 'tanh')", "error_type": "TypeError", "names": "MiDense", "activation": "sigmoid", "units": 64}
    single = key if key != f"{check}.several" else f"{check}.units"
    deviations = [Deviation("parameters" if "parameters" in single else "structure", single, {**own, **ITEM_PARAMS.get(single, {})})]
    if key == f"{check}.several":
        deviations.append(Deviation("parameters", f"{check}.parameters_error", own))
    got, _, fields = judge(check, deviations, CONFIG.partial.architecture, {"found": SAME, "expected": SAME})
    text = i18n.render(lang, got, **fields)
    for pattern in BOTH_SIDES[lang]:
        assert not re.search(pattern, text), (got, text)
    if single not in ITEM_PARAMS:
        assert SAME in text  # what was found is still shown


def test_build_model_that_ignores_its_parameters_says_so_with_the_calls():
    ignored = model(FLATTEN, dense(128, "relu"), dense(10, "softmax"))
    facts = build_facts(units_64_tanh=ignored, list_256_128=ignored, classes_5=ignored)
    key, fraction, message = verdict_of(check_model.test_architecture, context(build_model=facts))
    assert key == "architecture.parameters_ignored" and fraction == pytest.approx(1 - CONFIG.partial.architecture["parameters"])
    assert message.count(SAME) == 1 + 3  # the default once, then what each call gave
    assert "no usa sus parámetros" in message and "build_model(64, 'tanh')" in message and "build_model(num_classes=5)" in message
    assert "Se esperaba" not in message


def test_evaluate_returning_accuracy_then_loss_is_named_as_the_order():
    # The model's loss is 0.2 and its accuracy 0.95 (test_feedback_rules.context).
    facts = {"type": "tuple", "types": ["float", "float"], "numbers": True, "values": [0.95, 0.2], "finite": True}
    key, _, message = verdict_of(check_training.test_evaluate, context(evaluate_model=facts))
    assert key == "evaluate.swapped" and "orden inverso" in message and "(pérdida, precisión)" in message
    assert "0.2000" in message and "0.9500" in message
    assert i18n.render("en", key, loss="0.9500", accuracy="0.2000").startswith("evaluate_model: the two values are in reverse order")


def test_min_accuracy_after_the_graders_full_training_measures_the_students_model():
    ctx = context(replaced={"train_model"}, statuses={"train_model": "error"}, accuracy=0.95)
    ctx.grader_training = GraderTraining(epochs=check_training.EXPECTED_EPOCHS)
    key, fraction, message = verdict_of(check_training.test_min_accuracy, ctx)
    assert (key, fraction) == ("min_accuracy.ok_grader_training", 1.0)
    assert "con la versión del calificador de tu paso 6 (train_model), tu modelo alcanza" in message and "5 épocas" in message
    assert "with the grader's version of your step 6 (train_model)" in i18n.render("en", key, **_params(ctx))

    # The same, low: the figure is explained, and it is not "trained by your functions".
    low = context(replaced={"normalize", "train_model"}, statuses={"train_model": "error"}, accuracy=0.5)
    low.grader_training = GraderTraining(epochs=check_training.EXPECTED_EPOCHS)
    key, _, message = verdict_of(check_training.test_min_accuracy, low)
    assert key == "min_accuracy.low"
    assert "con la versión del calificador de tu paso 3 (normalize) y paso 6 (train_model): es tu modelo, entrenado por el calificador 5 épocas" in message


def _params(ctx) -> dict:
    from grader.checks.verdict import Verdict

    verdict = Verdict()
    check_training.test_min_accuracy(ctx, verdict)
    return verdict.params


def test_the_short_stand_in_training_still_blocks_and_says_it_was_short():
    ctx = context(replaced={"train_model"}, statuses={"train_model": "error"}, accuracy=0.2255)
    ctx.grader_training = GraderTraining(epochs=1)
    key, _, message = verdict_of(check_training.test_min_accuracy, ctx)
    assert key == "min_accuracy.blocked" and "0.2255" in message and "entrenamiento de sustitución corto" in message


def test_a_low_accuracy_never_says_no_difference_when_a_step_check_failed_and_names_it():
    # hidden_units ignored (16 units): the architecture check fails, no observed cause names step 4.
    small = model(FLATTEN, dense(16, "relu"), dense(10, "softmax"))
    key, _, message = verdict_of(check_training.test_min_accuracy, context(accuracy=0.5, build_model=build_facts(small)))
    assert key == "min_accuracy.low"
    assert "no se vio ninguna diferencia" not in message
    assert "Paso 4 (build_model): su propia comprobación falló; es la causa probable" in message
    # Nothing failed and nothing seen: then, and only then, "no difference".
    _, _, message = verdict_of(check_training.test_min_accuracy, context(accuracy=0.5))
    assert "no se vio ninguna diferencia" in message
    # A failed step already named by an observed cause is not named twice.
    _, _, message = verdict_of(check_training.test_min_accuracy, context(accuracy=0.5, train_model=train_facts(epochs=1)))
    assert message.count("Paso 6 (train_model)") == 1
    assert "Step 4 (build_model): its own check failed" in i18n.render("en", "min_accuracy.cause.step_failed", number=4, function="build_model")


def test_the_real_context_reads_the_graders_training_from_the_kept_history(tmp_path):
    ctx = grading_context()
    ctx.run.evidence_dir = tmp_path
    (tmp_path / "history.json").write_text(json.dumps({"history": {}, "epoch": [0, 1, 2, 3, 4], "params": {}}))
    assert ctx.grader_training == GraderTraining(epochs=5)
    other = grading_context()
    other.run.evidence_dir = tmp_path / "none"
    assert other.grader_training is None


def _flagged() -> GradingResult:
    checks = [CheckResult("normalize", "Paso 3: normalizar (normalize)", 10, 10, True, "Correcto.", "normalize.ok")]
    cause = causes.error_cause({"type": "ModuleNotFoundError", "message": "No module named 'torch'", "line": 3})
    result = GradingResult(10, 10, checks, {"test_accuracy": None}, ["import_salvaged", "worker_restarted"], language="es")
    result.flag_details = {"import_salvaged": {"cause": cause}}
    return result


def test_a_flag_names_its_cause_in_summary_md_and_the_terminal():
    result = GradingResult.from_dict(json.loads(json.dumps(_flagged().to_dict())))  # as score.json keeps it
    summary = summary_md.render(result)
    stream = io.StringIO()
    terminal.print_result(result, "grading", stream)
    shown = " ".join(stream.getvalue().split())
    for text in (summary, shown):
        assert "el entorno de calificación solo tiene los paquetes de requirements.txt" in text and "«torch»" in text
        assert "Un paso detuvo el proceso" in text  # a flag without details keeps its sentence
    # The last line names only what a student reads, and score.json for tools.
    assert shown.rstrip().endswith("Informe completo en grading/summary.md (y grading/score.json para herramientas).")
    assert "gradescope.json" not in shown and "legacy-classroom" not in shown
    assert i18n.render("en", "summary.written", out="grading") == "Full report in grading/summary.md (and grading/score.json for tools)."


def test_one_failing_parameterised_call_keeps_its_own_message():
    # build_model([256, 128]) fails: the message names that call, not "the parameters are ignored".
    facts = build_facts(list_256_128={"error": {"type": "ValueError"}})
    key, _, message = verdict_of(check_model.test_architecture, context(build_model=facts))
    assert key == "architecture.parameters_error" and "build_model([256, 128])" in message


def test_answers_outside_the_markers_and_emptied_render_in_both_languages():
    import tomllib

    from grader.answers.rubric import load_rubric, score_answer
    from grader.config import DEFAULT_CONFIG

    with open(DEFAULT_CONFIG, "rb") as handle:
        rubric = load_rubric(tomllib.load(handle)["rubric"])
    template = (ROOT / "assignment" / "answers" / "q2.md").read_text("utf-8")
    below = score_answer("q2", template + "\nDividir entre 255 deja los píxeles entre 0 y 1.\n", rubric["q2"])
    emptied = score_answer("q2", template.replace("_Escribe aquí tu respuesta._", ""), rubric["q2"])
    assert (below.message_key, emptied.message_key) == ("answers.outside_markers", "answers.emptied")
    for lang in ("es", "en"):
        below_text = i18n.render(lang, below.message_key, **below.message_params)
        emptied_text = i18n.render(lang, emptied.message_key, **emptied.message_params)
        assert "«Dividir entre 255 deja los píxeles entre 0 …»" in below_text and "<!-- FIN DE LA RESPUESTA -->" in below_text
        assert ("vacía" if lang == "es" else "empty") in emptied_text


def test_an_unknown_import_error_keeps_the_test_code_hint_in_both_languages():
    cause = causes.error_cause({"type": "ZeroDivisionError", "message": "division by zero", "line": 130})
    assert cause["key"] == "crash.import_unknown"
    es = i18n.render("es", "flag.import_salvaged_cause", cause=cause)
    en = i18n.render("en", "flag.import_salvaged_cause", cause=cause)
    assert "ZeroDivisionError en la línea 130" in es and 'if __name__ == "__main__":' in es
    assert "ZeroDivisionError on line 130" in en and "division by zero" in en


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_new_min_accuracy_and_import_keys_render_in_both_languages(lang):
    steps = check_training.steps_phrase(["normalize", "train_model"])
    texts = [
        i18n.render(lang, "min_accuracy.ok_grader_training", accuracy="0.9500", threshold="0.90", steps=steps, epochs=5),
        i18n.render(
            lang,
            "min_accuracy.low",
            accuracy="0.5",
            threshold="0.90",
            note={"key": "min_accuracy.note.grader_training", "params": {"steps": steps, "epochs": 5}},
            causes=[],
        ),
        i18n.render(
            lang, "step.import_failed", function="load_data", cause=causes.error_cause({"type": "SyntaxError", "message": "invalid syntax", "line": 4})
        ),
        i18n.render(lang, "step.import_failed_again", function="normalize", first="load_data"),
        i18n.render(lang, "step.missing_near", function="predict_sample", near="predict_sampel"),
        i18n.render(lang, "evaluate.swapped", loss="0.9500", accuracy="0.2000"),
    ]
    assert all("{" not in text for text in texts)


def _history(frame: dict, figure: dict) -> dict:
    return {"history": {"loss": [1.0, 0.5]}, "epochs": 2, "frame": frame, "figure": figure}


def test_plot_history_failing_inside_history_frame_counts_once():
    # pd.DataFrame(history) instead of history.history: plot_history, which calls history_frame, fails with it.
    frame_error = {"error": {"type": "ValueError", "line": 97, "function": "history_frame"}}
    inside = _history(frame_error, {"error": {"type": "ValueError", "line": 97, "function": "history_frame"}})
    key, fraction, message = verdict_of(check_training.test_history, context(history=inside))
    assert (key, fraction) == ("history.frame_error_both", 0.5)
    assert "plot_history falló por lo mismo" in message and "cuenta como un solo error" in message
    assert "counts as one mistake" in i18n.render("en", key, error_type="ValueError", line=97)
    # A plot that fails in its own code is a second mistake: both halves are lost.
    own = _history(frame_error, {"error": {"type": "KeyError", "line": 104, "function": "plot_history"}})
    key, fraction, _ = verdict_of(check_training.test_history, context(history=own))
    assert (key, fraction) == ("history.frame_error", 0.0)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_huge_batch_is_named_as_the_cause_of_a_low_accuracy(lang):
    calls = [{"epochs": 5, "batch_size": 3000, "x_min": 0.0, "x_max": 1.0, "x_shape": [3000, 28, 28]}]
    ctx = context(accuracy=0.5475, train_model=train_facts(fit_calls=calls))
    key, _, _ = verdict_of(check_training.test_min_accuracy, ctx)
    assert key == "min_accuracy.low"
    from grader.checks.verdict import CheckFailed, Verdict

    with pytest.raises(CheckFailed) as failed:
        check_training.test_min_accuracy(ctx, Verdict())
    message = i18n.render(lang, failed.value.key, **failed.value.params)
    assert "batch_size=3000" in message and ("Paso 6 (train_model)" in message or "Step 6 (train_model)" in message)
    assert "no se vio ninguna diferencia" not in message and "no difference" not in message


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_cut_training_set_names_the_shape_mnist_has(lang):
    arrays = [{"name": "x_train", "type": "ndarray", "shape": [10000, 28, 28], "dtype": "uint8", "equal": False}]
    ctx = grading_context(load_data={"structure_ok": True, "type": "tuple", "arrays": arrays})
    from grader.checks import check_data
    from grader.checks.verdict import CheckFailed, Verdict

    with pytest.raises(CheckFailed) as failed:
        check_data.test_load_data(ctx, Verdict())
    message = i18n.render(lang, failed.value.key, **failed.value.params)
    assert failed.value.key == "load_data.shape" and "[10000, 28, 28]" in message and "[60000, 28, 28]" in message


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_history_that_is_not_the_received_models_fit_is_named(lang):
    # train_model trained a model of its own (or built the History by hand): no fit of the model it received.
    ctx = context(train_model=train_facts(fit_calls=[], weights_changed=False, from_fit=False))
    from grader.checks.verdict import CheckFailed, Verdict

    with pytest.raises(CheckFailed) as failed:
        check_training.test_train(ctx, Verdict())
    message = i18n.render(lang, failed.value.key, **failed.value.params)
    assert failed.value.key == "train.other_model" and "build_model" in message and "History" in message
    # Nothing returned and nothing trained: still "no fit".
    none = context(train_model=train_facts(fit_calls=[], weights_changed=False, from_fit=False, is_history=False, returned_type="NoneType"))
    assert verdict_of(check_training.test_train, none)[0] == "train.no_fit"
