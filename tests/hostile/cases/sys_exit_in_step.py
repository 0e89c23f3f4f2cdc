"""Hostile case sys_exit_in_step: sys.exit(3) inside evaluate_model.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    import sys

    sys.exit(3)
