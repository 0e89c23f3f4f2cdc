"""``python -m grader batch SUBMISSIONS --out DIR --rejudge``: grade a class again from its observations.

After a change of points, partial credit, rubric or thresholds (the judging
settings: ``grader.config.OBSERVATION_KEYS`` lists the others), every
student graded before is judged again from ``DIR/students/<id>/observations``
(``grader.judge``): no student code runs, nothing is trained, and a class
takes seconds. Each student's outputs (score.json, summary.md, ...) are
rewritten, ``batch.json`` records when and with which config
(``rejudged``), and the gradebook, reports and ``run.json`` (``rejudged``)
are written again. A student whose observations were taken with other
observation settings (another seed, subset, limit or isolation) is not
rejudged: a full regrade (``--force``) is needed, and the run says so.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from grader import data, observations
from grader.config import observation_settings
from grader.exporters import outputs
from grader.instructor import records, roster, workspace
from grader.judge import judge_report

if TYPE_CHECKING:
    from grader.instructor.batch import Batch


def run(batch: Batch, subs: list[roster.Submission], started: float) -> int:
    batch.out.mkdir(parents=True, exist_ok=True)
    roster.use_cache(subs, batch.out / "cache", batch.options.ref)  # never contacts a remote
    (_, _), test_set = data.read_npz(data.dataset_file())
    settings = observation_settings(batch.config)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + " config sha256 " + hashlib.sha256(batch.config_bytes).hexdigest()[:12]
    rejudged, stale = [], []
    for sub in subs:
        folder = batch.students / sub.id
        previous = records.load(folder)
        if previous is None:
            continue
        batch.held[sub.id] = previous
        if sub.path is not None:
            batch.contents[sub.id] = workspace.read_submission(sub.path, batch.template)[0]
        if previous.status != "graded" or previous.result is None:
            batch.skipped.append(sub.id)
            continue
        try:
            seen = observations.read(folder)
        except observations.ObservationsError:
            stale.append(sub.id)
            continue
        if seen.settings != settings:
            stale.append(sub.id)
            continue
        with tempfile.TemporaryDirectory(prefix="grader-rejudge-") as workdir:
            result, report = judge_report(seen, batch.config, batch.options.lang, test_set, Path(workdir))
        for kept in ("grading_seconds", "grader_peak_memory_mb"):  # figures of the grading that observed it
            if kept in previous.result.metrics:
                result.metrics.setdefault(kept, previous.result.metrics[kept])
        tail = (folder / outputs.STUDENT_OUTPUT_TXT).read_bytes() if (folder / outputs.STUDENT_OUTPUT_TXT).is_file() else b""
        for name, content in outputs.files(result, outputs.ExportEnv(os.environ, report, tail)).items():
            target = folder / name
            target.unlink(missing_ok=True)  # never write through a link
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        previous.result, previous.rejudged = result, stamp
        records.save(folder, previous)
        batch.digests[sub.id] = hashlib.sha256((folder / records.SCORE_FILE).read_bytes()).hexdigest()
        rejudged.append(sub.id)
    batch.rejudged = sorted(rejudged)
    print(f"Judged {len(rejudged)} grading(s) again from their observations in {time.monotonic() - started:.1f} s.", file=sys.stderr)
    if stale:
        print(
            f"Not rejudged (no observations, or observed with other seed/subset/limits/isolation; grade them with --force): {', '.join(stale)}",
            file=sys.stderr,
        )
    return batch.report(subs, started)
