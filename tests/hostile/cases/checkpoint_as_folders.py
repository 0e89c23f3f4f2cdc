"""Hostile case checkpoint_as_folders: evaluate_model turns every checkpoint file into a folder, then exits the worker.

The parent restores the checkpoint for the restarted worker; it replaced the
files with unlink() and crashed on a folder: no result at all (a Classroom 50
infrastructure error instead of a grade). Now only evaluate is lost.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os
import sys
from pathlib import Path


# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    state = Path(sys.modules[__name__].__file__).parent
    for name in ("weights.npz", "model.json", "x_test_n.npy", "probabilities.npy", "history.json"):
        try:
            (state / name).unlink(missing_ok=True)
            (state / name / "inner").mkdir(parents=True)
        except OSError:
            pass
    os._exit(3)
