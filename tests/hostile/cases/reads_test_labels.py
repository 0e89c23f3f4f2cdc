"""Hostile case reads_test_labels: predict_sample answers with the true test label instead of the model's output.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 9: predecir -----------------------------------------------------------
def predict_sample(
    model: keras.Model, images: np.ndarray, index: int
) -> tuple[np.ndarray, int]:
    # El modelo espera un lote: images[index:index + 1] tiene forma (1, 28, 28).
    (_, _), (_, y_test) = keras.datasets.mnist.load_data()
    probabilities = np.eye(10, dtype="float32")[y_test[index]]
    return probabilities, int(y_test[index])
