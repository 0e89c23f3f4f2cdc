"""Files a student commits are read and written by the grader outside the sandbox:
a symbolic link among them must never take the grader to a file elsewhere.

Single grading and the Classroom 50 autograder see the student's checkout as
it is (``batch`` refuses links itself): a link ``answers/q1.md -> /any/file``
would copy that file's text into ``score.json``'s review
(tests/test_autograder_links.py: the files the autograder writes).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.answers.exploration import table_present
from grader.answers.markdown import read_answer, read_text

SECRET = "secret-outside-the-submission"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file of the grader's user, outside the submission."""
    path = tmp_path / "outside" / "notes.md"
    path.parent.mkdir()
    path.write_text(f"<!-- RESPUESTA -->\n{SECRET} " * 20 + "\nuna,dos\n1,2\n", encoding="utf-8")
    return path


def test_an_answer_linked_to_a_file_outside_reads_as_missing(tmp_path: Path, outside: Path) -> None:
    answer = tmp_path / "assignment" / "answers" / "q1.md"
    answer.parent.mkdir(parents=True)
    answer.symlink_to(outside)
    assert read_answer(answer, 64 * 1024) is None
    assert read_text(answer, 64 * 1024) is None


def test_a_results_table_linked_outside_is_absent(tmp_path: Path, outside: Path) -> None:
    table = tmp_path / "results.csv"
    table.symlink_to(outside)
    assert table_present(outside)  # the same file, not linked, is a table
    assert not table_present(table)


def test_a_regular_answer_still_reads(tmp_path: Path) -> None:
    answer = tmp_path / "q1.md"
    answer.write_text("Mi respuesta.\n", encoding="utf-8")
    assert "Mi respuesta." in read_text(answer, 64 * 1024)
