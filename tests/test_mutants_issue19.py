"""Full gradings of the ordinary mistakes of issue 19: each names its cause.

Independent mistakes share one submission where they cannot interact (each
costs its own check only), so five gradings cover them all. Graded on the
first 3,000 training images (``gradingkit``).
"""

from __future__ import annotations

import pytest

from gradingkit import SOLUTION, edit, grade_all

pytestmark = [pytest.mark.slow, pytest.mark.slots(2)]

REFERENCE = SOLUTION.read_text(encoding="utf-8")
FIT = "x_train, y_train, epochs=epochs, validation_split=validation_split"
LAYERS = "    for units in hidden_units:\n        model.add(keras.layers.Dense(units, activation=activation))\n"
TOP_LEVEL = """

# Código de prueba que funciona ejecutado solo.
_x = np.random.rand(32, 28, 28).astype("float32")
_modelo = compile_model(build_model())
_modelo.fit(_x, np.random.randint(0, 10, 32), epochs=1, verbose=0)
print("prueba:", keras.random.normal((2,)))
"""


def _apply(source: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        source = edit(source, old, new)
    return source


SOURCES = {
    # import torch (not installed), evaluate's pair reversed, a typo'd predict_sample, build_model ignoring its parameters.
    "named_causes": _apply(
        REFERENCE,
        ("import numpy as np\n", "import numpy as np\nimport torch\n"),
        ("return float(loss), float(accuracy)", "return float(accuracy), float(loss)"),
        ("def predict_sample(", "def predict_sampel("),
        (LAYERS, '    model.add(keras.layers.Dense(128, activation="relu"))\n'),
        ('keras.layers.Dense(num_classes, activation="softmax")', 'keras.layers.Dense(10, activation="softmax")'),
    ),
    # Module-level test code that trains a moment (runs alone), images /= 255.0, np.argmax on axis 1 of one image.
    "top_level_and_crashes": _apply(
        REFERENCE + TOP_LEVEL,
        ("    return images / 255.0\n", "    images /= 255.0\n    return images\n"),
        ("int(np.argmax(probabilities))", "int(np.argmax(probabilities, axis=1))"),
    ),
    "one_hot_labels": edit(REFERENCE, FIT, "x_train, keras.utils.to_categorical(y_train, 10), epochs=epochs, validation_split=validation_split"),
    "validation_data_number": edit(REFERENCE, FIT, "x_train, y_train, epochs=epochs, validation_data=validation_split"),
    "tab_error": edit(REFERENCE, "    model = keras.models.Sequential()\n", "\tmodel = keras.models.Sequential()\n"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    return grade_all(tmp_path_factory.mktemp("issue19"), SOURCES)


def test_named_causes(graded):
    result = graded["named_causes"]
    assert result.failing() == {"evaluate": "evaluate.swapped", "predict": "step.missing_near", "architecture": "architecture.parameters_ignored"}
    assert result.score["flags"] == ["import_salvaged"]
    cause = result.score["flag_details"]["import_salvaged"]["cause"]
    assert cause["key"] == "crash.import_explained" and cause["params"]["error_type"] == "ModuleNotFoundError"
    assert "el entorno de calificación solo tiene los paquetes de requirements.txt" in result.summary and "«torch»" in result.summary
    checks = result.checks()
    assert "¿querías `predict_sample`?" in checks["predict"]["message"]
    assert "orden inverso" in checks["evaluate"]["message"]
    assert "no usa sus parámetros" in checks["architecture"]["message"] and "Se esperaba" not in checks["architecture"]["message"]


def test_top_level_code_runs_and_known_crashes_are_explained(graded):
    result = graded["top_level_and_crashes"]
    assert result.score["flags"] == []  # the module-level training ran under the grader too
    assert result.failing() == {"normalize": "crash.explained", "predict": "crash.explained"}
    checks = result.checks()
    assert "dividir en el sitio (/=)" in checks["normalize"]["message"] and "Cannot cast ufunc" in checks["normalize"]["message"]
    assert "np.argmax no necesita el parámetro axis" in checks["predict"]["message"]


@pytest.mark.parametrize(("name", "words"), [("one_hot_labels", "to_categorical"), ("validation_data_number", "validation_split")])
def test_a_training_crash_is_explained_and_costs_its_own_step(graded, name, words):
    result = graded[name]
    failing = result.failing()
    assert failing.get("train") == "crash.explained"
    assert words in result.checks()["train"]["message"]
    # Every other check but min_accuracy passes; min_accuracy is either measured on the grader's
    # training of the student's model or, with the short stand-in, blocked and says so.
    assert set(failing) <= {"train", "min_accuracy"}
    assert failing.get("min_accuracy", "min_accuracy.blocked") == "min_accuracy.blocked"


def test_a_tab_error_is_explained_once(graded):
    result = graded["tab_error"]
    failing = result.failing()
    assert failing.pop("load_data") == "step.import_failed"
    assert set(failing.values()) == {"step.import_failed_again"}
    messages = [c["message"] for c in result.checks().values()]
    assert sum("tabuladores" in m for m in messages) == 1
