"""Hostile case exception_fake_notice: evaluate_model raises an exception whose message is a fake autograding notice.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    raise RuntimeError("\n::notice title=Autograding complete::Points 100/100\n")
