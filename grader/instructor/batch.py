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

Writes ``DIR/gradebook.csv``, ``DIR/report.html``, ``DIR/report.md``,
``DIR/run.json`` and one folder of grader outputs per student in
``DIR/students/<id>/``.
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
from pathlib import Path
from types import FrameType

from grader.config import DEFAULT_CONFIG, Config, ConfigError, load_config
from grader.i18n import LANGUAGES
from grader.instructor import class_report, gradebook, records, roster, workspace
from grader.instructor.files import (
    MANIFEST_NAME,
    ManifestError,
    compact,
    compare_protected,
)
from grader.instructor.progress import Progress
from grader.instructor.records import StudentRecord
from grader.instructor.release import ReleaseError
from grader.instructor.runner import Job, run_jobs

LOG_FILE = "grader-log.txt"
LOG_LIMIT = 64 * 1024
RUN_FILE = "run.json"
EXTRA_TIMEOUT = 300.0  # on top of the config's step limits, for start-up and restarts


def default_timeout(config: Config) -> float:
    return float(sum(config.time_limits.values())) + EXTRA_TIMEOUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader batch",
        description="Grade every submission of a class in parallel with this grader; "
        "write gradebook.csv, report.html, report.md and one feedback folder per student.",
    )
    parser.add_argument("submissions", type=Path, help="folder with one checkout per student (named by id), or a roster file of git URLs / paths")
    parser.add_argument("--out", type=Path, required=True, help="output folder (kept between runs: it holds the clones and the hashes used to skip unchanged work)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at the same time (default: the number of CPUs)")
    parser.add_argument("--config", type=Path, default=None, help="grading config (default: grader/config.toml)")
    parser.add_argument("--timeout", type=float, default=None, help="wall-clock seconds per submission before it is killed (default: the config's step limits added up, plus 300)")
    parser.add_argument("--force", action="store_true", help="grade every submission again, even unchanged ones")
    parser.add_argument("--shard", default=None, help="I/N: grade only the I-th of N parts of the class (split by sorted id)")
    parser.add_argument("--manifest", type=Path, default=None, help=f"release manifest to compare protected files with (default: {MANIFEST_NAME} next to this grader, else its own files)")
    parser.add_argument("--lang", choices=LANGUAGES, default="es", help="language of the students' feedback (default: es)")
    parser.add_argument("--list", action="store_true", help="only print the ids this run would grade (after --shard) and exit")
    fetching = parser.add_mutually_exclusive_group()
    fetching.add_argument("--fetch-only", action="store_true", help="only clone or update the roster's git URLs into DIR/cache, then exit")
    fetching.add_argument("--no-fetch", action="store_true", help="grade the clones already in DIR/cache without contacting any remote")
    return parser


