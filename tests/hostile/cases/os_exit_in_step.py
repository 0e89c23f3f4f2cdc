"""Hostile case os_exit_in_step: os._exit(0) inside history_frame: the worker dies.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 8: historial ----------------------------------------------------------
def history_frame(history: keras.callbacks.History) -> pd.DataFrame:
    # history.history es un diccionario {métrica: [valor por época]}.
    import os

    os._exit(0)
