"""Hostile case output_symlink: load_data replaces its printed-output file with a symbolic link to /etc/shadow (a file only the grader's user can read), for the grader to copy it into the published student-output.txt.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os
import sys
from pathlib import Path

# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    output = Path(sys.modules[__name__].__file__).parent / "student-output.txt"
    try:
        output.unlink()
        os.symlink("/etc/shadow", output)
    except OSError:
        pass
    return keras.datasets.mnist.load_data()
