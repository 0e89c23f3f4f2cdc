"""Facts in, verdict out: the code checks' judging, without Keras or a grading.

Each test hands a check the observations the sandbox would report and reads
back the catalogue key, the fraction and the rendered message. Together they
reach every message key these checks can produce.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from gradingkit import ROOT

from grader import i18n
from grader.checks import check_data, check_model, check_training
from grader.checks.verdict import CheckOutcome, Verdict, part
from grader.checks.words import found_type, found_types
from grader.config import ConfigError, load_config
from grader.facts import ModelDescription, parse, parse_as

CONFIG = load_config()


# -- facts ------------------------------------------------------------------
def dense(units: int, activation: str) -> dict:
    return {"kind": "dense", "class_name": "Dense", "units": units, "activation": activation, "use_bias": True}


FLATTEN = {"kind": "flatten", "class_name": "Flatten"}


def model(*layers: dict, params: int | None = None) -> dict:
    description = {"is_model": True, "type": "Sequential", "layers": list(layers), "input_shape": [None, 28, 28]}
    description["params"] = check_model.expected_params(parse_as(ModelDescription, description)) if params is None else params
    return description


def build_facts(default: dict | None = None, **variants: dict) -> dict:
    facts = {
        "default": default or model(FLATTEN, dense(128, "relu"), dense(10, "softmax")),
        "variants": {
            "units_64_tanh": model(FLATTEN, dense(64, "tanh"), dense(10, "softmax")),
            "list_256_128": model(FLATTEN, dense(256, "relu"), dense(128, "relu"), dense(10, "softmax")),
            "classes_5": model(FLATTEN, dense(128, "relu"), dense(5, "softmax")),
        },
    }
    facts["variants"].update(variants)
    return facts


def compile_facts(optimizer="Adam", loss="sparse_categorical_crossentropy", from_logits=False, metrics=("accuracy",), returns=True, sgd="SGD") -> dict:
    return {
        "returns_model": returns,
        "default": {
            "is_model": True,
            "compiled": True,
            "optimizer": optimizer,
            "loss": {"name": loss, "from_logits": from_logits},
            "metrics": [{"name": m} for m in metrics],
        },
        "sgd": {"error": {"type": "TypeError"}} if sgd is None else {"optimizer": sgd},
    }


def train_facts(**changes: Any) -> dict:
    facts = {
        "returned_type": "History",
        "is_history": True,
        "from_fit": True,
        "weights_changed": True,
        "weights_finite": True,
        "fit_calls": [{"epochs": 5, "x_min": 0.0, "x_max": 1.0}],
        "default_epochs": 5,
        "epochs": 5,
        "metrics": ["accuracy", "loss", "val_accuracy", "val_loss"],
        "epochs_probe": {"epochs": 1},
    }
    facts.update(changes)
    return facts


NORMALIZED = {"type": "ndarray", "shape": [20, 28, 28], "dtype": "float64", "is_float": True, "input_unchanged": True, "min": 0.0, "max": 1.0, "max_error": 0.0}
RAW_PIXELS = {**NORMALIZED, "dtype": "uint8", "is_float": False, "max": 255.0, "max_error": 254.0}
TWICE = [{"epochs": 5, "x_min": 0.0, "x_max": 1 / 255}]


# -- a grading context made of facts -------------------------------------------
@dataclass
class Outcome:
    step: str
    status: str = "ok"
    data: Any = None
    error: dict | None = None
    seconds: float = 3.0
    printed: str = ""
    tampered: list = field(default_factory=list)


class Run:
    def __init__(self, data: dict[str, Any], replaced=(), statuses: dict[str, str] | None = None) -> None:
        statuses = statuses or {}
        self.outcomes = {s: Outcome(s, statuses.get(s, "ok"), d) for s, d in data.items()}
        self.replaced = set(replaced)
        self.evidence_dir = self.state_dir = None  # no History kept: GradingContext.grader_training is None

    def outcome(self, step: str):
        return self.outcomes.get(step)


def probabilities(logits: bool = False) -> np.ndarray:
    rows = np.full((20, 10), 0.01)
    rows[:, 3] = 0.91
    return rows * 10 - 7 if logits else rows


def context(replaced=(), statuses=None, accuracy=0.95, logits=False, **data: Any):
    facts = {
        "normalize": NORMALIZED,
        "build_model": build_facts(),
        "compile_model": compile_facts(),
        "train_model": train_facts(),
        "evaluate_model": {"type": "tuple", "types": ["float", "float"], "numbers": True, "values": [0.2, accuracy], "finite": True},
        "history": {
            "history": {"loss": [1.0, 0.5]},
            "epochs": 2,
            "frame": {"is_frame": True, "rows": 2, "columns": {"loss": [1.0, 0.5]}},
            "figure": {"is_figure": True, "axes": [{"lines": [[1.0, 0.5]], "images": []}]},
        },
        "predict": {
            "samples": [
                {
                    "index": 0,
                    "type": "tuple",
                    "probs_type": "ndarray",
                    "probs_shape": [10],
                    "probs": probabilities(logits)[0].tolist(),
                    "label_type": "int",
                    "label": 3,
                }
            ]
        },
    }
    facts.update(data)
    config = replace(CONFIG, grading=replace(CONFIG.grading, min_accuracy=0.9))
    measurement = SimpleNamespace(accuracy=accuracy, loss=0.2, probabilities=probabilities(logits), inputs_consistent=True, recomputed=True)
    ctx = SimpleNamespace(run=Run(facts, replaced, statuses), config=config, measurement=measurement)
    ctx.facts = lambda step: parse(step, ctx.run.outcome(step).data)
    ctx.observed = lambda step: parse(step, ctx.run.outcome(step).data) if ctx.run.outcome(step).status == "ok" else None
    ctx.fail_if_unimportable = lambda step: None
    ctx.grader_training = None  # the History kept with the model (GraderTraining), when a test sets one
    return ctx


def outcome_of(check, ctx) -> CheckOutcome:
    """The outcome the plugin would collect for ``check`` on ``ctx``."""
    verdict = Verdict()
    try:
        check(ctx, verdict)
    except Exception as error:  # noqa: BLE001 - turned into the outcome, as the plugin does
        return CheckOutcome.of("check", verdict, error)
    return CheckOutcome.of("check", verdict, None)


def verdict_of(check, ctx) -> tuple[str, float, str]:
    """(key, fraction, Spanish message) of one check on ``ctx``."""
    outcome = outcome_of(check, ctx)
    return outcome.key, outcome.fraction, i18n.render("es", outcome.key, **outcome.params)


# -- architecture ---------------------------------------------------------------
def test_reference_architecture_passes():
    assert verdict_of(check_model.test_architecture, context())[:2] == ("architecture.ok", 1.0)


def test_a_wrong_input_among_several_differences_shows_in_expected_and_found():
    # keras.Input(shape=(784,)) before Flatten: the layers alone read the same on both sides.
    default = {**model(FLATTEN, dense(128, "relu"), dense(10, "softmax")), "input_shape": [None, 784]}
    ctx = context(build_model=build_facts(default, list_256_128={"error": {"type": "ValueError"}}))
    key, _, message = verdict_of(check_model.test_architecture, ctx)
    assert key == "architecture.several"
    assert "Se esperaba Input(28, 28) -> Flatten -> Dense(128, relu)" in message and "se encontró Input(784) -> Flatten -> Dense(128, relu)" in message


@pytest.mark.parametrize(
    ("default", "key", "lost"),
    [
        (model(dense(128, "relu"), dense(10, "softmax")), "architecture.no_flatten", "structure"),
        (model(FLATTEN, dense(128, "relu"), {"kind": "dropout", "class_name": "Dropout"}, dense(10, "softmax")), "architecture.extra_layers", "structure"),
        (model(FLATTEN, dense(10, "softmax")), "architecture.missing_layers", "hidden"),
        (model(FLATTEN, dense(128, "sigmoid"), dense(10, "softmax")), "architecture.hidden_activation", "hidden"),
        (model(FLATTEN, dense(64, "relu"), dense(10, "softmax")), "architecture.units", "hidden"),
        (model(FLATTEN, dense(128, "relu"), dense(5, "softmax")), "architecture.output_units", "output"),
        (model(FLATTEN, dense(128, "relu"), dense(10, "linear")), "architecture.logits", "output"),
        (model(FLATTEN, dense(128, "relu"), dense(10, "sigmoid")), "architecture.output_activation", "output"),
        ({**model(FLATTEN, dense(128, "relu"), dense(10, "softmax")), "input_shape": [None, 784]}, "architecture.input_shape", "structure"),
        (model(FLATTEN, dense(128, "relu"), dense(10, "softmax"), params=716_706), "architecture.param_count", "structure"),
    ],
)
def test_one_architecture_difference_keeps_its_own_message(default, key, lost):
    ctx = context(build_model=build_facts(default))
    got, fraction, message = verdict_of(check_model.test_architecture, ctx)
    assert (got, fraction) == (key, pytest.approx(1 - CONFIG.partial.architecture[lost]))
    assert message.startswith("build_model:")

    # With one more difference, the same finding is one line of a list.
    broken = build_facts(default, classes_5={"error": {"type": "TypeError"}})
    got, fraction, message = verdict_of(check_model.test_architecture, context(build_model=broken))
    # A padded parameter count leaves the layers reading as asked: the list says what differs instead.
    several = "architecture.same_layers" if key == "architecture.param_count" else "architecture.several"
    assert got == several and message.count(" – ") == 2
    assert fraction == pytest.approx(1 - CONFIG.partial.architecture[lost] - CONFIG.partial.architecture["parameters"])


def test_hidden_trainable_layer_in_a_flatten_subclass_fails():
    look_alike = {"kind": "other", "class_name": "mnist_dense.Flatten", "custom": True, "base": "flatten"}
    ctx = context(build_model=build_facts(model(look_alike, dense(128, "relu"), dense(10, "softmax"), params=716_706)))
    key, fraction, message = verdict_of(check_model.test_architecture, ctx)
    assert (key, fraction) == ("architecture.custom_layer", pytest.approx(1 - CONFIG.partial.architecture["structure"]))
    assert "mnist_dense.Flatten son clases propias" in message


def test_a_dense_look_alike_is_an_extra_layer_of_its_own_class():
    look_alike = {"kind": "other", "class_name": "mnist_dense.Dense", "custom": True, "base": "dense"}
    ctx = context(build_model=build_facts(model(FLATTEN, look_alike, dense(128, "relu"), dense(10, "softmax"))))
    key, _, message = verdict_of(check_model.test_architecture, ctx)
    assert key == "architecture.several"
    assert "Flatten -> mnist_dense.Dense -> Dense(128, relu)" in message and "mnist_dense.Dense son clases propias" in message


def test_every_architecture_difference_in_one_message():
    default = model(FLATTEN, dense(128, "sigmoid"), dense(10, "linear"))
    facts = build_facts(
        default,
        units_64_tanh=model(FLATTEN, dense(64, "tanh"), dense(10, "linear")),
        list_256_128={"error": {"type": "TypeError"}},
        classes_5=model(FLATTEN, dense(128, "sigmoid"), dense(10, "linear")),
    )
    key, fraction, message = verdict_of(check_model.test_architecture, context(build_model=facts))
    assert key == "architecture.several"
    assert fraction == pytest.approx(CONFIG.partial.architecture["structure"])
    for words in ("sigmoid", "softmax", "build_model([256, 128]) falla con TypeError", "build_model(num_classes=5)"):
        assert words in message


def test_parameters_not_honoured_alone():
    facts = build_facts(units_64_tanh=model(FLATTEN, dense(128, "relu"), dense(10, "softmax")))
    key, fraction, message = verdict_of(check_model.test_architecture, context(build_model=facts))
    assert (key, fraction) == ("architecture.parameters", pytest.approx(1 - CONFIG.partial.architecture["parameters"]))
    assert "build_model(64, 'tanh')" in message


def test_not_a_model_says_return_is_missing():
    key, fraction, message = verdict_of(check_model.test_architecture, context(build_model=build_facts({"is_model": False, "type": "NoneType"})))
    assert (key, fraction) == ("architecture.not_model", 0.0)
    assert "no devuelve nada: ¿falta `return`?" in message


# -- compile ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "key", "lost"),
    [
        ({"optimizer": "RMSprop"}, "compile.optimizer", "optimizer"),
        ({"loss": "categorical_crossentropy"}, "compile.loss", "loss"),
        ({"from_logits": True}, "compile.from_logits", "loss"),
        ({"metrics": ("mse",)}, "compile.metrics", "metrics"),
        ({"returns": False}, "compile.no_return", "returns_model"),
        ({"sgd": "Adam"}, "compile.parameter", "parameter"),
        ({"sgd": None}, "compile.parameter", "parameter"),
    ],
)
def test_one_compile_difference(changes, key, lost):
    got, fraction, _ = verdict_of(check_model.test_compile, context(compile_model=compile_facts(**changes)))
    assert (got, fraction) == (key, pytest.approx(1 - CONFIG.partial.compile[lost]))


def test_every_compile_difference_in_one_message():
    facts = compile_facts(optimizer="custom:Adam", loss="categorical_crossentropy", metrics=("mse",), returns=False, sgd="custom:Adam")
    key, fraction, message = verdict_of(check_model.test_compile, context(compile_model=facts))
    assert (key, fraction) == ("compile.several", 0.0)
    assert "una clase propia" in message and "categorical_crossentropy" in message and "return model" in message


def test_from_logits_in_a_list_of_several():
    facts = compile_facts(optimizer="SGD", from_logits=True)
    key, _, message = verdict_of(check_model.test_compile, context(compile_model=facts))
    assert key == "compile.several" and "from_logits=True" in message and "SGD" in message


def test_reference_compile_passes():
    assert verdict_of(check_model.test_compile, context())[:2] == ("compile.ok", 1.0)


def test_partial_shares_must_add_up_to_one(tmp_path):
    broken = (ROOT / "grader" / "config.toml").read_text(encoding="utf-8").replace("hidden = 0.2 ", "hidden = 0.3 ")
    path = tmp_path / "config.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[partial.architecture\] shares add up to"):
        load_config(path)


@pytest.mark.parametrize("check", ["architecture", "compile"])
def test_every_aspect_lost_is_exactly_zero_points(check):
    # 1 - (0.3 + 0.3 + ...) left a residue such as 1.1e-16 in some set orders: a 0/12 shown as partial.
    shares = getattr(CONFIG.partial, check)
    deviations = [check_model.Deviation(aspect, f"{check}.x", {}) for aspect in shares]
    for order in (deviations, deviations[::-1]):
        assert check_model.judge(check, order, shares, {})[1] == 0.0


# -- train ----------------------------------------------------------------------
def test_train_retried_on_the_standin_compile_keeps_its_points():
    facts = train_facts(first_error={"type": "ValueError", "message": "rank", "line": 82}, stand_ins=["compile_model"])
    ctx = context(replaced={"compile_model"}, compile_model=compile_facts(loss="categorical_crossentropy"), train_model=facts)
    key, fraction, message = verdict_of(check_training.test_train, ctx)
    assert (key, fraction) == ("train.ok_after_standin", 1.0)
    assert "paso 5 (compile_model)" in message and "ValueError" in message


def test_train_failing_with_a_correct_compile_is_its_own_fault():
    facts = train_facts(first_error={"type": "ValueError", "message": "bad", "line": 80}, stand_ins=["compile_model"])
    key, fraction, message = verdict_of(check_training.test_train, context(train_model=facts))
    assert (key, fraction) == ("step.error", 0.0)
    assert "ValueError en la línea 80" in message


def test_train_nan_with_a_correct_compile_is_its_own_fault():
    facts = train_facts(first_error={"type": "weights_not_finite", "message": "", "line": None}, stand_ins=["compile_model"])
    assert verdict_of(check_training.test_train, context(train_model=facts))[:2] == ("train.weights_not_finite", 0.0)


def test_train_returning_none_says_return_is_missing():
    facts = train_facts(is_history=False, returned_type="NoneType")
    key, _, message = verdict_of(check_training.test_train, context(train_model=facts))
    assert key == "train.not_history" and "¿falta `return`?" in message


def test_train_on_a_standin_model_says_so():
    # keras.Input(shape=(784,)) in build_model: the grader's model is the one trained.
    key, fraction, message = verdict_of(check_training.test_train, context(replaced={"build_model"}))
    assert (key, fraction) == ("train.ok_standin", 1.0)
    assert "lo preparó el calificador porque falló tu paso 4 (build_model)" in message


def test_train_with_a_fixed_number_of_epochs_blames_the_body_not_the_signature():
    # epochs=5 in the signature, model.fit(..., epochs=1) in the body.
    key, fraction, message = verdict_of(check_training.test_train, context(train_model=train_facts(epochs=1)))
    assert (key, fraction) == ("train.epochs_fixed", 0.0)
    assert "epochs=5 por defecto" in message and "1 en lugar de 5 épocas" in message and "número fijo" in message


def test_train_with_a_wrong_default_asks_for_epochs_5_in_the_signature():
    key, _, message = verdict_of(check_training.test_train, context(train_model=train_facts(default_epochs=1, epochs=1)))
    assert key == "train.epochs" and "deja epochs=5 en la firma" in message


def test_normalizing_again_in_train_costs_train_not_normalize():
    ctx = context(train_model=train_facts(fit_calls=TWICE))
    assert verdict_of(check_data.test_normalize, ctx)[:2] == ("normalize.ok", 1.0)
    key, fraction, message = verdict_of(check_training.test_train, ctx)
    assert (key, fraction) == ("train.fit_data", 0.0)
    assert "[0, 0.003922]" in message and "no vuelvas a normalizar dentro de train_model" in message


@pytest.mark.parametrize("normalize", [RAW_PIXELS, {"type": "NoneType", "input_unchanged": True, "shape": None}], ids=["raw", "none"])
def test_data_reaching_fit_is_judged_by_who_made_it(normalize):
    # Raw pixels from the student's normalize: its own fault, not train_model's.
    # normalize returned nothing: the stand-in gave [0, 1], so a range off at fit is train_model's.
    ctx = context(normalize=normalize, train_model=train_facts(fit_calls=[{"epochs": 5, "x_min": 0.0, "x_max": 255.0}]))
    expected = "train.ok" if normalize is RAW_PIXELS else "train.fit_data"
    assert verdict_of(check_training.test_train, ctx)[0] == expected


# -- results computed on stand-ins say so -----------------------------------------
def test_evaluate_on_a_standin_model_says_so():
    key, fraction, message = verdict_of(check_training.test_evaluate, context(replaced={"train_model"}))
    assert (key, fraction) == ("evaluate.ok_standin", 1.0)
    assert "paso 6 (train_model)" in message


def test_evaluate_not_a_pair_names_the_types():
    facts = {"type": "list", "types": ["EagerTensor", "float"], "numbers": False, "values": [None, 0.9], "finite": False}
    key, _, message = verdict_of(check_training.test_evaluate, context(evaluate_model=facts))
    assert key == "evaluate.not_floats" and "un tensor de TensorFlow (EagerTensor), no un arreglo de NumPy, un solo número (float)" in message


def test_history_of_a_standin_training_says_so():
    key, _, message = verdict_of(check_training.test_history, context(replaced={"train_model"}))
    assert key == "history.ok_standin" and "sustitución" in message


def test_predict_on_a_standin_model_says_so():
    key, _, message = verdict_of(check_training.test_predict, context(replaced={"build_model"}))
    assert key == "predict.ok_standin" and "paso 4 (build_model)" in message


def test_predict_without_softmax_keeps_points_but_says_why():
    key, fraction, message = verdict_of(check_training.test_predict, context(logits=True))
    assert (key, fraction) == ("predict.ok_logits", 1.0)
    assert "no 1" in message and "softmax" in message and "paso 4" in message


# -- min_accuracy -------------------------------------------------------------------
def test_min_accuracy_measured_with_a_standin_normalize():
    ctx = context(replaced={"normalize"}, statuses={"normalize": "ok"})
    key, fraction, message = verdict_of(check_training.test_min_accuracy, ctx)
    assert (key, fraction) == ("min_accuracy.ok_with_standins", 1.0)
    assert "paso 3 (normalize)" in message


def test_min_accuracy_blocked_gives_the_standin_accuracy_and_the_step():
    ctx = context(replaced={"build_model", "train_model"}, accuracy=0.8123)
    key, fraction, message = verdict_of(check_training.test_min_accuracy, ctx)
    assert (key, fraction) == ("min_accuracy.blocked", 0.0)
    assert "0.8123" in message and "tu paso 4 (build_model) y paso 6 (train_model)." in message and "corrige esos pasos" in message
    # The figure comes from the stand-in's short training, and the message says so.
    assert "entrenamiento de sustitución corto (1 época con 6 000 imágenes)" in message


def test_min_accuracy_blocked_by_the_model_alone_is_not_called_a_short_training():
    # Only build_model was replaced: the student's own training ran, so no "short training" caveat.
    key, _, message = verdict_of(check_training.test_min_accuracy, context(replaced={"build_model"}, accuracy=0.9712))
    assert key == "min_accuracy.blocked" and "0.9712 en prueba (mínimo 0.90); es una referencia" in message
    assert "sustitución corto" not in message


@pytest.mark.parametrize(
    ("lang", "text"),
    [("es", "paso 3 (normalize), paso 4 (build_model) y paso 6 (train_model)"), ("en", "step 3 (normalize), step 4 (build_model) and step 6 (train_model)")],
)
def test_a_list_of_steps_reads_as_a_sentence(lang, text):
    assert text + ")" in i18n.render(lang, "min_accuracy.note.standins", steps=check_training.steps_phrase(["normalize", "build_model", "train_model"]))


def test_min_accuracy_blocked_by_a_tampered_compile():
    ctx = context(replaced={"compile_model"}, statuses={"compile_model": "tampered"})
    key, _, message = verdict_of(check_training.test_min_accuracy, ctx)
    assert key == "min_accuracy.blocked" and "tu paso 5 (compile_model)." in message and "corrige ese paso" in message


@pytest.mark.parametrize(
    ("data", "cause"),
    [
        (
            {"normalize": RAW_PIXELS, "train_model": train_facts(fit_calls=[{"x_min": 0.0, "x_max": 255.0}])},
            "Paso 3 (normalize): los datos que llegaron a model.fit están en [0, 255]",
        ),
        ({"train_model": train_facts(fit_calls=TWICE)}, "Paso 6 (train_model): los datos que llegaron a model.fit están en [0, 0.003922]"),
        ({"build_model": build_facts(model(FLATTEN, dense(128, "relu"), dense(10, "linear")))}, "Paso 4 (build_model): la capa de salida usa linear"),
        ({"build_model": build_facts(model(FLATTEN, dense(128, "sigmoid"), dense(10, "softmax")))}, "Paso 4 (build_model): la capa oculta usa sigmoid"),
        ({"compile_model": compile_facts(optimizer="SGD")}, "Paso 5 (compile_model): el optimizador es SGD"),
        ({"compile_model": compile_facts(optimizer="custom:Adam")}, "Paso 5 (compile_model): el optimizador es Adam (una clase propia"),
        ({"train_model": train_facts(epochs=1)}, "Paso 6 (train_model): el historial tiene 1 en lugar de 5 épocas"),
        ({}, "no se vio ninguna diferencia"),
    ],
)
def test_low_accuracy_hint_comes_from_what_was_observed(data, cause):
    key, _, message = verdict_of(check_training.test_min_accuracy, context(accuracy=0.5, **data))
    assert key == "min_accuracy.low" and cause in message
    others = {"Paso 3", "Paso 4", "Paso 5", "Paso 6"} - {cause[:6]}
    assert not any(other in message for other in others)


def test_low_accuracy_with_a_standin_says_so():
    ctx = context(replaced={"normalize"}, accuracy=0.5, train_model=train_facts(epochs=1))
    message = verdict_of(check_training.test_min_accuracy, ctx)[2]
    assert "(con la sustitución del calificador en tu paso 3 (normalize))" in message


# -- plain words ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("NoneType", "None (la función no devuelve nada: ¿falta `return`?)"),
        ("EagerTensor", "un tensor de TensorFlow"),
        ("float32", "un solo número"),
        ("Functional", "un modelo de Keras"),
        ("list", "una lista de Python"),
        ("tuple", "una tupla de Python"),
        ("dict", "un diccionario"),
        ("str", "un texto"),
        ("bool", "un valor lógico"),
        ("ndarray", "un arreglo de NumPy"),
        ("History", "un objeto History"),
        ("Figure", "una figura de matplotlib"),
        ("DataFrame", "un DataFrame de pandas"),
        ("Series", "una Series de pandas"),
        ("Thing", "un objeto de tipo Thing"),
    ],
)
def test_types_in_plain_words(name, words):
    assert i18n.render("es", "load_data.structure", found=found_type(name)).count(words) == 1
    assert "{" not in i18n.render("en", "load_data.structure", found=found_type(name))


def test_normalize_without_return():
    ctx = context(normalize={"type": "NoneType", "input_unchanged": True, "shape": None})
    key, _, message = verdict_of(check_data.test_normalize, ctx)
    assert key == "normalize.not_array" and "no devuelve nada: ¿falta `return`?" in message


def test_normalize_wrong_shape_gives_the_shape():
    ctx = context(normalize={"type": "ndarray", "input_unchanged": True, "shape": [2000, 784]})
    key, _, message = verdict_of(check_data.test_normalize, ctx)
    assert key == "normalize.not_array" and "un arreglo de NumPy de forma (2000, 784)" in message


def test_nested_messages_render_in_both_languages():
    params = {"count": 2, "items": [part("compile.item.no_return"), part("compile.item.metrics", found="mse")]}
    assert "return model" in i18n.render("en", "compile.several", **params)
    assert i18n.render("es", "evaluate.not_floats", found=found_types(["list", "tuple"])).count(",") >= 1
