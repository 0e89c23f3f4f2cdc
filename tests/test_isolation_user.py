"""The ``user`` level (grader/sandbox/isolation.py) and a grader run by a non-root user.

``user`` is for roots without namespaces (Gradescope's container, Docker, a
self-hosted runner as root): the worker runs as uid/gid 65534 with no
groups, no capabilities and no_new_privs. Forced here as root, a process
started with the level's command must fail to signal the grader (EPERM), to
read its /proc environ (EACCES), to write the results folder or the grader's
files (EACCES); Gradescope's item-2 attack (issue 18: read
GRADESCOPE_AUTOGRADER_ROOT from an ancestor, forge results/results.json,
SIGKILL the parent) fails whole.

The last test grades the reference as a non-root user at ``namespaces``, as
Classroom 50's runner (the ``runner`` user) does: bubblewrap then makes an
unprivileged user namespace. On Ubuntu 23.10+ (GitHub's ubuntu-24.04 images)
the AppArmor sysctl ``kernel.apparmor_restrict_unprivileged_userns=1`` lets
only programs with an AppArmor profile granting ``userns`` create user
namespaces, so bubblewrap fails with "setting up uid map: Permission
denied" until ``sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0``;
this machine's kernel has no such key, so the test needs no sysctl.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gradingkit import ROOT, SOLUTION, mnist_env, write_config

from grader.sandbox import isolation
from grader.sandbox.isolation import Isolation, Paths

ROOT_ONLY = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="the user level needs a root grader")

# The attack, as the submission's code runs it under the worker (pids and paths from argv).
ATTACK = r"""
import errno, json, os, signal, sys
grader, results = int(sys.argv[1]), sys.argv[2]
seen = {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups()}
def attempt(name, action):
    try:
        action(); seen[name] = "done"
    except OSError as error:
        seen[name] = errno.errorcode.get(error.errno, error.errno)
def read_environ():
    raw = open(f"/proc/{grader}/environ", "rb").read()
    seen["root"] = [i.decode() for i in raw.split(b"\0") if i.startswith(b"GRADESCOPE_AUTOGRADER_ROOT=")]
