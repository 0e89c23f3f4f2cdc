"""Classroom 50 as its grade job really runs the bundle: the runtime block, apt, a non-root runner.

Classroom 50 (foundation50/classroom50) validates the assignment's
``runtime`` block in the setup job of
``cli/gh-teacher/skeleton/dotgithub/workflows/autograde-runner.yaml`` (the
same rules as ``cli/gh-teacher/internal/assignment/runtime.go``): only the keys
runs-on, container, python, node, java, go, rust and apt; ``apt`` an array of
Debian package names matching ``^[a-z0-9][a-z0-9.+-]{0,63}$``, forbidden with
``container``; and it emits ``apt`` joined by spaces. The grade job then runs,
on hosted runners only, ``sudo apt-get install -y --no-install-recommends
<apt>`` and ``python3 runner.py`` (which execs ``autograder.py``) as the
non-root ``runner`` user, who has passwordless sudo, on Ubuntu 24.04 where
``kernel.apparmor_restrict_unprivileged_userns`` is 1.

Here: the bundle README's block passes those rules and names bubblewrap; the
apt step is run with what they emit; and ``autograder.py`` runs as an
unprivileged user (created with useradd when the tests run as root) against a
fake AppArmor key file and a fake ``sudo``: the lift, the error sentence when
the key cannot be lifted, and (slow) a real grading of the reference at
``namespaces`` through a user namespace.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gradingkit import fast_config, mnist_npz

from grader import classroom50_bundle

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_RESULT = ROOT / "tests" / "golden" / "classroom50-result.json"
SOLUTIONS = ROOT / "solutions"
STUBS = ROOT / "assignment"
RUNNER_USER = "c50runner"
APPARMOR_LIFT = "-n sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"

# -- Classroom 50's runtime validation (their rules, re-stated) --------------------------------
RUNTIME_KEYS = {"runs-on", "container", "python", "node", "java", "go", "rust", "apt"}
CONTAINER_KEYS = {"image", "user"}
APT_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}$")
LANGUAGE_VERSION = re.compile(r"^[A-Za-z0-9._+-]{1,32}$")
RUNS_ON_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Rejected(ValueError):
    pass


def validate_runtime(runtime: object) -> dict[str, str]:
    """The setup job's outputs for ``runtime`` (runs-on, container, python, apt), or Rejected."""
    if not isinstance(runtime, dict):
        raise Rejected("malformed runtime block")
    extras = set(runtime) - RUNTIME_KEYS
    if extras:
        raise Rejected(f"runtime has unsupported keys: {sorted(extras)}")
    raw = runtime.get("runs-on")
    labels = [] if raw is None else [raw] if isinstance(raw, str) and raw else raw
    if not isinstance(labels, list) or (raw is not None and not labels) or len(labels) > 10:
        raise Rejected("runs-on must be a label or a non-empty array of at most 10")
    if not all(isinstance(label, str) and RUNS_ON_LABEL.match(label) for label in labels):
        raise Rejected(f"runs-on labels {labels!r}")
    apt = runtime.get("apt") or []
    python = runtime.get("python") or ""
    container = runtime.get("container")
    if container is not None:
        if not isinstance(container, dict) or set(container) - CONTAINER_KEYS or not container.get("image"):
            raise Rejected("runtime.container must be an object with image (and user)")
        if apt:
            raise Rejected("runtime.apt is not allowed when runtime.container is set")
    elif not python:
        python = "3.14"  # their default on the host path
    if python and not LANGUAGE_VERSION.match(python):
        raise Rejected(f"runtime.python {python!r}")
    if not isinstance(apt, list):
        raise Rejected("runtime.apt must be an array of strings")
    for i, package in enumerate(apt):
        if not isinstance(package, str) or not APT_PACKAGE.match(package):
            raise Rejected(f"runtime.apt[{i}] {package!r}")
    return {"runs-on": json.dumps(labels or ["ubuntu-latest"]), "python": python, "apt": " ".join(apt)}


# The grade job's apt step, with the setup job's `apt` output in place of its expression.
APT_STEP = """set -euo pipefail
sudo apt-get update -qq
sudo apt-get install -y --no-install-recommends {apt}
"""


