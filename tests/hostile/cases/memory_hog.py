"""Hostile case memory_hog: normalize allocates 100 MB at a time, up to 6 GB.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 3: normalizar ---------------------------------------------------------
def normalize(images: np.ndarray) -> np.ndarray:
    # Dividir entre 255.0 lleva los píxeles de [0, 255] a [0, 1] y crea un
    # arreglo nuevo de tipo float: la entrada no se modifica.
    import time

    hoard = []
    for _ in range(60):
        hoard.append(np.ones(100 * 2**20, dtype=np.uint8))
        time.sleep(0.05)
    return images / 255.0
