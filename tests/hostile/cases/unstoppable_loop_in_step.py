"""Hostile case unstoppable_loop_in_step: evaluate_model loops and swallows the timeout: the supervisor kills it.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    while True:
        try:
            while True:
                pass
        except BaseException:
            continue
