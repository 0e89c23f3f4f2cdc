"""Hostile case segfault: predict_sample reads address 0 through ctypes: a segmentation fault.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 9: predecir -----------------------------------------------------------
def predict_sample(
    model: keras.Model, images: np.ndarray, index: int
) -> tuple[np.ndarray, int]:
    # El modelo espera un lote: images[index:index + 1] tiene forma (1, 28, 28).
    import ctypes

    ctypes.string_at(0)
    probabilities = model.predict(images[index : index + 1], verbose=0)[0]
    return probabilities, int(np.argmax(probabilities))
