"""``python -m grader batch SUBMISSIONS --out DIR``: grade a whole class.

Every submission is graded by this (the instructor's) grader: only the
student-editable files are copied into a fresh workspace built from the
pristine grader, so a submission's own grader, tests, workflows and config
are ignored. Its protected files are compared with the release manifest
(``--manifest``, or ``.grader-manifest.json`` next to this grader) or, when
there is none, with the instructor's own files; differences are flagged.

Submissions run in parallel (``--jobs``), each as a ``python -m grader``
process with a wall-clock limit (``--timeout``); the grader's own thread
count is kept, so a parallel grade equals a serial one. A rerun skips every
submission whose editable files, grader and config are unchanged (hashes in
``DIR/students/<id>/batch.json``) unless ``--force``.

Writes ``DIR/gradebook.csv``, ``DIR/similarity.csv``, ``DIR/report.html``,
``DIR/report.md``, ``DIR/run.json`` (and the LMS files of ``--export``) and
one folder of grader outputs per student in ``DIR/students/<id>/``. The
editable files read from each submission (what similarity compares) are
kept in ``DIR/submitted/<id>/``, so that ``merge`` can compare a whole class
graded in shards.

What the reports say comes from what this process holds, never from files a
student could write while the class is graded: each result is read once,
right after its grading ends, and kept in memory (unchanged submissions
skipped on a rerun are read before any grading starts); the answers and code
compared for similarity are the bytes read from the submission when planned.
The dataset file is hashed before the first grading and checked after each
one: a change stops the batch (``dataset_guard``).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import FrameType

from grader.command_line import command_parser, requested_lang
from grader.config import DEFAULT_CONFIG, Config, load_config
from grader.errors import GradingError
from grader.i18n import LANGUAGES, render
from grader.instructor import class_report, gradebook, lms, records, roster, similarity, untouched, workspace
from grader.instructor.dataset_guard import DatasetGuard, sha256_file
from grader.instructor.files import (
    MANIFEST_NAME,
    ManifestError,
    compact,
    compare_protected,
)
from grader.instructor.progress import Progress
from grader.instructor.records import SCORE_FILE, StudentRecord
from grader.instructor.release import ReleaseError
from grader.instructor.runner import Job, run_jobs
from grader.results import GradingResult

LOG_FILE = "grader-log.txt"
LOG_LIMIT = 64 * 1024
RUN_FILE = "run.json"
SUBMITTED_DIR = "submitted"  # DIR/submitted/<id>/<path>: the editable files as read when planned
EXTRA_TIMEOUT = 300.0  # on top of the config's step limits, for start-up and restarts


def default_timeout(config: Config) -> float:
    return float(sum(config.time_limits.values())) + EXTRA_TIMEOUT


def _parser(lang: str = "es") -> argparse.ArgumentParser:
    parser, t = command_parser("batch", lang)
    parser.add_argument("submissions", type=Path, help=t("submissions"))
    parser.add_argument("--out", type=Path, required=True, help=t("out"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help=t("jobs"))
    parser.add_argument("--config", type=Path, default=None, help=t("config"))
    parser.add_argument("--timeout", type=float, default=None, help=t("timeout"))
    parser.add_argument("--force", action="store_true", help=t("force"))
    parser.add_argument("--shard", default=None, help=t("shard"))
    parser.add_argument("--manifest", type=Path, default=None, help=t("manifest", manifest=MANIFEST_NAME))
    parser.add_argument("--lang", choices=LANGUAGES, default="es", help=t("lang"))
    parser.add_argument("--ref", default=None, help=t("ref"))
    parser.add_argument("--export", action="append", choices=lms.FORMATS, default=[], help=t("export"))
    parser.add_argument("--assignment-name", default=None, help=t("assignment_name", default=lms.default_assignment()))
    parser.add_argument("--allow-missing", action="store_true", help=t("allow_missing"))
    parser.add_argument("--missing-as-zero", action="store_true", help=t("missing_as_zero"))
    parser.add_argument("--rejudge", action="store_true", help=t("rejudge"))
    parser.add_argument("--list", action="store_true", help=t("list"))
    fetching = parser.add_mutually_exclusive_group()
    fetching.add_argument("--fetch-only", action="store_true", help=t("fetch_only"))
    fetching.add_argument("--no-fetch", action="store_true", help=t("no_fetch"))
    return parser


@dataclass(frozen=True)
class BatchOptions:
    """What a batch run was asked to do: ``python -m grader batch``'s options, typed.

    The command converts its arguments (``options_from_args``); a tool or a
    test builds one directly. ``submissions``, ``--shard`` and ``--list``
    choose the roster, before any Batch exists.
    """

    out: Path  # DIR: the gradebook, the reports and one folder per student
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)  # gradings at once
    config: Path | None = None  # the grading config (default: the grader's own)
    timeout: float | None = None  # wall-clock seconds per grading (default: default_timeout)
    force: bool = False  # grade again even an unchanged submission
    shard: str | None = None  # "K/N", recorded in run.json
    manifest: Path | None = None  # the release manifest the protected files are compared with
    lang: str = "es"
    ref: str | None = None  # the git ref fetched for each submission
    export: tuple[str, ...] = ()  # LMS formats (lms.FORMATS), each once
    assignment_name: str | None = None
    allow_missing: bool = False
    missing_as_zero: bool = False
    rejudge: bool = False  # judge again from stored observations, without running student code
    fetch_only: bool = False
    no_fetch: bool = False


def options_from_args(args: argparse.Namespace) -> BatchOptions:
    """The parsed command line as BatchOptions."""
    given = {f.name: getattr(args, f.name) for f in fields(BatchOptions)}
    return BatchOptions(**(given | {"export": tuple(dict.fromkeys(args.export))}))


class Batch:
    def __init__(self, options: BatchOptions) -> None:
        if not isinstance(options, BatchOptions):
            raise TypeError(f"Batch takes BatchOptions (batch.options_from_args converts a parsed command line), not {type(options).__name__}")
        self.options = options
        self.out: Path = options.out.resolve()
        self.config_path = (options.config or DEFAULT_CONFIG).resolve()
        self.config = load_config(self.config_path)
        if not options.fetch_only and not options.rejudge:
            problem = _isolation_error(self.config, options.lang)
            if problem is not None:
                # Each student runs at the strongest level (--require-isolation roads): stop before any.
                raise GradingError(problem)
        self.config_bytes = self.config_path.read_bytes()
        self.similarity_settings = self.config.similarity  # [similarity] was checked with the rest, before any grading
        manifest = options.manifest
        if manifest is None and (workspace.REPO_ROOT / MANIFEST_NAME).is_file():
            manifest = workspace.REPO_ROOT / MANIFEST_NAME
        self.template = workspace.load_template(self.config, self.config_bytes, options.lang, manifest)
        self.timeout = options.timeout if options.timeout is not None else default_timeout(self.config)
        self.students = self.out / "students"
        self.work = self.out / ".work"
        self.pending: dict[str, StudentRecord] = {}
        self.held: dict[str, StudentRecord] = {}  # every student's outcome, as this process read it
        self.contents: dict[str, dict[str, bytes]] = {}  # the editable files read from each submission
        self.running: set[str] = set()
        self.guard: DatasetGuard | None = None
        self.similarity_seconds = 0.0
        # sha256 of each score.json as this process read it; run.json keeps them,
        # so that a rerun skips a student only if the file is still that one.
        self.digests: dict[str, str] = {}
        self.stored = _stored_digests(self.out / RUN_FILE)
        self.graded: list[str] = []
        self.skipped: list[str] = []
        self.rejudged: list[str] = []  # judged again from stored observations (--rejudge)

    # -- planning ------------------------------------------------------------
    def plan(self, subs: list[roster.Submission]) -> list[Job]:
        jobs = []
        for sub in subs:
            folder = self.students / sub.id
            previous = records.load(folder)
            if sub.path is None:
                self.held[sub.id] = StudentRecord(sub.id, "unavailable", source=sub.location, message=sub.problem)
                self._replace(folder, self.held[sub.id])
                continue
            content, links = workspace.read_submission(sub.path, self.template)
            self.contents[sub.id] = content
            key = workspace.content_key(content, self.template)
            changes = compact(compare_protected(sub.path, self.template.protected, self.template.protected_variants))
            record = StudentRecord(
                sub.id,
                "pending",
                source=sub.location,
                key=key,
                changed_files=changes,
                compared_with=self.template.protected_source,
                commit=sub.commit,
                symlinks=links,
                lines_changed=untouched.lines_changed(content, workspace.REPO_ROOT, self.template.student_files),
            )
            unchanged = previous is not None and previous.key == key and previous.status not in records.RETRY_STATUSES
            if unchanged and self._as_stored(folder, sub.id) and not self.options.force:
                previous.source, previous.changed_files, previous.compared_with = record.source, changes, record.compared_with
                previous.commit, previous.symlinks = record.commit, links
                previous.lines_changed = record.lines_changed
                records.save(folder, previous)  # protected files may have changed since
                self.held[sub.id] = previous  # read before any student code of this run has run
                self.skipped.append(sub.id)
                continue
            root = self.work / sub.id
            self.pending[sub.id] = record
            jobs.append(
                Job(
                    id=sub.id,
                    command=[
                        sys.executable,
                        "-m",
                        "grader",
                        "--submission",
                        "assignment",
                        "--out",
                        str(root / "out"),
                        "--lang",
                        self.options.lang,
                        "--quiet",
                        "--require-isolation",
                        "roads",
                    ],
                    cwd=root / "repo",
                    log=root / "log.txt",
                    timeout=self.timeout,
                    env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
                    prepare=functools.partial(workspace.build, root / "repo", self.template, content),
                )
            )
        return jobs

    def _as_stored(self, folder: Path, student: str) -> bool:
        """Whether the previous run's score.json (if any) is the one that run read."""
        score = folder / SCORE_FILE
        if not score.exists():
            return True
        digest = sha256_file(score)
        if digest != self.stored.get(student):
            return False
        self.digests[student] = digest
        return True

    # -- one finished job ------------------------------------------------------
    def finish(self, job: Job) -> str:
        self.running.discard(job.id)
        try:
            line = self._finish(job)
        except Exception as error:  # noqa: BLE001 - one student's odd output must not stop the class
            record = self.pending.pop(job.id, None) or StudentRecord(job.id, "error")
            record.status, record.message, record.seconds = "error", f"batch could not store the result: {error!r}"[:500], job.seconds
            record.result = None
            self.held[job.id] = record
            self._replace(self.students / job.id, record)
            self.graded.append(job.id)
            line = f"{job.id}: error ({error})"
        self._check_dataset(job.id)
        return line

    def _check_dataset(self, student: str) -> None:
        changes = self.guard.changes() if self.guard else []
        if not changes:
            return
        suspects = ", ".join(sorted({student} | self.running))
        change = changes[0]
        message = render(
            self.options.lang, "instructor.batch.dataset_changed", path=change.path, students=suspects, before=change.before[:12], after=change.after[:12]
        )
        record = self.held[student]
        record.status, record.message, record.result = "error", message[:500], None
        records.save(self.students / student, record)
        raise DatasetChanged(message)

    def _finish(self, job: Job) -> str:
        record = self.pending.pop(job.id)
        record.seconds = job.seconds
        root = self.work / job.id
        log = _tail(job.log)
        folder = self.students / job.id
        produced = root / "out"
        if job.error:
            record.status, record.message = "error", job.error[:500]
        elif job.timed_out:
            record.status, record.message = "timeout", f"killed after {self.timeout:g} s (--timeout)"
        elif job.returncode == 0 and (produced / SCORE_FILE).is_file():
            record.status = "graded"
            record.result, self.digests[job.id] = _read_result(produced / SCORE_FILE)  # once, now, into memory
        else:
            lines = [ln for ln in log.decode("utf-8", errors="replace").splitlines() if ln.strip()]
            record.status = "error"
            if job.returncode == 2 and lines:  # the grader's own "could not grade" sentence
                record.message = lines[-1][:500]
            else:
                record.message = f"the grader exited with code {job.returncode}" + (f": {lines[-1][:400]}" if lines else "")
        if record.status == "graded":
            if folder.exists():
                shutil.rmtree(folder)
            folder.parent.mkdir(parents=True, exist_ok=True)
            produced.rename(folder)
            if log.strip():
                (folder / LOG_FILE).write_bytes(log)
            records.save(folder, record)
        else:
            self._replace(folder, record, log)
        shutil.rmtree(root, ignore_errors=True)
        self.graded.append(job.id)
        self.held[job.id] = record
        result = record.result
        score = f"{result.score}/{result.max_score}" if result else record.status
        return f"{job.id}: {score} in {job.seconds:.1f} s" + (f" · {', '.join(record.flags)}" if record.flags else "")

    def _replace(self, folder: Path, record: StudentRecord, log: bytes = b"") -> None:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        if log.strip():
            (folder / LOG_FILE).write_bytes(log)
        records.save(folder, record)

    # -- the whole run -----------------------------------------------------------
    def run(self, subs: list[roster.Submission], started: float) -> int:
        if self.options.rejudge:
            from grader.instructor import rejudge

            return rejudge.run(self, subs, started)
        self.out.mkdir(parents=True, exist_ok=True)
        ref, lang = self.options.ref, self.options.lang
        if self.options.no_fetch:
            roster.use_cache(subs, self.out / "cache", ref)
        else:
            roster.fetch(subs, self.out / "cache", ref, render(lang, "instructor.batch.no_submission_at_ref", ref="{ref}"))
        if self.options.fetch_only:
            failed = [s for s in subs if roster.cloned(s, ref) and s.path is None]
            for sub in failed:
                print(f"batch: {sub.id}: {sub.problem}", file=sys.stderr)
            print(f"Fetched {sum(1 for s in subs if roster.cloned(s, ref)) - len(failed)} repositories into {self.out / 'cache'}; {len(failed)} failed.")
            return 0
        _ensure_dataset(lang)
        self.guard = DatasetGuard.for_grading()
        jobs = self.plan(subs)
        progress = Progress(len(jobs))
        if self.skipped:
            print(f"Skipping {len(self.skipped)} unchanged submission(s) (use --force to grade them again).", file=sys.stderr)

        def started_job(job: Job) -> None:
            self.running.add(job.id)
            progress.start()

        run_jobs(jobs, max(1, self.options.jobs), on_start=started_job, on_end=lambda job: progress.finish(self.finish(job)), tick=progress.draw)
        progress.close()
        shutil.rmtree(self.work, ignore_errors=True)
        return self.report(subs, started)

    def report(self, subs: list[roster.Submission], started: float) -> int:
        """Gradebook, similarity, LMS files, run.json and the class report, from the held results."""
        lang = self.options.lang
        ids = [s.id for s in subs]
        everyone = [self.held[i] for i in ids if i in self.held]
        gradebook.write(self.out / "gradebook.csv", everyone, lang)
        clock = time.monotonic()
        compared = self.compare_class(everyone)
        self.similarity_seconds = round(time.monotonic() - clock, 2)
        similarity.write_csv(self.out / similarity.CSV_FILE, compared)
        self.keep_submitted(ids)
        exported, refused = self.export(everyone, subs)
        meta = self.meta(ids, round(time.monotonic() - started, 1))
        meta["lms_ids"] = {s.id: s.lms_id for s in subs if s.lms_id}
        (self.out / RUN_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        class_report.write(self.out, everyone, self.config.grading.min_accuracy, lang=lang, similar=compared, required_isolation=self.config.isolation.roads)
        counts = {s: sum(1 for r in everyone if r.status == s) for s in records.RECORD_STATUSES}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        print(f"{len(ids)} submissions ({summary}); graded {len(self.graded)}, skipped {len(self.skipped)} in {meta['wall_seconds']} s.")
        written = [self.out / "gradebook.csv", self.out / similarity.CSV_FILE, *(e.path for e in exported), self.out / "report.html"]
        print(f"Wrote {', '.join(str(p) for p in written)} and {self.out / 'report.md'}.")
        for error in refused:
            print(
                render(lang, "instructor.export.refused", file=lms.FILES[error.kind], count=len(error.problems), ids=_listed(error.problems, lang)),
                file=sys.stderr,
            )
        return 2 if refused else 0

    def export(self, everyone: list[StudentRecord], subs: list[roster.Submission]) -> tuple[list[lms.Export], list[lms.ExportError]]:
        """The LMS files asked for; one whose identifiers are wrong is refused (and not written)."""
        lang, ids = self.options.lang, {s.id: s.lms_id for s in subs}
        exported, refused = [], []
        for kind in dict.fromkeys(self.options.export):
            try:
                done = lms.write(
                    kind,
                    self.out,
                    everyone,
                    ids,
                    lang,
                    assignment=self.options.assignment_name,
                    allow_missing=self.options.allow_missing,
                    missing_as_zero=self.options.missing_as_zero,
                )
            except lms.ExportError as error:
                refused.append(error)
                continue
            exported.append(done)
            if done.skipped:
                print(render(lang, "instructor.export.skipped", file=done.path.name, count=len(done.skipped), ids=_listed(done.skipped, lang)), file=sys.stderr)
            if done.blank:
                print(render(lang, "instructor.export.blank", file=done.path.name, count=len(done.blank), ids=", ".join(done.blank)), file=sys.stderr)
        return exported, refused

    def keep_submitted(self, ids: list[str]) -> None:
        """DIR/submitted/<id>/: the held editable files of this run's students, for ``merge``."""
        root = self.out / SUBMITTED_DIR
        if root.exists():
            shutil.rmtree(root)
        for ident in ids:
            for rel, data in self.contents.get(ident, {}).items():
                target = root / ident / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)

    def compare_class(self, everyone: list[StudentRecord]) -> similarity.Comparison:
        """Every pair of graded submissions compared, from the files read when planned."""
        graded = {r.id: self.contents[r.id] for r in everyone if r.status == "graded" and r.id in self.contents}
        return similarity.compare(graded, similarity.Template.from_root(workspace.REPO_ROOT), self.similarity_settings)

    def meta(self, ids: list[str], wall: float) -> dict[str, object]:
        return {
            "submissions": ids,
            "graded": sorted(self.graded),
            "skipped": sorted(self.skipped),
            "rejudged": sorted(self.rejudged),
            "wall_seconds": wall,
            "similarity_seconds": self.similarity_seconds,
            "score_sha256": {i: self.digests[i] for i in ids if i in self.digests},
            "jobs": self.options.jobs,
            "timeout": self.timeout,
            "shard": self.options.shard,
            "lang": self.options.lang,
            "ref": self.options.ref,
            "export": list(dict.fromkeys(self.options.export)),
            # How the LMS files were written: merge rebuilds them over the whole class the same way.
            "export_options": {
                "assignment": self.options.assignment_name,
                "allow_missing": self.options.allow_missing,
                "missing_as_zero": self.options.missing_as_zero,
            },
            "config": str(self.config_path),
            "config_sha256": hashlib.sha256(self.config_bytes).hexdigest(),
            "grading_fingerprint": self.template.fingerprint,
            "protected_compared_with": self.template.protected_source,
            "min_accuracy": self.config.grading.min_accuracy,
            "max_score": self.config.max_score,
            "isolation_required": self.config.isolation.roads,
        }