def documented_runtime(readme: str) -> object:
    """The JSON block under "runtime` block" in the bundle README."""
    after = readme.split("`runtime` block", 1)[1]
    block = re.search(r"```json\n(.*?)```", after, re.S)
    assert block, "no runtime block in the README"
    return json.loads(block.group(1))


@pytest.fixture(scope="module")
def readme(tmp_path_factory) -> str:
    bundle = classroom50_bundle.build(tmp_path_factory.mktemp("bundle"))
    return (bundle.path / "README.md").read_text(encoding="utf-8")


def test_documented_runtime_block_passes_classroom50s_validation_and_installs_bubblewrap(readme):
    outputs = validate_runtime(documented_runtime(readme))
    assert outputs == {"runs-on": '["ubuntu-latest"]', "python": "3.11", "apt": "bubblewrap"}
    assert documented_runtime(readme) == classroom50_bundle.RUNTIME


@pytest.mark.parametrize(
    "runtime",
    [
        {"apt": "bubblewrap"},  # a string, not an array
        {"apt": ["Bubblewrap"]},  # not a Debian package name
        {"apt": ["bubblewrap; curl evil"]},
        {"container": {"image": "python:3.11"}, "apt": ["bubblewrap"]},  # the image owns its packages
        {"packages": ["bubblewrap"]},  # not a runtime key
        {"container": {"image": "python:3.11", "options": "--privileged"}},
    ],
)
def test_the_validation_rejects_what_classroom50_rejects(runtime):
    with pytest.raises(Rejected):
        validate_runtime(runtime)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="apt-get installs as root (.ci/run runs as root)")
def test_the_grade_jobs_apt_step_installs_what_the_block_names(readme, tmp_path):
    """Their step, with the emitted `apt`, under a sudo that runs the command (this user is root)."""
    apt = validate_runtime(documented_runtime(readme))["apt"]
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "sudo").write_text('#!/usr/bin/env bash\nexec "$@"\n')
    (folder / "sudo").chmod(0o755)
    script = tmp_path / "apt.sh"
    script.write_text(APT_STEP.format(apt=apt))
    env = dict(os.environ, PATH=f"{folder}{os.pathsep}{os.environ['PATH']}", DEBIAN_FRONTEND="noninteractive")
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert shutil.which("bwrap"), "the step installed no bwrap"


