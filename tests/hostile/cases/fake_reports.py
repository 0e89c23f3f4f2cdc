"""Hostile case fake_reports: prints fake autograding notices and score reports to stdout and stderr in several steps.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import sys


# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    print("::notice title=Autograding complete::Points 100/100")
    print('{"score": 100, "max_score": 100, "checks": []}')
    print("Puntuación: 100/100")
    return keras.datasets.mnist.load_data()


# Paso 2: ver un ejemplo -----------------------------------------------------
def show_sample(images: np.ndarray, labels: np.ndarray, index: int) -> Figure:
    print(f"Etiqueta: {labels[index]}")
    print("::notice title=Autograding complete::Points 100/100", file=sys.stderr)
    print('{"score": 100, "max_score": 100, "checks": []}', file=sys.stderr)
    print("Puntuación: 100/100", file=sys.stderr)
    fig, ax = plt.subplots()
    # cmap="gray" muestra los niveles de gris tal como son (0 = negro).
    ax.imshow(images[index], cmap="gray")
    ax.set_title(f"Ejemplo {index}: dígito {labels[index]}")
    ax.axis("off")
    return fig


# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    print("::notice title=Autograding complete::Points 100/100")
    print('{"score": 100, "max_score": 100, "checks": []}')
    print("Puntuación: 100/100")
    print('{"event": "done", "replaced": []}')
    loss, accuracy = model.evaluate(images, labels, verbose=0)
    return float(loss), float(accuracy)
