"""Checks of the model: its architecture and how it is compiled.

Both list every difference from what the activity asks in one message (a
student fixes them all after one grading, not one per run), and each aspect
that is right keeps its share of the points (``[partial]`` in config.toml).
The judging is pure: facts in, deviations out (``architecture_deviations``,
``compile_deviations``), so it is tested without Keras.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from grader import reference
from grader.checks.registry import check
from grader.checks.verdict import fail, part
from grader.checks.words import found_type
from grader.facts import BuildFacts, CompileFacts, ModelDescription

# What the reference answer is (grader/reference.py), in the forms the judging below compares.
ADAM = reference.OPTIMIZER_CLASS
SPARSE_LOSSES = frozenset(reference.SPARSE_LOSSES)
ACCURACY_METRICS = frozenset(reference.ACCURACY_METRICS)
INPUT_SHAPE = [None, *reference.INPUT_SHAPE]  # as a model description gives it (batch dimension first)
FLATTENED = reference.INPUT_SHAPE[0] * reference.INPUT_SHAPE[1]

DEFAULT = list(reference.DENSE_LAYERS)
# build_model calls whose parameters must be honoured (reference.BUILD_CALLS): the call,
# the layers it must give, and which part of them the parameters decide.
VARIANTS = {c.name: (c.call, list(c.dense), c.decides) for c in reference.BUILD_CALLS}


class Deviation(NamedTuple):
    """One difference from what the activity asks: the aspect it costs, a catalogue key, its fields."""

    aspect: str
    key: str
    params: dict[str, Any]


def effective_layers(description: ModelDescription) -> list[tuple]:
    """Layers as (kind, units, activation); an Activation layer folds into its Dense."""
    layers: list[tuple] = []
    for layer in description.layers:
        kind = layer.kind
        if kind == "input":
            continue
        if layer.custom and layer.base == "flatten":
            # A Flatten look-alike stands where Flatten goes (its own difference is
            # "custom_layer"), shown by its class name.
            layers.append(("flatten", None, layer.class_name))
            continue
        if kind == "activation" and layers and layers[-1][0] == "dense" and layers[-1][2] == "linear":
            layers[-1] = ("dense", layers[-1][1], layer.activation)
        elif kind == "dense":
            layers.append(("dense", layer.units, layer.activation))
        elif kind == "activation":
            layers.append(("activation", None, layer.activation))
        else:
            layers.append((kind, None, layer.class_name))
    return layers


def _shape(shape: object) -> str:
    """(None, 28, 28) as the student writes it in keras.Input: "28, 28"."""
    return ", ".join(str(d) for d in shape[1:]) if isinstance(shape, (list, tuple)) and shape else str(shape)


def render(layers: list[tuple]) -> str:
    parts = []
    for kind, units, extra in layers:
        if kind == "flatten":
            parts.append(extra or "Flatten")
        elif kind == "dense":
            parts.append(f"Dense({units}, {extra})")
        elif kind == "activation":
            parts.append(f"Activation({extra})")
        else:
            parts.append(str(extra))
    return " -> ".join(parts) or "-"


def expected_params(description: ModelDescription) -> int | None:
    """Weights the described layers hold (Flatten of 28x28, then Dense layers), or None if unknown.

    Only a model that starts with Flatten is counted: without it the Dense
    layers act on rows of pixels, which the structure check reports already.
    """
    features, total = None, 0
    for layer in description.layers:
        kind = layer.kind
        if kind == "flatten" and features is None:
            features = FLATTENED
        elif kind == "dense" and (features is None or layer.units is None):
            return None  # Dense on unflattened images: already a structure difference
        elif kind == "dense":
            total += features * layer.units + (layer.units if layer.use_bias else 0)
            features = layer.units
        elif kind not in ("input", "flatten", "activation", "dropout"):
            return None
    return total


def _layer_deviations(layers: list[tuple], dense_expected: list[tuple]) -> list[Deviation]:
    """Structure, hidden layer and output layer of ``layers`` against Flatten + ``dense_expected``."""
    found = []
    body = layers[1:] if layers and layers[0][0] == "flatten" else layers
    if body is layers:
        found.append(Deviation("structure", "architecture.no_flatten", {}))
    dense = [layer for layer in body if layer[0] == "dense"]
    if any(layer[0] != "dense" for layer in body) or len(dense) > len(dense_expected):
        found.append(Deviation("structure", "architecture.extra_layers", {}))
    elif len(dense) < len(dense_expected):
        found.append(Deviation("hidden", "architecture.missing_layers", {}))
    if len(dense) >= 2:
        (_, units, activation), (_, want_units, want_activation) = dense[0], dense_expected[0]
        if activation != want_activation:
            found.append(Deviation("hidden", "architecture.hidden_activation", {"activation": activation}))
        if units != want_units:
            found.append(Deviation("hidden", "architecture.units", {"units": units}))
    if dense:
        (_, units, activation), (_, want_units, _) = dense[-1], dense_expected[-1]
        if units != want_units:
            found.append(Deviation("output", "architecture.output_units", {"units": units}))
        if activation == "linear":
            found.append(Deviation("output", "architecture.logits", {}))
        elif activation != reference.OUTPUT_ACTIVATION:
            found.append(Deviation("output", "architecture.output_activation", {"activation": activation}))
    else:
        found.append(Deviation("output", "architecture.missing_layers", {}))
    return found


def _honours(variant: ModelDescription, dense_expected: list[tuple], decides: str) -> bool:
    dense = [layer for layer in effective_layers(variant) if layer[0] == "dense"]
    if not dense:
        return False
    if decides == "output_units":
        return dense[-1][1] == dense_expected[-1][1]
    hidden, want = dense[:-1], dense_expected[:-1]
    if decides == "hidden_units":
        return [units for _, units, _ in hidden] == [units for _, units, _ in want]
    return hidden == want


def architecture_deviations(facts: BuildFacts) -> list[Deviation]:
    """Every difference of build_model's default model and of its parameterised calls."""
    model = facts.default
    deviations = _layer_deviations(effective_layers(model), DEFAULT)
    custom = sorted({layer.class_name for layer in model.layers if layer.custom})
    if custom:
        deviations.append(Deviation("structure", "architecture.custom_layer", {"names": ", ".join(custom)}))
    if model.input_shape != INPUT_SHAPE:
        deviations.append(Deviation("structure", "architecture.input_shape", {"found": str(model.input_shape)}))
    described = expected_params(model)
    if described is not None and model.params is not None and model.params != described:
        deviations.append(Deviation("structure", "architecture.param_count", {"found": model.params, "expected": described}))
    for name, (call, dense, decides) in VARIANTS.items():
        variant = facts.variants.get(name, ModelDescription())
        if variant.error is not None:
            deviations.append(Deviation("parameters", "architecture.parameters_error", {"call": call, "error_type": variant.error.type}))
        elif not _honours(variant, dense, decides):
            deviations.append(
                Deviation(
                    "parameters",
                    "architecture.parameters",
                    {"call": call, "found": render(effective_layers(variant)), "expected": render([("flatten", None, None)] + dense)},
                )
            )
    return deviations


