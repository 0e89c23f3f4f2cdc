"""Plain-data descriptions of what the student's functions returned.

Runs inside the answerer (the process that imported the student's code):
everything returned here is a plain dict, the shape of a ``grader.facts``
description, which crosses as a return value. The observer parses it into the
typed facts (``grader.facts.parse_as``) and trusts none of it beyond that:
a forged description is only a forged return value.
Activations are identified by what they compute, not by their names, so a
string, ``tf.nn.relu``, ``keras.activations.relu`` or an ``Activation`` layer
are all recognised the same way.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

MAX_VALUES = 4096  # larger images or curves are described by their shape only
_PROBE = np.array([[-3.0, -1.0, -0.25, 0.0, 0.5, 2.0]], dtype="float32")
_REFERENCE = {
    "linear": _PROBE,
    "relu": np.maximum(_PROBE, 0.0),
    "sigmoid": 1.0 / (1.0 + np.exp(-_PROBE)),
    "tanh": np.tanh(_PROBE),
    "softmax": np.exp(_PROBE) / np.exp(_PROBE).sum(axis=-1, keepdims=True),
}


def classify_activation(function: Any) -> str:
    """Name of the activation ``function`` computes, or ``other:<name>``."""
    if function is None:
        return "linear"
    try:
        output = keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(_PROBE)))
    except Exception as error:  # any failure means: not a known activation
        return f"other:{type(error).__name__}"
    for name, expected in _REFERENCE.items():
        if np.shape(output) == expected.shape and np.allclose(output, expected, atol=1e-5):
            return name
    return "other:" + getattr(function, "__name__", type(function).__name__)


def _shape(value: Any) -> list[Any] | None:
    try:
        return [None if d is None else int(d) for d in tuple(value)]
    except TypeError:
        return None


# Layer kinds by their exact Keras class: a subclass may compute anything
# (a "Flatten" hiding a trainable layer), so it is never taken for the real one.
_LAYER_KINDS = (
    (keras.layers.Flatten, "flatten"),
    (keras.layers.Dense, "dense"),
    (keras.layers.Activation, "activation"),
    (keras.layers.ReLU, "activation"),
    (keras.layers.Softmax, "activation"),
    (keras.layers.Dropout, "dropout"),
    (keras.layers.InputLayer, "input"),
)


def _exact_kind(layer: Any) -> tuple[str, str | None]:
    """(kind, base): the kind of an exact Keras class; or "other" and, for a
    look-alike (a subclass of one of them), the kind it imitates."""
    for cls, kind in _LAYER_KINDS:
        if type(layer) is cls:
            return kind, None
    return "other", next((kind for cls, kind in _LAYER_KINDS if isinstance(layer, cls)), None)


def describe_layer(layer: Any) -> dict[str, Any]:
    kind, base = _exact_kind(layer)
    described: dict[str, Any] = {"kind": kind, "class_name": type(layer).__name__}
    if base is not None:
        # A look-alike may compute anything: named with its module (mnist_dense.Flatten)
        # so it never reads as Keras's own, and judged apart from the real kinds.
        described.update(custom=True, base=base, class_name=f"{type(layer).__module__}.{type(layer).__name__}")
    if kind == "dense":
        described.update(units=int(layer.units), activation=classify_activation(layer.activation), use_bias=bool(layer.use_bias))
    elif kind == "activation":
        described["activation"] = classify_activation(layer)
    if kind != "input":
        for attribute in ("input_shape", "output_shape"):
            try:
                described[attribute] = _shape(getattr(layer, attribute))
            except (AttributeError, ValueError):
                pass
    return described


def describe_model(model: Any) -> dict[str, Any]:
    """Type, input shape and layers of whatever build_model returned."""
    if not isinstance(model, keras.Model):
        return {"is_model": False, "type": type(model).__name__}
    described: dict[str, Any] = {
        "is_model": True,
        "type": type(model).__name__,
        "is_sequential": isinstance(model, keras.Sequential),
        "built": bool(model.built),
        "layers": [describe_layer(layer) for layer in model.layers],
    }
    try:
        described["input_shape"] = _shape(model.inputs[0].shape) if model.inputs else None
        described["output_shape"] = _shape(model.outputs[0].shape) if model.outputs else None
        described["params"] = int(model.count_params())
    except (AttributeError, ValueError):
        described["input_shape"] = described["output_shape"] = described["params"] = None
    return described


def _loss_or_metric(item: Any) -> dict[str, Any]:
    """Serialized compile argument -> its name and from_logits."""
    if isinstance(item, str):
        return {"name": item}
    if isinstance(item, dict):
        config = item.get("config")
        if item.get("class_name") == "function":
            return {"name": str(config)}
        from_logits = bool(config.get("from_logits", False)) if isinstance(config, dict) else False
        return {"name": str(item.get("class_name")), "from_logits": from_logits}
    return {"name": type(item).__name__}


def _per_output(losses: Any) -> bool:
    """A list or dict of losses, one per output (a serialized object is a dict too)."""
    return isinstance(losses, list) or (isinstance(losses, dict) and "class_name" not in losses)


def optimizer_name(optimizer: Any) -> str:
    """The Keras optimizer's class name when it is exactly that class, else ``custom:<name>``."""
    cls = type(optimizer)
    name = cls.__name__
    official = getattr(keras.optimizers, name, None)
    return name if isinstance(official, type) and cls is official else f"custom:{name}"


def describe_compile(model: Any) -> dict[str, Any]:
    """Optimizer class, loss and metrics the model was compiled with."""
    if not isinstance(model, keras.Model):
        return {"is_model": False, "type": type(model).__name__}
    if not getattr(model, "compiled", False):
        return {"compiled": False}
    try:
        config = model.get_compile_config() or {}
    except (TypeError, ValueError, AttributeError) as error:
        return {"compiled": True, "config_error": type(error).__name__}
    losses = config.get("loss")
    metrics = config.get("metrics") or []
    if isinstance(metrics, dict):
        metrics = list(metrics.values())
    return {
        "compiled": True,
        # The exact class: AdamW is a subclass of Adam, and a class named
        # Adam may derive from SGD; neither passes for keras.optimizers.Adam.
        "optimizer": optimizer_name(model.optimizer),
        "loss": {"name": "multiple"} if _per_output(losses) else _loss_or_metric(losses),
        "metrics": [_loss_or_metric(m) for m in metrics],
    }


def describe_figure(figure: Any) -> dict[str, Any]:
    """Images and line data of a matplotlib Figure."""
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        return {"is_figure": False, "type": type(figure).__name__}
    axes = []
    for ax in figure.get_axes():
        images = [np.asarray(im.get_array()) for im in ax.get_images()]
        lines = [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()]
        # Only small data is sent: an MNIST image, one value per epoch.
        axes.append(
            {
                "images": [im.tolist() if im.size <= MAX_VALUES and im.dtype.kind in "biuf" else {"shape": list(im.shape)} for im in images],
                "lines": [y.tolist() if y.size <= MAX_VALUES else [] for y in lines],
            }
        )
    return {"is_figure": True, "type": type(figure).__name__, "axes": axes[:64]}
