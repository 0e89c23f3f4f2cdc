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

import json
import os
import shutil
import site
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import pytest_jsonreport.plugin  # noqa: F401 - loaded before any student code runs

from grader import data, fetch_data, i18n
from grader.checks import causes
from grader.checks.context import GradingContext
from grader.checks.plugin import GradingPlugin
from grader.config import Config
from grader.errors import GradingError
from grader.exporters import outputs
from grader.protect import FileGuard
from grader.results import GradingResult
from grader.sandbox import isolation
from grader.sandbox.supervisor import SandboxError, Supervisor
from grader.sandbox.untrusted import open_regular
from grader.scoring import result_from_outcomes

GRADER_DIR = Path(__file__).resolve().parent
CHECKS_DIR = GRADER_DIR / "checks"
OUTPUT_MARKER = ".grader-output"
MODULE_FILE = "mnist_dense.py"


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


def _run_checks(plugin: GradingPlugin, workdir: Path) -> dict:
    """Run every check with ``plugin`` (which collects their outcomes); the raw report.json."""
    report_path = workdir / "report.json"
    # Only the grader's own checks and plugins: no ini file, conftest.py or
    # installed plugin from around the submission (which it may have written).
    args = [
        str(CHECKS_DIR),
        "-q",
        "-c",
        os.devnull,
        "--confcutdir",
        str(CHECKS_DIR),
        "--disable-plugin-autoload",
        "-p",
        "pytest_jsonreport.plugin",
        "-p",
        "no:cacheprovider",
        "-o",
        "python_files=check_*.py",
        "-o",
        "addopts=",
        "--rootdir",
        str(CHECKS_DIR),
        "--import-mode=importlib",  # no rootdir inserted into sys.path
        "--json-report",
        f"--json-report-file={report_path}",
        "--json-report-omit=collectors",
    ]
    with open(os.devnull, "w") as devnull:
        stdout = sys.stdout
        sys.stdout = devnull
        try:
            with _installed_paths_only():
                pytest.main(args, plugins=[plugin])
        finally:
            sys.stdout = stdout
    return json.loads(report_path.read_text())


def _trusted_roots() -> list[Path]:
    """Where the Python installation keeps modules: the only import folders of the checks."""
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    roots = {Path(sysconfig.get_paths()[name]).resolve() for name in names}
    user = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user:
        roots.add(Path(user).resolve())
    return sorted(roots)


def judge_path(path: list[str]) -> list[str]:
    """``path`` without the working folder, PYTHONPATH or any folder outside the installation.

    The grader package is already imported; its modules load through the
    package, never through ``sys.path``. A module a submission wrote into the
    repository root (``difflib.py``) is then never imported by the checks.
    """
    roots = _trusted_roots()
    kept = []
    for entry in path:
        if not entry:
            continue
        resolved = Path(entry).resolve()
        if any(resolved.is_relative_to(root) for root in roots) or (resolved.suffix == ".zip" and resolved.is_relative_to(Path(sys.base_prefix).resolve())):
            kept.append(entry)
    return kept


@contextmanager
def _installed_paths_only() -> Iterator[None]:
    saved = list(sys.path)
    sys.path[:] = judge_path(sys.path)
    sys.path_importer_cache.clear()
    try:
        yield
    finally:
        sys.path[:] = saved


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
        supervisor = Supervisor(
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
        plugin = GradingPlugin(GradingContext(config, run, x_test, y_test, request.submission))
        report = _run_checks(plugin, workdir)

        flags = _flags(run, modified)
        metrics: dict = dict(
            test_accuracy=None,
            peak_memory_mb=run.peak_memory_mb,
            train_seconds=round(run.outcomes["train_model"].seconds, 1) if "train_model" in run.outcomes else None,
            grading_seconds=round(time.monotonic() - started, 1),
            workers=run.workers,
            memory_wall=run.memory_wall,
        )
        if modified:
            metrics["modified_files"] = [os.path.relpath(p, GRADER_DIR.parent) for p in modified]
        result = result_from_outcomes(plugin.outcomes, config, lang, metrics, flags)
        result.isolation = run.isolation
        result.flag_details = _flag_details(run, flags)
        if request.quick:
            result.mode = "quick"
            metrics["train_subset"] = config.grading.train_subset
        _write_outputs(request.out, result, report, run.output_file, config)
        _remove_sandbox(workdir / "sandbox")
    return result


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


def _flag_details(run, flags: list[str]) -> dict[str, dict]:
    """The cause of a flag, where one was observed: why the plain import failed."""
    details = {}
    plain = run.outcomes.get("import")
    if "import_salvaged" in flags and plain is not None and plain.error:
        details["import_salvaged"] = {"cause": causes.error_cause(plain.error, plain.status)}
    return details


def _write_outputs(out: Path, result: GradingResult, report: dict, student_output: Path, config: Config) -> None:
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
