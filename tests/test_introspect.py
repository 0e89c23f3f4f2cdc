"""What the answerer reports about a student's model, compile settings and figures (fast).

``grader/sandbox/introspect.py`` turns what the student's functions returned
into the plain descriptions the checks judge: the layer kinds and units, which
activation each layer computes, the parameter count and shapes, the exact
optimizer class, the loss and whether it takes logits, the metrics, and the
images and curves of a figure. A wrong fact here is a wrong grade there.

These tests describe small stand-ins with Keras's attribute surface
(tests/keras_fakes.py), so no TensorFlow starts; the slow contract test
(tests/test_keras_fakes_contract.py) checks that real Keras objects are
described exactly as their stand-ins.
"""

from __future__ import annotations

import numpy as np
import pytest
from keras_fakes import (
    activation_layers_model,
    compiled_with_a_function,
    compiled_with_a_look_alike_optimizer,
    compiled_with_names,
    compiled_with_objects,
    fake_keras,
    load_introspect,
    look_alike_model,
    not_compiled,
    reference_model,
    relu,
    unbuilt_model,
)
from matplotlib.figure import Figure

keras = fake_keras()
introspect = load_introspect(keras)


# -- activations: recognised by what they compute ----------------------------------------------


@pytest.mark.parametrize(
    "function, name",
    [
        (None, "linear"),
        (lambda x: x, "linear"),
        (relu, "relu"),
        (lambda x: np.maximum(x, 0.0), "relu"),
        (lambda x: 1.0 / (1.0 + np.exp(-np.asarray(x))), "sigmoid"),
        (np.tanh, "tanh"),
        (lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True), "softmax"),
        (keras.layers.Activation("softmax"), "softmax"),
        (keras.layers.ReLU(), "relu"),
    ],
)
def test_an_activation_is_named_by_what_it_computes(function, name):
    assert introspect.classify_activation(function) == name


def test_an_activation_that_is_none_of_the_known_ones_is_other_with_its_name():
    assert introspect.classify_activation(keras.activations.gelu) == "other:gelu"
    assert introspect.classify_activation(lambda x: np.maximum(x, 0.0) + 1e-3) == "other:<lambda>"  # close is not relu


def test_an_activation_that_changes_the_shape_is_not_taken_for_one_that_broadcasts_alike():
    # x[0] holds the same numbers as the identity, in another shape: not "linear"
    assert introspect.classify_activation(lambda x: x[0]) == "other:<lambda>"


def test_an_activation_that_fails_is_other_with_the_error_and_a_nameless_callable_its_class():
    assert introspect.classify_activation(lambda x: 1 / 0) == "other:ZeroDivisionError"

    class Halve:
        def __call__(self, x):
            return x / 2

    assert introspect.classify_activation(Halve()) == "other:Halve"


# -- models and layers -------------------------------------------------------------------------


def test_the_reference_network_is_described_layer_by_layer_with_its_shapes_and_parameters():
    assert introspect.describe_model(reference_model(keras)) == {
        "is_model": True,
        "type": "Sequential",
        "is_sequential": True,
        "built": True,
        "layers": [
            {"kind": "flatten", "class_name": "Flatten"},
            {"kind": "dense", "class_name": "Dense", "units": 128, "activation": "relu", "use_bias": True},
            {"kind": "dropout", "class_name": "Dropout"},
            {"kind": "dense", "class_name": "Dense", "units": 10, "activation": "softmax", "use_bias": True},
        ],
        "input_shape": [None, 28, 28],
        "output_shape": [None, 10],
        "params": 101770,
    }


def test_a_model_without_input_has_no_shapes_nor_parameter_count():
    described = introspect.describe_model(unbuilt_model(keras))
    assert described["built"] is False
    assert described["input_shape"] is None and described["output_shape"] is None and described["params"] is None
    assert [layer["kind"] for layer in described["layers"]] == ["flatten", "dense"]
    assert described["layers"][1]["activation"] == "linear"


