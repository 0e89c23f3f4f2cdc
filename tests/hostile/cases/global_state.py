"""Hostile case global_state: build_model switches Keras to float64 and reseeds every generator.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 4: construir el modelo ------------------------------------------------
def build_model(
    hidden_units: int | list[int] = 128,
    activation: str = "relu",
    num_classes: int = 10,
) -> keras.models.Sequential:
    keras.config.set_floatx("float64")
    keras.utils.set_random_seed(0)
    np.random.seed(0)
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
