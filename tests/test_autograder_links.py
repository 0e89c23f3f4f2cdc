"""The Classroom 50 autograder writes result.json and release-body.md into the
student's checkout: a link the student committed under either name must not
take the write elsewhere (``result.json -> ~/.bashrc``, a file of the runner,
the bundle's own grader).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.classroom50 import autograder


@pytest.mark.parametrize("name", [autograder.RESULT, autograder.RELEASE_BODY])
def test_the_autograder_writes_no_file_through_a_committed_link(tmp_path: Path, name: str) -> None:
    victim = tmp_path / "runner-home" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text("# the runner's own file\n", encoding="utf-8")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / name).symlink_to(victim)
    autograder.write_error(checkout, "reason", "details")
    assert victim.read_text(encoding="utf-8") == "# the runner's own file\n"
    assert not (checkout / name).is_symlink() and (checkout / name).stat().st_size > 0


def test_delivering_a_result_replaces_a_committed_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text("{}", encoding="utf-8")
    checkout, out = tmp_path / "checkout", tmp_path / "grading"
    checkout.mkdir()
    out.mkdir()
    (checkout / autograder.RESULT).symlink_to(victim)
    (checkout / autograder.RELEASE_BODY).symlink_to(victim)
    document = autograder.error_result("reason")
    monkeypatch.setattr(autograder, "validate_result", lambda document: None)
    (out / autograder.RESULT).write_text(json.dumps(document), encoding="utf-8")
    (out / autograder.RELEASE_BODY).write_text("body\n", encoding="utf-8")
    autograder.deliver(out, checkout)
    assert victim.read_text(encoding="utf-8") == "{}"
    assert json.loads((checkout / autograder.RESULT).read_text(encoding="utf-8")) == document
    assert (checkout / autograder.RELEASE_BODY).read_text(encoding="utf-8") == "body\n"


def test_a_committed_folder_named_like_the_result_is_replaced(tmp_path: Path) -> None:
    """A folder ``result.json/`` made every write fail: the runner got no result at all."""
    checkout = tmp_path / "checkout"
    (checkout / autograder.RESULT / "inner").mkdir(parents=True)
    autograder.write_error(checkout, "reason", "details")
    assert json.loads((checkout / autograder.RESULT).read_text(encoding="utf-8"))["score"] == 0
