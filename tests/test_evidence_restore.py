"""A restarted worker resumes from the checkpoint the parent copied when training ended.

The state folder is writable inside the sandbox: before the worker died, a
later step may have left a folder, a link or a FIFO where a checkpoint file
was. The parent replaced the file with ``unlink`` and crashed on a folder
(IsADirectoryError: the grading ended with a raw traceback and no result, a
Classroom 50 infrastructure error instead of the student's grade; hostile
case ``checkpoint_as_folders``).
"""

from __future__ import annotations

import os
from pathlib import Path

from grader.config import load_config
from grader.sandbox import supervisor as supervisor_module
from grader.sandbox.untrusted import remove_entry


def _supervisor(tmp_path: Path) -> supervisor_module.Supervisor:
    module = tmp_path / "mnist_dense.py"
    module.write_text("")
    sup = supervisor_module.Supervisor(load_config(), module, tmp_path / "mnist.npz", tmp_path / "sandbox")
    sup.evidence_dir.mkdir()
    for name in supervisor_module.EVIDENCE_FILES:
        (sup.evidence_dir / name).write_text("trained")
    sup.evidence = True
    return sup


def test_the_checkpoint_is_restored_over_folders_links_and_fifos(tmp_path: Path) -> None:
    sup = _supervisor(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("the grader's own file")
    weights, model, history = (sup.state_dir / n for n in ("weights.npz", "model.json", "history.json"))
    (weights / "inner").mkdir(parents=True)
    (weights / "inner" / "link").symlink_to(outside)
    model.symlink_to(outside)
    os.mkfifo(history)
    sup._restore_evidence()
    for name in supervisor_module.EVIDENCE_FILES:
        target = sup.state_dir / name
        assert not target.is_symlink() and target.is_file() and target.read_text() == "trained"
    assert outside.read_text() == "the grader's own file"


def test_removing_nothing_is_fine(tmp_path: Path) -> None:
    remove_entry(tmp_path / "absent")
    assert not (tmp_path / "absent").exists()
