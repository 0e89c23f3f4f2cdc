"""Reading and removing what the student's code left in the sandbox's folders.

The readers (``open_regular``, ``copy_regular``) live in ``grader.untrusted``:
the answers and the observations use them too, and must not depend on the
sandbox. Removing a tree the student made is the sandbox's own business.
"""

from __future__ import annotations

from pathlib import Path

from grader.sandbox.tree import remove_path
from grader.untrusted import NOFOLLOW, copy_regular, open_regular

__all__ = ["NOFOLLOW", "copy_regular", "open_regular", "remove_entry"]


def remove_entry(path: Path) -> None:
    """Remove whatever the student's code left at ``path`` (a file, a link, a FIFO,
    a folder tree), never following a link; nothing there is fine."""
    remove_path(path)  # removes links inside, never their targets; any depth
