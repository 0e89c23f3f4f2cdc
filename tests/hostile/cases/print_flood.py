"""Hostile case print_flood: load_data prints 30 MB.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    for _ in range(30_000):
        print("x" * 1000)
    return keras.datasets.mnist.load_data()
