"""Classroom 50 autograder for the MNIST fully connected network assignment.

Shipped verbatim in the bundle that ``python -m grader bundle OUT`` writes to
``OUT/<slug>/``; Classroom 50's runner runs it as ``python3 autograder.py``
with the student's checkout as working directory and no arguments.

0. makes sure the student's code can be isolated (``plan_isolation``):
   running as a user other than root (the hosted runner's ``runner``), where
   ``/proc/sys/kernel/apparmor_restrict_unprivileged_userns`` is 1 (Ubuntu
   24.04; actions/runner-images#10443) it lifts it with ``sudo -n sysctl -w
   kernel.apparmor_restrict_unprivileged_userns=0`` and says so in the log,
   so that bubblewrap (``"apt": ["bubblewrap"]`` in the runtime block) gives
   the ``namespaces`` level; without namespaces, as root (a container or a
   self-hosted runner run as root) it falls back to the ``user`` level (the
   worker runs as another uid) and logs it; when neither is possible it ends
   with ``status=error`` and one sentence saying what the instructor must set;
1. picks an interpreter the pinned TensorFlow supports (this one, or
   ``python3.11``, ``python3.12`` or ``python3.13`` on PATH) and makes a virtual environment
   under ``$RUNNER_TEMP`` with the bundle's own ``requirements.txt``;
2. runs the bundle's own copy of the grader (``PYTHONPATH`` = this folder,
   working directory = an empty temporary folder, so a ``grader/`` package
   in the student's repository is never imported) on
   ``<checkout>/assignment``;
3. copies its ``result.json`` and ``release-body.md`` into the checkout.

It always exits 0. When grading cannot finish it writes a ``result.json``
that the runner accepts (score 0, one failed test named by the ``title``
message, worth the assignment's points) and a ``release-body.md`` saying what
happened. Two kinds of failure are told apart, as the runner's contract asks
(foundation50/classroom50 ``runner.py``: ``finalize_result`` keeps a
``status=`` the autograder wrote to ``$GITHUB_OUTPUT``; the workflow
``autograde-runner.yaml`` publishes no Release when it is ``error``):

* the student's doing (no ``assignment/mnist_dense.py``): the 0-point result
  stands; the runner derives ``status=failure`` and publishes it;
* an infrastructure failure (the Python version, the virtual environment,
  pip, the time budget, the grader exiting without a result, a crash of this
  script): ``status=error`` and a one-line ``summary=`` (at most 140
  characters, GitHub's limit for a commit status) go to ``$GITHUB_OUTPUT``
  when it is set, so no Release moves and nothing enters the gradebook; the
  diagnostic ``result.json`` and ``release-body.md`` stay in the checkout
  (the runner mirrors the body to the run's Summary page).

Standard library only; it must run on whatever ``python3`` the runner has.

Environment it reads besides the runner's (``CLASSROOM``, ``ASSIGNMENT``,
``SUBMISSION_TAG``, ``COMMIT_URL``, ``RELEASE_URL``, ``REVIEW_URL``, ``GITHUB_*``):

``CLASSROOM50_SKIP_INSTALL=1``
    use this interpreter as it is, without a virtual environment or pip
    (for tests and for images that already have the requirements);
``CLASSROOM50_TIME_BUDGET``
    seconds this script may use in all (default: ``time_budget`` of
    ``bundle.json``, else 780, leaving room in the grade job's 15 minutes for
    the runner's own steps);
``CLASSROOM50_VENV``
    where to make the virtual environment (default
    ``$RUNNER_TEMP/mnist-grader-venv``);
``CLASSROOM50_APPARMOR_FILE``
    the file read for the AppArmor key (default
    ``/proc/sys/kernel/apparmor_restrict_unprivileged_userns``; the tests
    point it at a file of their own).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.dont_write_bytecode = True

HERE = Path(__file__).resolve().parent
if (HERE / "grader").is_dir() and str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # the bundle's grader/ copy, even under PYTHONSAFEPATH

from grader.platforms import bounded_run  # noqa: E402 - standard library only, from the bundle's grader/

DATA_FILE = HERE / "autograder_data.json"
SETTINGS_FILE = HERE / "bundle.json"
REQUIREMENTS = HERE / "requirements.txt"
CONFIG_FILE = HERE / "grader" / "config.toml"
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))
RESULT = "result.json"
RELEASE_BODY = "release-body.md"
SUBMISSION_DIR = "assignment"
DEFAULT_BUDGET = 780.0
RESERVE_SECONDS = 20.0
LOG_TAIL_CHARS = 3000
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")
# GitHub rejects a commit status description longer than this.
STATUS_SUMMARY_LIMIT = 140
# The weakest isolation this road grades at: "user" (the worker runs as
# another uid; grader/sandbox/isolation.py) when namespaces are unavailable.
REQUIRED_LEVEL = "user"
APPARMOR_KEY = "kernel.apparmor_restrict_unprivileged_userns"
APPARMOR_FILE_ENV = "CLASSROOM50_APPARMOR_FILE"
# The namespaces the grader's own probe asks bubblewrap for (isolation.NAMESPACES).
BWRAP_PROBE = (
    "--die-with-parent",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-net",
    "--unshare-uts",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "true",
)


def load_data() -> dict:
    """autograder_data.json ({} when unreadable: text() then names the key)."""
    try:
        return json.loads(DATA_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# Messages and the result schema's facts, generated from grader/messages and
# grader/schemas (autograder_data.py); the bundle writes its own fresh copy.
DATA = load_data()
MESSAGES: dict[str, dict[str, str]] = DATA.get("messages") or {}
SCHEMA_FACTS: dict = DATA.get("schema") or {}
SCHEMA = str(SCHEMA_FACTS.get("id") or "classroom50/result/v1")
SUBMISSION_PREFIX = str(SCHEMA_FACTS.get("submission_prefix") or "submit/")
ASSIGNMENT_TYPES = tuple(SCHEMA_FACTS.get("assignment_types") or ("individual", "group"))


class GradingFailed(Exception):
    """Grading could not finish; ``reason`` is for the student, ``details`` for the log.

    ``infrastructure`` is False only when the student's repository is the
    cause (then the 0-point result is their grade).
    """

    def __init__(self, reason: str, details: str = "", infrastructure: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details
        self.infrastructure = infrastructure


def log(message: str) -> None:
    print(f"[autograder] {message}", flush=True)


def settings() -> dict:
    try:
        return json.loads(SETTINGS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def language() -> str:
    lang = str(settings().get("lang") or "es")
    return lang if lang in MESSAGES else "es"


def text(key: str, **params: object) -> str:
    template = MESSAGES.get(language(), {}).get(key)
    return template.format(**params) if template is not None else f"{key} {params}"


def tail(path: Path, limit: int = LOG_TAIL_CHARS) -> str:
    try:
        data = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return data if len(data) <= limit else "[...]\n" + data[-limit:]


def budget() -> float:
    return bounded_run.budget((os.environ.get("CLASSROOM50_TIME_BUDGET"), settings().get("time_budget")), DEFAULT_BUDGET)


def become_subreaper() -> None:
    """Orphans of our children (a student's daemons) come back to this process;
    and this process is not dumpable: a process of the same user cannot read
    its /proc files (its environment holds the runner's GITHUB_* file paths)
    nor ptrace it."""
    bounded_run.become_subreaper(dumpable=False)


def print_guarded(text: str) -> None:
    """Print text that may quote the student's code, with workflow commands off."""
    token = secrets.token_hex(16)
    print(f"::stop-commands::{token}\n{text}\n::{token}::", flush=True)


def run_logged(command: list[str], log_file: Path, deadline: bounded_run.Deadline, **kwargs) -> int:
    """Run ``command`` with its output in ``log_file``; GradingFailed on timeout.

    Whatever the command leaves running (or still runs at the timeout) is
    killed, so no student process outlives this step.
    """
    code = bounded_run.run_bounded(command, log_file, deadline.left(), **kwargs)
    if code is None:
        raise GradingFailed(text("timeout", seconds=deadline.total), tail(log_file))
    return code


# -- the interpreter and its dependencies --------------------------------------
def python_version(executable: str) -> tuple[int, int] | None:
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        major, minor = done.stdout.split()
        return int(major), int(minor)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def base_python() -> str:
    if sys.version_info[:2] in SUPPORTED_PYTHONS:
        return sys.executable
    for major, minor in SUPPORTED_PYTHONS:
        found = shutil.which(f"python{major}.{minor}")
        if found and python_version(found) == (major, minor):
            return found
    raise GradingFailed(text("python", found=".".join(map(str, sys.version_info[:3]))))


def requirements_digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def install(deadline: bounded_run.Deadline, work: Path) -> str:
    """The interpreter that has the requirements: this one, or a fresh venv's."""
    if os.environ.get("CLASSROOM50_SKIP_INSTALL", "").strip() not in ("", "0"):
        log("CLASSROOM50_SKIP_INSTALL is set: using this interpreter as it is")
        return sys.executable
    base = base_python()
    root = os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()
    venv = Path(os.environ.get("CLASSROOM50_VENV") or Path(root) / "mnist-grader-venv")
    marker = venv / ".requirements-sha256"
    python = venv_python(venv)
    digest = requirements_digest()
    if python.exists() and marker.is_file() and marker.read_text().strip() == digest:
        log(f"reusing the virtual environment {venv}")
        return str(python)
    pip_log = work / "pip.log"
    log(f"creating a virtual environment in {venv} with {base}")
    shutil.rmtree(venv, ignore_errors=True)
    if run_logged([base, "-m", "venv", str(venv)], pip_log, deadline) != 0 or not python.exists():
        reason = text("venv")
        if base != sys.executable:  # a system Python found on PATH, often without venv support
            reason += " " + text("python", found=".".join(map(str, sys.version_info[:3])))
        raise GradingFailed(reason, tail(pip_log))
    log("installing requirements.txt (about 2-3 minutes: TensorFlow is large)")
    started = time.monotonic()
    command = [
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "-r",
        str(REQUIREMENTS),
    ]
    if run_logged(command, pip_log, deadline) != 0:
        raise GradingFailed(text("pip"), tail(pip_log))
    marker.write_text(digest + "\n")
    log(f"dependencies installed in {time.monotonic() - started:.0f} s")
    return str(python)


# -- isolation -----------------------------------------------------------------
def apparmor_file() -> Path:
    return Path(os.environ.get(APPARMOR_FILE_ENV) or "/proc/sys/" + APPARMOR_KEY.replace(".", "/"))


def read_key(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None


def lift_apparmor() -> str:
    """``absent`` (no such key), ``off``, ``lifted`` (set to 0 with sudo) or ``blocked``."""
    path = apparmor_file()
    value = read_key(path)
    if value is None:
        return "absent"
    if value != "1":
        return "off"
    command = ["sudo", "-n", "sysctl", "-w", f"{APPARMOR_KEY}=0"]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=False)
        detail = " ".join((done.stderr or done.stdout).split())[:300]
        ok = done.returncode == 0
    except (OSError, subprocess.SubprocessError) as error:
        detail, ok = f"{type(error).__name__}: {error}", False
    if ok and read_key(path) == "0":
        log(
            f"AppArmor restricted unprivileged user namespaces ({APPARMOR_KEY}=1): lifted with `{' '.join(command)}` so that bubblewrap can isolate the student's code"
        )
        return "lifted"
    log(f"AppArmor restricts unprivileged user namespaces ({APPARMOR_KEY}=1) and `{' '.join(command)}` could not lift it: {detail or 'the key is still 1'}")
    return "blocked"


def namespaces_work() -> bool:
    """Whether bubblewrap starts a process in the namespaces the grader uses."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    try:
        done = subprocess.run([bwrap, *BWRAP_PROBE], stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def plan_isolation() -> str:
    """The level the grader will get here (``namespaces`` or ``user``); GradingFailed with the instructor's sentence otherwise.

    Root needs no lift (AppArmor's key restricts unprivileged users only).
    """
    root = is_root()
    state = "absent" if root else lift_apparmor()
    if state != "blocked" and namespaces_work():
        log("isolation: bubblewrap namespaces are available (level namespaces)")
        return "namespaces"
    if root:
        if shutil.which("setpriv") is None:
            raise GradingFailed(text("isolation_setpriv"))
        log(
            f"isolation: no bubblewrap namespaces here; running as root, the grader falls back to level {REQUIRED_LEVEL} (the student's code runs as another uid)"
        )
        return REQUIRED_LEVEL
    if state == "blocked":
        raise GradingFailed(text("isolation_apparmor"))
    if shutil.which("bwrap") is None:
        raise GradingFailed(text("isolation_bwrap"))
    raise GradingFailed(text("isolation_user"))


# -- grading -------------------------------------------------------------------
def check_submission(checkout: Path) -> None:
    """The one failure that is the student's: the module to grade is missing."""
    module = checkout / SUBMISSION_DIR / "mnist_dense.py"
    if not module.is_file():
        raise GradingFailed(text("no_module"), infrastructure=False)


def grade(python: str, checkout: Path, work: Path, deadline: bounded_run.Deadline) -> Path:
    """Run the bundle's grader; return the folder it wrote."""
    out = work / "grading"
    grader_log = work / "grader.log"
    # The grader needs no credentials: keep tokens out of its environment
    # (its sandbox passes the student's code even less).
    env = {k: v for k, v in os.environ.items() if not any(word in k.upper() for word in SECRET_WORDS)}
    env.update(PYTHONPATH=str(HERE), PYTHONDONTWRITEBYTECODE="1", PYTHONSAFEPATH="1")
    env.pop("PYTHONHOME", None)
    command = [
        python,
        "-m",
        "grader",
        "--submission",
        str(checkout / SUBMISSION_DIR),
        "--out",
        str(out),
        "--lang",
        language(),
        "--quiet",
        # The strongest level the machine offers, never below "user": exit 2 without it.
        "--require-isolation",
        REQUIRED_LEVEL,
    ]
    scratch = work / "cwd"
    scratch.mkdir()
    log("grading " + str(checkout / SUBMISSION_DIR))
    # Nothing printed while the student's code runs may act as a workflow command.
    token = secrets.token_hex(16)
    print(f"::stop-commands::{token}", flush=True)
    try:
        started = time.monotonic()
        code = run_logged(command, grader_log, deadline, cwd=scratch, env=env)
    finally:
        print(f"::{token}::", flush=True)
    log(f"grader finished with code {code} in {time.monotonic() - started:.0f} s")
    if code != 0:
        raise GradingFailed(text("grader", code=code), tail(grader_log))
    return out


def validate_result(document: object) -> None:
    """The runner's own checks, so that a bad result becomes our error result."""
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ValueError("schema is not " + SCHEMA)
    missing = [key for key in SCHEMA_FACTS.get("required", ()) if key not in document]
    if missing:
        raise ValueError("missing " + ", ".join(missing))
    for key in ("classroom", "assignment"):
        expected = os.environ.get(key.upper())
        if expected and document.get(key) != expected:
            raise ValueError(f"{key} is {document.get(key)!r}, not {expected!r}")
    prefix = SUBMISSION_PREFIX
    if not str(document.get("submission", "")).startswith(prefix):
        raise ValueError("submission does not start with " + prefix)
    if ASSIGNMENT_TYPES and document.get("assignment_type") not in ASSIGNMENT_TYPES:
        raise ValueError(f"assignment_type is not one of {', '.join(ASSIGNMENT_TYPES)}")
    for key in ("commit", "release", "review"):
        if not document.get(key):
            raise ValueError(f"{key} is empty")
    numbers = [document.get("score"), document.get("max-score")]
    for test in document.get("tests") or []:
        numbers += [test.get("score"), test.get("max-score")]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
        raise ValueError("a score is not a non-negative integer")
    if document["score"] > document["max-score"]:
        raise ValueError("score above max-score")


def graded_level(out: Path) -> str:
    """The level the grading ran at, as its score.json records it ("" when unreadable)."""
    try:
        return str(json.loads((out / "score.json").read_text(encoding="utf-8")).get("isolation") or "")
    except (OSError, ValueError, AttributeError):
        return ""


def deliver(out: Path, checkout: Path) -> dict:
    source = out / RESULT
    if not source.is_file():
        raise GradingFailed(text("no_result", name=RESULT))
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
        validate_result(document)
    except ValueError as error:
        raise GradingFailed(text("invalid", name=RESULT, reason=error)) from None
    write_new(checkout / RESULT, source.read_bytes())
    body = out / RELEASE_BODY
    if body.is_file():
        write_new(checkout / RELEASE_BODY, body.read_bytes())
    return document


def remove_entry(path: Path) -> None:
    """Remove whatever the checkout holds at ``path``: a file, a link (not its target), a folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
        return
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` as a new file at ``path`` in the student's checkout.

    Whatever the student committed under that name (a link to a file of the
    runner, a FIFO) is removed first, never written through.
    """
    remove_entry(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    with os.fdopen(os.open(path, flags, 0o644), "wb") as handle:
        handle.write(data)


# -- the error result ----------------------------------------------------------
def total_points() -> int:
    """The assignment's points, from the bundle's config (100 if unreadable)."""
    try:
        import tomllib

        with open(CONFIG_FILE, "rb") as handle:
            points = tomllib.load(handle).get("points", {})
        total = sum(int(value) for value in points.values())
        return total if total > 0 else 100
    except Exception:  # noqa: BLE001 - any failure here falls back to 100
        return 100


def env(key: str) -> str:
    return (os.environ.get(key) or "").strip()


def error_result(reason: str) -> dict:
    """A result.json the runner accepts: 0 of the assignment's points, one failed test."""
    max_score = total_points()
    sha = env("GITHUB_SHA")
    server = (env("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    repository = env("GITHUB_REPOSITORY")
    submission = env("SUBMISSION_TAG")
    if not submission.startswith(SUBMISSION_PREFIX):
        submission = f"{SUBMISSION_PREFIX}local-{sha[:7]}" if sha else f"{SUBMISSION_PREFIX}local"
    commit = env("COMMIT_URL") or (f"{server}/{repository}/commit/{sha}" if repository and sha else sha or "local")
    release = env("RELEASE_URL") or (f"{server}/{repository}/releases" if repository else "local")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: UP017 - any Python 3
    mode = (env("ASSIGNMENT_TYPE") or env("MODE")).lower()
    return {
        "schema": SCHEMA,
        "classroom": env("CLASSROOM") or "local",
        "assignment": env("ASSIGNMENT") or str(settings().get("slug") or "mnist-dense"),
        "assignment_type": mode if mode in ASSIGNMENT_TYPES else ASSIGNMENT_TYPES[0],
        "owner": env("OWNER") or env("USERNAME") or env("GITHUB_ACTOR") or "unknown",
        "submission": submission,
        "commit": commit,
        "release": release,
        "review": env("REVIEW_URL") or commit,
        "datetime": now,
        "graded_at": now,
        "score": 0,
        "max-score": max_score,
        "tests": [
            {
                "test-name": text("title"),
                "passed": False,
                "score": 0,
                "max-score": max_score,
                "id": "autograder_error",
                "message": reason,
            }
        ],
    }


def error_body(reason: str, details: str, max_score: int) -> str:
    lines = [text("heading", max_score=max_score), "", text("intro"), "", f"> {reason}", "", text("retry"), ""]
    if details.strip():
        fence = "````"
        lines += [
            "<details>",
            f"<summary>{text('details')}</summary>",
            "",
            fence + "text",
            details.strip().replace(fence, "'''"),
            fence,
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)


def write_error(checkout: Path, reason: str, details: str) -> None:
    document = error_result(reason)
    write_new(checkout / RESULT, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    write_new(checkout / RELEASE_BODY, error_body(reason, details, document["max-score"]).encode("utf-8"))


def status_summary(reason: str) -> str:
    """One line of at most STATUS_SUMMARY_LIMIT characters for the commit status."""
    line = " ".join(text("summary", reason=reason).split())
    if len(line) > STATUS_SUMMARY_LIMIT:
        line = line[: STATUS_SUMMARY_LIMIT - 1].rstrip() + "…"
    return line


def report_infrastructure_error(reason: str) -> None:
    """``status=error`` for the runner: no Release, no gradebook entry."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"status=error\nsummary={status_summary(reason)}\n")


# -- entry ---------------------------------------------------------------------
def main() -> int:
    checkout = Path.cwd()
    for name in (RESULT, RELEASE_BODY):
        remove_entry(checkout / name)
    become_subreaper()
    deadline = bounded_run.Deadline(budget(), RESERVE_SECONDS)
    work = Path(tempfile.mkdtemp(prefix="mnist-autograder-"))
    try:
        check_submission(checkout)
        expected = plan_isolation()
        python = install(deadline, work)
        out = grade(python, checkout, work, deadline)
        document = deliver(out, checkout)
        log(f"graded: {document['score']}/{document['max-score']} at isolation level {graded_level(out) or expected}")
    except GradingFailed as failure:
        log("could not grade: " + failure.reason)
        if failure.details:
            print_guarded(failure.details)
        write_error(checkout, failure.reason, failure.details)
        if failure.infrastructure:
            report_infrastructure_error(failure.reason)
    except BaseException as error:  # noqa: BLE001 - the runner must always get a result
        details = traceback.format_exc()
        print(details, flush=True)
        reason = text("crash", error=f"{type(error).__name__}: {error}")
        write_error(checkout, reason, details)
        report_infrastructure_error(reason)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        code = main()
    except BaseException:  # noqa: BLE001 - even the error path failed: still exit 0
        traceback.print_exc()
        code = 0
    sys.exit(code)
