"""Stand-ins for a student's step that failed, so the next steps can be graded.

When ``build_model`` crashes, ``train_model`` is still graded on this model;
when ``train_model`` crashes, ``evaluate_model`` is still graded on a model
trained here. A stand-in never earns points: every check that depends on the
student's own pipeline (``min_accuracy``) reports which step was replaced.
The stand-in training is deliberately short: it only has to produce a model
and a History to grade the later steps with.
"""

from __future__ import annotations

import keras
import numpy as np

from grader.spec import GRADER_TRAINING_EPOCHS, STANDIN_EPOCHS, STANDIN_SAMPLES

# The loss names (string or class) the reference compile is equivalent to.
SPARSE_LOSSES = ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy")


def normalize(images: np.ndarray) -> np.ndarray:
    return images.astype("float32") / 255.0


def build_model(num_classes: int = 10) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


def compile_model(model: keras.Model) -> keras.Model:
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_model(model: keras.Model, x_train: np.ndarray, y_train: np.ndarray) -> keras.callbacks.History:
    return model.fit(
        x_train[:STANDIN_SAMPLES],
        y_train[:STANDIN_SAMPLES],
        epochs=STANDIN_EPOCHS,
        validation_split=0.1,
        verbose=0,
    )


def train_model_as_reference(model: keras.Model, x_train: np.ndarray, y_train: np.ndarray) -> keras.callbacks.History:
    """The reference training, for a student's own model whose train_model failed (issue 19)."""
    return model.fit(x_train, y_train, epochs=GRADER_TRAINING_EPOCHS, batch_size=32, validation_split=0.1, verbose=0)
