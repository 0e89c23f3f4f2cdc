"""grader.data.read_npz: one process inflates MNIST once, and nobody can write into the shared arrays."""

from __future__ import annotations

import os

import numpy as np
import pytest

from grader import data


def _npz(path, offset: int = 0):
    arrays = {k: np.arange(6, dtype="uint8").reshape(2, 3) + offset for k in data.KEYS}
    np.savez_compressed(path, **arrays)
    return path


def test_the_second_read_is_the_same_read_only_arrays(tmp_path):
    path = _npz(tmp_path / "mnist.npz")
    first, second = data.read_npz(path), data.read_npz(path)
    assert first is second
    (x_train, _), _ = first
    assert not x_train.flags.writeable
    with pytest.raises(ValueError):
        x_train[0, 0] = 9


def test_a_changed_file_is_read_again(tmp_path):
    path = _npz(tmp_path / "mnist.npz")
    before = data.read_npz(path)[0][0]
    _npz(path, offset=10)
    os.utime(path, ns=(1, 1))  # a new modification time even within the clock's resolution
    after = data.read_npz(path)[0][0]
    assert int(after[0, 0]) == 10 and int(before[0, 0]) == 0


def test_a_file_without_the_four_arrays_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, x_train=np.zeros(2))
    with pytest.raises(data.DataUnavailable, match="missing arrays"):
        data.read_npz(path)
