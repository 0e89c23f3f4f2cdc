"""The observations of one grading on disk: what the observer saw, for the judge.

``observations/observations.json`` in a grading's output folder holds every
step's outcome (status, error, typed facts as the observer built them,
seconds, printed text), which steps the grader's stand-ins replaced, the
figures measured while observing, the flags of the observation, and the
settings the observation depended on (``grader.config.observation_settings``).
Next to it: ``evidence/`` (the checkpoint the observer kept: weights, model
description, normalized test images, probabilities, History) and
``submission/`` (the student's text files the judge reads, the module included).

``judge`` (grader/judge.py) reads only this folder, the config and MNIST's
test set: ``batch --rejudge`` regrades a class from it without running any
student code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.sandbox.protocol import StepStatus
from grader.sandbox.supervisor import SandboxRun, StepOutcome
from grader.spec import MODULE_FILE
from grader.untrusted import copy_regular

FOLDER = "observations"
RECORD = "observations.json"
VERSION = 1
EVIDENCE_FILES = ("weights.npz", "model.json", "x_test_n.npy", "probabilities.npy", "history.json")
# The student's text files the judge reads (grader/answers, checks/causes.py), each copied only when a
# regular file of at most TEXT_BYTES.
# mnist_dense.py: the judge names a near-miss of a missing function from its source (checks/causes.py).
TEXT_FILES = ("exploration.md", "exploration_results/results.csv", MODULE_FILE)
TEXT_BYTES = 1 << 20


class ObservationsError(ValueError):
    """No observations, or a record this grader cannot read."""


@dataclass
class Observations:
    run: SandboxRun
    submission: Path  # the kept copy of the student's text files
    metrics: dict[str, Any] = field(default_factory=dict)  # measured while observing (peak memory, seconds)
    flags: list[str] = field(default_factory=list)  # of the observation (worker_restarted, tampered, ...)
    settings: dict[str, Any] = field(default_factory=dict)  # what the observation depended on
    mode: str = "full"


def _outcome_dict(outcome: StepOutcome) -> dict[str, Any]:
    data = asdict(outcome)
    data["status"] = str(outcome.status)
    return data


def write(folder: Path, observations: Observations, submission: Path) -> Path:
    """Write ``observations`` (and copies of its evidence and of the student's text files) into ``folder/observations``."""
    target = folder / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    run = observations.run
    if run.evidence_dir is not None:
        (target / "evidence").mkdir(exist_ok=True)
        for name in EVIDENCE_FILES:
            copy_regular(run.evidence_dir / name, target / "evidence" / name)
    kept = target / "submission"
    (kept / "answers").mkdir(parents=True, exist_ok=True)
    for source in sorted((submission / "answers").glob("*.md"))[:50] if (submission / "answers").is_dir() else []:
        _copy_text(source, kept / "answers" / source.name)
    for name in TEXT_FILES:
        _copy_text(submission / name, kept / name)
    record = {
        "version": VERSION,
        "outcomes": [_outcome_dict(o) for o in run.outcomes.values()],
        "replaced": sorted(run.replaced),
        "peak_memory_mb": run.peak_memory_mb,
        "workers": run.workers,
        "isolation": run.isolation,
        "memory_wall": run.memory_wall,
        "stray_processes": run.stray_processes,
        "grader_training": run.grader_training,
        "evidence": run.evidence_dir is not None,
        "metrics": observations.metrics,
        "flags": observations.flags,
        "settings": observations.settings,
        "mode": observations.mode,
    }
    (target / RECORD).write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def _copy_text(source: Path, target: Path) -> None:
    try:
        if source.is_file() and not source.is_symlink() and source.stat().st_size <= TEXT_BYTES:
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_regular(source, target)
    except OSError:
        pass  # unreadable: as if absent, which the answer checks report


def read(folder: Path) -> Observations:
    """The observations kept in a grading's output folder (``folder/observations``)."""
    source = folder / FOLDER
    try:
        record = json.loads((source / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ObservationsError(f"no readable {FOLDER}/{RECORD} in {folder}") from error
    if not isinstance(record, dict) or record.get("version") != VERSION:
        raise ObservationsError(f"{source / RECORD}: not version {VERSION}")
    outcomes = {}
    for data in record["outcomes"]:
        outcome = StepOutcome(**{**data, "status": StepStatus.parse(data.get("status"))})
        outcomes[outcome.step] = outcome
    run = SandboxRun(
        outcomes=outcomes,
        replaced=set(record["replaced"]),
        state_dir=source / "evidence",
        peak_memory_mb=record["peak_memory_mb"],
        workers=record["workers"],
        output_file=folder / "student-output.txt",
        evidence_dir=source / "evidence" if record.get("evidence") else None,
        isolation=record["isolation"],
        memory_wall=record["memory_wall"],
        stray_processes=record["stray_processes"],
        grader_training=str(record.get("grader_training") or ""),
    )
    return Observations(
        run=run,
        submission=source / "submission",
        metrics=dict(record.get("metrics") or {}),
        flags=list(record.get("flags") or []),
        settings=dict(record.get("settings") or {}),
        mode=str(record.get("mode") or "full"),
    )
