"""The bounded value codec between the answerer and the observer (grader/sandbox/wire.py).

What crosses is a return value of untrusted code: every declaration is
checked before a byte of data is read, and a payload that breaks a rule is a
WireError (the observer fails that step as tampered), never a crash and never
a large allocation.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

from grader.sandbox import wire


def test_an_array_round_trips_with_its_declared_dtype_and_shape(tmp_path):
    array = np.arange(24, dtype="float32").reshape(2, 3, 4)
    ref = wire.write_array(tmp_path, "a1.npy", array)
    assert ref == {"kind": "array", "file": "a1.npy", "dtype": "float32", "shape": [2, 3, 4]}
    back = wire.read_array(tmp_path, ref)
    assert back.dtype == np.float32 and np.array_equal(back, array)


def test_object_and_string_arrays_never_cross_as_data(tmp_path):
    ref = wire.write_array(tmp_path, "a1.npy", np.array([{"a": 1}], dtype=object))
    assert ref["kind"] == "object" and not (tmp_path / "a1.npy").exists()
    with pytest.raises(wire.WireError, match="dtype"):
        wire.check_array_ref({"kind": "array", "file": "a.npy", "dtype": "object", "shape": [1]})
    with pytest.raises(wire.WireError, match="dtype"):
        wire.check_array_ref({"kind": "array", "file": "a.npy", "dtype": "<U10", "shape": [1]})


@pytest.mark.parametrize("name", ["../escape.npy", "/etc/passwd", ".hidden.npy", "a.npz", "x" * 200 + ".npy", 3])
def test_only_plain_file_names_are_read(tmp_path, name):
    with pytest.raises(wire.WireError, match="name"):
        wire.read_array(tmp_path, {"kind": "array", "file": name, "dtype": "uint8", "shape": [1]})


def test_a_huge_declared_shape_is_refused_before_any_file_is_opened(tmp_path):
    ref = {"kind": "array", "file": "huge.npy", "dtype": "float64", "shape": [10**6, 10**6]}
    with pytest.raises(wire.WireError, match="declared"):
        wire.read_array(tmp_path, ref)  # the file does not even exist: the declaration alone is refused
    with pytest.raises(wire.WireError, match="shape"):
        wire.check_array_ref({"kind": "array", "file": "a.npy", "dtype": "uint8", "shape": [-1]})
    with pytest.raises(wire.WireError, match="shape"):
        wire.check_array_ref({"kind": "array", "file": "a.npy", "dtype": "uint8", "shape": [True]})


def test_a_header_that_claims_more_than_the_file_holds_is_refused(tmp_path):
    """The bomb as an .npy: a few bytes whose header claims 3 GB."""
    with open(tmp_path / "liar.npy", "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False, "shape": (3 * 2**27,)})
        handle.write(bytes(64))
    ref = {"kind": "array", "file": "liar.npy", "dtype": "float64", "shape": [3 * 2**27]}
    with pytest.raises(wire.WireError):
        wire.read_array(tmp_path, ref)  # 3 GB is over the cap: refused on the declaration
    small = {"kind": "array", "file": "liar.npy", "dtype": "float64", "shape": [3 * 2**27]}
    with pytest.raises(wire.WireError, match="size"):
        wire.read_array(tmp_path, small, max_bytes=2**32)  # under a larger cap: the file size gives it away


@pytest.mark.parametrize(
    "declared",
    [{"dtype": "float32", "shape": [2, 3]}, {"dtype": "float64", "shape": [3, 2]}, {"dtype": "float64", "shape": [6]}],
)
def test_the_header_must_agree_with_the_declaration(tmp_path, declared):
    np.save(tmp_path / "a.npy", np.zeros((2, 3), dtype="float64"))
    with pytest.raises(wire.WireError, match="header"):
        wire.read_array(tmp_path, {"kind": "array", "file": "a.npy", **declared})


def test_a_fortran_ordered_or_pickled_file_is_refused(tmp_path):
    np.save(tmp_path / "f.npy", np.asfortranarray(np.zeros((2, 3))))
    with pytest.raises(wire.WireError, match="header"):
        wire.read_array(tmp_path, {"kind": "array", "file": "f.npy", "dtype": "float64", "shape": [2, 3]})
    np.save(tmp_path / "p.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError):
        wire.read_array(tmp_path, {"kind": "array", "file": "p.npy", "dtype": "float64", "shape": [2]})


def test_a_compressed_archive_is_never_an_array(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.npy", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("w0.npy", bytes(10**6))
    with pytest.raises(wire.WireError):
        wire.read_array(tmp_path, {"kind": "array", "file": "z.npy", "dtype": "uint8", "shape": [10**6]})


def test_links_fifos_and_folders_are_refused(tmp_path):
    np.save(tmp_path / "real.npy", np.zeros(3))
    os.symlink(tmp_path / "real.npy", tmp_path / "link.npy")
    os.mkfifo(tmp_path / "fifo.npy")
    (tmp_path / "dir.npy").mkdir()
    for name in ("link.npy", "fifo.npy", "dir.npy"):
        with pytest.raises(wire.WireError):
            wire.read_array(tmp_path, {"kind": "array", "file": name, "dtype": "float64", "shape": [3]})


def test_plain_values_are_bounded():
    assert wire.check_value({"a": [1, 2.5, None, True, "x"]}) == {"a": [1, 2.5, None, True, "x"]}
    for bad in ([0] * (wire.MAX_ITEMS + 1), "x" * (wire.MAX_STRING * 4 + 1), {1: 2}, 2**70, object()):
        with pytest.raises(wire.WireError):
            wire.check_value(bad)
    deep: list = []
    for _ in range(wire.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(wire.WireError, match="deep"):
        wire.check_value(deep)


def test_a_history_whose_values_are_not_numbers_is_refused():
    assert wire.numbers([0.5, 1, 2.0]) == [0.5, 1.0, 2.0]
    for bad in (["0.1"], [{"__class__": "os.system"}], [True], "0.1", None):
        with pytest.raises(wire.WireError):
            wire.numbers(bad)


def test_a_link_in_place_of_the_folder_is_never_followed(tmp_path):
    """The outbox and inbox lie in the student's writable state folder: a link put there leads nowhere."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    np.save(elsewhere / "a1.npy", np.zeros(3))
    (tmp_path / "outbox").symlink_to(elsewhere)
    with pytest.raises(wire.WireError):
        wire.read_array(tmp_path / "outbox", {"kind": "array", "file": "a1.npy", "dtype": "float64", "shape": [3]})
    source = tmp_path / "data.npy"
    np.save(source, np.ones(2))
    with pytest.raises(OSError):
        wire.put_in(tmp_path / "outbox", "x.npy", source)
    assert not (elsewhere / "x.npy").exists()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "x.npy").symlink_to(elsewhere / "a1.npy")
    wire.put_in(inbox, "x.npy", source)  # replaces the link, never writes through it
    assert not (inbox / "x.npy").is_symlink() and np.load(elsewhere / "a1.npy").tolist() == [0.0, 0.0, 0.0]
