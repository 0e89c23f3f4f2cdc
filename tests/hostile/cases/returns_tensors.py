"""Hostile case returns_tensors: evaluate_model and predict_sample return tensors instead of floats and arrays.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    loss, accuracy = model.evaluate(images, labels, verbose=0)
    return keras.ops.convert_to_tensor(loss), keras.ops.convert_to_tensor(accuracy)


# Paso 9: predecir -----------------------------------------------------------
def predict_sample(
    model: keras.Model, images: np.ndarray, index: int
) -> tuple[np.ndarray, int]:
    # El modelo espera un lote: images[index:index + 1] tiene forma (1, 28, 28).
    probabilities = model.predict(images[index : index + 1], verbose=0)[0]
    return keras.ops.convert_to_tensor(probabilities), int(np.argmax(probabilities))
