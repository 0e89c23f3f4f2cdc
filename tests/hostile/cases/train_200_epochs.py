"""Hostile case train_200_epochs: train_model trains 200 epochs by default.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 6: entrenar -----------------------------------------------------------
def train_model(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    epochs: int = 200,
    validation_split: float = 0.1,
) -> keras.callbacks.History:
    # Se reserva un 10 % del entrenamiento para validar en cada época.
    return model.fit(
        x_train, y_train, epochs=epochs, validation_split=validation_split
    )