attempt("environ", read_environ)
attempt("kill0", lambda: os.kill(grader, 0))
attempt("results", lambda: open(os.path.join(results, "results.json"), "w").write('{"score": 100}'))
attempt("new_result", lambda: open(os.path.join(results, "forged.json"), "w").write("{}"))
attempt("grader_file", lambda: open(sys.argv[3], "a").write("# planted"))
attempt("sigkill", lambda: os.kill(grader, signal.SIGKILL))
print(json.dumps(seen))
"""

# The grader's stand-in: not dumpable (as supervisor._harden), a secret in its environment, the level's command.
GRADER = r"""
import json, subprocess, sys
sys.path.insert(0, sys.argv[1])
from grader.sandbox.processes import PR_SET_DUMPABLE, prctl
from grader.sandbox.isolation import Isolation
prctl(PR_SET_DUMPABLE, 0)
command = Isolation("user").command([sys.executable, "-c", sys.argv[2], str(__import__("os").getpid()), sys.argv[3], sys.argv[4]], None, None)
done = subprocess.run(command, capture_output=True, text=True, timeout=60)
print(done.stdout.strip() or done.stderr)
"""


@ROOT_ONLY
def test_user_level_is_available_as_root_and_ranked_between():
    assert isolation.LEVELS == ("process", "user", "namespaces")
    assert isolation.rank("process") < isolation.rank("user") < isolation.rank("namespaces")
    assert isolation.user_available()
    assert "user" in isolation.available()


def test_user_level_command_drops_everything(tmp_path):
    command = Isolation("user").command(["python", "x"], None, None)
    assert command[0] == "setpriv" and command[-2:] == ["python", "x"]
    for flag in (f"--reuid={isolation.NOBODY}", f"--regid={isolation.NOBODY}", "--clear-groups", "--no-new-privs", "--inh-caps=-all"):
        assert flag in command
    assert Isolation("user").inside(Paths(tmp_path, tmp_path, tmp_path, tmp_path)).state == tmp_path  # host folders


def test_forced_user_level_falls_back_below_when_missing(monkeypatch):
    monkeypatch.setattr(isolation, "user_available", lambda: False)
    monkeypatch.setattr(isolation, "namespaces_available", lambda: False)
    monkeypatch.setenv(isolation.FORCE_ENV, "user")
    assert isolation.choose("process").level == "process"
    with pytest.raises(isolation.IsolationError, match="process"):
        isolation.choose("user")
    monkeypatch.setattr(isolation, "user_available", lambda: True)
    assert isolation.choose("user").level == "user"
    monkeypatch.setattr(isolation, "namespaces_available", lambda: True)
    monkeypatch.delenv(isolation.FORCE_ENV)
    assert isolation.choose("user").level == "namespaces"  # the strongest wins when nothing is forced


@ROOT_ONLY
def test_gradescope_attack_fails_at_the_user_level():
    """Issue 18 item 2 at `user`: no environ, no signal, no forged results, no planted grader file."""
    with tempfile.TemporaryDirectory() as folder:
        autograder = Path(folder) / "autograder"
        results = autograder / "results"
        source = autograder / "source"
        results.mkdir(parents=True)
        shutil.copytree(ROOT / "grader", source / "grader", ignore=shutil.ignore_patterns("__pycache__"))
        os.chmod(folder, 0o755)  # Gradescope's /autograder is reachable; only its own modes protect it
        (results / "results.json").write_text('{"score": 0, "output": "placeholder"}')
        planted = source / "grader" / "config.toml"
        before = planted.read_bytes()
        env = {**os.environ, "GRADESCOPE_AUTOGRADER_ROOT": str(autograder)}
        done = subprocess.run(
            [sys.executable, "-c", GRADER, str(ROOT), ATTACK, str(results), str(planted)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr  # the grader was not killed
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        assert (seen["uid"], seen["gid"], seen["groups"]) == (isolation.NOBODY, isolation.NOBODY, [])
        assert seen["environ"] == "EACCES" and "root" not in seen
        assert seen["kill0"] == "EPERM" and seen["sigkill"] == "EPERM"
        assert seen["results"] == "EACCES" and seen["new_result"] == "EACCES" and seen["grader_file"] == "EACCES"
        assert (results / "results.json").read_text() == '{"score": 0, "output": "placeholder"}'
        assert sorted(p.name for p in results.iterdir()) == ["results.json"]
        assert planted.read_bytes() == before


def _unprivileged_user() -> pwd.struct_passwd:
    """A non-root user for the runner-like test (made with useradd when missing, as on a fresh runner)."""
    name = "graderci"
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True, capture_output=True)
        return pwd.getpwnam(name)


# This machine's Python lives under /root (mode 0700), where no runner keeps it (GitHub's is in
# /opt/hostedtoolcache): in a mount namespace of the test's own, /root becomes a world-traversable
# tmpfs showing only the real /root/.pyenv. The host's /root is not touched.
PYENV_VIEW = (
    'set -e; mount --make-rprivate /; view=$(mktemp -d); mount --bind /root/.pyenv "$view"; '
    'mount -t tmpfs -o mode=0755 tmpfs /root; mkdir /root/.pyenv; mount --bind "$view" /root/.pyenv; exec "$@"'
)


def _python_reachable(command: list[str]) -> list[str]:
    if not Path(sys.base_prefix).resolve().is_relative_to("/root") or shutil.which("unshare") is None:
        return command
    return ["unshare", "-m", "--", "sh", "-c", PYENV_VIEW, "sh", *command]


@pytest.mark.slow
@ROOT_ONLY
def test_a_non_root_grader_grades_at_namespaces_through_a_user_namespace(tmp_path):
    """Classroom 50's runner is a non-root user: bubblewrap makes its own user namespace there."""
    if shutil.which("useradd") is None:
        pytest.skip("no useradd")
    user = _unprivileged_user()
    home = Path(tempfile.mkdtemp(prefix="grader-runner-"))
    try:
        os.chown(home, user.pw_uid, user.pw_gid)
        (home / "submission").mkdir()
        shutil.copyfile(SOLUTION, home / "submission" / "mnist_dense.py")
        config = write_config(home / "config.toml")
        for path in (home / "submission", home / "submission" / "mnist_dense.py", config):
            os.chown(path, user.pw_uid, user.pw_gid)
        env = {**mnist_env(), "HOME": str(home), "TMPDIR": str(home), "MPLCONFIGDIR": str(home / "mpl"), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTHONPATH", None)
        command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--inh-caps=-all", "--"]
        command += [sys.executable, "-m", "grader", "--submission", str(home / "submission"), "--out", str(home / "out")]
        command += ["--config", str(config), "--quiet", "--require-isolation", "namespaces"]
        command = _python_reachable(command)
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        score = json.loads((home / "out" / "score.json").read_text())
        assert score["isolation"] == "namespaces" and score["score"] == score["max_score"], score
        assert (home / "out" / "score.json").stat().st_uid == user.pw_uid  # graded as that user, not as root
    finally:
        shutil.rmtree(home, ignore_errors=True)
