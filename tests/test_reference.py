"""The reference answer lives in one module (grader/reference.py), plain data.

The observer calls build_model with the probes' parameters and the
architecture check judges them by name: both read ``reference.BUILD_CALLS``,
so a probe cannot be called under one name and judged under another. The
module imports no Keras: the judging side reads it without TensorFlow.
"""

from __future__ import annotations

import ast
from pathlib import Path

from grader import reference
from grader.checks import check_model

ROOT = Path(__file__).resolve().parents[1]


def test_the_probes_read_as_the_student_writes_them():
    assert [c.call for c in reference.BUILD_CALLS] == ["build_model(64, 'tanh')", "build_model([256, 128])", "build_model(num_classes=5)"]
    assert check_model.VARIANTS["classes_5"] == ("build_model(num_classes=5)", [("dense", 128, "relu"), ("dense", 5, "softmax")], "output_units")


def test_the_judge_compares_against_the_reference():
    assert check_model.DEFAULT == [("dense", 128, "relu"), ("dense", 10, "softmax")]
    assert check_model.INPUT_SHAPE == [None, 28, 28] and check_model.FLATTENED == 784
    assert check_model.ADAM == "Adam" and "SparseCategoricalCrossentropy" in check_model.SPARSE_LOSSES


def test_compile_settings_are_fresh_each_time():
    settings = reference.compile_settings()
    settings["metrics"].append("mse")
    assert reference.compile_settings() == {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}


def test_the_reference_is_plain_data():
    tree = ast.parse((ROOT / "grader" / "reference.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "dataclasses", "typing"}


def test_no_module_spells_the_reference_compile_again():
    """The loss and the optimizer are written out once, in grader/reference.py (the stand-ins' JSON aside)."""
    spelled = []
    for path in (ROOT / "grader").rglob("*.py"):
        if path.name == "reference.py" or "classroom50" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if '"sparse_categorical_crossentropy"' in text or '"SparseCategoricalCrossentropy"' in text or 'optimizer="adam"' in text:
            spelled.append(path.relative_to(ROOT).as_posix())
    assert spelled == []