class DatasetChanged(RuntimeError):
    """The dataset file changed while the class was graded: stop."""


def _read_result(path: Path) -> tuple[GradingResult, str]:
    """The grading's result and the sha256 of the bytes it was read from."""
    content = path.read_bytes()
    return GradingResult.from_dict(json.loads(content.decode("utf-8"))), hashlib.sha256(content).hexdigest()


def _listed(problems: list[lms.Skipped], lang: str) -> str:
    """``ana (sin identificador), ben (mal formado: 'ben@')``."""
    return ", ".join(f"{p.id} ({render(lang, f'instructor.export.reason_{p.reason}')}{': ' + repr(p.value) if p.value else ''})" for p in problems)


def _stored_digests(run_file: Path) -> dict[str, str]:
    try:
        stored = json.loads(run_file.read_text(encoding="utf-8")).get("score_sha256", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in stored.items()} if isinstance(stored, dict) else {}


def _tail(path: Path) -> bytes:
    if not path.is_file():
        return b""
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - LOG_LIMIT))
        return handle.read()


def _ensure_dataset(lang: str) -> None:
    """Download MNIST once here, not in every parallel grading at the same time."""
    from grader import data

    if data.dataset_file() is None:
        from grader.fetch_data import fetch

        fetch(lang)


def _on_term(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _isolation_error(config: Config, lang: str) -> str | None:
    """Why the class cannot be graded at the config's road level (one sentence), or None."""
    from grader import i18n
    from grader.sandbox import isolation

    try:
        isolation.choose(config.isolation.roads)
    except isolation.IsolationError as error:
        return i18n.render(lang, "error.isolation", level=str(error), required=config.isolation.roads)
    return None


def main(argv: list[str]) -> int:
    args = _parser(requested_lang(argv)).parse_args(argv)
    started = time.monotonic()
    try:
        subs = roster.list_submissions(args.submissions.resolve())
        if args.shard:
            subs = roster.shard(subs, *roster.parse_shard(args.shard))
        if args.list:
            print("\n".join(s.id for s in subs))
            return 0
        batch = Batch(options_from_args(args))
    except (roster.RosterError, GradingError, ManifestError, ReleaseError, OSError) as error:  # GradingError: a bad config too
        print(f"batch: {error}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        return batch.run(subs, started)
    except KeyboardInterrupt:
        print("\nbatch: interrupted; running gradings were stopped.", file=sys.stderr)
        return 130
    except DatasetChanged as error:
        print(f"batch: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        if isinstance(error, GradingError):
            print(f"batch: {error}", file=sys.stderr)
            return 2
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
