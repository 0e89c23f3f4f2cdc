"""A small stand-in for the part of Keras that the answerer's Keras side reads.

``grader/sandbox/introspect.py`` describes a student's model, layers, optimizer,
loss and metrics; ``grader/sandbox/guard.py`` snapshots Keras's classes and
settings. Both only read an attribute surface: class names and their
inheritance, ``units``/``activation``/``use_bias``, ``built``/``inputs``/
``outputs``/``count_params()``, ``compiled``/``optimizer``/
``get_compile_config()``, ``keras.ops``' tensor conversions and
``keras.config``'s getters and setters. This module reproduces that surface
with NumPy, so the fast tests pin what those modules report without starting
TensorFlow (about 5-10 s a process).

The fakes are kept honest by ``tests/test_keras_fakes_contract.py`` (slow): it
builds the same models with the real Keras and asserts that introspect
describes both identically, and that every name here exists in Keras with the
same inheritance.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


# -- keras.activations and keras.ops ----------------------------------------------------------


def linear(x: Any) -> Any:
    return x


def relu(x: Any) -> Any:
    return np.maximum(x, 0.0)


def sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x)))


def tanh(x: Any) -> Any:
    return np.tanh(x)


def softmax(x: Any, axis: int = -1) -> Any:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def gelu(x: Any) -> Any:
    x = np.asarray(x)
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


ACTIVATIONS = {"linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "gelu": gelu}


def get_activation(identifier: Any) -> Any:
    """``keras.activations.get``: None is linear, a name is looked up, a callable is kept."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return ACTIVATIONS[identifier]
    return identifier


class Tensor(np.ndarray):
    """What ``keras.ops.convert_to_tensor`` returns: not a plain ndarray, as a real tensor is not."""


def convert_to_tensor(x: Any) -> Tensor:
    return np.asarray(x, dtype="float32").view(Tensor)


def convert_to_numpy(x: Any) -> np.ndarray:
    return np.asarray(x).view(np.ndarray)


# -- keras.layers ------------------------------------------------------------------------------


class Operation:
    pass


class Layer(Operation):
    def __call__(self, x: Any) -> Any:
        return self.call(convert_to_tensor(x))

    def call(self, x: Any) -> Any:
        return x


class Flatten(Layer):
    def call(self, x: Any) -> Any:
        return x.reshape(x.shape[0], -1)


class Dense(Layer):
    def __init__(self, units: int, activation: Any = None, use_bias: bool = True) -> None:
        self.units, self.activation, self.use_bias = units, get_activation(activation), use_bias

    def call(self, x: Any) -> Any:
        return self.activation(x)


class Activation(Layer):
    def __init__(self, activation: Any) -> None:
        self.activation = get_activation(activation)

    def call(self, x: Any) -> Any:
        return self.activation(x)


class ReLU(Layer):
    def call(self, x: Any) -> Any:
        return relu(x)


class Softmax(Layer):
    def call(self, x: Any) -> Any:
        return softmax(x)


class Dropout(Layer):
    def __init__(self, rate: float) -> None:
        self.rate = rate


class InputLayer(Layer):
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape


# -- keras.optimizers, keras.losses, keras.metrics ---------------------------------------------


class Optimizer:
    pass


class Adam(Optimizer):
    pass


class AdamW(Adam):
    pass


class SGD(Optimizer):
    pass


class RMSprop(Optimizer):
    pass


OPTIMIZERS = {"adam": Adam, "adamw": AdamW, "sgd": SGD, "rmsprop": RMSprop}


class Loss:
    def __init__(self, from_logits: bool = False) -> None:
        self.from_logits = from_logits

    def get_config(self) -> dict[str, Any]:
        return {"name": "loss", "reduction": "sum_over_batch_size", "from_logits": self.from_logits}


class SparseCategoricalCrossentropy(Loss):
    pass


class CategoricalCrossentropy(Loss):
    pass


class Metric:
    def get_config(self) -> dict[str, Any]:
        return {"name": "metric", "dtype": "float32"}


