"""Hostile case process_state: load_data changes the working folder and replaces sys.stdout; the next steps must not suffer.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os

# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    import io
    import sys

    os.chdir("/")
    sys.stdout = io.StringIO()
    return keras.datasets.mnist.load_data()