def test_activation_layers_and_a_dense_without_bias():
    described = introspect.describe_model(activation_layers_model(keras))
    assert described["layers"] == [
        {"kind": "flatten", "class_name": "Flatten"},
        {"kind": "dense", "class_name": "Dense", "units": 64, "activation": "linear", "use_bias": False},
        {"kind": "activation", "class_name": "Activation", "activation": "tanh"},
        {"kind": "dense", "class_name": "Dense", "units": 32, "activation": "linear", "use_bias": True},
        {"kind": "activation", "class_name": "ReLU", "activation": "relu"},
        {"kind": "dense", "class_name": "Dense", "units": 10, "activation": "sigmoid", "use_bias": True},
        {"kind": "activation", "class_name": "Softmax", "activation": "softmax"},
    ]
    assert described["params"] == 784 * 64 + (64 * 32 + 32) + (32 * 10 + 10)


def test_a_look_alike_of_a_keras_layer_is_other_custom_and_named_with_its_module():
    flatten = introspect.describe_model(look_alike_model(keras))["layers"][0]
    assert flatten == {"kind": "other", "class_name": "keras_fakes.Flatten", "custom": True, "base": "flatten"}


def test_a_look_alike_dense_is_not_described_as_a_dense():
    class Dense(keras.layers.Dense):
        pass

    described = introspect.describe_layer(Dense(10, activation="softmax"))
    assert described["kind"] == "other" and described["base"] == "dense" and described["custom"] is True
    assert "units" not in described and "activation" not in described


def test_a_layer_of_the_student_s_own_is_other_and_not_custom():
    class Scale(keras.layers.Layer):
        pass

    assert introspect.describe_layer(Scale()) == {"kind": "other", "class_name": "Scale"}


def test_a_layer_that_reports_its_shapes_has_them_described_but_an_input_layer_does_not():
    class Shaped(keras.layers.Layer):  # a layer of the student's own with Keras 2's shape attributes
        input_shape = (None, 28, 28)
        output_shape = (None, 784)

    assert introspect.describe_layer(Shaped()) == {"kind": "other", "class_name": "Shaped", "input_shape": [None, 28, 28], "output_shape": [None, 784]}
    entry = keras.layers.InputLayer((28, 28))
    entry.input_shape = entry.output_shape = (None, 28, 28)
    assert introspect.describe_layer(entry) == {"kind": "input", "class_name": "InputLayer"}


def test_a_shape_that_is_not_a_sequence_is_none_and_one_that_cannot_be_read_is_left_out():
    class Odd(keras.layers.Layer):
        input_shape = 7

        @property
        def output_shape(self):
            raise AttributeError("not built")

    assert introspect.describe_layer(Odd()) == {"kind": "other", "class_name": "Odd", "input_shape": None}


@pytest.mark.parametrize("returned", [None, [1, 2], "modelo", keras.layers.Dense(10)])
def test_what_is_not_a_model_is_said_to_be_not_a_model_with_its_type(returned):
    assert introspect.describe_model(returned) == {"is_model": False, "type": type(returned).__name__}


# -- compile settings --------------------------------------------------------------------------


def test_compiled_with_names():
    assert introspect.describe_compile(compiled_with_names(keras)) == {
        "compiled": True,
        "optimizer": "Adam",
        "loss": {"name": "sparse_categorical_crossentropy"},
        "metrics": [{"name": "accuracy"}],
    }


def test_compiled_with_objects_the_loss_says_whether_it_takes_logits():
    assert introspect.describe_compile(compiled_with_objects(keras)) == {
        "compiled": True,
        "optimizer": "SGD",
        "loss": {"name": "SparseCategoricalCrossentropy", "from_logits": True},
        "metrics": [{"name": "SparseCategoricalAccuracy", "from_logits": False}],
    }


