"""Hostile case flatten_hides_layer: a Flatten look-alike hides a trainable 784x784 layer.

Its class is named Flatten and derives from keras.layers.Flatten, so a check
trusting class names or isinstance sees Flatten -> Dense(128) -> Dense(10).
Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""


class Flatten(keras.layers.Flatten):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(784)

    def build(self, input_shape):
        self.hidden.build((None, 784))
        super().build(input_shape)

    def call(self, inputs):
        return self.hidden(super().call(inputs))


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
    model.add(Flatten())
    for units in hidden_units:
        model.add(keras.layers.Dense(units, activation=activation))
    model.add(keras.layers.Dense(num_classes, activation="softmax"))
    return model
