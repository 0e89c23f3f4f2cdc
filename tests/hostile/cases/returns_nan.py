"""Hostile case returns_nan: evaluate_model returns NaN; predict_sample NaN probabilities.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    return float("nan"), float("nan")


# Paso 9: predecir -----------------------------------------------------------
def predict_sample(
    model: keras.Model, images: np.ndarray, index: int
) -> tuple[np.ndarray, int]:
    # El modelo espera un lote: images[index:index + 1] tiene forma (1, 28, 28).
    probabilities = model.predict(images[index : index + 1], verbose=0)[0]
    return probabilities * np.nan, int(np.argmax(probabilities))
