"""The sandbox's file system, read from its bubblewrap command line (no bwrap
run): nothing that holds the repository root (solutions/, tests/, the
submission) is bound in; the grader package is read-only; the state and
run folders are size-capped tmpfs, and the one host file written through is
the student's output file. And a channel line that is JSON but not an
object is malformed, not an event."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grader.sandbox import isolation
from grader.sandbox.channel import parse_line

ROOT = Path(__file__).resolve().parents[1]
GRADER = ROOT / "grader"


def _binds(arguments: list[str]) -> list[tuple[str, Path, Path]]:
    found = []
    for index, flag in enumerate(arguments):
        if flag in ("--bind", "--ro-bind", "--dev-bind", "--bind-try", "--ro-bind-try"):
            found.append((flag, Path(arguments[index + 1]), Path(arguments[index + 2])))
    return found


def _arguments(tmp_path: Path) -> list[str]:
    outside = isolation.Paths(tmp_path / "plan.json", tmp_path / "mnist.npz", tmp_path / "state", tmp_path / "run")
    inside = isolation.Paths(Path("/sandbox/plan.json"), Path("/sandbox/mnist.npz"), Path("/sandbox/state"), Path("/sandbox/run"))
    outside.state.mkdir(exist_ok=True)
    (outside.state / "mnist_dense.py").write_text("")
    (outside.state / isolation.OUTPUT_NAME).write_bytes(b"")
    return isolation.bwrap_arguments(outside, inside, GRADER, isolation.Storage(storage_mb=1536, shm_mb=64, seeds={}))


def _tmpfs(arguments: list[str]) -> dict[str, int]:
    """Each tmpfs mount and its --size in bytes (0 when it has none)."""
    sizes = {}
    for index, flag in enumerate(arguments):
        if flag == "--tmpfs":
            before = arguments[index - 3 : index]
            sizes[arguments[index + 1]] = int(before[-1]) if "--size" in before[-2:-1] else 0
    return sizes


@pytest.mark.parametrize(
    "extra",
    [[ROOT], [ROOT.parent], [Path("/")], [ROOT.parent, ROOT]],
    ids=["the-root", "its-parent", "slash", "both"],
)
def test_no_folder_holding_the_repository_is_bound(tmp_path, monkeypatch, extra):
    # A virtualenv inside the repository, or the repository inside a prefix, puts such folders among the Python dirs.
    monkeypatch.setattr(isolation, "python_dirs", lambda: [Path(sys.prefix), *extra])
    for flag, source, _ in _binds(_arguments(tmp_path)):
        if source == GRADER:
            continue
        assert not ROOT.is_relative_to(source), f"{flag} {source}"


def test_the_grader_is_read_only_and_only_state_and_run_are_writable(tmp_path):
    arguments = _arguments(tmp_path)
    binds = _binds(arguments)
    writable = {source for flag, source, _ in binds if flag != "--ro-bind"}
    assert writable == {tmp_path / "state" / isolation.OUTPUT_NAME}
    assert ("--ro-bind", tmp_path / "state" / "mnist_dense.py", Path("/sandbox/state/mnist_dense.py")) in binds
    # everything else the worker may write is in a tmpfs of a fixed size
    assert _tmpfs(arguments) == {"/tmp": 64 * 2**20, "/dev/shm": 64 * 2**20, "/sandbox": 1536 * 2**20}
    assert ("--ro-bind", GRADER, GRADER) in binds
    assert ("--ro-bind", tmp_path / "plan.json", Path("/sandbox/plan.json")) in binds
    sources = {source for _, source, _ in binds}
    assert not any(ROOT.is_relative_to(s) for s in sources if s != GRADER and not s.is_relative_to(tmp_path))


def test_the_real_python_dirs_leave_the_repository_out(tmp_path):
    # pytest puts the repository root on sys.path (pytest.ini: pythonpath = .).
    assert not any(ROOT.is_relative_to(d) and d not in map(Path, isolation.SYSTEM_DIRS) for d in isolation.python_dirs())
    for _, source, _ in _binds(_arguments(tmp_path)):
        assert source == GRADER or not ROOT.is_relative_to(source), source


@pytest.mark.parametrize("line", [b"[1, 2]", b'"ok"', b"3", b"null", b"true", b"", b"{", b"\xff\xfe", b"{}" + b" " * 10**7])
def test_a_channel_line_that_is_not_a_json_object_is_malformed(line):
    assert parse_line(line) is None


def test_a_channel_line_that_is_a_json_object_is_an_event():
    assert parse_line(b'{"event": "step", "name": "normalize"}') == {"event": "step", "name": "normalize"}
