"""The judge: a grade from observations, with neither Keras nor the sandbox.

``judge(observations, config, lang)`` runs every check (grader/checks) on
what the observer recorded (``grader.observations``): the step outcomes and
facts, the checkpoint it kept, the student's text files. Only the judging
settings of the config matter here (points, partial credit, rubric,
thresholds: ``grader.config.observation_settings`` lists the others), so a
change of points or rubric regrades a class from its stored observations
(``batch --rejudge``) in seconds, without running student code again.

The checks run with pytest and pytest-json-report in this process, with
nothing on ``sys.path`` that the submission could have written.
"""

from __future__ import annotations

import json
import os
import site
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import pytest_jsonreport.plugin  # noqa: F401 - loaded before any student code runs

from grader import data
from grader.checks import causes
from grader.checks.context import GradingContext
from grader.checks.plugin import GradingPlugin
from grader.config import Config
from grader.observations import Observations
from grader.results import GradingResult
from grader.scoring import result_from_outcomes

CHECKS_DIR = Path(__file__).resolve().parent / "checks"


def judge(observations: Observations, config: Config, lang: str, test_set: tuple[np.ndarray, np.ndarray] | None = None) -> GradingResult:
    """The grade ``observations`` earn under ``config``'s judging settings, in ``lang``."""
    with tempfile.TemporaryDirectory(prefix="grader-judge-") as workdir:
        return judge_report(observations, config, lang, test_set, Path(workdir))[0]


def judging_config(observations: Observations, config: Config) -> Config:
    """``config`` as the observation was judged: a quick observation keeps the quick bar."""
    if observations.mode != "quick":
        return config
    return replace(config, grading=replace(config.grading, train_subset=config.quick.train_subset, min_accuracy=config.quick.min_accuracy))


def judge_report(
    observations: Observations, config: Config, lang: str, test_set: tuple[np.ndarray, np.ndarray] | None, workdir: Path
) -> tuple[GradingResult, dict]:
    """``judge``, and the raw report.json of the checks (written in ``workdir``)."""
    if test_set is None:
        (_, _), test_set = data.read_npz(data.dataset_file())
    config = judging_config(observations, config)
    x_test, y_test = test_set
    plugin = GradingPlugin(GradingContext(config, observations.run, x_test, y_test, observations.submission))
    report = _run_checks(plugin, workdir)
    metrics = {"test_accuracy": None, **observations.metrics}
    result = result_from_outcomes(plugin.outcomes, config, lang, metrics, list(observations.flags))
    result.isolation = observations.run.isolation
    result.flag_details = _flag_details(observations.run, result.flags)
    if observations.mode == "quick":
        result.mode = "quick"
        metrics["train_subset"] = config.grading.train_subset
    return result, report


def _flag_details(run, flags: list[str]) -> dict[str, dict]:
    """The cause of a flag, where one was observed: why the plain import failed."""
    details = {}
    plain = run.outcomes.get("import")
    if "import_salvaged" in flags and plain is not None and plain.error:
        details["import_salvaged"] = {"cause": causes.error_cause(plain.error, plain.status)}
    return details


def _run_checks(plugin: GradingPlugin, workdir: Path) -> dict:
    """Run every check with ``plugin`` (which collects their outcomes); the raw report.json."""
    report_path = workdir / "report.json"
    # Only the grader's own checks and plugins: no ini file, conftest.py or
    # installed plugin from around the submission (which it may have written).
    args = [
        str(CHECKS_DIR),
        "-q",
        # One line per failing check in report.json (its message): a long traceback cost ~30 ms
        # per failure to format and copied the checks' source and context into the output folder.
        "--tb=line",
        "-c",
        os.devnull,
        "--confcutdir",
        str(CHECKS_DIR),
        "--disable-plugin-autoload",
        "-p",
        "pytest_jsonreport.plugin",
        "-p",
        "no:cacheprovider",
        # Its end-of-session gc.collect() walked the whole grading process's heap (~0.2 s);
        # a check that leaves an unraisable exception behind is no part of the grade.
        "-p",
        "no:unraisableexception",
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
