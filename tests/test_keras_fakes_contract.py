"""The stand-in Keras of the fast tests describes and guards exactly like the real one (slow).

tests/test_introspect.py and tests/test_guard.py run against tests/keras_fakes.py
so that no TensorFlow starts. Should Keras change what introspect or the guard
read (a class name, an inheritance, ``get_compile_config``'s format, a shape
property, a config setter), these tests fail instead of the fast ones passing
on a Keras that no longer exists: the same models built with either are
described identically, every name of the stand-in exists in Keras with the
same bases, and the guard reports the same replaced methods.
"""

from __future__ import annotations

import inspect
import types

import pytest
from keras_fakes import ACTIVATIONS, COMPILED, MODELS, SETTINGS, fake_keras, load_introspect

pytestmark = pytest.mark.slow

FAKE = fake_keras()
FAKE_INTROSPECT = load_introspect(FAKE)


@pytest.fixture(scope="module")
def real():
    import keras

    from grader.sandbox import introspect

    yield keras, introspect
    keras.backend.clear_session()  # the models built here leave Keras's name counters to the worker's next test file


@pytest.mark.parametrize("build", MODELS, ids=lambda build: build.__name__)
def test_a_model_is_described_as_its_stand_in(real, build):
    keras, introspect = real
    assert introspect.describe_model(build(keras)) == FAKE_INTROSPECT.describe_model(build(FAKE))


@pytest.mark.parametrize("build", COMPILED, ids=lambda build: build.__name__)
def test_compile_settings_are_described_as_the_stand_in_s(real, build):
    keras, introspect = real
    assert introspect.describe_compile(build(keras)) == FAKE_INTROSPECT.describe_compile(build(FAKE))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_an_activation_function_and_layer_are_classified_as_the_stand_in_s(real, name):
    keras, introspect = real
    expected = FAKE_INTROSPECT.classify_activation(getattr(FAKE.activations, name))
    assert introspect.classify_activation(getattr(keras.activations, name)) == expected
    assert introspect.classify_activation(keras.layers.Activation(name)) == FAKE_INTROSPECT.classify_activation(FAKE.layers.Activation(name))


def test_layers_alone_are_described_as_the_stand_in_s(real):
    keras, introspect = real
    for build in (
        lambda k: k.layers.InputLayer(shape=(28, 28)) if k is keras else k.layers.InputLayer((28, 28)),
        lambda k: k.layers.Dense(10, activation="softmax"),
        lambda k: k.layers.Flatten(),
        lambda k: k.layers.ReLU(),
    ):
        assert introspect.describe_layer(build(keras)) == FAKE_INTROSPECT.describe_layer(build(FAKE))


def _names(module: types.ModuleType, prefix: str = "keras"):
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if isinstance(value, types.ModuleType):
            yield from _names(value, f"{prefix}.{name}")
        else:
            yield f"{prefix}.{name}", value


def test_every_name_of_the_stand_in_exists_in_keras_with_the_same_bases(real):
    keras, _ = real
    for path, fake in _names(FAKE):
        found = keras
        for part in path.split(".")[1:]:
            found = getattr(found, part, None)
            assert found is not None, f"{path} is not in Keras {keras.__version__}"
        if inspect.isclass(fake):
            assert inspect.isclass(found), path
            real_bases = {cls.__name__ for cls in found.__mro__}
            missing = {cls.__name__ for cls in fake.__mro__ if cls is not object} - real_bases
            assert not missing, f"{path}: Keras's class does not derive from {missing}"
        else:
            assert callable(found) == callable(fake), path


def test_the_settings_the_guard_resets_start_at_the_stand_in_s_values(real):
    keras, _ = real
    values = {name: getattr(keras.config, name)() for name in SETTINGS}
    values["dtype_policy"] = values["dtype_policy"].name
    assert values == SETTINGS


def test_the_guard_reports_replaced_keras_methods_as_on_the_stand_in(real, monkeypatch):
    from grader.sandbox.guard import Guard

    keras, _ = real

    def replaced(module):
        guard = Guard()
        module.layers.Dense.call = lambda self, x: x
        module.Model.evaluate = lambda self, *args, **kwargs: [0.0, 1.0]
        module.config.set_floatx("float64")
        changed = guard.restore()
        assert module.config.floatx() == "float32"
        return [name.split(".")[-2:] for name in changed]

    on_keras = replaced(keras)
    monkeypatch.setitem(__import__("sys").modules, "keras", FAKE)
    assert on_keras == replaced(FAKE) == [["Dense", "call"], ["Model", "evaluate"]]
