"""Hostile case unstoppable_loop_in_step: evaluate_model loops and swallows the timeout: the supervisor kills it.

The reference solution (solutions/mnist_dense.py) with this one change.
"""

from __future__ import annotations

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

Dataset = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    return keras.datasets.mnist.load_data()


# Paso 2: ver un ejemplo -----------------------------------------------------
def show_sample(images: np.ndarray, labels: np.ndarray, index: int) -> Figure:
    print(f"Etiqueta: {labels[index]}")
    fig, ax = plt.subplots()
    # cmap="gray" muestra los niveles de gris tal como son (0 = negro).
    ax.imshow(images[index], cmap="gray")
    ax.set_title(f"Ejemplo {index}: dígito {labels[index]}")
    ax.axis("off")
    return fig


# Paso 3: normalizar ---------------------------------------------------------
def normalize(images: np.ndarray) -> np.ndarray:
    # Dividir entre 255.0 lleva los píxeles de [0, 255] a [0, 1] y crea un
    # arreglo nuevo de tipo float: la entrada no se modifica.
    return images / 255.0


# Paso 4: construir el modelo ------------------------------------------------
def build_model(
    hidden_units: int | list[int] = 128,
    activation: str = "relu",
    num_classes: int = 10,
) -> keras.models.Sequential:
    if isinstance(hidden_units, int):
        hidden_units = [hidden_units]
    model = keras.models.Sequential()
    model.add(keras.Input(shape=(28, 28)))
    # Flatten convierte cada imagen de 28x28 en un vector de 784 valores.
    model.add(keras.layers.Flatten())
    for units in hidden_units:
        model.add(keras.layers.Dense(units, activation=activation))
    # Softmax convierte las salidas en probabilidades que suman 1.
    model.add(keras.layers.Dense(num_classes, activation="softmax"))
    return model


# Paso 5: compilar -----------------------------------------------------------
def compile_model(model: keras.Model, optimizer: str = "adam") -> keras.Model:
    # Las etiquetas son enteros (0-9), por eso la pérdida "sparse".
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


# Paso 6: entrenar -----------------------------------------------------------
def train_model(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    epochs: int = 5,
    validation_split: float = 0.1,
) -> keras.callbacks.History:
    # Se reserva un 10 % del entrenamiento para validar en cada época.
    return model.fit(
        x_train, y_train, epochs=epochs, validation_split=validation_split
    )


# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    while True:
        try:
            while True:
                pass
        except BaseException:
            continue


# Paso 8: historial ----------------------------------------------------------
def history_frame(history: keras.callbacks.History) -> pd.DataFrame:
    # history.history es un diccionario {métrica: [valor por época]}.
    return pd.DataFrame(history.history)


def plot_history(history: keras.callbacks.History) -> Figure:
    frame = history_frame(history)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    frame[["loss", "val_loss"]].plot(ax=ax_loss, title="Pérdida")
    frame[["accuracy", "val_accuracy"]].plot(ax=ax_acc, title="Precisión")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("Época")
    return fig


# Paso 9: predecir -----------------------------------------------------------
def predict_sample(
    model: keras.Model, images: np.ndarray, index: int
) -> tuple[np.ndarray, int]:
    # El modelo espera un lote: images[index:index + 1] tiene forma (1, 28, 28).
    probabilities = model.predict(images[index : index + 1], verbose=0)[0]
    return probabilities, int(np.argmax(probabilities))
