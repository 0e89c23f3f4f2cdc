"""``python -m grader merge SHARD_DIRS... --out DIR``: join sharded batches.

Each SHARD_DIR is the ``--out`` of one ``python -m grader batch --shard I/N``
run (for example one CI artifact). Their ``students/<id>/`` folders are
copied into ``DIR/students/`` and the gradebook, ``similarity.csv``, the LMS
files of the shards' ``--export`` and the class report are rebuilt over the
whole class. The reports keep the shards' ``--lang``.

Similarity is computed here over the whole class (a pair split across two
shards is compared too), from the editable files each batch kept as it read
them (``SHARD_DIR/submitted/<id>/``), with the ``[similarity]`` table of
``--config``.

The merge refuses, naming the shard: a SHARD_DIR that does not exist or is
not a finished batch (no ``students/`` or ``run.json``); an incomplete set of
``I/N`` shards (one missing or given twice); an id found in two shards;
shards graded with different graders or configs (unless ``--allow-mixed``);
a graded student whose submitted files are missing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from grader.cli import add_lang, command_parser, requested_lang
from grader.config import DEFAULT_CONFIG, ConfigError
from grader.i18n import LANGUAGES
from grader.instructor import class_report, gradebook, lms, records, roster, similarity, workspace
from grader.instructor.batch import RUN_FILE, SUBMITTED_DIR
from grader.levels import LEVELS


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


def check_complete(shards: list[Path], metas: list[dict[str, Any]]) -> None:
    """MergeError unless the shards' ``I/N`` (run.json ``shard``) are exactly 1..N, each once."""
    parts: dict[int, Path] = {}
    counts: set[int] = set()
    for shard, meta in zip(shards, metas, strict=True):
        spec = meta.get("shard")
        if not spec:
            continue  # a whole batch (for example another section of the class)
        try:
            index, count = roster.parse_shard(str(spec))
        except roster.RosterError as error:
            raise MergeError(f"{shard}: run.json shard {spec!r}: {error}") from None
        counts.add(count)
        if index in parts:
            raise MergeError(f"shard {index}/{count} given twice: {parts[index]} and {shard}")
        parts[index] = shard
    if len(counts) > 1:
        raise MergeError(f"the shards split the class differently ({', '.join(f'N={n}' for n in sorted(counts))})")
    if counts:
        (count,) = counts
        missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in parts]
        if missing:
            raise MergeError(f"shard {', '.join(missing)} missing: its output was not given (did its job fail or upload nothing?)")


def submitted_files(shard: Path, ident: str) -> dict[str, bytes]:
    """The editable files the shard's batch read from ``ident`` (``SHARD/submitted/<id>/``)."""
    folder = shard / SUBMITTED_DIR / ident
    if not folder.is_dir():
        raise MergeError(f"{shard}: no {SUBMITTED_DIR}/{ident}/ for the graded student {ident!r}; grade the shard again with this grader")
    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


