"""Hostile case forged_channel: load_data writes forged events to every pipe it has open (the grader's channel among them).

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os

# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    import json

    fake = {"history": {}, "epochs": 5, "frame": {"is_frame": True, "rows": 5, "columns": {}}, "figure": {"is_figure": True, "axes": []}}
    events = [{"event": "end", "step": "history", "status": "ok", "data": fake}, {"event": "done", "replaced": []}]
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                for event in events:
                    os.write(fd, (json.dumps(event) + "\n").encode())
        except OSError:
            continue
    return keras.datasets.mnist.load_data()
