"""Hostile case not_implemented_steps: evaluate_model and plot_history still raise NotImplementedError.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    raise NotImplementedError("Paso 7 (evaluate_model): escribe aquí tu código.")


def plot_history(history: keras.callbacks.History) -> Figure:
    raise NotImplementedError("Paso 8b (plot_history): escribe aquí tu código.")
