"""One Gradescope submission: ``run_autograder`` runs ``python -m grader.platforms.gradescope.runner``.

Gradescope's harness (gradescope/autograder_samples, docs/specs.md) unpacks
the zip into ``/autograder/source``, puts the student's files in
``/autograder/submission`` (a whole repository from GitHub or Bitbucket, or
the files uploaded alone, possibly inside one folder), runs
``/autograder/run_autograder`` in ``/autograder`` and uploads
``/autograder/results/results.json``.

1. find ``mnist_dense.py`` in the submission: ``assignment/`` of a
   repository, else the top folder, else the shallowest copy below it;
2. copy only the files a student edits (``grader.instructor.files``) into a
   fresh ``assignment/`` folder, taking an answer from ``answers/qN.md`` or
   from ``qN.md`` beside the module when the files came alone;
3. run this zip's own grader on it (``python -m grader``, working directory an
   empty folder, within the time budget) and copy its ``gradescope.json``
   (the one Gradescope exporter, ``exporter.py`` of this folder) to
   ``results.json``.

Before anything else ``results.json`` is written as a placeholder: 0 points
and one failed test saying grading was interrupted. The honest document
replaces it at the end in one ``os.replace`` of a file written beside it, so
a kill at any moment (the time limit, a crash, a submission that signals this
process) leaves either the placeholder or the honest grade, never a file the
submission wrote: the student's code runs at least at the ``user`` isolation
level (a different, unprivileged uid that can neither write
``/autograder/results`` nor signal or read this process), and at
``namespaces`` where the container lets bubblewrap make them (setup.sh
installs it). The level is recorded in ``extra_data.isolation``.

Whatever fails, ``results.json`` is written: 0 points and one failed test
whose message (from the catalogue, ``gradescope.*``) says why, through the
same exporter. ``GRADESCOPE_AUTOGRADER_ROOT`` replaces ``/autograder``;
``GRADESCOPE_TIME_BUDGET`` replaces the budget of ``autograder.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from grader import i18n, spec
from grader.config import ConfigError, load_config
from grader.exporters import outputs
from grader.instructor import files as repo_files
from grader.platforms import bounded_run
from grader.platforms.gradescope import exporter as gradescope
from grader.results import CheckResult, GradingResult
from grader.sandbox import isolation

ROOT_ENV = "GRADESCOPE_AUTOGRADER_ROOT"
BUDGET_ENV = "GRADESCOPE_TIME_BUDGET"
DEFAULT_ROOT = "/autograder"
SOURCE = Path(__file__).resolve().parents[3]
SETTINGS = SOURCE / "autograder.json"
CONFIG = SOURCE / "grader" / "config.toml"
MODULE = spec.MODULE_FILE
STUDENT_FOLDER = "assignment/"
DEFAULT_BUDGET = 1200.0
LOG_TAIL = 4000
ERROR_ID = "autograder_error"
FALLBACK_MAX_SCORE = 100
# Gradescope runs run_autograder as root in a container: never grade below
# "user" (the worker as another uid); "namespaces" where bubblewrap works.
REQUIRED_LEVEL = "user"


class NotGraded(Exception):
    """The submission could not be graded; ``key`` and ``params`` render the reason."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def setting(name: str, env_var: str = "") -> object:
    """``env_var`` when set, else ``name`` in autograder.json (None when absent)."""
    if env_var and os.environ.get(env_var):
        return os.environ[env_var]
    try:
        return json.loads(SETTINGS.read_text(encoding="utf-8")).get(name)
    except (OSError, ValueError, AttributeError):
        return None


def language() -> str:
    lang = setting("lang")
    return lang if lang in i18n.LANGUAGES else "es"


def budget() -> float:
    return bounded_run.budget((setting("time_budget", BUDGET_ENV),), DEFAULT_BUDGET)


# -- the student's files ------------------------------------------------------------
def find_module_folder(submission: Path) -> Path:
    """The folder holding the student's mnist_dense.py."""
    for folder in (submission / "assignment", submission):
        if repo_files.read_plain(folder / MODULE) is not None:
            return folder
    found = sorted(
        (p for p in submission.rglob(MODULE) if not p.is_symlink() and p.is_file()),
        key=lambda p: (len(p.relative_to(submission).parts), str(p)),
    )
    if not found:
        raise NotGraded("gradescope.no_module")
    return found[0].parent


def student_files() -> list[str]:
    """Paths under assignment/ the grader reads from a student (module, answers, sheet, results)."""
    paths = repo_files.student_files()
    try:
        paths += repo_files.optional_student_files(load_config(CONFIG))
    except (OSError, ValueError, ConfigError):
        paths.append(STUDENT_FOLDER + repo_files.DEFAULT_RESULTS_TABLE)  # the grader reports the config
    return [p.removeprefix(STUDENT_FOLDER) for p in paths if p.startswith(STUDENT_FOLDER)]


