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

from grader import reference


def normalize(images: np.ndarray) -> np.ndarray:
    return images.astype("float32") / 255.0


def build_model(num_classes: int = reference.NUM_CLASSES) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=reference.INPUT_SHAPE),
            keras.layers.Flatten(),
            keras.layers.Dense(reference.HIDDEN_UNITS, activation=reference.HIDDEN_ACTIVATION),
            keras.layers.Dense(num_classes, activation=reference.OUTPUT_ACTIVATION),
        ]
    )


def compile_model(model: keras.Model) -> keras.Model:
    model.compile(**reference.compile_settings())
    return model


def train_model(model: keras.Model, x_train: np.ndarray, y_train: np.ndarray) -> keras.callbacks.History:
    return model.fit(
        x_train[: reference.STANDIN_SAMPLES],
        y_train[: reference.STANDIN_SAMPLES],
        epochs=reference.STANDIN_EPOCHS,
        validation_split=reference.VALIDATION_SPLIT,
        verbose=0,
    )


def train_model_as_reference(model: keras.Model, x_train: np.ndarray, y_train: np.ndarray) -> keras.callbacks.History:
    """The reference training, for a student's own model whose train_model failed (issue 19)."""
    return model.fit(x_train, y_train, epochs=reference.EPOCHS, batch_size=reference.BATCH_SIZE, validation_split=reference.VALIDATION_SPLIT, verbose=0)
