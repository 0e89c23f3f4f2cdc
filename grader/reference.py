"""The reference answer: what the activity asks each step to do, as plain data.

One room for it. The checks judge the student's facts against it
(``grader/checks``), the observer probes the student's functions with it and
puts it in place of a step that failed (``grader/sandbox/observer.py``,
``grader/sandbox/fallbacks.py``). The steps themselves are in ``grader/spec.py``.

Plain data, no Keras: the judging side imports this module without
TensorFlow, and nothing here decides a grade on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# -- build_model -----------------------------------------------------------------------------
INPUT_SHAPE = (28, 28)  # one MNIST image, as keras.Input(shape=...) takes it
NUM_CLASSES = 10
HIDDEN_UNITS = 128
HIDDEN_ACTIVATION = "relu"
OUTPUT_ACTIVATION = "softmax"
# Hidden activations that learn MNIST in the activity's epochs (build_model(64, 'tanh') is a probe):
# another one is named as a likely cause of a low accuracy.
LEARNING_ACTIVATIONS = (HIDDEN_ACTIVATION, "tanh")
# The model's Dense layers after Flatten, as (kind, units, activation).
DENSE_LAYERS = (("dense", HIDDEN_UNITS, HIDDEN_ACTIVATION), ("dense", NUM_CLASSES, OUTPUT_ACTIVATION))


@dataclass(frozen=True)
class BuildCall:
    """A call of ``build_model`` with parameters, which the student's function must honour.

    ``name`` keys its description in ``BuildFacts.variants`` (the observer calls,
    the architecture check judges); ``dense`` is what it must give after Flatten;
    ``decides`` which part of it the parameters decide (so a wrong default
    activation is not counted again in every call).
    """

    name: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]
    dense: tuple[tuple[str, int, str], ...]
    decides: str

    @property
    def call(self) -> str:
        """The call as the student would write it: ``build_model(64, 'tanh')``."""
        shown = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"build_model({', '.join(shown)})"


BUILD_CALLS = (
    BuildCall("units_64_tanh", (64, "tanh"), (), (("dense", 64, "tanh"), ("dense", NUM_CLASSES, OUTPUT_ACTIVATION)), "hidden"),
    BuildCall(
        "list_256_128",
        ([256, 128],),
        (),
        (("dense", 256, HIDDEN_ACTIVATION), ("dense", 128, HIDDEN_ACTIVATION), ("dense", NUM_CLASSES, OUTPUT_ACTIVATION)),
        "hidden_units",
    ),
    BuildCall("classes_5", (), (("num_classes", 5),), (("dense", HIDDEN_UNITS, HIDDEN_ACTIVATION), ("dense", 5, OUTPUT_ACTIVATION)), "output_units"),
)

# -- compile_model ---------------------------------------------------------------------------
OPTIMIZER = "adam"  # as compile() takes it
OPTIMIZER_CLASS = "Adam"  # as a compiled model reports it
LOSS = "sparse_categorical_crossentropy"
# The loss names (string or class) the reference compile is equivalent to.
SPARSE_LOSSES = (LOSS, "SparseCategoricalCrossentropy")
METRIC = "accuracy"
# The metric names compile accepts for it (the object form records sparse_categorical_accuracy).
ACCURACY_METRICS = (METRIC, "acc", "sparse_categorical_accuracy", "SparseCategoricalAccuracy")
# compile_model(model, "sgd") must compile with that optimizer: the call's argument, the class it gives.
OPTIMIZER_PROBE = ("sgd", "SGD")


def compile_settings() -> dict[str, Any]:
    """The reference compile, as ``model.compile(**compile_settings())`` takes it (a fresh dict each time)."""
    return {"optimizer": OPTIMIZER, "loss": LOSS, "metrics": [METRIC]}


# -- train_model -----------------------------------------------------------------------------
EPOCHS = 5  # train_model's default, and the grader's own training of a student's model (issue 19)
BATCH_SIZE = 32
VALIDATION_SPLIT = 0.1
# train_model(..., epochs=EPOCHS_PROBE) must train that many epochs (the parameter is honoured).
EPOCHS_PROBE = 1

# -- the stand-ins ---------------------------------------------------------------------------
# The stand-in training that replaces a failed train_model on a stand-in model: short, since it
# only has to give the later steps a model and a History.
STANDIN_EPOCHS = 1
STANDIN_SAMPLES = 6000
