"""Hostile case bomb_as_checkpoint: leaves a 1.1 GB decompression bomb (a deflated npz of a few MB) as weights.npz where the old worker wrote its checkpoint.

Issue 17 item 2: the old grading parent loaded the checkpoint the sandbox
wrote and peaked at 3.3 GB with such a file. The checkpoint is now written by
the observer from the weights the answerer returned (each .npy declared and
capped) and loaded only uncompressed under a byte cap; a weights.npz in the
state folder is never read. score.json's grader_peak_memory_mb must stay
under 1 GB (expected.toml), and the grade is the reference's.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os as _os
import zipfile as _zipfile


def _bomb(path):
    chunk = bytes(2**20)
    with _zipfile.ZipFile(path, "w", compression=_zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("w0.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False, "shape": (11 * 2**28 // 10,)})
            for _ in range(11 * 2**10 // 10):
                member.write(chunk)


def _plant():
    for folder in {_os.path.dirname(_os.path.abspath(__file__)), _os.getcwd()}:
        try:
            _bomb(_os.path.join(folder, "weights.npz"))
        except OSError:
            continue


# Written in the background while the steps run (a few seconds of deflate: not the import's time).
__import__("threading").Thread(target=_plant, daemon=True).start()
