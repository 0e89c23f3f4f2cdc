"""Hostile case import_exception: an exception at import time, after the definitions.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

raise RuntimeError("fallo al importar")
