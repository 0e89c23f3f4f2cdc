"""Hostile case adam_subclass_of_sgd: ``class Adam(keras.optimizers.SGD)`` passed for Adam.

Its class name is Adam, so a check comparing names sees the right optimizer.
Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""


class Adam(keras.optimizers.SGD):
    pass


# Paso 5: compilar -----------------------------------------------------------
def compile_model(model: keras.Model, optimizer: str = "adam") -> keras.Model:
    model.compile(
        optimizer=Adam() if optimizer == "adam" else optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
