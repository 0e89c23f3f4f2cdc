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

The rubric belongs to the instructor: by default the released
``grader/config.toml`` carries no idea patterns and no topic vocabulary
(``[rubric] provisional = true``): the student's self-check scores the form of
each answer, names the ideas as a checklist and says that the content is
graded on submission, by a road that grades with the instructor's own config
(``batch``, the Classroom 50 bundle, the Gradescope zip). ``--with-rubric``
keeps the whole rubric, for a course that grades through the template's own
workflow (grade.yml, classroom.yml): there the student holds the grader, and
the rubric with it, anyway.

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
import tempfile
from pathlib import Path

import tomlkit

from grader.cli import add_lang, command_parser, requested_lang
from grader.config import ConfigError, load_config
from grader.instructor import files as repo_files
from grader.instructor.leaks import find_leaks

SOURCE_ROOT = Path(__file__).resolve().parents[2]
# Copied whole (minus caches); .github/ minus instructor-only files.
TREES = ("assignment", "grader", ".github")
# Copied when present.
TOP_FILES = ("README.md", "requirements.txt", "requirements-notebook.txt", "pytest.ini", ".gitignore", ".gitattributes", "LICENSE")
CONFIG_FILE = "grader/config.toml"
# Keys of [rubric.qN] and of its [[rubric.qN.ideas]] that hold the rubric's content.
RUBRIC_QUESTION_KEYS = ("topic",)
RUBRIC_IDEA_KEYS = ("patterns", "patterns_en")
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


def without_rubric(config: bytes) -> bytes:
    """``config`` (a config.toml) without the rubric's patterns and topic
    vocabulary, marked ``[rubric] provisional = true``; comments and the rest
    of the file are kept as they are."""
    document = tomlkit.parse(config.decode("utf-8"))
    rubric = document.get("rubric")
    if rubric is None:
        return config
    for value in rubric.values():
        if not isinstance(value, dict) or "ideas" not in value:
            continue
        for key in RUBRIC_QUESTION_KEYS:
            value.pop(key, None)
        for idea in value["ideas"]:
            for key in RUBRIC_IDEA_KEYS:
                idea.pop(key, None)
    rubric["provisional"] = True
    return tomlkit.dumps(document).encode("utf-8")


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


def write_release(
    source: Path, out: Path, *, force: bool = False, check_leaks: bool = True, legacy_classroom: bool = False, with_rubric: bool = False
) -> dict[str, bytes]:
    """Write the release of ``source`` into ``out``; return what was written.
    Without ``with_rubric`` the released config has no idea patterns."""
    if not (source / "grader" / "config.toml").is_file():
        raise ReleaseError(f"{source} has no grader/config.toml: not the instructor's repository")
    config = load_config(source / "grader" / "config.toml")
    released = collect(source, legacy_classroom=legacy_classroom)
    if not with_rubric and CONFIG_FILE in released:
        released[CONFIG_FILE] = without_rubric(released[CONFIG_FILE])
        load_config_text(released[CONFIG_FILE])  # the template's own grader must still load it
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


def load_config_text(content: bytes) -> None:
    """Load a config given as bytes, as the released grader will (raises ConfigError)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_bytes(content)
        load_config(path)


def _parser(lang: str = "es") -> argparse.ArgumentParser:
    parser, t = command_parser("release", lang)
    parser.add_argument("out", type=Path, help=t("out"))
    parser.add_argument("--source", type=Path, default=SOURCE_ROOT, help=t("source"))
    parser.add_argument("--force", action="store_true", help=t("force"))
    parser.add_argument("--legacy-classroom", action="store_true", help=t("legacy_classroom"))
    parser.add_argument("--with-rubric", action="store_true", help=t("with_rubric"))
    parser.add_argument("--no-leak-check", action="store_true", help=t("no_leak_check"))
    add_lang(parser, lang)
    return parser


def main(argv: list[str]) -> int:
    args = _parser(requested_lang(argv)).parse_args(argv)
    try:
        released = write_release(
            args.source.resolve(),
            args.out,
            force=args.force,
            check_leaks=not args.no_leak_check,
            legacy_classroom=args.legacy_classroom,
            with_rubric=args.with_rubric,
        )
    except (ReleaseError, ConfigError, OSError) as error:
        print(f"release: {error}", file=sys.stderr)
        return 2
    protected = sum(1 for p in released if p in repo_files.PROTECTED_FILES or p.split("/")[0] in repo_files.PROTECTED_DIRS)
    print(f"Wrote {len(released)} files to {args.out} ({protected} protected, listed in {repo_files.MANIFEST_NAME}).")
    return 0
