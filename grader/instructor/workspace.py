"""The pristine grading tree each submission is graded in.

At the start of a batch the instructor's ``grader/`` and ``assignment/`` (as
a release has them) and the chosen config are read into memory once. Every
submission then gets a fresh folder written from that snapshot, with only the
student's editable files copied on top: whatever the submission did to its
own grader, tests, workflows or config is never used, and a submission that
tampers with the files on disk while it runs cannot reach the next one's.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.config import Config
from grader.instructor import files as repo_files
from grader.instructor.release import CONFIG_FILE, collect, without_rubric

REPO_ROOT = Path(__file__).resolve().parents[2]  # the repository (assignment/, grader/, ...)


@dataclass(frozen=True)
class Template:
    files: Mapping[str, bytes]
    student_files: tuple[str, ...]
    optional_files: tuple[str, ...]
    fingerprint: str  # changes whenever the grader, the config or the language change
    protected: Mapping[str, str] = field(default_factory=dict)  # path -> sha256 students must keep
    protected_source: str = "instructor files"
    # other contents a protected file may have (path -> sha256s): without a manifest,
    # grader/config.toml as a release writes it with or without the rubric
    protected_variants: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def editable(self) -> tuple[str, ...]:
        return self.student_files + self.optional_files


def load_template(config: Config, config_bytes: bytes, lang: str, manifest: Path | None, root: Path = REPO_ROOT) -> Template:
    snapshot = dict(collect(root, trees=("grader", "assignment"), top_files=()))
    snapshot["grader/config.toml"] = config_bytes
    students = tuple(repo_files.student_files())
    optional = tuple(repo_files.optional_student_files(config))
    for path in students + optional:
        snapshot.pop(path, None)
    digest = hashlib.sha256(json.dumps({"lang": lang}).encode())
    for path in sorted(snapshot):
        digest.update(path.encode() + b"\0" + hashlib.sha256(snapshot[path]).digest())
    variants: dict[str, frozenset[str]] = {}
    if manifest is not None:
        protected, source = repo_files.read_manifest(manifest), str(manifest)
    else:
        protected, source = repo_files.protected_hashes(root), "instructor files"
        config_file = root / CONFIG_FILE
        if CONFIG_FILE in protected and config_file.is_file():
            variants[CONFIG_FILE] = frozenset({repo_files.sha256_bytes(without_rubric(config_file.read_bytes()))})
    return Template(snapshot, students, optional, digest.hexdigest(), protected, source, variants)


def read_submission(submission: Path, template: Template) -> tuple[dict[str, bytes], list[str]]:
    """The submission's editable files that are plain files reached through
    plain folders inside it, and the paths that were not (a symbolic link
    anywhere on the way, e.g. ``assignment -> ../../solutions``): those are
    read as missing, and listed so that the batch flags them."""
    found: dict[str, bytes] = {}
    links: list[str] = []
    for rel in template.editable:
        linked = repo_files.linked_component(submission, rel)
        if linked is not None:
            if linked not in links:
                links.append(linked)
            continue
        content = repo_files.read_plain(submission / rel)
        if content is not None:
            found[rel] = content
    return found, links


def content_key(content: Mapping[str, bytes], template: Template) -> str:
    """Hash of the student's files and of the grading setup: equal keys, equal grades."""
    digest = hashlib.sha256(template.fingerprint.encode())
    for rel in template.editable:
        value = content.get(rel)
        digest.update(rel.encode() + (b"\1" + hashlib.sha256(value).digest() if value is not None else b"\0"))
    return digest.hexdigest()


def build(workspace: Path, template: Template, content: Mapping[str, bytes]) -> None:
    if workspace.exists():
        shutil.rmtree(workspace)
    for rel, data in {**template.files, **content}.items():
        target = workspace / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