# -- autograder.py's isolation plan, in this process ------------------------------------------
def load_autograder(path: Path = ROOT / "grader" / "platforms" / "classroom50" / "autograder.py"):
    spec = importlib.util.spec_from_file_location("c50_autograder_runtime", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def plan(monkeypatch, tmp_path):
    """autograder.py with a fake key file; ``calls`` collects the sudo commands it ran."""
    module = load_autograder()
    key = tmp_path / "apparmor_restrict_unprivileged_userns"
    monkeypatch.setenv(module.APPARMOR_FILE_ENV, str(key))
    calls: list[list[str]] = []

    def fake_run(command, **kwargs):
        if command[0] == "sudo":
            calls.append(command)
            if module.os.environ.get("FAKE_SUDO_OK") == "1":
                key.write_text("0\n")
                return subprocess.CompletedProcess(command, 0, "", "")
            return subprocess.CompletedProcess(command, 1, "", "sudo: a password is required\n")
        raise AssertionError(f"unexpected command {command}")

    monkeypatch.setattr(module.subprocess, "run", fake_run)
    return module, key, calls


def which_with(*present: str):
    return lambda name: f"/usr/bin/{name}" if name in present else None


def test_plan_lifts_the_key_as_a_non_root_user_and_gets_namespaces(plan, monkeypatch, capsys):
    module, key, calls = plan
    key.write_text("1\n")
    monkeypatch.setenv("FAKE_SUDO_OK", "1")
    monkeypatch.setattr(module, "is_root", lambda: False)
    monkeypatch.setattr(module, "namespaces_work", lambda: key.read_text().strip() == "0")
    assert module.plan_isolation() == "namespaces"
    assert calls == [["sudo", *APPARMOR_LIFT.split()]]
    log = capsys.readouterr().out
    assert "lifted with `sudo " + APPARMOR_LIFT + "`" in log


@pytest.mark.parametrize("value", ["0", None])
def test_plan_leaves_an_absent_or_lifted_key_alone(plan, monkeypatch, value):
    module, key, calls = plan
    if value is not None:
        key.write_text(value)
    monkeypatch.setattr(module, "is_root", lambda: False)
    monkeypatch.setattr(module, "namespaces_work", lambda: True)
    assert module.plan_isolation() == "namespaces" and calls == []


def test_plan_as_root_never_lifts_and_falls_back_to_user(plan, monkeypatch, capsys):
    module, key, calls = plan
    key.write_text("1")
    monkeypatch.setattr(module, "is_root", lambda: True)
    monkeypatch.setattr(module, "namespaces_work", lambda: False)
    monkeypatch.setattr(module.shutil, "which", which_with("setpriv"))
    assert module.plan_isolation() == "user"
    assert calls == [], "root is not restricted by the key"
    assert "falls back to level user" in capsys.readouterr().out
    monkeypatch.setattr(module.shutil, "which", which_with())
    with pytest.raises(module.GradingFailed) as failed:
        module.plan_isolation()
    assert failed.value.reason == module.text("isolation_setpriv")


@pytest.mark.parametrize(
    ("key_value", "sudo_ok", "tools", "message"),
    [
        ("1", "0", ("bwrap",), "isolation_apparmor"),  # the key stays 1: no lift, no fallback (not root)
        (None, "0", (), "isolation_bwrap"),  # bubblewrap missing (self-hosted: Classroom 50 installs no apt there)
        (None, "0", ("bwrap",), "isolation_user"),  # bwrap there but no namespaces (a non-root container)
    ],
)
def test_plan_without_lift_or_fallback_names_what_the_instructor_must_set(plan, monkeypatch, key_value, sudo_ok, tools, message):
    module, key, _ = plan
    if key_value is not None:
        key.write_text(key_value)
    monkeypatch.setenv("FAKE_SUDO_OK", sudo_ok)
    monkeypatch.setattr(module, "is_root", lambda: False)
    monkeypatch.setattr(module, "namespaces_work", lambda: False)
    monkeypatch.setattr(module.shutil, "which", which_with(*tools))
    with pytest.raises(module.GradingFailed) as failed:
        module.plan_isolation()
    reason = failed.value.reason
    assert reason == module.text(message) and failed.value.infrastructure
    assert reason.count(". ") == 0 and reason.endswith("."), "one sentence"
    for lang in ("es", "en"):
        assert module.MESSAGES[lang][message].count("instructor" if lang == "en" else "profesor") == 1


# -- autograder.py as an unprivileged user, the way the runner runs it --------------------------
# Stands in for the bundle's grader (the wrapper is under test, not the grading):
# records how it was called and by whom, and leaves a valid result.
STUB_GRADER = """import json, os, pathlib, sys
args = sys.argv[1:]
out = pathlib.Path(args[args.index("--out") + 1])
out.mkdir(parents=True)
pathlib.Path(os.environ["STUB_RECORD"]).write_text(json.dumps({"argv": args, "euid": os.geteuid()}))
(out / "result.json").write_text(pathlib.Path(os.environ["STUB_GOLDEN"]).read_text())
(out / "score.json").write_text(json.dumps({"isolation": "namespaces"}))
(out / "release-body.md").write_text("### stub\\n")
"""
# A passwordless sudo as far as the AppArmor key goes: `sysctl -w KEY=0` writes the fake key file.
FAKE_SUDO = """#!/usr/bin/env bash
echo "$*" >> "$SUDO_LOG"
[ "${FAKE_SUDO_OK:-0}" = 1 ] || { echo "sudo: a password is required" >&2; exit 1; }
[ "$1 $2 $3 $4" = "-n sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" ] && echo 0 > "$CLASSROOM50_APPARMOR_FILE"
exit 0
"""
FAKE_BWRAP_OK = "#!/usr/bin/env bash\nexit 0\n"


@pytest.fixture(scope="module")
def runner_user() -> tuple[int, int]:
    """An unprivileged uid/gid: the runner's own `runner` stand-in (made with useradd as root)."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam(RUNNER_USER)
    except KeyError:
        done = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", RUNNER_USER], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        entry = pwd.getpwnam(RUNNER_USER)
    return entry.pw_uid, entry.pw_gid


@pytest.fixture
def job(runner_user):
    """A world-traversable folder owned by the runner user: bundle, checkout, key file, tools."""
    uid, gid = runner_user
    root = Path(tempfile.mkdtemp(prefix="c50-job-"))
    root.chmod(0o755)
    yield root, uid, gid
    shutil.rmtree(root, ignore_errors=True)


def prepare(root: Path, uid: int, gid: int, source: Path | None, config: Path | None = None, stub: bool = True) -> dict[str, Path]:
    bundle = classroom50_bundle.build(root / "bundles", config=config).path
    bundle.chmod(0o755)  # as runner.py leaves the bundle it downloads: readable by the runner user
    if stub:
        (bundle / "grader" / "__main__.py").write_text(STUB_GRADER)
    checkout = root / "checkout"
    checkout.mkdir()
    if source is not None:
        shutil.copytree(source, checkout / "assignment", ignore=shutil.ignore_patterns("__pycache__"))
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "sudo").write_text(FAKE_SUDO)
    paths = {"bundle": bundle, "checkout": checkout, "bin": bin_dir, "key": root / "apparmor_restrict_unprivileged_userns"}
    paths["key"].write_text("1\n")  # Ubuntu 24.04
    for name in ("runner-temp", "home"):
        (root / name).mkdir()
    for path in [root / "checkout", root / "runner-temp", root / "home", paths["key"], *checkout.rglob("*")]:
        os.chown(path, uid, gid)
    for path in bin_dir.iterdir():
        path.chmod(0o755)
    return paths


def run_as_runner(root: Path, uid: int, gid: int, paths: dict[str, Path], python: str, reach: bool = False, **extra: str) -> subprocess.CompletedProcess:
    from test_classroom50_bundle import RUNNER_ENV

    outputs, sudo_log, record = root / "github-output", root / "sudo.log", root / "stub.json"
    for path in (outputs, sudo_log, record):
        path.write_text("")
        os.chown(path, uid, gid)
    env = {
        "PATH": f"{paths['bin']}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(root / "home"),
        "RUNNER_TEMP": str(root / "runner-temp"),
        "GITHUB_OUTPUT": str(outputs),
        "CLASSROOM50_SKIP_INSTALL": "1",
        "CLASSROOM50_APPARMOR_FILE": str(paths["key"]),
        "SUDO_LOG": str(sudo_log),
        "STUB_RECORD": str(record),
        "STUB_GOLDEN": str(GOLDEN_RESULT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        **RUNNER_ENV,
        **extra,
    }
    switch = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"] if os.geteuid() == 0 else []
    command = [*switch, python, str(paths["bundle"] / "autograder.py")]
    return subprocess.run(
        python_reachable(command) if reach else command,
        cwd=paths["checkout"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        check=False,
    )


# This interpreter may live under /root (pyenv), which only root may enter. For a command run as
# another uid: a private mount namespace where /root is a tmpfs showing only .pyenv (read-only view
# of the real one); the host's /root is not touched.
PYENV_VIEW = (
    'set -e; mount --make-rprivate /; view=$(mktemp -d); mount --bind /root/.pyenv "$view"; '
    'mount -t tmpfs -o mode=0755 tmpfs /root; mkdir /root/.pyenv; mount --bind "$view" /root/.pyenv; exec "$@"'
)


def python_reachable(command: list[str]) -> list[str]:
    """``command`` (run as root, switching to another uid) with this interpreter reachable by that uid."""
    if os.geteuid() != 0 or not Path(sys.base_prefix).resolve().is_relative_to("/root") or shutil.which("unshare") is None:
        return command
    return ["unshare", "-m", "--", "sh", "-c", PYENV_VIEW, "sh", *command]


def runner_python(uid: int, gid: int, needs: str = "json") -> str | None:
    """An interpreter the runner user can run that imports ``needs`` (this one may live under /root)."""
    switch = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"] if os.geteuid() == 0 else []
    for candidate in (sys.executable, shutil.which("python3", path="/usr/bin:/usr/local/bin")):
        if not candidate:
            continue
        try:
            # It must also start itself again, as autograder.py starts the grader (sys.executable).
            probe = f"import subprocess, sys; subprocess.run([sys.executable, '-c', 'import {needs}'], check=True)"
            done = subprocess.run([*switch, candidate, "-c", probe], cwd="/", capture_output=True, timeout=120, check=False)
        except OSError:
            continue
        if done.returncode == 0:
            return candidate
    return None


def github_outputs(root: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in (root / "github-output").read_text(encoding="utf-8").splitlines() if "=" in line)


def test_as_the_runner_user_the_key_is_lifted_and_the_grader_required_at_least_user(job):
    root, uid, gid = job
    paths = prepare(root, uid, gid, STUBS)
    (paths["bin"] / "bwrap").write_text(FAKE_BWRAP_OK)  # namespaces work once the key is 0 (the real probe: the slow test)
    (paths["bin"] / "bwrap").chmod(0o755)
    done = run_as_runner(root, uid, gid, paths, runner_python(uid, gid), FAKE_SUDO_OK="1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "sudo.log").read_text().splitlines() == [APPARMOR_LIFT]
    assert paths["key"].read_text().strip() == "0"
    assert f"lifted with `sudo {APPARMOR_LIFT}`" in done.stdout
    assert (root / "stub.json").read_text(), done.stdout[-3000:]
    stub = json.loads((root / "stub.json").read_text())
    assert stub["euid"] == uid != 0, "the autograder and its grader ran as the unprivileged runner user"
    argv = stub["argv"]
    assert argv[argv.index("--require-isolation") + 1] == "user"
    assert "at isolation level namespaces" in done.stdout
    document = json.loads((paths["checkout"] / "result.json").read_text(encoding="utf-8"))
    assert document == json.loads(GOLDEN_RESULT.read_text(encoding="utf-8"))
    assert github_outputs(root) == {}, "a graded submission: the runner derives the status"


def test_as_the_runner_user_without_sudo_the_job_errors_with_one_sentence(job):
    root, uid, gid = job
    paths = prepare(root, uid, gid, STUBS)
    done = run_as_runner(root, uid, gid, paths, runner_python(uid, gid), FAKE_SUDO_OK="0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert paths["key"].read_text().strip() == "1"
    assert (root / "stub.json").read_text() == "", "nothing was graded below the required level"
    sentence = load_autograder(paths["bundle"] / "autograder.py").MESSAGES["es"]["isolation_apparmor"]
    document = json.loads((paths["checkout"] / "result.json").read_text(encoding="utf-8"))
    assert document["score"] == 0 and document["tests"][0]["message"] == sentence
    outputs = github_outputs(root)
    assert outputs["status"] == "error", "no Release, no gradebook entry"
    assert len(outputs["summary"]) <= 140 and "AppArmor" in outputs["summary"]
    assert "could not lift it: sudo: a password is required" in done.stdout


@pytest.mark.slow
def test_the_reference_is_graded_as_the_runner_user_at_namespaces(job, tmp_path):
    """The real grader, as an unprivileged user, in a user namespace made by the real bubblewrap."""
    root, uid, gid = job
    npz = mnist_npz()
    config = fast_config(root / "fast.toml")
    paths = prepare(root, uid, gid, SOLUTIONS, config=config, stub=False)
    done = run_as_runner(root, uid, gid, paths, sys.executable, reach=True, FAKE_SUDO_OK="1", MNIST_NPZ=str(npz), KERAS_HOME=str(root / "home" / ".keras"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "at isolation level namespaces" in done.stdout, done.stdout[-3000:]
    document = json.loads((paths["checkout"] / "result.json").read_text(encoding="utf-8"))
    assert document["score"] > 0 and github_outputs(root) == {}
    body = (paths["checkout"] / "release-body.md").read_text(encoding="utf-8")
    assert "namespaces" in body, "the feedback records the level"
