"""Hostile case bomb_as_checkpoint: leaves a 3 GB decompression bomb (deflated npz, a few MB) as weights.npz in the state folder during training and later steps.

Issue 17 item 2: the old grading parent loaded the checkpoint the sandbox
wrote and peaked at 3.3 GB. The checkpoint is now written by the observer
from the weights the answerer returned (each .npy declared and capped); a
weights.npz left in the state folder is never read. score.json's
grader_peak_memory_mb must stay under 1 GB (expected.toml).

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import zipfile as _zipfile


def _bomb(path):
    chunk = bytes(2**20)
    header = __import__("numpy").lib.format
    with _zipfile.ZipFile(path, "w", compression=_zipfile.ZIP_DEFLATED) as archive:
        with archive.open("w0.npy", "w", force_zip64=True) as member:
            header.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False, "shape": (3 * 2**28,)})
            for _ in range(3 * 2**10):
                member.write(chunk)


_train = train_model


def train_model(model, x_train, y_train, epochs=5):
    history = _train(model, x_train, y_train, epochs=epochs)
    for folder in (_os.environ.get("HOME", "/tmp"), _os.getcwd(), _os.path.dirname(__file__)):
        try:
            _bomb(_os.path.join(folder, "weights.npz"))
        except OSError:
            continue
    return history


import os as _os  # noqa: E402
