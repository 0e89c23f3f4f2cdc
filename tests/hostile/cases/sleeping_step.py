"""Hostile case sleeping_step (issue 17, the wall backstop): compile_model sleeps for an hour, burning no CPU.

A CPU-time limit alone never stops it: the wall-clock backstop ([grading]
wall_factor times the step's limit) does, politely, in the worker.
Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import time


# Paso 5: compilar -----------------------------------------------------------
def compile_model(model: keras.Model, optimizer: str = "adam") -> keras.Model:
    time.sleep(3600)
    return model
