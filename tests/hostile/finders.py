"""How a hostile submission finds the grader: prepended to every case that uses it.

Not a case itself (it lives outside cases/); test_hostile.py inserts it
before a case's change when the change calls one of these functions.
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