def compile_deviations(facts: CompileFacts) -> list[Deviation]:
    """Every difference of compile_model's settings (the model is compiled: checked before)."""
    compiled = facts.default
    deviations = []
    if compiled.optimizer != ADAM:
        deviations.append(Deviation("optimizer", "compile.optimizer", {"found": optimizer_words(compiled.optimizer)}))
    loss_name = compiled.loss.name if compiled.loss is not None else None
    if loss_name not in SPARSE_LOSSES:
        deviations.append(Deviation("loss", "compile.loss", {"found": loss_name}))
    elif compiled.loss.from_logits:
        deviations.append(Deviation("loss", "compile.from_logits", {}))
    metrics = [m.name for m in compiled.metrics]
    if not ACCURACY_METRICS.intersection(metrics):
        deviations.append(Deviation("metrics", "compile.metrics", {"found": ", ".join(metrics) or "-"}))
    if not facts.returns_model:
        deviations.append(Deviation("returns_model", "compile.no_return", {}))
    sgd = facts.sgd
    if sgd.error is not None or sgd.optimizer != reference.OPTIMIZER_PROBE[1]:
        found = optimizer_words(sgd.optimizer) if sgd.optimizer else sgd.error.type if sgd.error else None
        deviations.append(Deviation("parameter", "compile.parameter", {"found": found}))
    return deviations


