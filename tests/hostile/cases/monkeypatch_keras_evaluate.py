"""Hostile case monkeypatch_keras_evaluate: evaluate_model replaces keras.Model.evaluate with one that reports 99.9 %.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    keras.Model.evaluate = lambda self, *args, **kwargs: [0.01, 0.999]
    loss, accuracy = model.evaluate(images, labels, verbose=0)
    return float(loss), float(accuracy)
