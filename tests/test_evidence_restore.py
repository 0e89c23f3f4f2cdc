"""A restarted answerer gets the checkpoint back whatever a later step left in its inbox.

The observer keeps the trained weights where the sandbox cannot reach
(``evidence``, its ``observer`` folder) and re-sends them to a restarted
answerer as a file in the exchange inbox (``wire.put_in``). The inbox is in
the sandbox's writable state folder: before the answerer died, a later step may
have left a folder tree, a link or a FIFO under the name the checkpoint goes to.
The old worker's parent crashed on a folder there (IsADirectoryError: the
grading ended with a raw traceback and no result; hostile case
``checkpoint_as_folders``). Putting the file must replace whatever is there,
never write through a link, and leave the grader's own files alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.sandbox import wire
from grader.sandbox.untrusted import remove_entry


@pytest.mark.parametrize("as_descriptor", [False, True], ids=["host_folder", "descriptor"])
def test_the_checkpoint_is_put_over_folders_links_and_fifos(tmp_path: Path, as_descriptor: bool) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    checkpoint = tmp_path / "checkpoint.npz"
    checkpoint.write_bytes(b"trained")
    outside = tmp_path / "outside.txt"
    outside.write_text("the grader's own file")
    weights, model, history = (inbox / n for n in ("weights.npz", "model.json", "history.json"))
    (weights / "inner" / "deeper").mkdir(parents=True)
    (weights / "inner" / "link").symlink_to(outside)
    model.symlink_to(outside)
    os.mkfifo(history)
    # At namespaces the observer holds the inbox as a descriptor (Observer._open_exchange).
    folder: Path | int = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY) if as_descriptor else inbox
    try:
        for name in ("weights.npz", "model.json", "history.json"):
            wire.put_in(folder, name, checkpoint)
    finally:
        if isinstance(folder, int):
            os.close(folder)
    for target in (weights, model, history):
        assert not target.is_symlink() and target.is_file() and target.read_bytes() == b"trained"
    assert outside.read_text() == "the grader's own file"


def test_removing_nothing_is_fine(tmp_path: Path) -> None:
    remove_entry(tmp_path / "absent")
    wire.remove_in(tmp_path, "absent")
    assert not (tmp_path / "absent").exists()
