"""Hostile case returns_none: load_data and build_model return None.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    return None


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
    return None
