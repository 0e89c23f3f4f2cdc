"""Hostile case os_exit_at_import: os._exit(1) at the end of the module: the worker dies on import.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os


os._exit(1)
