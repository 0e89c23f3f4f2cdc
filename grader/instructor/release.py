"""``python -m grader release OUT``: write the student template repository.

The release holds what students need and nothing more: ``assignment/`` (the
stubs, the question sheets, the exploration sheet and anything else there),
``grader/``, the student workflows under ``.github/``, ``README.md``,
``requirements.txt``, ``requirements-notebook.txt``, ``pytest.ini`` and ``.gitignore``. It never holds
``solutions/``, ``tests/``, instructor documentation, or workflows marked
``release: instructor-only``. Sections of README.md between
``<!-- instructor-only -->`` and ``<!-- /instructor-only -->`` are removed.
With ``--legacy-classroom`` the student workflow is ``classroom.yml`` (marked
``release: legacy-classroom``: the legacy GitHub Classroom reporter's shape)
instead of ``grade.yml``.

``.grader-manifest.json`` at the root records the sha256 of every protected
file (grader/**, .github/**, requirements.txt, pytest.ini) and the files a
student edits; ``batch`` reads it to flag submissions that changed the grader.
Before writing, the release is searched for the reference solution's code
and the model answers' sentences; any hit stops the release.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from grader.config import ConfigError, load_config
from grader.instructor import files as repo_files
from grader.instructor.leaks import find_leaks

SOURCE_ROOT = Path(__file__).resolve().parents[2]
# Copied whole (minus caches); .github/ minus instructor-only files.
TREES = ("assignment", "grader", ".github")
# Copied when present.
TOP_FILES = ("README.md", "requirements.txt", "requirements-notebook.txt", "pytest.ini", ".gitignore", ".gitattributes", "LICENSE")
INSTRUCTOR_SECTION = re.compile(r"<!--\s*instructor-only\s*-->.*?<!--\s*/instructor-only\s*-->\n?", re.DOTALL)


class ReleaseError(RuntimeError):
    """The release cannot be written; the message says why."""


def collect(source: Path, trees: tuple[str, ...] = TREES, top_files: tuple[str, ...] = TOP_FILES, legacy_classroom: bool = False) -> dict[str, bytes]:
    """relative path -> content of every file the release holds (with
    ``legacy_classroom``, classroom.yml in place of grade.yml)."""
    found: dict[str, bytes] = {}
    for tree in trees:
        for rel in repo_files.iter_tree(source, tree):
            content = repo_files.read_plain(source / rel)
            if content is None:
                raise ReleaseError(f"{rel} is a symbolic link; a release holds plain files only")
            if rel.startswith(".github/") and not repo_files.released_workflow(rel, content, legacy_classroom):
                continue
            found[rel] = content
    for name in top_files:
        content = repo_files.read_plain(source / name)
        if content is None:
            continue
        if name == "README.md":
            content = INSTRUCTOR_SECTION.sub("", content.decode("utf-8")).encode("utf-8")
        found[name] = content
    return found


def _prepare(out: Path, source: Path, force: bool) -> None:
    out = out.resolve()
    for tree in TREES:
        inside = (source / tree).resolve()
        if out == inside or inside in out.parents:
            raise ReleaseError(f"{out} is inside {inside}, which the release copies")
    if out == source.resolve():
        raise ReleaseError("OUT is the source repository itself")
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"{out} exists and is not a folder")
    entries = [p for p in out.iterdir() if p.name != ".git"] if out.exists() else []
    if entries and not force:
        raise ReleaseError(f"{out} is not empty; use --force to replace its contents (its .git is kept)")
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    out.mkdir(parents=True, exist_ok=True)


def write_release(source: Path, out: Path, *, force: bool = False, check_leaks: bool = True, legacy_classroom: bool = False) -> dict[str, bytes]:
    """Write the release of ``source`` into ``out``; return what was written."""
    if not (source / "grader" / "config.toml").is_file():
        raise ReleaseError(f"{source} has no grader/config.toml: not the instructor's repository")
    config = load_config(source / "grader" / "config.toml")
    released = collect(source, legacy_classroom=legacy_classroom)
    missing = [f for f in repo_files.student_files() if f not in released]
    if missing:
        raise ReleaseError(f"the student files {missing} are missing from {source}/assignment")
    if check_leaks:
        leaks = find_leaks(source, released)
        if leaks:
            listed = "\n  ".join(str(leak) for leak in leaks[:20])
            raise ReleaseError(f"the release would contain reference code or model answers:\n  {listed}")
    _prepare(out, source, force)
    for rel, content in released.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        mode = (source / rel).stat().st_mode & 0o777 if (source / rel).exists() else 0o644
        target.chmod(mode)
    manifest = repo_files.build_manifest(released, config)
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    (out / repo_files.MANIFEST_NAME).write_text(text, encoding="utf-8")
    return released


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader release",
        description="Write the student template repository (stubs, question sheets, grader, "
        "student workflows) into OUT, with .grader-manifest.json. Never copies solutions/ or tests/.",
    )
    parser.add_argument("out", type=Path, help="folder to write the release into (created; must be empty unless --force)")
    parser.add_argument("--source", type=Path, default=SOURCE_ROOT, help="instructor repository (default: the one this grader belongs to)")
    parser.add_argument("--force", action="store_true", help="replace the contents of a non-empty OUT (its .git folder is kept)")
    parser.add_argument(
        "--legacy-classroom",
        action="store_true",
        help="for the legacy GitHub Classroom: release .github/workflows/classroom.yml instead of grade.yml",
    )
    parser.add_argument(
        "--no-leak-check",
        action="store_true",
        help="do not search the release for reference code and model answers (only for a false alarm you have checked)",
    )
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        released = write_release(
            args.source.resolve(),
            args.out,
            force=args.force,
            check_leaks=not args.no_leak_check,
            legacy_classroom=args.legacy_classroom,
        )
    except (ReleaseError, ConfigError, OSError) as error:
        print(f"release: {error}", file=sys.stderr)
        return 2
    protected = sum(1 for p in released if p in repo_files.PROTECTED_FILES or p.split("/")[0] in repo_files.PROTECTED_DIRS)
    print(f"Wrote {len(released)} files to {args.out} ({protected} protected, listed in {repo_files.MANIFEST_NAME}).")
    return 0