def optimizer_words(name: str | None) -> Any:
    """An optimizer's name as reported; a look-alike class says it is the student's own."""
    if name and name.startswith("custom:"):
        return part("found.custom_class", name=name.partition(":")[2])
    return name


# Messages that never show the model's description as expected and found (their own fields say what differs).
OWN_FIELDS = {"architecture.parameters_error", "architecture.custom_layer"}


def _same_on_both_sides(deviations: list[Deviation], context: dict[str, Any]) -> bool:
    """The message would read "expected X; found X": the description shown is the same on both sides."""
    if len(deviations) == 1:
        only = deviations[0]
        if only.key in OWN_FIELDS:
            return False
        shown = {**context, **only.params}
    else:
        shown = context
    return "found" in shown and shown.get("found") == shown.get("expected")


def judge(check: str, deviations: list[Deviation], shares: dict[str, float], context: dict[str, Any]) -> tuple[str, float, dict[str, Any]]:
    """Catalogue key, fraction and fields of the verdict on ``deviations``.

    One difference keeps its own message; several are listed in one
    ``<check>.several`` message, one line each. The fraction is the share of
    the aspects without a difference.
    """
    lost = {d.aspect for d in deviations}
    # The kept shares, summed in the config's order: every aspect lost is exactly 0, whatever the set's order.
    fraction = sum(share for aspect, share in shares.items() if aspect not in lost)
    if _same_on_both_sides(deviations, context):
        # The layers read exactly as asked: never "expected X; found X". Say what differs instead.
        items = [part(f"{check}.item.{d.key.partition('.')[2]}", **{**context, **d.params}) for d in deviations]
        key = f"{check}.parameters_ignored" if lost == {"parameters"} else f"{check}.same_layers"
        return key, fraction, {"found": context.get("found", deviations[0].params.get("found")), "count": len(deviations), "items": items}
    if len(deviations) == 1:
        only = deviations[0]
        return only.key, fraction, {**context, **only.params}
    items = [part(f"{check}.item.{d.key.partition('.')[2]}", **{**context, **d.params}) for d in deviations]
    return f"{check}.several", fraction, {**context, "count": len(deviations), "items": items}


@check("architecture", step="build_model")
def test_architecture(ctx, verdict):
    facts = ctx.facts("build_model")
    model = facts.default
    if not model.is_model:
        fail("architecture.not_model", found=found_type(model.type))
    layers = render(effective_layers(model))
    deviations = architecture_deviations(facts)
    if deviations:
        context = {"found": layers, "expected": render([("flatten", None, None)] + DEFAULT)}
        if model.input_shape != INPUT_SHAPE:
            # Otherwise "expected X; found X" when only the input differs.
            context = {"found": f"Input({_shape(model.input_shape)}) -> {layers}", "expected": f"Input({_shape(INPUT_SHAPE)}) -> {context['expected']}"}
        key, fraction, params = judge("architecture", deviations, ctx.config.partial.architecture, context)
        fail(key, fraction=fraction, **params)
    verdict.ok("architecture.ok", found=layers, params=model.params)


@check("compile", step="compile_model")
def test_compile(ctx, verdict):
    facts = ctx.facts("compile_model")
    compiled = facts.default
    if not compiled.is_model or not compiled.compiled:
        fail("compile.not_compiled")
    deviations = compile_deviations(facts)
    if deviations:
        key, fraction, params = judge("compile", deviations, ctx.config.partial.compile, {})
        fail(key, fraction=fraction, **params)
    verdict.ok("compile.ok")