def copy_student_files(folder: Path, target: Path) -> None:
    """Plain files only; an answer may also sit beside the module (files uploaded alone)."""
    target.mkdir(parents=True)
    for rel in student_files():
        content = repo_files.read_plain(folder / rel)
        if content is None and "/" in rel:
            content = repo_files.read_plain(folder / rel.rsplit("/", 1)[1])
        if content is not None:
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_bytes(content)


# -- grading ------------------------------------------------------------------------
def grade(submission: Path, work: Path, lang: str, seconds: float) -> dict:
    """Grade ``submission`` with this zip's grader; the results.json document."""
    out, scratch, log = work / "grading", work / "cwd", work / "grader.log"
    scratch.mkdir()
    command = [sys.executable, "-m", "grader", "--submission", str(submission), "--out", str(out), "--lang", lang, "--quiet"]
    command += ["--require-isolation", REQUIRED_LEVEL]
    env = dict(os.environ, PYTHONPATH=str(SOURCE), PYTHONDONTWRITEBYTECODE="1", PYTHONSAFEPATH="1")
    bounded_run.become_subreaper()  # a student's orphaned processes come back here, to be killed
    code = bounded_run.run_bounded(command, log, seconds, cwd=scratch, env=env, start_new_session=True)
    if code is None:
        raise NotGraded("gradescope.timeout", seconds=f"{seconds:.0f}")
    text = log.read_text(encoding="utf-8", errors="replace")
    print(text[-LOG_TAIL:], flush=True)  # stdout is for the instructor only
    exported = out / outputs.GRADESCOPE_JSON
    if code != 0 or not exported.is_file():
        reason = (text.strip().splitlines() or ["-"])[-1][:500]
        raise NotGraded("gradescope.grader_failed", code=code, reason=reason)
    document = json.loads(exported.read_text(encoding="utf-8"))
    level = graded_level(out)
    if level not in isolation.LEVELS or isolation.rank(level) < isolation.rank(REQUIRED_LEVEL):
        raise NotGraded("gradescope.isolation", level=level or "?", required=REQUIRED_LEVEL)
    document.setdefault("extra_data", {})["isolation"] = level
    return document


def graded_level(out: Path) -> str:
    """The level the grading ran at, as its score.json records it."""
    try:
        return str(json.loads((out / "score.json").read_text(encoding="utf-8")).get("isolation") or "")
    except (OSError, ValueError, AttributeError):
        return ""


def check_isolation() -> str:
    """The level this machine gives the student's code; NotGraded below REQUIRED_LEVEL."""
    try:
        return isolation.choose(REQUIRED_LEVEL).level
    except isolation.IsolationError as error:
        raise NotGraded("gradescope.isolation", level=str(error), required=REQUIRED_LEVEL) from None


def max_score() -> int:
    try:
        return load_config(CONFIG).max_score
    except (OSError, ValueError, ConfigError):  # a broken config still gets a results.json
        return FALLBACK_MAX_SCORE


def error_document(lang: str, key: str, params: dict) -> dict:
    """0 points and one failed test saying why, through the Gradescope exporter."""
    total = max_score()
    check = CheckResult(
        ERROR_ID,
        i18n.render(lang, "gradescope.error_title"),
        0,
        total,
        False,
        i18n.render(lang, key, **params),
        key,
        dict(params),
    )
    return gradescope.to_gradescope(GradingResult(0, total, [check], {}, language=lang))


def write_results(path: Path, document: dict) -> None:
    """Replace ``path`` by ``document`` in one step: a new file beside it, synced, then os.replace.

    The folder is left writable by its owner only (Gradescope's root), so the
    student's code, another uid, cannot put a file there.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(os, "geteuid") and path.parent.stat().st_uid == os.geteuid():
        path.parent.chmod(0o755)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(staging, 0o644)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def main() -> int:
    root = Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
    results = root / "results" / "results.json"
    lang = language()
    # First: a placeholder that no later kill can leave forged (replaced at the end in one step).
    write_results(results, error_document(lang, "gradescope.interrupted", {}))
    work = Path(tempfile.mkdtemp(prefix="gradescope-"))
    try:
        copy_student_files(find_module_folder(root / "submission"), work / "assignment")
        print(f"run_autograder: isolation level {check_isolation()} (at least {REQUIRED_LEVEL} required)", flush=True)
        document = grade(work / "assignment", work, lang, budget())
    except NotGraded as failure:
        print(f"run_autograder: not graded ({failure.key})", flush=True)
        document = error_document(lang, failure.key, failure.params)
    except Exception as error:  # noqa: BLE001 - Gradescope must always get a results.json
        traceback.print_exc()
        document = error_document(lang, "gradescope.crash", {"error": f"{type(error).__name__}: {error}"})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(results, document)
    print(f"run_autograder: wrote {results} ({document.get('score')} points)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
