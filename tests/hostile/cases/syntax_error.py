"""Hostile case syntax_error: a syntax error: nothing can be imported or salvaged.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""


def broken(:
    pass
