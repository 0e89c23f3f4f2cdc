"""The bounded value codec between the answerer and the observer.

Everything the answerer sends back is a return value of the student's code,
described as plain data: numbers, capped strings, capped lists and dicts, and
NumPy arrays written as ``.npy`` files whose dtype and shape are declared in
the reply. The reading side (``read_array``, ``check_value``) trusts none of
it: a name must be a plain file name, a dtype must be a numeric one, the
declared size must be within a cap, and the file's own header must agree with
the declaration before a single byte of data is read. No pickle, no
compressed archive: a payload that breaks any rule is a ``WireError``, and
the observer fails that step as tampered.

This module imports only NumPy: both sides use it, and the answering side
must import nothing that records facts, statuses or stand-ins.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from grader.sandbox import tree

MAX_STRING = 2000  # characters of any text that crosses
MAX_ITEMS = 4096  # elements of a list, keys of a dict
MAX_DEPTH = 12
MAX_ARRAY_BYTES = 512 * 2**20  # one array (the full training set as float64 is 376 MB)
MAX_ARRAYS_PER_VALUE = 64
# dtypes that can cross: plain numbers and booleans (no objects, strings, structured records).
ALLOWED_DTYPES = frozenset(["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float16", "float32", "float64"])
_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}\.npy$")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class WireError(ValueError):
    """A payload that breaks the codec's rules: the step that sent it is tampered."""


# -- writing (the answerer's side) -----------------------------------------------------------


def write_array(folder: Path, name: str, array: np.ndarray) -> dict[str, Any]:
    """``array`` as ``folder/name`` (a .npy file), described by its dtype and shape."""
    array = np.ascontiguousarray(array)
    if str(array.dtype) not in ALLOWED_DTYPES:
        return {"kind": "object", "type": f"ndarray[{str(array.dtype)[:40]}]", "shape": [int(d) for d in array.shape]}
    np.save(folder / name, array, allow_pickle=False)
    return {"kind": "array", "file": name, "dtype": str(array.dtype), "shape": [int(d) for d in array.shape]}


def cap(text: Any) -> str:
    return str(text)[:MAX_STRING]


# -- reading (the observer's side) -----------------------------------------------------------


def declared_bytes(dtype: str, shape: list[int]) -> int:
    return int(np.dtype(dtype).itemsize) * math.prod(shape)


def check_array_ref(ref: Any, max_bytes: int = MAX_ARRAY_BYTES) -> tuple[str, str, tuple[int, ...]]:
    """(file, dtype, shape) of an array reference, or WireError."""
    if not isinstance(ref, dict) or ref.get("kind") != "array":
        raise WireError("not an array reference")
    name, dtype, shape = ref.get("file"), ref.get("dtype"), ref.get("shape")
    if not isinstance(name, str) or not _FILE_NAME.match(name) or name.startswith("."):
        raise WireError("array file name")
    if dtype not in ALLOWED_DTYPES:
        raise WireError(f"array dtype {str(dtype)[:40]!r}")
    if not isinstance(shape, list) or len(shape) > 8 or not all(type(d) is int and 0 <= d < 2**40 for d in shape):
        raise WireError("array shape")
    if declared_bytes(dtype, shape) > max_bytes:
        raise WireError(f"array of {declared_bytes(dtype, shape)} bytes declared, at most {max_bytes}")
    return name, dtype, tuple(shape)


