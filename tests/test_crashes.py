"""The commonest crashes, recognised and explained (grader/crashes.py, grader/checks/causes.py).

The table holds the library's messages as Keras 3 / NumPy 2 / Python print
them (captured from real runs); one test reproduces each crash live with tiny
arrays, so a new Keras that rewords a message fails here, not in a student's
grading. Every explanation is rendered in both languages with the original
English text below it, and no hint pastes a finished line of the reference.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_check_table import grading_context

from test_feedback_rules import CONFIG, Outcome

from grader import crashes, i18n
from grader.checks import causes, check_data, check_training
from grader.checks.context import step_failure
from grader.checks.verdict import CheckFailed, Verdict

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_LINES = {line.strip() for line in (ROOT / "solutions" / "mnist_dense.py").read_text("utf-8").splitlines() if len(line.strip()) > 12}

# name -> (step, exception type, the library's message as it reaches the grader)
RECORDED = {
    "one_hot_sparse": (
        "train_model",
        "ValueError",
        "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(32, 10), output.shape=(32, 10)",
    ),
    "no_flatten": (
        "train_model",
        "ValueError",
        "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(32,), output.shape=(32, 28, 10)",
    ),
    "integer_labels_categorical": (
        "train_model",
        "ValueError",
        "Arguments `target` and `output` must have the same rank (ndim). Received: target.shape=(32,), output.shape=(32, 10)",
    ),
    "input_flat": (
        "train_model",
        "ValueError",
        'Exception encountered when calling Sequential.call(). \x1b[1mInvalid input shape for input Tensor("data:0", shape=(32, 28, 28), dtype=float32) '
        "with name 'keras_tensor_11' and path ''. Expected shape (None, 784), but input has incompatible shape (32, 28, 28)\x1b[0m Arguments received",
    ),
    "no_batch": (
        "predict",
        "ValueError",
        'Exception encountered when calling Sequential.call(). [1mInvalid input shape for input Tensor("data:0", shape=(28, 28), dtype=float32) '
        "with name 'keras_tensor_62' and path ''. Expected shape (None, 28, 28), but input has incompatible shape (28, 28)[0m Arguments",
    ),
    "unknown_rank": (
        "predict",
        "ValueError",
        "Exception encountered when calling Sequential.call(). [1mCannot take the length of shape with unknown rank.[0m Arguments received by "
        "Sequential.call(): • inputs=tf.Tensor(shape=<unknown>, dtype=float32) • training=False",
    ),
    "validation_data_number": ("train_model", "ValueError", "Unrecognized data type: x=0.1 (of type <class 'float'>)"),
    "validation_split_data": ("train_model", "TypeError", "unsupported operand type(s) for -: 'float' and 'tuple'"),
    "fit_lists": ("train_model", "ValueError", "Unrecognized data type: x=[[[218, 7, 13, 94, 109, 6, 163, 68"),
    "inplace_divide": (
        "normalize",
        "UFuncTypeError",
        "Cannot cast ufunc 'divide' output from dtype('float64') to dtype('uint8') with casting rule 'same_kind'",
    ),
    "axis_out_of_bounds": ("predict", "AxisError", "axis 1 is out of bounds for array of dimension 1"),
    "name_not_defined": ("normalize", "NameError", "name 'x_train' is not defined"),
    "syntax_error": ("import", "SyntaxError", "invalid syntax (mnist_dense.py, line 1)"),
    "indentation_error": ("import", "IndentationError", "expected an indented block after function definition on line 1 (mnist_dense.py, line 2)"),
    "tab_error": ("import", "TabError", "inconsistent use of tabs and spaces in indentation (mnist_dense.py, line 3)"),
    "module_not_found": ("import", "ModuleNotFoundError", "No module named 'torch'"),
}


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_each_recorded_crash_is_recognised(name):
    _, error_type, message = RECORDED[name]
    assert crashes.recognise(error_type, message)[0] == name


# As model.fit raises them in a traced call: the batch dimension is None.
TRACED = {
    "one_hot_sparse": "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(None, 10), output.shape=(None, 10)",
    "no_flatten": "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(None,), output.shape=(None, 28, 10)",
    "integer_labels_categorical": "Arguments `target` and `output` must have the same rank (ndim). Received: target.shape=(None,), output.shape=(None, 10)",
}


@pytest.mark.parametrize("name", sorted(TRACED))
def test_a_crash_in_a_traced_fit_is_recognised_too(name):
    assert crashes.recognise("ValueError", TRACED[name])[0] == name


def test_an_unknown_crash_keeps_the_generic_message():
    assert crashes.recognise("ValueError", "something else entirely") is None
    assert crashes.recognise("KeyError", "Unrecognized data type: x=0.1 (of type <class 'float'>)") is None  # the type counts too
    key, _ = step_failure(Outcome("train_model", "error", None, {"type": "KeyError", "message": "0", "line": 7}), CONFIG)
    assert key == "step.error"


@pytest.mark.parametrize("name", sorted(n for n, (step, _, _) in RECORDED.items() if step != "import"))
@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_known_crash_is_explained_with_a_hint_and_the_original_text_below(name, lang):
    step, error_type, message = RECORDED[name]
    key, params = step_failure(Outcome(step, "error", None, {"type": error_type, "message": message, "line": 42}), CONFIG)
    assert key == "crash.explained"
    text = i18n.render(lang, key, **params)
    original = crashes.clean(message)
    explanation = text.split("«")[0]
    assert text.index(original) > text.index("Pista:" if lang == "es" else "Hint:")  # the English text stays, below
    assert "42" in text and error_type in text and "\x1b" not in text and "[1m" not in text
    assert not any(line in explanation for line in SOLUTION_LINES), "a hint must not paste the reference's line"


@pytest.mark.parametrize("name", sorted(n for n, (step, _, _) in RECORDED.items() if step == "import"))
@pytest.mark.parametrize("lang", ["es", "en"])
def test_an_import_failure_names_its_cause(name, lang):
    _, error_type, message = RECORDED[name]
    text = i18n.render(lang, "flag.import_salvaged_cause", cause=causes.error_cause({"type": error_type, "message": message, "line": 3}))
    assert error_type in text and message in text
    if name == "module_not_found":
        assert ("solo tiene los paquetes de requirements.txt" if lang == "es" else "only the packages of requirements.txt") in text
        assert "«torch»" in text


def test_a_module_that_cannot_be_loaded_is_explained_once_and_pointed_to_elsewhere():
    ctx = grading_context()
    ctx.run.outcomes["import"] = Outcome("import", "error", None, {"type": "TabError", "message": RECORDED["tab_error"][2], "line": 3})
    ctx.run.outcomes["import-salvage"] = Outcome("import-salvage", "error", None, {"type": "TabError", "message": RECORDED["tab_error"][2], "line": 3})
    messages = {}
    for name, check in (("load_data", check_data.test_load_data), ("train", check_training.test_train), ("min_accuracy", check_training.test_min_accuracy)):
        with pytest.raises(CheckFailed) as failed:
            check(ctx, Verdict())
        messages[name] = (failed.value.key, i18n.render("es", failed.value.key, **failed.value.params))
    assert messages["load_data"][0] == "step.import_failed" and "mezclas tabuladores y espacios" in messages["load_data"][1]
    for name in ("train", "min_accuracy"):
        key, text = messages[name]
        assert key == "step.import_failed_again" and "tabuladores" not in text and "paso 1 (load_data)" in text
    assert "inconsistent use of tabs" in messages["load_data"][1]


def test_a_missing_function_with_a_near_miss_names_it(tmp_path):
    source = tmp_path / "mnist_dense.py"
    source.write_text("def load_data():\n    pass\n\n\ndef predict_sampel(model, images, index):\n    pass\n", "utf-8")
    outcome = Outcome("predict", "missing", None, {"type": "MissingFunction", "message": "predict_sample"})
    key, params = step_failure(outcome, CONFIG, source)
    assert key == "step.missing_near"
    assert "hay una función `predict_sampel`: ¿querías `predict_sample`?" in i18n.render("es", key, **params)
    assert "did you mean `predict_sample`?" in i18n.render("en", key, **params)
    # Nothing close, or another step's own function: the plain message.
    source.write_text("def load_data():\n    pass\n\n\ndef helper():\n    pass\n", "utf-8")
    assert step_failure(outcome, CONFIG, source)[0] == "step.missing"
    source.write_text("def f(:\n", "utf-8")
    assert step_failure(outcome, CONFIG, source)[0] == "step.missing"


LIVE = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np, keras
    from grader import crashes
    x = np.random.default_rng(0).integers(0, 255, (64, 28, 28)).astype("uint8")
    y = np.random.default_rng(1).integers(0, 10, 64)
    xn = x / 255.0

    def model(flatten=True, shape=(28, 28), loss="sparse_categorical_crossentropy"):
        layers = [keras.Input(shape=shape)] + ([keras.layers.Flatten()] if flatten else [])
        m = keras.Sequential(layers + [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(10, activation="softmax")])
        m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        return m

    def predicted_then_one_image():
        trained = model()
        trained.predict(xn, batch_size=16, verbose=0)
        trained.predict(xn[:1], verbose=0)
        trained.predict(xn[0], verbose=0)

    def inplace():
        images = x.copy()
        images /= 255.0

    cases = {
        "one_hot_sparse": lambda: model().fit(xn, keras.utils.to_categorical(y, 10), epochs=1, verbose=0),
        "no_flatten": lambda: model(flatten=False).fit(xn, y, epochs=1, verbose=0),
        "integer_labels_categorical": lambda: model(loss="categorical_crossentropy").fit(xn, y, epochs=1, verbose=0),
        "input_flat": lambda: model(shape=(784,)).fit(xn, y, epochs=1, verbose=0),
        "no_batch": lambda: model().predict(xn[0], verbose=0),
        "unknown_rank": predicted_then_one_image,
        "validation_data_number": lambda: model().fit(xn, y, epochs=1, validation_data=0.1, verbose=0),
        "validation_split_data": lambda: model().fit(xn, y, epochs=1, validation_split=(xn, y), verbose=0),
        "fit_lists": lambda: model().fit(x.tolist(), y, epochs=1, verbose=0),
        "inplace_divide": inplace,
        "axis_out_of_bounds": lambda: np.argmax(model().predict(xn[:1], verbose=0)[0], axis=1),
        "syntax_error": lambda: compile("def f(:\\n    pass\\n", "mnist_dense.py", "exec"),
        "indentation_error": lambda: compile("def f():\\nreturn 1\\n", "mnist_dense.py", "exec"),
        "tab_error": lambda: compile("def f():\\n        a = 1\\n\\treturn a\\n", "mnist_dense.py", "exec"),
        "module_not_found": lambda: __import__("torch_not_installed_here"),
        "name_not_defined": lambda: eval("x_train_defined_nowhere / 255.0"),
    }
    for name, action in cases.items():
        try:
            action()
        except BaseException as error:
            message = " ".join(str(error).split())[:400]
            known = crashes.recognise(type(error).__name__, message)
            print(name, known[0] if known else f"UNRECOGNISED {type(error).__name__}: {message[:200]}")
        else:
            print(name, "NO ERROR")
    """
)


@pytest.mark.slow
def test_each_crash_reproduced_live_with_keras_is_recognised():
    # The exact texts of the installed Keras, NumPy and Python: a reworded message fails here.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", LIVE], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.strip())
    assert seen == {name: name for name in RECORDED}


def test_an_unknown_crash_shows_the_message_without_terminal_codes():
    message = "Exception encountered. \x1b[1mSomething new.\x1b[0m [1mAnd more.[0m"
    key, params = step_failure(Outcome("predict", "error", None, {"type": "ValueError", "message": message, "line": 9}), CONFIG)
    assert key == "step.error" and params["error_message"] == "Exception encountered. Something new. And more."
