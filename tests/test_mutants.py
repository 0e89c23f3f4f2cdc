"""Mutants of the reference solution: each must lose exactly the checks it should.

Every mutant is one textual edit of ``solutions/mnist_dense.py``, graded on
the first 3,000 training images (see ``gradingkit``). For each, the table
below lists the checks that must fall short of full marks, with the message
that must explain why; every other code check must pass. What is fair:

* A mistake costs the check of the step that contains it, never the steps
  after it: later steps are graded on the grader's stand-in when the
  student's result is unusable, and on a model compiled the reference way
  when grading ``evaluate_model``.
* ``min_accuracy`` measures the student's own pipeline. It is lost when that
  pipeline could not be used (a stand-in replaced one of its steps:
  ``min_accuracy.blocked``) or when the trained model really is worse
  (``min_accuracy.low``). It is not lost for a wrong detail that trains as
  well (tanh instead of relu, RMSprop, an extra Dropout, one-hot labels with
  categorical cross-entropy).
"""

from __future__ import annotations

import pytest

from gradingkit import SOLUTION, edit, grade_all

pytestmark = [pytest.mark.slow, pytest.mark.slots(2)]

REFERENCE = SOLUTION.read_text(encoding="utf-8")
HIDDEN = "keras.layers.Dense(units, activation=activation)"
OUTPUT = 'keras.layers.Dense(num_classes, activation="softmax")'
FIT = "x_train, y_train, epochs=epochs, validation_split=validation_split"


