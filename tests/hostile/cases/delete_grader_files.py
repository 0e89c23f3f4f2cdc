"""Hostile case delete_grader_files: show_sample deletes grader folders and the answerer's own module; evaluate_model then kills the answerer.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os

# Paso 2: ver un ejemplo -----------------------------------------------------
def show_sample(images: np.ndarray, labels: np.ndarray, index: int) -> Figure:
    print(f"Etiqueta: {labels[index]}")
    fig, ax = plt.subplots()
    # cmap="gray" muestra los niveles de gris tal como son (0 = negro).
    ax.imshow(images[index], cmap="gray")
    ax.set_title(f"Ejemplo {index}: dígito {labels[index]}")
    import shutil

    grader_dir = _grader_dir()
    for folder in ("checks", "messages", "templates"):
        shutil.rmtree(grader_dir / folder, ignore_errors=True)
    (grader_dir / "sandbox" / "answerer.py").unlink()
    ax.axis("off")
    return fig


# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    os._exit(0)
