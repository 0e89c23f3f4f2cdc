"""Hostile case threads_burn_cpu (issue 17, limits that do not depend on load): compile_model burns CPU in four threads and its own, never returning.

The step's limit counts CPU time of the whole process (all threads): it is
stopped after its limit in CPU seconds, which on two cores is about half of
it in real time, and the threads stop with it. Appended to the reference
solution (solutions/mnist_dense.py) by tests/test_hostile.py.
"""

import threading


# Paso 5: compilar -----------------------------------------------------------
def compile_model(model: keras.Model, optimizer: str = "adam") -> keras.Model:
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    for _ in range(4):
        threading.Thread(target=spin, daemon=True).start()
    try:
        while True:
            pass
    finally:
        stop.set()