def merge(shards: list[Path], out: Path, allow_mixed: bool = False, config: Path | None = None) -> list[records.StudentRecord]:
    out = out.resolve()
    try:
        settings = similarity.Settings.from_config(config or DEFAULT_CONFIG)
    except (OSError, ConfigError, ValueError) as error:
        raise MergeError(f"--config: {error}") from None
    owners: dict[str, Path] = {}
    metas = []
    resolved = []
    for given in shards:
        shard = given.resolve()
        if not shard.exists():
            raise MergeError(f"shard {given} is missing: its output was not given (did its job fail or upload nothing?)")
        if shard == out or out in shard.parents or shard in out.parents:
            raise MergeError(f"{shard}: a shard folder cannot contain or be the output folder")
        if not (shard / "students").is_dir():
            raise MergeError(f"{shard}: no students/ folder; not the output of python -m grader batch")
        if not (shard / RUN_FILE).is_file():
            raise MergeError(f"{shard}: no {RUN_FILE}; its batch did not finish")
        meta = _meta(shard)
        if not meta:
            raise MergeError(f"{shard}: {RUN_FILE} is not the JSON object python -m grader batch writes")
        resolved.append(shard)
        metas.append(meta)
    check_complete(resolved, metas)
    for shard, meta in zip(resolved, metas, strict=True):
        for ident in _ids(shard, meta):
            if ident in owners:
                raise MergeError(f"student {ident!r} is in two shards: {owners[ident]} and {shard}")
            owners[ident] = shard
    fingerprints = {m.get("grading_fingerprint") for m in metas if m.get("grading_fingerprint")}
    if len(fingerprints) > 1 and not allow_mixed:
        raise MergeError("the shards were graded with different graders, configs or languages (grading_fingerprint differs); use --allow-mixed to merge anyway")
    # One class report, one threshold: shards graded with different min_accuracy cannot be merged, even --allow-mixed.
    thresholds = {str(shard): m["min_accuracy"] for shard, m in zip(shards, metas) if m.get("min_accuracy") is not None}
    if len(set(thresholds.values())) > 1:
        listed = ", ".join(f"{shard} ({value})" for shard, value in thresholds.items())
        raise MergeError(f"the shards were graded with different min_accuracy: {listed}; grade them again with one config")
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
    graded = {r.id: submitted_files(owners[r.id], r.id) for r in merged if r.status == "graded"}
    compared = similarity.compare(graded, similarity.Template.from_root(workspace.REPO_ROOT), settings)
    similarity.write_csv(out / similarity.CSV_FILE, compared)
    lms_ids: dict[str, str] = {}
    exports: list[str] = []
    for meta in metas:
        lms_ids.update({str(k): str(v) for k, v in (meta.get("lms_ids") or {}).items()})
        exports += [kind for kind in meta.get("export") or [] if kind in lms.FORMATS]
    options = {json.dumps(m.get("export_options") or {}, sort_keys=True) for m in metas if m.get("export")}
    if len(options) > 1:
        raise MergeError(f"the shards wrote their LMS files with different options (--assignment-name, --allow-missing, --missing-as-zero): {sorted(options)}")
    export_options = json.loads(options.pop()) if options else {}
    refused: list[lms.ExportError] = []
    for kind in dict.fromkeys(exports):
        try:
            lms.write(kind, out, merged, lms_ids, lang, **export_options)
        except lms.ExportError as error:
            refused.append(error)  # the gradebook and the report are still written; merge then fails naming the ids
    minima = {m.get("min_accuracy") for m in metas if m.get("min_accuracy") is not None}
    run = {
        "submissions": sorted(owners),
        "shards": [str(s) for s in resolved],
        "export": list(dict.fromkeys(exports)),
        "grading_fingerprint": sorted(f for f in fingerprints if f),
        "min_accuracy": min(minima) if minima else None,
        "wall_seconds_per_shard": [m.get("wall_seconds") for m in metas],
        "lang": lang,
    }
    (out / RUN_FILE).write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    required = {m.get("isolation_required") for m in metas if m.get("isolation_required")}
    class_report.write(out, merged, run["min_accuracy"], lang=lang, similar=compared, required_isolation=max(required, key=LEVELS.index) if required else None)
    if refused:
        raise MergeError("; ".join(str(error) for error in refused) + " (the other files were written; fix the roster's identifiers and merge again)")
    return merged


def _parser(lang: str = "es") -> argparse.ArgumentParser:
    parser, t = command_parser("merge", lang)
    parser.add_argument("shards", type=Path, nargs="+", help=t("shards"))
    parser.add_argument("--out", type=Path, required=True, help=t("out"))
    parser.add_argument("--allow-mixed", action="store_true", help=t("allow_mixed"))
    parser.add_argument("--config", type=Path, default=None, help=t("config"))
    add_lang(parser, lang, t("lang"))
    return parser


def main(argv: list[str]) -> int:
    args = _parser(requested_lang(argv)).parse_args(argv)
    try:
        merged = merge(args.shards, args.out, args.allow_mixed, args.config)
    except (MergeError, OSError) as error:
        print(f"merge: {error}", file=sys.stderr)
        return 2
    print(f"Merged {len(merged)} students from {len(args.shards)} shards into {args.out}.")
    return 0
