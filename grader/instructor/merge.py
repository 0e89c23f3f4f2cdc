"""``python -m grader merge SHARD_DIRS... --out DIR``: join sharded batches.

Each SHARD_DIR is the ``--out`` of one ``python -m grader batch --shard I/N``
run (for example one CI artifact). Their ``students/<id>/`` folders are
copied into ``DIR/students/`` and the gradebook and class report are
rebuilt over the whole class. An id found in two shards is an error, and so
are shards graded with different graders or configs (unless ``--allow-mixed``).
The reports keep the shards' ``--lang``. Similarity is computed by each
shard's batch over its own students (a merge holds no submission files).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from grader.cli import add_lang, command_parser, requested_lang
from grader.i18n import LANGUAGES
from grader.instructor import class_report, gradebook, records
from grader.instructor.batch import RUN_FILE
from grader.sandbox.isolation import LEVELS


class MergeError(RuntimeError):
    """The shards cannot be merged; the message says why."""


def _meta(shard: Path) -> dict[str, Any]:
    try:
        data = json.loads((shard / RUN_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _ids(shard: Path, meta: dict[str, Any]) -> list[str]:
    listed = meta.get("submissions")
    if isinstance(listed, list):
        return [str(i) for i in listed]
    students = shard / "students"
    return sorted(p.name for p in students.iterdir() if p.is_dir()) if students.is_dir() else []


def merge(shards: list[Path], out: Path, allow_mixed: bool = False) -> list[records.StudentRecord]:
    out = out.resolve()
    owners: dict[str, Path] = {}
    metas = []
    for shard in shards:
        shard = shard.resolve()
        if shard == out or out in shard.parents or shard in out.parents:
            raise MergeError(f"{shard}: a shard folder cannot contain or be the output folder")
        if not (shard / "students").is_dir():
            raise MergeError(f"{shard}: no students/ folder; not the output of python -m grader batch")
        meta = _meta(shard)
        metas.append(meta)
        for ident in _ids(shard, meta):
            if ident in owners:
                raise MergeError(f"student {ident!r} is in two shards: {owners[ident]} and {shard}")
            owners[ident] = shard
    fingerprints = {m.get("grading_fingerprint") for m in metas if m.get("grading_fingerprint")}
    if len(fingerprints) > 1 and not allow_mixed:
        raise MergeError("the shards were graded with different graders, configs or languages (grading_fingerprint differs); use --allow-mixed to merge anyway")
    students = out / "students"
    if students.exists():
        shutil.rmtree(students)
    students.mkdir(parents=True)
    for ident, shard in sorted(owners.items()):
        source = shard / "students" / ident
        if source.is_dir():
            shutil.copytree(source, students / ident, symlinks=True)
    merged = [r for r in (records.load(students / i) for i in sorted(owners)) if r is not None]
    languages = {m.get("lang") for m in metas if m.get("lang") in LANGUAGES}
    lang = languages.pop() if len(languages) == 1 else "es"
    gradebook.write(out / "gradebook.csv", merged, lang)
    minima = {m.get("min_accuracy") for m in metas if m.get("min_accuracy") is not None}
    run = {
        "submissions": sorted(owners),
        "shards": [str(s) for s in shards],
        "grading_fingerprint": sorted(f for f in fingerprints if f),
        "min_accuracy": min(minima) if minima else None,
        "wall_seconds_per_shard": [m.get("wall_seconds") for m in metas],
        "lang": lang,
    }
    (out / RUN_FILE).write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    required = {m.get("isolation_required") for m in metas if m.get("isolation_required")}
    class_report.write(out, merged, run["min_accuracy"], lang=lang, required_isolation=max(required, key=LEVELS.index) if required else None)
    return merged


def _parser(lang: str = "es") -> argparse.ArgumentParser:
    parser, t = command_parser("merge", lang)
    parser.add_argument("shards", type=Path, nargs="+", help=t("shards"))
    parser.add_argument("--out", type=Path, required=True, help=t("out"))
    parser.add_argument("--allow-mixed", action="store_true", help=t("allow_mixed"))
    add_lang(parser, lang, t("lang"))
    return parser


def main(argv: list[str]) -> int:
    args = _parser(requested_lang(argv)).parse_args(argv)
    try:
        merged = merge(args.shards, args.out, args.allow_mixed)
    except (MergeError, OSError) as error:
        print(f"merge: {error}", file=sys.stderr)
        return 2
    print(f"Merged {len(merged)} students from {len(args.shards)} shards into {args.out}.")
    return 0