def read_array(folder: Path | int, ref: Any, max_bytes: int = MAX_ARRAY_BYTES) -> np.ndarray:
    """The array ``ref`` declares, read from ``folder`` only if the file agrees with it.

    The file's header must state the declared dtype and shape (C order), and
    its size must be exactly the header plus that many bytes: nothing larger
    than declared is ever read. A link, a FIFO or a folder in its place is
    refused.
    """
    name, dtype, shape = check_array_ref(ref, max_bytes)
    try:
        with _directory(folder) as directory:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=directory)
    except OSError as error:
        raise WireError(f"array file: {type(error).__name__}") from error
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise WireError("array file is not a regular file")
    with os.fdopen(fd, "rb") as handle:
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                header = np.lib.format.read_array_header_1_0(handle, max_header_size=10000)
            elif version == (2, 0):
                header = np.lib.format.read_array_header_2_0(handle, max_header_size=10000)
            else:
                raise WireError(f"npy version {version}")
        except (ValueError, OSError, SyntaxError) as error:
            raise WireError(f"npy header: {type(error).__name__}") from error
        file_shape, fortran, file_dtype = header
        if tuple(file_shape) != shape or fortran or file_dtype != np.dtype(dtype) or file_dtype.hasobject:
            raise WireError("npy header differs from the declared dtype and shape")
        size = declared_bytes(dtype, list(shape))
        if info.st_size != handle.tell() + size:
            raise WireError("npy file size differs from its declared shape")
        data = bytearray(size)
        read = handle.readinto(data)
    if read != size:
        raise WireError("npy file shorter than declared")
    return np.frombuffer(data, dtype=file_dtype).reshape(shape)  # writable: it owns the bytearray


@contextlib.contextmanager
def _directory(folder: Path | int) -> Iterator[int]:
    """A descriptor of ``folder`` itself, never of what a link put in its place points to.

    ``folder`` may be a descriptor the caller holds (the observer's, of a folder
    in the sandbox's tmpfs at ``namespaces``): it is used as it is, and stays open.
    """
    if isinstance(folder, int):
        yield folder
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        yield fd
    finally:
        os.close(fd)


def remove_in(folder: Path | int, name: str) -> None:
    """Remove the file ``name`` of ``folder`` (never through a link in place of the folder); absent is fine."""
    try:
        with _directory(folder) as directory:
            os.unlink(name, dir_fd=directory)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        pass


def clear(folder: Path | int) -> None:
    """Remove the files an answer left in ``folder`` and nobody read (never through a link)."""
    try:
        with _directory(folder) as directory:
            for name in os.listdir(directory):
                try:
                    os.unlink(name, dir_fd=directory)
                except (IsADirectoryError, PermissionError, FileNotFoundError):
                    continue
    except OSError:
        pass  # no such folder (the answerer is being restarted): nothing to clear


def put_in(folder: Path | int, name: str, source: Path) -> None:
    """Copy ``source`` to ``folder/name`` as a new file, never through a link (in place of the folder or the file).

    Whatever the student's code left under that name (a file, a link, a FIFO, a folder tree) is removed first.
    """
    if not tree.DIR_FD and isinstance(folder, Path):
        tree.remove_path(folder / name)
    with _directory(folder) as directory:
        if tree.DIR_FD:
            tree.remove_at(directory, name)
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644, dir_fd=directory)
    with os.fdopen(fd, "wb") as target, open(source, "rb") as data:
        shutil.copyfileobj(data, target)


def check_value(value: Any, depth: int = 0) -> Any:
    """``value`` if it is plain, bounded data (the shape every reply has), else WireError."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > 2**63:
            raise WireError("integer out of range")
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING * 4:
            raise WireError("string too long")
        return value
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise WireError("list too long")
        return [check_value(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS or not all(isinstance(k, str) and len(k) <= 200 for k in value):
            raise WireError("dict too large or with non-text keys")
        return {k: check_value(v, depth + 1) for k, v in value.items()}
    raise WireError(f"not plain data: {type(value).__name__}")


def number(value: Any) -> float | None:
    """A real number that crossed (not a bool), or None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def numbers(values: Any, limit: int = MAX_ITEMS) -> list[float]:
    """A list of real numbers, or WireError (a History whose values are not numbers)."""
    if not isinstance(values, list) or len(values) > limit:
        raise WireError("not a list of numbers")
    out = [number(v) for v in values]
    if any(v is None for v in out):
        raise WireError("not a list of numbers")
    return out  # type: ignore[return-value]