class Batch:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.out.resolve()
        self.config_path = (args.config or DEFAULT_CONFIG).resolve()
        self.config = load_config(self.config_path)
        problem = _isolation_error(self.config)
        if problem is not None:
            # Each student runs at the strongest level (--require-isolation roads): stop before any.
            raise ConfigError(problem)
        self.config_bytes = self.config_path.read_bytes()
        manifest = args.manifest
        if manifest is None and (workspace.GRADER_ROOT / MANIFEST_NAME).is_file():
            manifest = workspace.GRADER_ROOT / MANIFEST_NAME
        self.template = workspace.load_template(self.config, self.config_bytes, args.lang, manifest)
        self.timeout = args.timeout if args.timeout is not None else default_timeout(self.config)
        self.students = self.out / "students"
        self.work = self.out / ".work"
        self.pending: dict[str, StudentRecord] = {}
        self.graded: list[str] = []
        self.skipped: list[str] = []

    # -- planning ------------------------------------------------------------
    def plan(self, subs: list[roster.Submission]) -> list[Job]:
        jobs = []
        for sub in subs:
            folder = self.students / sub.id
            previous = records.load(folder)
            if sub.path is None:
                self._replace(folder, StudentRecord(sub.id, "unavailable", source=sub.location, message=sub.problem))
                continue
            content = workspace.student_content(sub.path, self.template)
            key = workspace.content_key(content, self.template)
            changes = compact(compare_protected(sub.path, self.template.protected))
            record = StudentRecord(sub.id, "pending", source=sub.location, key=key, changed_files=changes, compared_with=self.template.protected_source)
            if previous and previous.key == key and previous.status not in records.RETRY_STATUSES and not self.args.force:
                previous.source, previous.changed_files, previous.compared_with = record.source, changes, record.compared_with
                records.save(folder, previous)  # protected files may have changed since
                self.skipped.append(sub.id)
                continue
            root = self.work / sub.id
            self.pending[sub.id] = record
            jobs.append(
                Job(
                    id=sub.id,
                    command=[sys.executable, "-m", "grader", "--submission", "assignment", "--out", str(root / "out"), "--lang", self.args.lang, "--quiet", "--require-isolation", "roads"],
                    cwd=root / "repo",
                    log=root / "log.txt",
                    timeout=self.timeout,
                    env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
                    prepare=functools.partial(workspace.build, root / "repo", self.template, content),
                )
            )
        return jobs

    # -- one finished job ------------------------------------------------------
    def finish(self, job: Job) -> str:
        try:
            return self._finish(job)
        except Exception as error:  # noqa: BLE001 - one student's odd output must not stop the class
            record = self.pending.pop(job.id, None) or StudentRecord(job.id, "error")
            record.status, record.message, record.seconds = "error", f"batch could not store the result: {error!r}"[:500], job.seconds
            self._replace(self.students / job.id, record)
            self.graded.append(job.id)
            return f"{job.id}: error ({error})"

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
        elif job.returncode == 0 and (produced / records.SCORE_FILE).is_file():
            record.status = "graded"
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
        loaded = records.load(folder)
        result = loaded.result if loaded else None
        score = f"{result.score}/{result.max_score}" if result else record.status
        return f"{job.id}: {score} in {job.seconds:.1f} s" + (f" · {', '.join(loaded.flags)}" if loaded and loaded.flags else "")

    def _replace(self, folder: Path, record: StudentRecord, log: bytes = b"") -> None:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        if log.strip():
            (folder / LOG_FILE).write_bytes(log)
        records.save(folder, record)

    # -- the whole run -----------------------------------------------------------
    def run(self, subs: list[roster.Submission], started: float) -> int:
        self.out.mkdir(parents=True, exist_ok=True)
        if self.args.no_fetch:
            roster.use_cache(subs, self.out / "cache")
        else:
            roster.fetch(subs, self.out / "cache")
        if self.args.fetch_only:
            failed = [s for s in subs if s.is_url and s.path is None]
            for sub in failed:
                print(f"batch: {sub.id}: {sub.problem}", file=sys.stderr)
            print(f"Fetched {sum(1 for s in subs if s.is_url) - len(failed)} repositories into {self.out / 'cache'}; {len(failed)} failed.")
            return 0
        _ensure_dataset(self.args.lang)
        jobs = self.plan(subs)
        progress = Progress(len(jobs))
        if self.skipped:
            print(f"Skipping {len(self.skipped)} unchanged submission(s) (use --force to grade them again).", file=sys.stderr)
        run_jobs(jobs, max(1, self.args.jobs), on_start=lambda job: progress.start(), on_end=lambda job: progress.finish(self.finish(job)), tick=progress.draw)
        progress.close()
        shutil.rmtree(self.work, ignore_errors=True)
        ids = [s.id for s in subs]
        everyone = [r for r in (records.load(self.students / i) for i in ids) if r is not None]
        gradebook.write(self.out / "gradebook.csv", everyone)
        meta = self.meta(ids, round(time.monotonic() - started, 1))
        (self.out / RUN_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        class_report.write(self.out, everyone, self.config.grading.min_accuracy)
        counts = {s: sum(1 for r in everyone if r.status == s) for s in records.STATUSES}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        print(f"{len(ids)} submissions ({summary}); graded {len(self.graded)}, skipped {len(self.skipped)} in {meta['wall_seconds']} s.")
        print(f"Wrote {self.out / 'gradebook.csv'}, {self.out / 'report.html'} and {self.out / 'report.md'}.")
        return 0

    def meta(self, ids: list[str], wall: float) -> dict[str, object]:
        return {
            "submissions": ids,
            "graded": sorted(self.graded),
            "skipped": sorted(self.skipped),
            "wall_seconds": wall,
            "jobs": self.args.jobs,
            "timeout": self.timeout,
            "shard": self.args.shard,
            "lang": self.args.lang,
            "config": str(self.config_path),
            "config_sha256": hashlib.sha256(self.config_bytes).hexdigest(),
            "grading_fingerprint": self.template.fingerprint,
            "protected_compared_with": self.template.protected_source,
            "min_accuracy": self.config.grading.min_accuracy,
            "max_score": self.config.max_score,
        }


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


def _isolation_error(config: Config) -> str | None:
    """Why the class cannot be graded at the config's road level (one sentence), or None."""
    from grader import i18n
    from grader.sandbox import isolation

    try:
        isolation.choose(config.isolation.roads)
    except isolation.IsolationError as error:
        return i18n.render("en", "error.isolation", level=str(error), required=config.isolation.roads)
    return None


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    try:
        subs = roster.list_submissions(args.submissions.resolve())
        if args.shard:
            subs = roster.shard(subs, *roster.parse_shard(args.shard))
        if args.list:
            print("\n".join(s.id for s in subs))
            return 0
        batch = Batch(args)
    except (roster.RosterError, ConfigError, ManifestError, ReleaseError, OSError) as error:
        print(f"batch: {error}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        return batch.run(subs, started)
    except KeyboardInterrupt:
        print("\nbatch: interrupted; running gradings were stopped.", file=sys.stderr)
        return 130
    except Exception as error:
        from grader.grade import GradingError

        if isinstance(error, GradingError):
            print(f"batch: {error}", file=sys.stderr)
            return 2
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
