"""What every packager shares: a pristine copy of the grader, and what it must never contain.

A platform's packager (``python -m grader bundle``, ``python -m grader
gradescope``) ships the grader package beside its runner. Each copy leaves
out caches and the folders grading never needs, takes ``--config`` as its
``config.toml``, and is refused when a file is compiled or has the content of
a reference solution.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from grader.config import ConfigError, load_config

GRADER_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = GRADER_DIR.parent
REQUIREMENTS = REPO_ROOT / "requirements.txt"
SOLUTIONS = REPO_ROOT / "solutions"
# Left out anywhere in the copy.
IGNORED = ("__pycache__", "*.pyc", "*.pyo", ".grader-output")
# Left out at the top of grader/: the old names kept for the platforms' code
# (grader/classroom50, grader/gradescope), which grading never imports.
OLD_NAMES = ("classroom50", "gradescope")


class BundleError(RuntimeError):
    """The package could not be written; the message says why."""


def source_description() -> str:
    """Where the package came from, for its settings file: ``commit `abc1234``` or "a working copy"."""
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "a working copy"
    sha = done.stdout.strip()
    return f"commit `{sha}`" if done.returncode == 0 and sha else "a working copy"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def check_contents(root: Path, solutions: Path = SOLUTIONS) -> None:
    """Refuse compiled files and any file whose content is a reference solution."""
    forbidden = {digest(p) for p in files_under(solutions)} if solutions.is_dir() else set()
    for path in files_under(root):
        relative = path.relative_to(root)
        if "__pycache__" in relative.parts or path.suffix in (".pyc", ".pyo"):
            raise BundleError(f"compiled file in the bundle: {relative}")
        if "solutions" in relative.parts or digest(path) in forbidden:
            raise BundleError(f"{relative} is a reference solution; it must not be published")


def check_inputs(config: Path | None, needed: tuple[Path, ...]) -> None:
    """BundleError unless ``config`` (when given) loads and every ``needed`` file exists."""
    if config is not None:
        try:
            load_config(config)
        except (OSError, ConfigError, ValueError) as error:
            raise BundleError(f"--config {config}: {error}") from None
    for path in needed:
        if not path.is_file():
            raise BundleError(f"missing {path}")


def ignored(folders: tuple[str, ...]) -> Callable[[str, list[str]], set[str]]:
    """A shutil.copytree ``ignore`` for a copy of GRADER_DIR: IGNORED anywhere, ``folders`` at its top only."""
    by_name = shutil.ignore_patterns(*IGNORED)

    def ignore(directory: str, entries: list[str]) -> set[str]:
        left_out = set(by_name(directory, entries))
        if Path(directory).resolve() == GRADER_DIR:
            left_out |= {entry for entry in entries if entry in folders}
        return left_out

    return ignore


def copy_grader(target: Path, left_out: tuple[str, ...], config: Path | None = None) -> None:
    """A pristine grader package at ``target``, without the top folders ``left_out``; ``config`` as its config.toml."""
    shutil.copytree(GRADER_DIR, target, ignore=ignored(left_out))
    if config is not None:
        shutil.copyfile(config, target / "config.toml")