def _mutants() -> dict[str, tuple[str, dict[str, str]]]:
    """Name -> (source, {failing check: message_key})."""
    return {
        # The hidden layer's default activation: only the architecture is
        # wrong; a tanh network learns MNIST about as well.
        "tanh_hidden": (
            edit(REFERENCE, 'activation: str = "relu"', 'activation: str = "tanh"'),
            {"architecture": "architecture.hidden_activation"},
        ),
        # Logits out of the last layer, with a loss that expects
        # probabilities: the architecture is wrong and the model trains
        # badly. predict_sample still returns exactly what the model gives,
        # so it is not blamed for the layer.
        "logits_output": (
            edit(REFERENCE, OUTPUT, "keras.layers.Dense(num_classes)"),
            {"architecture": "architecture.logits", "min_accuracy": "min_accuracy.low"},
        ),
        # Without Flatten the model's output is (1, 28, 10): unusable, so a
        # stand-in model is trained and the accuracy cannot be the student's.
        "no_flatten": (
            edit(REFERENCE, "    model.add(keras.layers.Flatten())\n", ""),
            {"architecture": "architecture.no_flatten", "min_accuracy": "min_accuracy.blocked"},
        ),
        # Five output units cannot classify ten digits: same as above.
        "five_outputs": (
            edit(REFERENCE, "num_classes: int = 10", "num_classes: int = 5"),
            {"architecture": "architecture.output_units", "min_accuracy": "min_accuracy.blocked"},
        ),
        # A layer the activity does not ask for; it trains just as well.
        "dropout_added": (
            edit(REFERENCE, f"        model.add({HIDDEN})\n", f"        model.add({HIDDEN})\n        model.add(keras.layers.Dropout(0.2))\n"),
            {"architecture": "architecture.extra_layers"},
        ),
        # The wrong optimizer by default; RMSprop trains about as well.
        "rmsprop_default": (
            edit(REFERENCE, 'optimizer: str = "adam"', 'optimizer: str = "rmsprop"'),
            {"compile": "compile.optimizer"},
        ),
        # A consistent pipeline with one-hot labels: only the loss differs
        # from what compile_model must use. train_model is graded with the
        # student's own compile, evaluate_model with the reference one.
        "categorical_one_hot": (
            edit(
                edit(REFERENCE, 'loss="sparse_categorical_crossentropy"', 'loss="categorical_crossentropy"'),
                f"        {FIT}\n",
                "        x_train, keras.utils.to_categorical(y_train, 10), epochs=epochs, validation_split=validation_split\n",
            ),
            {"compile": "compile.loss"},
        ),
        # Raw pixels (0-255, uint8): normalize is wrong, and the model trained
        # on them is clearly worse.
        "no_normalization": (
            edit(REFERENCE, "    return images / 255.0\n", "    return images\n"),
            {"normalize": "normalize.not_float", "min_accuracy": "min_accuracy.low"},
        ),
        # normalize itself divides twice: values in [0, 1/255].
        "normalize_twice": (
            edit(REFERENCE, "    return images / 255.0\n", "    return images / 255.0 / 255.0\n"),
            {"normalize": "normalize.wrong_values", "min_accuracy": "min_accuracy.low"},
        ),
        # normalize is right, but train_model divides again: its own fault (step 6), and the model never
        # saw data like the test images.
        "normalize_again_in_train": (
            edit(REFERENCE, f"        {FIT}\n", "        x_train / 255.0, y_train, epochs=epochs, validation_split=validation_split\n"),
            {"train": "train.fit_data", "min_accuracy": "min_accuracy.low"},
        ),
        # A made-up accuracy instead of model.evaluate's.
        "evaluate_made_up": (
            edit(REFERENCE, "    return float(loss), float(accuracy)\n", "    return float(loss), 0.99\n"),
            {"evaluate": "evaluate.accuracy_mismatch"},
        ),
        # The same network and settings written in the other forms the
        # activity allows: input_shape on Flatten, activation functions,
        # a separate softmax layer, optimizer/loss/metric objects. Nothing
        # may be lost.
        "equivalent_objects": (
            edit(
                edit(
                    edit(
                        edit(
                            edit(REFERENCE, "    model.add(keras.Input(shape=(28, 28)))\n", ""),
                            "    model.add(keras.layers.Flatten())\n",
                            "    model.add(keras.layers.Flatten(input_shape=(28, 28)))\n",
                        ),
                        HIDDEN,
                        'keras.layers.Dense(units, activation=keras.activations.relu if activation == "relu" else activation)',
                    ),
                    f"    model.add({OUTPUT})\n",
                    '    model.add(keras.layers.Dense(num_classes))\n    model.add(keras.layers.Activation("softmax"))\n',
                ),
                '        optimizer=optimizer,\n        loss="sparse_categorical_crossentropy",\n        metrics=["accuracy"],\n',
                '        optimizer=keras.optimizers.Adam() if optimizer == "adam" else optimizer,\n'
                "        loss=keras.losses.SparseCategoricalCrossentropy(),\n"
                '        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],\n',
            ),
            {},
        ),
        "equivalent_functions": (
            edit(
                edit(
                    edit(REFERENCE, "import keras\n", "import keras\nimport tensorflow as tf\n"),
                    OUTPUT,
                    "keras.layers.Dense(num_classes, activation=tf.nn.softmax)",
                ),
                'loss="sparse_categorical_crossentropy"',
                "loss=keras.losses.sparse_categorical_crossentropy",
            ),
            {},
        ),
        # A History built by hand, without training: train fails, a stand-in
        # trains the model, so the accuracy is not the student's.
        "handmade_history": (
            edit(
                REFERENCE,
                f"    return model.fit(\n        {FIT}\n    )\n",
                "    history = keras.callbacks.History()\n"
                "    history.set_model(model)\n"
                "    history.epoch = list(range(epochs))\n"
                '    history.history = {k: [0.5] * epochs for k in ("loss", "accuracy", "val_loss", "val_accuracy")}\n'
                "    return history\n",
            ),
            # The grader trains the student's own model (issue 19): min_accuracy measures it.
            {"train": "train.other_model"},
        ),
    }


MUTANTS = _mutants()


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    return grade_all(tmp_path_factory.mktemp("mutants"), {name: source for name, (source, _) in MUTANTS.items()})


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loses_exactly_its_checks(graded, name):
    result = graded[name]
    assert result.returncode == 0, result.stderr[-2000:]
    expected = MUTANTS[name][1]
    accuracy = result.score["metrics"].get("test_accuracy")
    assert result.failing() == expected, f"accuracy {accuracy}"
