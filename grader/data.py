"""Where MNIST comes from: Keras's own download, or a local copy offline.

``keras.datasets.mnist.load_data()`` downloads the dataset once and caches it.
Offline, the environment variable ``MNIST_NPZ`` names a local ``.npz`` in
Keras's layout. Keras's cache cannot hold such a copy (it checks the file's
hash, then re-downloads and deletes it), so :func:`use_local_mnist` replaces
the public function ``keras.datasets.mnist.load_data`` wherever it is bound,
before any student code imports it. Only the public name is looked up; the
replacement is found by identity, so it survives Keras moving its internals.

This module must stay light: the grader's parent process imports it without
TensorFlow.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np

from grader.errors import GradingError

ENV_VAR = "MNIST_NPZ"
KEYS = ("x_train", "y_train", "x_test", "y_test")
# sha256 of the file Keras downloads (keras/src/datasets/mnist.py).
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


class DataUnavailable(GradingError):
    """MNIST is neither cached by Keras, nor named by MNIST_NPZ."""


def keras_cache_file() -> Path:
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def local_copy() -> Path | None:
    """The file named by MNIST_NPZ, or None when the variable is unset."""
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_file():
        raise DataUnavailable(f"{ENV_VAR}={value}: no such file")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_file() -> Path | None:
    """The npz the grader will read, without downloading anything.

    None means Keras has to download it first (see ``grader.fetch_data``).
    """
    copy = local_copy()
    if copy is not None:
        return copy
    cached = keras_cache_file()
    if cached.is_file() and _sha256(cached) == KERAS_SHA256:
        return cached
    return None


Dataset = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
# The last file read in this process, by (path, modification time, size): its arrays, read-only.
_read: dict[tuple[str, int, int], Dataset] = {}


def read_npz(path: Path) -> Dataset:
    """The four MNIST arrays of ``path``, read-only and shared.

    The file is deflated (about 0.2 s of CPU to read); the observer, the test
    set of the judge and the answerer each need it, so one process reads it
    once. The arrays cannot be written: whoever needs to change one copies it.
    """
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)
    if key not in _read:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in KEYS if k not in f.files]
            if missing:
                raise DataUnavailable(f"{path}: missing arrays {missing}")
            arrays = [f[k] for k in KEYS]
        for array in arrays:
            array.flags.writeable = False
        _read.clear()
        _read[key] = ((arrays[0], arrays[1]), (arrays[2], arrays[3]))
    return _read[key]


def use_local_mnist() -> bool:
    """Make ``keras.datasets.mnist.load_data()`` read MNIST_NPZ, if it is set.

    Returns True when the local copy is in use. Call it before importing code
    that does ``from keras.datasets.mnist import load_data``.
    """
    path = local_copy()
    if path is None:
        return False
    import keras  # noqa: F401  (imports the public alias modules)

    original = sys.modules["keras.datasets.mnist"].load_data

    def load_data(path_in_cache: str = "mnist.npz"):
        """MNIST from the local copy named by the MNIST_NPZ variable."""
        (x_train, y_train), (x_test, y_test) = read_npz(path)
        return (x_train.copy(), y_train.copy()), (x_test.copy(), y_test.copy())  # the caller's own, writable

    load_data.__wrapped__ = original  # type: ignore[attr-defined]
    for module in list(sys.modules.values()):
        if getattr(module, "load_data", None) is original:
            module.load_data = load_data
    return True
