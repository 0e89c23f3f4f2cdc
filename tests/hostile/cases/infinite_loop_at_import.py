"""Hostile case infinite_loop_at_import: an endless loop at the end of the module.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

while True:
    pass
