"""Redes neuronales completamente conectadas aplicadas en MNIST.

Este es el archivo donde escribes tu código. Cada función corresponde a un
paso de la actividad, en orden. Sustituye cada
``raise NotImplementedError(...)`` por tu implementación siguiendo la
descripción de la función.

Comprueba tu trabajo en cualquier momento con:

    python -m grader

No cambies los nombres de las funciones ni sus parámetros: el calificador
las llama por su nombre.
"""

from __future__ import annotations

import keras
import matplotlib.pyplot as plt  # noqa: F401 (para show_sample y plot_history)
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

Dataset = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def load_data() -> Dataset:
    """Paso 1: carga el conjunto de datos MNIST.

    Llama a ``keras.datasets.mnist.load_data()`` y devuelve lo que devuelve:
    dos tuplas, ``(x_train, y_train), (x_test, y_test)``.

    - ``x_train``: 60 000 imágenes de 28x28 píxeles (enteros de 0 a 255).
    - ``y_train``: la etiqueta (el dígito, de 0 a 9) de cada imagen.
    - ``x_test`` e ``y_test``: 10 000 imágenes y etiquetas reservadas para
      medir el modelo con datos que nunca vio al entrenar.
    """
    raise NotImplementedError("Paso 1 (load_data): escribe aquí tu código.")


def show_sample(images: np.ndarray, labels: np.ndarray, index: int) -> Figure:
    """Paso 2: muestra un ejemplo del conjunto de datos.

    - Imprime la etiqueta del ejemplo con ``print`` (``labels[index]``).
    - Crea una figura (``fig, ax = plt.subplots()``) y dibuja la imagen
      ``images[index]`` con ``ax.imshow(..., cmap="gray")``.
    - Devuelve la figura (``fig``).
    """
    raise NotImplementedError("Paso 2 (show_sample): escribe aquí tu código.")


def normalize(images: np.ndarray) -> np.ndarray:
    """Paso 3: normaliza los píxeles al intervalo [0, 1].

    Divide las imágenes entre ``255.0`` y devuelve el resultado: un arreglo
    NUEVO de tipo float. No modifiques el arreglo que recibes (evita
    ``images /= 255``).
    """
    raise NotImplementedError("Paso 3 (normalize): escribe aquí tu código.")


def build_model(
    hidden_units: int | list[int] = 128,
    activation: str = "relu",
    num_classes: int = 10,
) -> keras.models.Sequential:
    """Paso 4: construye la red neuronal completamente conectada.

    Devuelve un ``keras.models.Sequential`` con, en este orden:

    1. la entrada de 28x28 (``keras.Input(shape=(28, 28))``);
    2. ``keras.layers.Flatten()``, que convierte cada imagen en un vector
       de 784 valores;
    3. una capa oculta ``keras.layers.Dense(hidden_units,
       activation=activation)``;
    4. la capa de salida ``keras.layers.Dense(num_classes,
       activation="softmax")``: una neurona por clase.

    Si ``hidden_units`` es una lista (por ejemplo ``[256, 128]``), añade una
    capa oculta ``Dense`` por cada número de la lista, en ese orden.
    """
    raise NotImplementedError("Paso 4 (build_model): escribe aquí tu código.")


def compile_model(model: keras.Model, optimizer: str = "adam") -> keras.Model:
    """Paso 5: compila el modelo.

    Llama a ``model.compile`` con:

    - ``optimizer=optimizer`` (por defecto ``"adam"``);
    - ``loss="sparse_categorical_crossentropy"``, porque las etiquetas son
      enteros del 0 al 9;
    - ``metrics=["accuracy"]``.

    Devuelve el mismo modelo.
    """
    raise NotImplementedError("Paso 5 (compile_model): escribe aquí tu código.")


def train_model(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    epochs: int = 5,
    validation_split: float = 0.1,
) -> keras.callbacks.History:
    """Paso 6: entrena el modelo.

    Llama a ``model.fit(x_train, y_train, epochs=epochs,
    validation_split=validation_split)`` y devuelve lo que devuelve ``fit``:
    el objeto ``History`` con la pérdida y la precisión de cada época.
    """
    raise NotImplementedError("Paso 6 (train_model): escribe aquí tu código.")


def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    """Paso 7: evalúa el modelo con datos que no vio al entrenar.

    Llama a ``model.evaluate(images, labels)``, que devuelve
    ``[pérdida, precisión]``, y devuelve ambos valores como ``float``:
    ``(loss, accuracy)``.
    """
    raise NotImplementedError("Paso 7 (evaluate_model): escribe aquí tu código.")


def history_frame(history: keras.callbacks.History) -> pd.DataFrame:
    """Paso 8a: convierte el historial del entrenamiento en una tabla.

    ``history.history`` es un diccionario ``{métrica: [valor por época]}``.
    Devuelve ``pd.DataFrame(history.history)``: una fila por época y una
    columna por métrica (``loss``, ``accuracy``, ``val_loss``,
    ``val_accuracy``).
    """
    raise NotImplementedError("Paso 8a (history_frame): escribe aquí tu código.")


def plot_history(history: keras.callbacks.History) -> Figure:
    """Paso 8b: grafica cómo aprendió el modelo.

    Crea una figura con dos gráficas: la pérdida (``loss`` y ``val_loss``)
    y la precisión (``accuracy`` y ``val_accuracy``) por época. Puedes usar
    la tabla de ``history_frame`` y su método ``.plot(ax=...)``. Devuelve
    la figura.
    """
    raise NotImplementedError("Paso 8b (plot_history): escribe aquí tu código.")


def predict_sample(
    model: keras.Model, images: np.ndarray, index: int
) -> tuple[np.ndarray, int]:
    """Paso 9: predice el dígito de una imagen.

    ``model.predict`` espera un lote de imágenes: pásale
    ``images[index:index + 1]`` (forma ``(1, 28, 28)``). Toma la primera
    fila del resultado: son las 10 probabilidades, una por dígito, y suman 1.
    Devuelve ``(probabilidades, clase)``, donde la clase es la posición de
    la probabilidad más alta como ``int`` (``int(np.argmax(...))``).
    """
    raise NotImplementedError("Paso 9 (predict_sample): escribe aquí tu código.")
