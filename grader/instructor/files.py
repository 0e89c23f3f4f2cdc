"""Which files of a repository are the student's, which are protected, and
how both are hashed and compared.

Shared by ``release`` (which writes the manifest) and ``batch`` (which copies
the student's files into a clean workspace and flags changed protected files).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.config import Config
from grader.spec import ANSWER_IDS, MODULE_FILE

MANIFEST_NAME = ".grader-manifest.json"
MANIFEST_FORMAT = 1
# Folders and files a student must not change.
PROTECTED_DIRS = ("grader", ".github")
PROTECTED_FILES = ("requirements.txt", "pytest.ini")
# A file under .github/ with this text in its first lines is for the
# instructor's repository only: release leaves it out.
INSTRUCTOR_ONLY_MARKER = "release: instructor-only"
# A workflow with this text in its first lines replaces grade.yml, and is
# released only with `release --legacy-classroom` (classroom.yml).
LEGACY_CLASSROOM_MARKER = "release: legacy-classroom"
GRADE_WORKFLOW = ".github/workflows/grade.yml"
# Never part of a release or a comparison: caches and editor droppings.
IGNORED_NAMES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db"})
IGNORED_SUFFIXES = (".pyc", ".pyo")
DEFAULT_RESULTS_TABLE = "exploration_results/results.csv"


def student_files() -> list[str]:
    """The files a student edits and the grader reads, relative to the repo root."""
    answers = [f"assignment/answers/{q}.md" for q in ANSWER_IDS]
    return [f"assignment/{MODULE_FILE}", *answers, "assignment/exploration.md"]


def optional_student_files(config: Config) -> list[str]:
    """Files the student generates and may commit (the exploration results table,
    which the grader reads relative to the submission folder, assignment/)."""
    settings = config.exploration_settings
    return ["assignment/" + (settings.results_table if settings is not None else DEFAULT_RESULTS_TABLE)]


def sha256_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def ignored(relpath: str) -> bool:
    parts = relpath.split("/")
    return any(p in IGNORED_NAMES for p in parts) or relpath.endswith(IGNORED_SUFFIXES)


def iter_tree(root: Path, folder: str) -> Iterator[str]:
    """Relative paths (with ``/``) of the files under ``root/folder``, sorted,
    without caches; symbolic links are listed, never followed."""
    base = root / folder
    if base.is_symlink() or not base.is_dir():
        if base.is_symlink() or base.is_file():
            yield folder
        return
    found: list[str] = []
    for current, dirs, files in os.walk(base, followlinks=False):
        rel_dir = Path(current).relative_to(root).as_posix()
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_NAMES)
        for name in files:
            rel = f"{rel_dir}/{name}"
            if not ignored(rel):
                found.append(rel)
        # Symbolic links to folders are files for our purposes.
        found.extend(f"{rel_dir}/{d}" for d in dirs if (Path(current) / d).is_symlink())
    yield from sorted(found)


def read_plain(path: Path) -> bytes | None:
    """The content of a regular file; None for a missing file or a symbolic link."""
    if path.is_symlink() or not path.is_file():
        return None
    return path.read_bytes()


def linked_component(root: Path, relpath: str) -> str | None:
    """The first part of ``relpath`` under ``root`` that is a symbolic link or
    leads outside ``root`` (as a relative path), or None when every component
    is a plain folder or file inside it."""
    base = root.resolve()
    current = root
    parts = relpath.split("/")
    for index, part in enumerate(parts):
        current = current / part
        shown = "/".join(parts[: index + 1])
        if current.is_symlink():
            return shown
        if not current.exists():
            return None
        if not current.resolve().is_relative_to(base):
            return shown
    return None


def _marked(content: bytes, marker: str) -> bool:
    head = content[:2000].decode("utf-8", errors="replace").splitlines()[:5]
    return any(marker in line for line in head)


def instructor_only(content: bytes) -> bool:
    return _marked(content, INSTRUCTOR_ONLY_MARKER)


def released_workflow(rel: str, content: bytes, legacy_classroom: bool = False) -> bool:
    """Whether a file under .github/ goes into a release: never an instructor-only
    one; grade.yml, or with ``legacy_classroom`` the legacy-classroom workflow."""
    if instructor_only(content):
        return False
    if _marked(content, LEGACY_CLASSROOM_MARKER):
        return legacy_classroom
    return not (legacy_classroom and rel == GRADE_WORKFLOW)


def protected_paths(root: Path, *, for_release: bool) -> list[str]:
    """Protected files present under ``root``. For a release (the instructor's
    tree), instructor-only files under .github/ are left out."""
    paths: list[str] = []
    for folder in PROTECTED_DIRS:
        for rel in iter_tree(root, folder):
            if for_release and rel.startswith(".github/"):
                content = read_plain(root / rel)
                if content is None or not released_workflow(rel, content):
                    continue
            paths.append(rel)
    paths.extend(f for f in PROTECTED_FILES if (root / f).is_file())
    return sorted(paths)


def _hash_path(path: Path) -> str:
    if path.is_symlink():
        return "symlink:" + os.readlink(path)
    return sha256_bytes(path.read_bytes())


def same_content(path: Path, expected_sha: str) -> bool:
    """Whether the file matches; a checkout with Windows line endings still does."""
    if path.is_symlink() or not path.is_file():
        return False
    content = path.read_bytes()
    if sha256_bytes(content) == expected_sha:
        return True
    return b"\r\n" in content and sha256_bytes(content.replace(b"\r\n", b"\n")) == expected_sha


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # "modified", "added" or "deleted"

    def __str__(self) -> str:
        return f"{self.path} ({self.kind})"


def compare_protected(submission: Path, expected: Mapping[str, str], variants: Mapping[str, frozenset[str]] | None = None) -> list[Change]:
    """Protected files of ``submission`` that differ from ``expected`` (path -> sha256)
    and from every other accepted sha256 of the path in ``variants``."""
    variants = variants or {}
    present = set(protected_paths(submission, for_release=False))
    changes = []
    for path in sorted(set(expected) | present):
        if path not in present:
            changes.append(Change(path, "deleted"))
        elif path not in expected:
            changes.append(Change(path, "added"))
        elif not any(same_content(submission / path, sha) for sha in (expected[path], *sorted(variants.get(path, ())))):
            changes.append(Change(path, "modified"))
    return changes


COMPACT_AFTER = 5  # more changes than this of one kind in one top folder are summed up


def compact(changes: list[Change]) -> list[str]:
    """Readable change list: ``grader/** (63 files deleted)`` instead of 63 lines."""
    groups: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        top = change.path.split("/")[0] if "/" in change.path else change.path
        groups.setdefault((top, change.kind), []).append(change)
    lines = []
    for (top, kind), group in groups.items():
        if len(group) > COMPACT_AFTER:
            lines.append(f"{top}/** ({len(group)} files {kind})")
        else:
            lines.extend(str(c) for c in group)
    return sorted(lines)


def protected_hashes(root: Path) -> dict[str, str]:
    """path -> sha256 of the instructor's own protected files (as a release has them)."""
    return {p: _hash_path(root / p) for p in protected_paths(root, for_release=True)}


def build_manifest(files: Mapping[str, bytes], config: Config) -> dict[str, Any]:
    protected = {path: sha256_bytes(content) for path, content in sorted(files.items()) if path in PROTECTED_FILES or path.split("/")[0] in PROTECTED_DIRS}
    return {
        "format": MANIFEST_FORMAT,
        "description": "sha256 of every file students must not change, and the files they edit. "
        "Written by python -m grader release; read by python -m grader batch.",
        "protected": protected,
        "student_files": student_files(),
        "optional_student_files": optional_student_files(config),
    }


class ManifestError(ValueError):
    """The manifest file is missing or malformed."""


def read_manifest(path: Path) -> dict[str, str]:
    """The protected-file hashes of a manifest written by ``release``."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ManifestError(f"{path}: cannot read the manifest ({error})") from error
    protected = document.get("protected") if isinstance(document, dict) else None
    if document.get("format") != MANIFEST_FORMAT or not isinstance(protected, dict):
        raise ManifestError(f"{path}: not a manifest written by python -m grader release")
    return {str(k): str(v) for k, v in protected.items()}
