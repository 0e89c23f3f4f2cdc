"""Hostile case stderr_flood: normalize writes 20 MB straight to file descriptor 2.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 3: normalizar ---------------------------------------------------------
def normalize(images: np.ndarray) -> np.ndarray:
    # Dividir entre 255.0 lleva los píxeles de [0, 255] a [0, 1] y crea un
    # arreglo nuevo de tipo float: la entrada no se modifica.
    import os

    for _ in range(20):
        os.write(2, b"e" * 2**20)
    return images / 255.0
