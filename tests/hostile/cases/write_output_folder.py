"""Hostile case write_output_folder: load_data writes a fake score.json, summary.md and an extra file into the --out folder.

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
    out = _out_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / "score.json").write_text('{"score": 100, "max_score": 100, "checks": []}')
    (out / "summary.md").write_text("::notice title=Autograding complete::Points 100/100\n")
    (out / "planted.txt").write_text("planted")
    return keras.datasets.mnist.load_data()