class SparseCategoricalAccuracy(Metric):
    pass


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any) -> Any:
    return np.zeros(1)


def _serialize(item: Any) -> Any:
    """How ``get_compile_config`` writes a compile argument (keras.saving.serialize_keras_object)."""
    if item is None or isinstance(item, str):
        return item
    if isinstance(item, list):
        return [_serialize(i) for i in item]
    if isinstance(item, dict):
        return {key: _serialize(value) for key, value in item.items()}
    if isinstance(item, types.FunctionType):
        return {"module": "builtins", "class_name": "function", "config": item.__name__, "registered_name": "function"}
    module = "keras.losses" if isinstance(item, Loss) else "keras.metrics" if isinstance(item, Metric) else "keras.optimizers"
    return {"module": module, "class_name": type(item).__name__, "config": item.get_config(), "registered_name": None}


# -- keras.Model and keras.Sequential ----------------------------------------------------------


class Trainer:
    def __init__(self) -> None:
        self.compiled = False

    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None) -> None:
        self.optimizer = OPTIMIZERS[optimizer]() if isinstance(optimizer, str) else optimizer
        self._compile_config = {"loss": _serialize(loss), "metrics": _serialize(metrics)}
        self.compiled = True

    def get_compile_config(self) -> dict[str, Any] | None:
        if not self.compiled:
            return None
        return {"optimizer": {"module": "keras.optimizers", "class_name": type(self.optimizer).__name__, "config": {}}, **self._compile_config}

    def evaluate(self, x: Any = None, y: Any = None) -> list[float]:
        return [0.0, 0.0]


class Model(Trainer, Layer):
    pass


class Sequential(Model):
    """Built when its first layer is an InputLayer (``keras.Input``); model.layers leaves that one out."""

    def __init__(self, layers: list[Any]) -> None:
        super().__init__()
        self._input = layers[0].shape if layers and isinstance(layers[0], InputLayer) else None
        self.layers = [layer for layer in layers if not isinstance(layer, InputLayer)]
        self.built = self._input is not None

    @property
    def inputs(self) -> list[Any]:
        if not self.built:
            raise AttributeError("Sequential model has no defined inputs yet.")
        return [types.SimpleNamespace(shape=(None, *self._input))]

    @property
    def outputs(self) -> list[Any]:
        if not self.built:
            raise AttributeError("Sequential model has no defined outputs yet.")
        units = [layer.units for layer in self.layers if isinstance(layer, Dense)]
        return [types.SimpleNamespace(shape=(None, units[-1] if units else int(np.prod(self._input))))]

    def count_params(self) -> int:
        if not self.built:
            raise ValueError("You tried to call `count_params` on a layer that isn't built.")
        size, total = int(np.prod(self._input)), 0
        for layer in self.layers:
            if isinstance(layer, Dense):
                total += size * layer.units + (layer.units if layer.use_bias else 0)
                size = layer.units
        return total


def Input(shape: tuple[int, ...]) -> InputLayer:  # noqa: N802 - Keras's name
    return InputLayer(shape)


class History:
    pass


# -- keras.config ------------------------------------------------------------------------------


# Keras's defaults of the settings the guard resets.
SETTINGS = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last", "dtype_policy": "float32"}


class Config(types.ModuleType):
    """Keras's process-wide settings: getters and setters, as the guard reads and resets them."""

    def __init__(self) -> None:
        super().__init__("keras.config")
        self._values = dict(SETTINGS)
        for name in SETTINGS:
            setattr(self, name, lambda name=name: self._values[name])
            setattr(self, f"set_{name}", lambda value, name=name: self._values.__setitem__(name, value))


