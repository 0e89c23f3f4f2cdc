"""Hostile case process_state: load_data changes the working folder and replaces sys.stdout; the next steps must not suffer.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os


from pathlib import Path


def _grader_dir():
    """The grader's package folder, as a hostile submission finds it."""
    import grader

    return Path(grader.__file__).resolve().parent


def _parent_cwd():
    return Path(os.readlink(f"/proc/{os.getppid()}/cwd"))


def _out_dir():
    """The grader's --out folder, read from the parent's command line."""
    args = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().split(b"\0")
    out = Path(args[args.index(b"--out") + 1].decode())
    return out if out.is_absolute() else _parent_cwd() / out


# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    import io
    import sys

    os.chdir("/")
    sys.stdout = io.StringIO()
    return keras.datasets.mnist.load_data()
