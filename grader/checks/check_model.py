"""Checks of the model: its architecture and how it is compiled."""

from __future__ import annotations

import pytest

from grader.checks.verdict import fail

ADAM = "Adam"
SPARSE_LOSSES = {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"}
ACCURACY_METRICS = {"accuracy", "acc", "sparse_categorical_accuracy", "SparseCategoricalAccuracy"}
INPUT_SHAPE = [None, 28, 28]

# build_model calls whose parameters must be honoured, and what they must give.
VARIANTS = {
    "units_64_tanh": ("build_model(64, 'tanh')", [("dense", 64, "tanh"), ("dense", 10, "softmax")]),
    "list_256_128": ("build_model([256, 128])", [("dense", 256, "relu"), ("dense", 128, "relu"), ("dense", 10, "softmax")]),
    "classes_5": ("build_model(num_classes=5)", [("dense", 128, "relu"), ("dense", 5, "softmax")]),
}
DEFAULT = [("dense", 128, "relu"), ("dense", 10, "softmax")]


def effective_layers(description: dict) -> list[tuple]:
    """Layers as (kind, units, activation); an Activation layer folds into its Dense."""
    layers: list[tuple] = []
    for layer in description.get("layers", []):
        kind = layer["kind"]
        if kind == "input":
            continue
        if kind == "activation" and layers and layers[-1][0] == "dense" and layers[-1][2] == "linear":
            layers[-1] = ("dense", layers[-1][1], layer["activation"])
        elif kind == "dense":
            layers.append(("dense", layer["units"], layer["activation"]))
        elif kind == "activation":
            layers.append(("activation", None, layer["activation"]))
        else:
            layers.append((kind, None, layer["class"]))
    return layers


def render(layers: list[tuple]) -> str:
    parts = []
    for kind, units, extra in layers:
        if kind == "flatten":
            parts.append("Flatten")
        elif kind == "dense":
            parts.append(f"Dense({units}, {extra})")
        elif kind == "activation":
            parts.append(f"Activation({extra})")
        else:
            parts.append(str(extra))
    return " -> ".join(parts) or "(sin capas)"


def difference(layers: list[tuple], dense: list[tuple]) -> str | None:
    """Catalogue key of the first thing that differs from Flatten + ``dense``, or None."""
    if not layers or layers[0][0] != "flatten":
        return "architecture.no_flatten"
    rest = layers[1:]
    extra = [layer for layer in rest if layer[0] != "dense"]
    if extra or len(rest) > len(dense):
        return "architecture.extra_layers"
    if len(rest) < len(dense):
        return "architecture.missing_layers"
    for got, want in zip(rest[:-1], dense[:-1]):
        if got[2] != want[2]:
            return "architecture.hidden_activation"
        if got[1] != want[1]:
            return "architecture.units"
    output, expected_output = rest[-1], dense[-1]
    if output[1] != expected_output[1]:
        return "architecture.output_units"
    if output[2] != "softmax":
        return "architecture.logits" if output[2] == "linear" else "architecture.output_activation"
    return None


@pytest.mark.check("architecture")
def test_architecture(ctx, verdict):
    facts = ctx.facts("build_model")
    model = facts["default"]
    if not model.get("is_model"):
        fail("architecture.not_model", found=model.get("type"))
    layers = effective_layers(model)
    expected = render([("flatten", None, None)] + DEFAULT)
    problem = difference(layers, DEFAULT)
    if problem:
        fail(problem, found=render(layers), expected=expected)
    if model.get("input_shape") != INPUT_SHAPE:
        fail("architecture.input_shape", found=model.get("input_shape"))
    for name, (call, dense) in VARIANTS.items():
        variant = facts[name]
        if "error" in variant:
            fail("architecture.parameters_error", fraction=0.5, call=call, error_type=variant["error"]["type"])
        got = effective_layers(variant)
        if difference(got, dense):
            fail("architecture.parameters", fraction=0.5, call=call, found=render(got), expected=render([("flatten", None, None)] + dense))
    verdict.ok("architecture.ok", found=render(layers), params=model.get("params"))


@pytest.mark.check("compile")
def test_compile(ctx, verdict):
    facts = ctx.facts("compile_model")
    compiled = facts["default"]
    if not compiled.get("is_model") or not compiled.get("compiled"):
        fail("compile.not_compiled")
    if compiled["optimizer"] != ADAM:
        fail("compile.optimizer", found=compiled["optimizer"])
    loss = compiled["loss"]
    if loss.get("name") not in SPARSE_LOSSES:
        fail("compile.loss", found=loss.get("name"))
    if loss.get("from_logits"):
        fail("compile.from_logits")
    metrics = [m["name"] for m in compiled["metrics"]]
    if not ACCURACY_METRICS.intersection(metrics):
        fail("compile.metrics", found=", ".join(metrics) or "-")
    if not facts["returns_model"]:
        fail("compile.no_return", fraction=0.75)
    sgd = facts["sgd"]
    if "error" in sgd or sgd.get("optimizer") != "SGD":
        fail("compile.parameter", fraction=0.5, found=sgd.get("optimizer") or sgd.get("error", {}).get("type"))
    verdict.ok("compile.ok")