def test_compiled_with_a_loss_function_and_metrics_per_output():
    assert introspect.describe_compile(compiled_with_a_function(keras)) == {
        "compiled": True,
        "optimizer": "AdamW",
        "loss": {"name": "sparse_categorical_crossentropy"},
        "metrics": [{"name": "accuracy"}],
    }


def test_an_optimizer_is_named_only_when_it_is_exactly_keras_s_class():
    assert introspect.describe_compile(compiled_with_a_look_alike_optimizer(keras))["optimizer"] == "custom:Adam"

    class Adam2(keras.optimizers.Adam):
        pass

    assert introspect.optimizer_name(Adam2()) == "custom:Adam2"
    assert introspect.optimizer_name(keras.optimizers.Adam()) == "Adam"
    assert introspect.optimizer_name(object()) == "custom:object"


@pytest.mark.parametrize("losses", [["sparse_categorical_crossentropy"] * 2, {"a": "mse", "b": "sparse_categorical_crossentropy"}])
def test_one_loss_per_output_is_multiple(losses):
    model = reference_model(keras)
    model.compile(optimizer="adam", loss=losses, metrics=["accuracy"])
    assert introspect.describe_compile(model)["loss"] == {"name": "multiple"}


def test_a_model_that_was_not_compiled_and_what_is_not_a_model():
    assert introspect.describe_compile(not_compiled(keras)) == {"compiled": False}
    assert introspect.describe_compile("adam") == {"is_model": False, "type": "str"}


def test_a_compile_config_that_cannot_be_read_is_an_error_and_an_unserialized_loss_its_class():
    class Broken(keras.Sequential):
        def get_compile_config(self):
            raise ValueError("cannot serialize")

    broken = Broken([])
    broken.compile(optimizer="adam", loss="mse")
    assert introspect.describe_compile(broken) == {"compiled": True, "config_error": "ValueError"}

    class Raw(keras.Sequential):
        def get_compile_config(self):
            return {"loss": keras.losses.CategoricalCrossentropy(), "metrics": [{"class_name": "Accuracy", "config": None}]}

    raw = Raw([])
    raw.compile(optimizer="sgd")
    assert introspect.describe_compile(raw) == {
        "compiled": True,
        "optimizer": "SGD",
        "loss": {"name": "CategoricalCrossentropy"},
        "metrics": [{"name": "Accuracy", "from_logits": False}],
    }


# -- figures -----------------------------------------------------------------------------------


def test_a_figure_s_small_images_and_curves_are_sent_as_data():
    figure = Figure()
    image_axes, curve_axes = figure.subplots(1, 2)
    digit = np.arange(28 * 28, dtype="uint8").reshape(28, 28)
    image_axes.imshow(digit)
    curve_axes.plot([0.9, 0.95, 0.97])
    curve_axes.plot([0.3, 0.2])
    described = introspect.describe_figure(figure)
    assert described["is_figure"] is True and described["type"] == "Figure"
    assert described["axes"][0] == {"images": [digit.tolist()], "lines": []}
    assert described["axes"][1] == {"images": [], "lines": [[0.9, 0.95, 0.97], [0.3, 0.2]]}


def test_a_figure_s_large_data_is_sent_by_its_shape_only():
    figure = Figure()
    axes = figure.subplots()
    axes.imshow(np.zeros((100, 100)))  # 10 000 values: more than MAX_VALUES
    axes.imshow(np.ones((2, 2), dtype=bool))
    axes.plot(np.arange(introspect.MAX_VALUES + 1))
    axes.plot(np.arange(introspect.MAX_VALUES))
    described = introspect.describe_figure(figure)["axes"][0]
    assert described["images"] == [{"shape": [100, 100]}, [[True, True], [True, True]]]
    assert described["lines"][0] == [] and len(described["lines"][1]) == introspect.MAX_VALUES


def test_what_is_not_a_figure_is_said_to_be_not_a_figure():
    assert introspect.describe_figure([1, 2]) == {"is_figure": False, "type": "list"}