def _module(name: str, **members: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in members.items():
        setattr(module, key, value)
    return module


def fake_keras() -> types.ModuleType:
    """A fresh ``keras`` module tree (its config starts at Keras's defaults)."""
    keras = _module("keras", Model=Model, Sequential=Sequential, Input=Input)
    keras.layers = _module(
        "keras.layers",
        Layer=Layer,
        Flatten=Flatten,
        Dense=Dense,
        Activation=Activation,
        ReLU=ReLU,
        Softmax=Softmax,
        Dropout=Dropout,
        InputLayer=InputLayer,
    )
    keras.optimizers = _module("keras.optimizers", Optimizer=Optimizer, Adam=Adam, AdamW=AdamW, SGD=SGD, RMSprop=RMSprop)
    keras.losses = _module(
        "keras.losses",
        Loss=Loss,
        SparseCategoricalCrossentropy=SparseCategoricalCrossentropy,
        CategoricalCrossentropy=CategoricalCrossentropy,
        sparse_categorical_crossentropy=sparse_categorical_crossentropy,
    )
    keras.metrics = _module("keras.metrics", Metric=Metric, SparseCategoricalAccuracy=SparseCategoricalAccuracy)
    keras.activations = _module("keras.activations", get=get_activation, **ACTIVATIONS)
    keras.ops = _module("keras.ops", convert_to_tensor=convert_to_tensor, convert_to_numpy=convert_to_numpy)
    keras.callbacks = _module("keras.callbacks", History=History)
    keras.utils = _module("keras.utils")
    keras.config = Config()
    return keras


def load_introspect(keras: types.ModuleType) -> types.ModuleType:
    """``grader/sandbox/introspect.py`` imported afresh against ``keras`` (under a name of its own, so the
    real ``grader.sandbox.introspect`` is neither replaced nor imported)."""
    path = ROOT / "grader" / "sandbox" / "introspect.py"
    spec = importlib.util.spec_from_file_location("introspect_on_fake_keras", path)
    module = importlib.util.module_from_spec(spec)
    saved = sys.modules.get("keras")
    sys.modules["keras"] = keras
    try:
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            del sys.modules["keras"]
        else:
            sys.modules["keras"] = saved
    return module


# -- the same objects built with either Keras: what the fast tests describe and the contract compares --


def reference_model(keras: Any) -> Any:
    """The activity's network, as the reference solution builds it."""
    layers = keras.layers
    return keras.Sequential(
        [keras.Input((28, 28)), layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dropout(0.2), layers.Dense(10, activation="softmax")]
    )


def unbuilt_model(keras: Any) -> Any:
    """No input given: Keras knows neither its shapes nor its parameter count yet."""
    return keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10)])


def activation_layers_model(keras: Any) -> Any:
    """Activations as layers of their own, a Dense without bias, and a linear Dense."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28)),
            layers.Flatten(),
            layers.Dense(64, use_bias=False),
            layers.Activation("tanh"),
            layers.Dense(32),
            layers.ReLU(),
            layers.Dense(10, activation="sigmoid"),
            layers.Softmax(),
        ]
    )


def look_alike_model(keras: Any) -> Any:
    """A student's class named Flatten deriving from Keras's: it may compute anything."""

    class Flatten(keras.layers.Flatten):
        pass

    return keras.Sequential([keras.Input((28, 28)), Flatten(), keras.layers.Dense(10, activation="softmax")])


def compiled_with_names(keras: Any) -> Any:
    model = reference_model(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def compiled_with_objects(keras: Any) -> Any:
    model = reference_model(keras)
    model.compile(
        optimizer=keras.optimizers.SGD(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def compiled_with_a_function(keras: Any) -> Any:
    """The loss as a function and the metrics per output (a dict); AdamW, a subclass of Adam."""
    model = reference_model(keras)
    model.compile(optimizer=keras.optimizers.AdamW(), loss=keras.losses.sparse_categorical_crossentropy, metrics={"out": "accuracy"})
    return model


def compiled_with_a_look_alike_optimizer(keras: Any) -> Any:
    """A class named Adam that is SGD underneath."""

    class Adam(keras.optimizers.SGD):
        pass

    model = reference_model(keras)
    model.compile(optimizer=Adam(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def not_compiled(keras: Any) -> Any:
    return reference_model(keras)


MODELS = (reference_model, unbuilt_model, activation_layers_model, look_alike_model)
COMPILED = (compiled_with_names, compiled_with_objects, compiled_with_a_function, compiled_with_a_look_alike_optimizer, not_compiled)
