"""Hostile case sys_exit_at_import: sys.exit() at the end of the module.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import sys


sys.exit(0)
