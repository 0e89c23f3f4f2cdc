"""The ``grade`` command: grade one submission and write its reports.

1. find MNIST (never downloading it in this process: see ``fetch_data``);
2. run the student's module in the sandbox (one worker, one training);
3. put back any grader file the submission touched;
4. run the checks with pytest and pytest-json-report in this process, with
   nothing on ``sys.path`` that the submission could have written;
5. assemble the grade from the checks' outcomes (collected in memory; report.json
   is kept as the raw record) and write every output format into a fresh
   folder that replaces ``--out`` whole, so nothing the submission wrote
   there survives.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from grader import data, fetch_data, i18n, observations
from grader.config import Config, observation_settings
from grader.errors import GradingError
from grader.exporters import outputs
from grader.judge import _run_checks, judge_path, judge_report  # noqa: F401 - _run_checks, judge_path: used by tests through grade
from grader.observations import Observations
from grader.protect import FileGuard
from grader.results import GradingResult
from grader.sandbox import isolation
from grader.sandbox.observer import Observer
from grader.sandbox.supervisor import SandboxError
from grader.spec import MODULE_FILE
from grader.untrusted import open_regular

GRADER_DIR = Path(__file__).resolve().parent
OUTPUT_MARKER = ".grader-output"


@dataclass
class Request:
    submission: Path
    out: Path
    lang: str
    config: Config
    config_path: Path | None = None
    threads: int = 2
    # The weakest isolation level accepted: a level name, "roads" (the
    # config's level for grade.yml, Classroom 50 and batch) or None (the
    # config's minimum for a self-check).
    require_isolation: str | None = None
    # --quick: train on [quick] train_subset images, judge on its provisional bar.
    quick: bool = False
    # Told of each step's start and each training epoch (the terminal's progress line).
    progress: Callable[[dict], None] | None = None


def effective_config(request: Request) -> Config:
    """The config a grading runs with: in quick mode, the quick subset and bar."""
    config = request.config
    if not request.quick:
        return config
    quick = config.quick
    return replace(config, grading=replace(config.grading, train_subset=quick.train_subset, min_accuracy=quick.min_accuracy))


def _check_out_dir(out: Path, lang: str) -> None:
    if out.exists() and any(out.iterdir()) and not (out / OUTPUT_MARKER).exists():
        raise GradingError(i18n.render(lang, "error.out_not_ours", out=out))


def _isolation(request: Request) -> isolation.Isolation:
    settings = request.config.isolation
    required = request.require_isolation or settings.minimum
    required = settings.roads if required == "roads" else required
    try:
        return isolation.choose(required, settings.tmpfs_mb, settings.storage_mb)
    except isolation.IsolationError as error:
        raise GradingError(i18n.render(request.lang, "error.isolation", level=str(error), required=required)) from error


def grade(request: Request) -> GradingResult:
    started = time.monotonic()
    lang = request.lang
    module = request.submission / MODULE_FILE
    if not module.is_file():
        raise GradingError(i18n.render(lang, "error.no_module", path=module))
    _check_out_dir(request.out, lang)
    level = _isolation(request)
    x_test, y_test, dataset = _test_set(lang)

    guarded = [GRADER_DIR] + ([request.config_path] if request.config_path else [])
    guard = FileGuard(guarded)
    with tempfile.TemporaryDirectory(prefix="grader-") as private:
        workdir = Path(private)
        os.chmod(workdir, 0o700)
        config = effective_config(request)
        supervisor = Observer(
            config,
            module,
            dataset,
            workdir / "sandbox",
            request.threads,
            between_workers=guard.restore,
            progress=request.progress,
            isolation=level,
        )
        try:
            run = supervisor.run()
        except SandboxError as error:
            raise GradingError(i18n.render(lang, "error.sandbox", detail=error)) from error
        finally:
            modified = sorted(set(guard.restore()) | set(supervisor.restored))

        checking = getattr(request.progress, "checking", None)
        if callable(checking):
            checking()  # the worker is done; the checks run now
        flags = _flags(run, modified)
        metrics: dict = dict(
            peak_memory_mb=run.peak_memory_mb,
            train_seconds=round(run.outcomes["train_model"].seconds, 1) if "train_model" in run.outcomes else None,
            workers=run.workers,
            memory_wall=run.memory_wall,
        )
        if modified:
            metrics["modified_files"] = [os.path.relpath(p, GRADER_DIR.parent) for p in modified]
        seen = Observations(
            run=run,
            submission=request.submission,
            metrics=metrics,
            flags=flags,
            settings=observation_settings(config),
            mode="quick" if request.quick else "full",
        )
        kept = observations.write(workdir / "kept", seen, request.submission)
        seen = observations.read(workdir / "kept")
        result, report = judge_report(seen, config, lang, (x_test, y_test), workdir)
        result.metrics["grading_seconds"] = round(time.monotonic() - started, 1)
        result.metrics["grader_peak_memory_mb"] = _own_peak_mb()
        _write_outputs(request.out, result, report, run.output_file, config, kept)
        _remove_sandbox(workdir / "sandbox")
    return result


def _own_peak_mb() -> float | None:
    """This process's peak memory (the observer and the judge; never the student's code), where the OS tells it."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def _remove_sandbox(folder: Path) -> None:
    """Remove what the worker left (at ``process`` and ``user``: host folders it wrote) before the
    temporary folder's own cleanup, whose recursive walk a folder chain deeper than Python's
    recursion limit would crash (grader/sandbox/tree.py)."""
    from grader.sandbox import tree

    try:
        tree.remove_path(folder)
    except OSError:
        pass  # left in the temporary folder; its cleanup tries again


