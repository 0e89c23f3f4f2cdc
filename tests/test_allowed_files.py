"""Classroom 50's `allowed_files`: the list the docs give keeps every student file.

Classroom 50's runner (foundation50/classroom50,
cli/gh-teacher/skeleton/dotgithub/scripts/runner.py, ``enforce_allowed_files``)
walks the checkout (every regular file, skipping ``.git``), keeps its
control paths, writes the assignment's patterns as the ``.gitignore`` of a
throwaway repository and deletes every path that
``git -c core.excludesFile=/dev/null check-ignore --no-index --stdin -z``
reports, with the system and global git config switched off. This test does
the same on a released template holding a student's finished work.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader import classroom50_bundle

ROOT = Path(__file__).resolve().parents[1]
INSTRUCTORS_DOC = ROOT / "docs" / "instructors.md"
README_TEMPLATE = ROOT / "grader" / "platforms" / "classroom50" / "README.template.md"
# runner.py's ALLOWED_FILES_KEEP_PREFIXES and ALLOWED_FILES_KEEP_EXACT.
CONTROL_PREFIXES = (".github/", ".git/")
CONTROL_EXACT = (".classroom50.yaml", ".github", ".git", "result.json", "release-body.md")
# What a student adds to the template: generated exploration results, a
# notebook checkpoint, a nested folder.
STUDENT_EXTRAS = (
    "assignment/exploration_results/results.csv",
    "assignment/exploration_results/epochs_curves.png",
    "assignment/.ipynb_checkpoints/mnist_dense-checkpoint.ipynb",
    "assignment/answers/notes/draft.md",
)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A released template as a student's checkout, with Classroom 50's files."""
    folder = tmp_path_factory.mktemp("checkout")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-m", "grader", "release", str(folder), "--force"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for rel in STUDENT_EXTRAS:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("student work\n")
    (folder / ".classroom50.yaml").write_text("classroom: ml-2026\nassignment: mnist-dense\n")
    (folder / ".github" / "workflows" / "autograde.yaml").write_text("name: shim\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return folder


def workspace_files(root: Path) -> list[str]:
    """runner.py's _walk_workspace_files: every file, forward slashes, no .git."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            found.append(Path(name if rel_dir == "." else os.path.join(rel_dir, name)).as_posix())
    return sorted(found)


def is_control(rel: str) -> bool:
    return rel in CONTROL_EXACT or rel.startswith(CONTROL_PREFIXES)


def deleted_by_runner(patterns: list[str], paths: list[str], scratch: Path) -> list[str]:
    """runner.py's _classify_disallowed: the paths `git check-ignore --no-index` matches."""
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    scratch.mkdir()
    subprocess.run(["git", "-C", str(scratch), "init", "-q"], env=env, check=True, timeout=60)
    (scratch / ".gitignore").write_text("\n".join(patterns) + "\n")
    done = subprocess.run(
        ["git", "-c", f"core.excludesFile={os.devnull}", "-C", str(scratch), "check-ignore", "--no-index", "--stdin", "-z"],
        input="\0".join(paths) + "\0",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 0: some matched, 1: none
    return sorted(p for p in done.stdout.split("\0") if p)


def graded_files(checkout: Path) -> list[str]:
    return [p for p in workspace_files(checkout) if not is_control(p)]


def documented_lists(text: str) -> list[list[str]]:
    """Every JSON list of patterns that follows an `allowed_files` mention in a code block."""
    return [json.loads(block) for block in re.findall(r"```json\s*\n\s*(\[[^\]]*\])\s*\n\s*```", text)]


def test_the_recommended_list_keeps_every_student_file(checkout, tmp_path):
    paths = graded_files(checkout)
    student = [p for p in paths if p.startswith("assignment/")]
    assert "assignment/mnist_dense.py" in student and "assignment/answers/q7.md" in student
    assert set(STUDENT_EXTRAS) <= set(student)
    deleted = deleted_by_runner(list(classroom50_bundle.ALLOWED_FILES), paths, tmp_path / "matcher")
    assert not [p for p in deleted if p.startswith("assignment/")], deleted
    # Everything else the checkout holds goes: the grader needs none of it (the bundle has its own).
    assert sorted(set(paths) - set(student)) == deleted
    assert "grader/grade.py" in deleted and "requirements.txt" in deleted


@pytest.mark.parametrize("patterns", [["assignment/**"], ["*", "!assignment/**"]])
def test_the_lists_the_docs_warn_about_delete_the_submission(checkout, tmp_path, patterns):
    paths = graded_files(checkout)
    deleted = deleted_by_runner(patterns, paths, tmp_path / "matcher")
    assert {p for p in paths if p.startswith("assignment/")} <= set(deleted)


@pytest.mark.parametrize("doc", [INSTRUCTORS_DOC, README_TEMPLATE], ids=lambda p: p.name)
def test_the_docs_give_the_list_as_a_teacher_pastes_it(doc):
    text = doc.read_text(encoding="utf-8").replace("$allowed_files", classroom50_bundle.allowed_files_json())
    assert documented_lists(text) == [list(classroom50_bundle.ALLOWED_FILES)]
    assert '["assignment/**"]' in text, "the warning about assignment/** alone"


def test_the_bundle_readme_carries_the_list(tmp_path):
    bundle = classroom50_bundle.build(tmp_path)
    readme = (bundle.path / "README.md").read_text(encoding="utf-8")
    assert classroom50_bundle.allowed_files_json() in readme
    assert json.loads(classroom50_bundle.allowed_files_json()) == ["*", "!*/", "!assignment/**"]
