"""Hostile case bomb_as_returned_array: normalize's answer declares a huge array, and a small file whose header claims 3 GB.

The answerer's encoder is the grader's code in the student's process: this
case replaces it (an instance attribute) so normalize's return value is sent
as (1) a declared shape of 10^12 float64 values, then (2) an .npy file of a
few bytes whose header claims 3 GB. The observer checks the declaration and
the file's header and size before reading anything: normalize is tampered
(its stand-in takes over), the grader stays under 1 GB.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import gc as _gc

_calls = []


def _lying_encoder(encode, outbox):
    def encoder(value, depth=0):
        import numpy

        if isinstance(value, numpy.ndarray) and value.dtype.kind == "f" and value.ndim == 3:
            _calls.append(1)
            if len(_calls) == 1:
                return {"kind": "array", "file": "huge.npy", "dtype": "float64", "shape": [1000000, 1000000]}
            with open(outbox / "liar.npy", "wb") as handle:
                numpy.lib.format.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False, "shape": (3 * 2**27,)})
                handle.write(bytes(64))
            return {"kind": "array", "file": "liar.npy", "dtype": "float64", "shape": [3 * 2**27]}
        return encode(value, depth)

    return encoder


for _object in _gc.get_objects():
    try:
        _names = vars(_object)
    except TypeError:
        continue
    if "objects" in _names and "outbox" in _names and callable(getattr(_object, "encode", None)):
        _object.encode = _lying_encoder(_object.encode, _names["outbox"])