def _test_set(lang: str) -> tuple:
    """MNIST's test images and labels, and the file they come from.

    A bad MNIST_NPZ (no such file, not an npz) is one sentence in ``lang``;
    no data at all is fetch's own sentence.
    """
    try:
        dataset = data.dataset_file() or fetch_data.fetch(lang)
        (_, _), (x_test, y_test) = data.read_npz(dataset)
    except (data.DataUnavailable, OSError, ValueError, zipfile.BadZipFile) as error:
        value = os.environ.get(data.ENV_VAR, "")
        raise GradingError(i18n.render(lang, "error.bad_data", var=data.ENV_VAR, value=value, detail=_one_line(error))) from error
    return x_test, y_test, dataset


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:200] or type(error).__name__


def _flags(run, modified: list[str]) -> list[str]:
    flags = []
    import_outcome = run.outcomes.get("import")
    if import_outcome is not None and import_outcome.status not in ("ok", "tampered"):
        flags.append("import_salvaged" if "import-salvage" in run.outcomes and run.outcomes["import-salvage"].status == "ok" else "import_failed")
    if modified:
        flags.append("grader_files_modified")
    if any(o.tampered or o.status == "tampered" for o in run.outcomes.values()):
        flags.append("tampered")
    if run.stray_processes:
        flags.append("processes_killed")
    if run.workers > 1:
        flags.append("worker_restarted")
    return flags


def _write_outputs(out: Path, result: GradingResult, report: dict, student_output: Path, config: Config, kept: Path | None = None) -> None:
    """Write every exporter's files into a new folder, then swap it in for ``out``."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".grading-", dir=out.parent))
    (staging / OUTPUT_MARKER).write_text("Written by python -m grader; replaced on every run.\n")
    env = outputs.ExportEnv(os.environ, report, _read_tail(student_output, config.grading.output_limit_kb * 1024), config.gradescope)
    # A quick self-check is never published: the publishing exporters are skipped.
    for name, content in outputs.files(result, env).items():
        if isinstance(content, bytes):
            (staging / name).write_bytes(content)
        else:
            (staging / name).write_text(content, encoding="utf-8")
    if kept is not None:
        shutil.copytree(kept, staging / observations.FOLDER)
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)


def _read_tail(source: Path, limit: int) -> bytes:
    """The start and the end of what the student printed, within ``limit`` bytes.

    The file lies where the student's code can write: a link or a FIFO put in
    its place is not followed (nothing outside the sandbox is copied out).
    """
    handle = open_regular(source)
    if handle is None:
        return b""
    size = os.fstat(handle.fileno()).st_size
    with handle:
        if size <= limit:
            return handle.read()
        head = handle.read(limit // 2)
        handle.seek(size - limit // 2)
        tail = handle.read()
    return head + f"\n[... {size - limit} bytes omitted ...]\n".encode() + tail
