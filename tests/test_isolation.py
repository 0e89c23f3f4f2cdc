"""Fast tests of the isolation levels (grader/sandbox/isolation.py) and the judge's sys.path.

* The namespaces level binds only what the worker needs: the system, Python,
  the grader package and the dataset read-only; its plan read-only; the state
  and scratch folders writable; capped tmpfs for /tmp and /dev/shm. A real
  bubblewrap run shows what a process inside can and cannot do.
* A level is chosen, forced or refused (exit 2 with one sentence) as the
  config and the roads ask.
* The checks run with nothing a submission could write on sys.path.
* The worker inherits no runner variable; the parent keeps the training's
  evidence out of later steps' reach; the portable path needs no SIGALRM,
  prctl or process groups.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np
import pytest

from gradingkit import ROOT, STUBS, mnist_env

from grader.config import load_config
from grader.sandbox import answerer, isolation, processes
from grader.sandbox import supervisor as supervisor_module
from grader.sandbox.isolation import Isolation, Paths


def _paths(tmp_path: Path) -> Paths:
    for name in ("state", "run"):
        (tmp_path / name).mkdir(exist_ok=True)
    (tmp_path / "plan.json").write_text("{}")
    (tmp_path / "mnist.npz").write_bytes(b"")
    return Paths(plan=tmp_path / "plan.json", dataset=tmp_path / "mnist.npz", state=tmp_path / "state", run=tmp_path / "run")


def _pairs(command: list[str], flag: str) -> list[tuple[str, str]]:
    return [(command[i + 1], command[i + 2]) for i, word in enumerate(command) if word == flag]


def test_namespaces_command_binds_only_what_the_worker_needs(tmp_path):
    paths = _paths(tmp_path)
    (paths.state / "mnist_dense.py").write_text("")
    (paths.state / isolation.OUTPUT_NAME).write_text("")
    command = Isolation("namespaces", tmpfs_mb=64, storage_mb=100).command(["python", "-m", "grader.sandbox.answerer"], paths, ROOT / "grader")
    assert command[0] == "bwrap" and command[-3:] == ["python", "-m", "grader.sandbox.answerer"]
    for flag in ("--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-net", "--new-session"):
        assert flag in command
    read_only = dict(_pairs(command, "--ro-bind"))
    writable = dict(_pairs(command, "--bind"))
    assert read_only[str(ROOT / "grader")] == str(ROOT / "grader")
    assert str(ROOT) not in read_only  # the repository root (solutions/, the submission) stays out
    assert read_only[str(paths.plan)] == "/sandbox/plan.json" and read_only[str(paths.dataset)] == "/sandbox/mnist.npz"
    # The one host file written through: the output file. The module is read-only; no host folder is writable.
    assert writable == {str(paths.state / isolation.OUTPUT_NAME): "/sandbox/state/student-output.txt"}
    assert read_only[str(paths.state / "mnist_dense.py")] == "/sandbox/state/mnist_dense.py"
    assert str(Path(sys.prefix).resolve()) in read_only or str(Path(sys.prefix)) in read_only
    # A capped tmpfs for the state and working folders, one for each of /tmp and /dev/shm: a fixed total.
    sizes = {command[i + 3]: int(command[i + 1]) for i, word in enumerate(command) if word == "--size"}
    assert sizes == {"/sandbox": 100 * 2**20, "/tmp": 64 * 2**20, "/dev/shm": 64 * 2**20}
    assert Isolation("namespaces", tmpfs_mb=64, storage_mb=100).writable_mb == 100 + 2 * 64
    assert [command[i + 1] for i, word in enumerate(command) if word == "--dir"][:2] == ["/sandbox/state", "/sandbox/run"]
    assert command.index("--tmpfs") < command.index(str(paths.state / isolation.OUTPUT_NAME))  # binds go over the tmpfs
    # Nothing is seeded into the tmpfs: a restarted answerer receives the checkpoint from the observer as data.
    assert "--file" not in command


def test_process_level_runs_the_command_as_it_is(tmp_path):
    paths = _paths(tmp_path)
    level = Isolation("process")
    assert level.command(["python", "x"], paths, ROOT / "grader") == ["python", "x"]
    assert level.inside(paths) == paths
    assert level.exit_status(139) == 139
    assert Isolation("namespaces").exit_status(139) == -11  # bubblewrap's 128 + SIGSEGV: a crash, not an exit
    assert Isolation("namespaces").exit_status(3) == 3


def test_choose_forces_and_refuses(monkeypatch):
    monkeypatch.setattr(isolation, "namespaces_available", lambda: True)
    monkeypatch.delenv(isolation.FORCE_ENV, raising=False)
    assert isolation.choose("process").level == "namespaces"  # the strongest the machine offers
    monkeypatch.setenv(isolation.FORCE_ENV, "process")
    assert isolation.choose("process").level == "process"
    with pytest.raises(isolation.IsolationError, match="process"):
        isolation.choose("namespaces")
    monkeypatch.setenv(isolation.FORCE_ENV, "")
    monkeypatch.setattr(isolation, "namespaces_available", lambda: False)
    monkeypatch.setattr(isolation, "user_available", lambda: False)
    assert isolation.strongest() == "process"
    with pytest.raises(isolation.IsolationError):
        isolation.choose("namespaces")


def test_a_missing_level_is_one_sentence_and_exit_2(tmp_path):
    env = dict(mnist_env(), **{isolation.FORCE_ENV: "process"})
    done = subprocess.run(
        [sys.executable, "-m", "grader", "--submission", str(STUBS.parent), "--out", str(tmp_path / "out"), "--require-isolation", "namespaces"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    # one sentence, after at most the progress line a piped run prints at once ("[0 s] Preparando…")
    said = [line for line in done.stderr.strip().splitlines() if not line.startswith("[0 s] ")]
    assert len(said) == 1, done.stderr
    assert "bubblewrap" in done.stderr and "«process»" in done.stderr and "«namespaces»" in done.stderr
    assert not (tmp_path / "out").exists()


def test_config_levels_are_typed(tmp_path):
    config = load_config()
    assert (config.isolation.minimum, config.isolation.roads) == ("process", "namespaces")
    broken = tmp_path / "config.toml"
    broken.write_text((ROOT / "grader" / "config.toml").read_text().replace('roads = "namespaces"', 'roads = "strong"'))
    with pytest.raises(ValueError, match="roads"):
        load_config(broken)


def test_bubblewrap_walls_hold():
    """A process inside sees no outside process, writes nothing outside, is capped in /tmp, has no network."""
    assert isolation.namespaces_available(), "bubblewrap must work here (apt-get install bubblewrap)"
    import socket
    import tempfile

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    with listener, tempfile.TemporaryDirectory() as folder:
        paths = _paths(Path(folder))
        level = Isolation("namespaces", tmpfs_mb=8, storage_mb=8)
        level.prepare(paths)
        probe = (
            "import os, json\n"  # noqa: UP031 - Python source: its braces would need doubling in an f-string
            "result = {'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), 'uid': os.getuid()}\n"
            "for name, path in (('grader', %r), ('tmp', '/tmp/big'), ('state', '/sandbox/state/x')):\n"
            "    try:\n"
            "        open(path, 'wb').write(b'0' * (16 << 20)); result[name] = 'written'\n"
            "    except OSError as error:\n"
            "        result[name] = error.errno\n"
            "try:\n"
            "    os.kill(1, 19); result['stop'] = 'sent'\n"
            "except OSError as error:\n"
            "    result['stop'] = error.errno\n"
            "import socket\n"
            "try:\n"
            "    socket.create_connection(('127.0.0.1', %d), timeout=5); result['net'] = 'connected'\n"
            "except OSError as error:\n"
            "    result['net'] = 'refused'\n"
            "print(json.dumps(result))\n"
        ) % (str(ROOT / "grader" / "planted.py"), port)
        command = level.command([sys.executable, "-c", probe], paths, ROOT / "grader")
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
        seen = json.loads(done.stdout)
        assert max(seen["pids"]) < 10  # its own namespace: no grader, no runner, no other student
        assert seen["grader"] == 30 or seen["grader"] == 13  # EROFS (or EACCES as nobody)
        assert seen["tmp"] == 28  # ENOSPC: /tmp is capped
        assert seen["state"] == 28 and not (paths.state / "x").exists()  # the state folder is in the same capped tmpfs
        assert seen["stop"] != "sent"
        assert seen["net"] == "refused"  # its own network namespace: not even the host's loopback
        assert not (ROOT / "grader" / "planted.py").exists()
        if os.geteuid() == 0:
            assert seen["uid"] == isolation.NOBODY


def test_judge_path_drops_every_folder_a_submission_could_write(tmp_path):
    from grader.grade import judge_path

    stdlib = sysconfig.get_paths()["stdlib"]
    purelib = sysconfig.get_paths()["purelib"]
    kept = judge_path(["", str(ROOT), str(tmp_path), stdlib, purelib, str(Path(stdlib) / "lib-dynload")])
    assert kept == [stdlib, purelib, str(Path(stdlib) / "lib-dynload")]


def test_worker_environment_carries_no_runner_variables(tmp_path, monkeypatch):
    for name in ("GITHUB_TOKEN", "GITHUB_OUTPUT", "ACTIONS_RUNTIME_TOKEN", "RUNNER_TEMP", "KERAS_HOME"):
        monkeypatch.setenv(name, "secret")
    module = tmp_path / "mnist_dense.py"
    module.write_text("")
    sup = supervisor_module.Supervisor(load_config(), module, tmp_path / "mnist.npz", tmp_path / "sandbox")
    env = sup._environment()
    assert not [k for k in env if k.startswith(("GITHUB_", "ACTIONS_", "RUNNER_")) or "secret" in env[k]]
    assert env["MNIST_NPZ"] == str(tmp_path / "mnist.npz")


@pytest.mark.parametrize(
    "layer",
    [{"kind": "secret", "class_name": "Secret"}, {"kind": "dense", "units": "many"}],
    ids=["unknown_layer", "malformed_description"],
)
def test_a_description_it_cannot_compute_is_not_recomputed(tmp_path, layer):
    from grader.measure import measure

    (tmp_path / "model.json").write_text(json.dumps({"layers": [layer]}))
    np.savez(tmp_path / "weights.npz", w0=np.zeros((784, 10), "float32"))
    x_test = np.zeros((20, 28, 28), "uint8")
    np.save(tmp_path / "x_test_n.npy", x_test.astype("float32"))
    labels = np.arange(20) % 10
    np.save(tmp_path / "probabilities.npy", np.eye(10, dtype="float32")[labels])
    assert not measure(tmp_path, x_test, labels).recomputed  # min_accuracy then fails with min_accuracy.not_recomputed


@pytest.mark.parametrize("sigint", [signal.default_int_handler, signal.SIG_IGN], ids=["sigint_default", "sigint_ignored"])
def test_portable_timeout_needs_no_sigalrm(monkeypatch, sigint):
    # Started as a background job, the grader inherits SIGINT ignored: the timeout must still fire.
    previous = signal.signal(signal.SIGINT, sigint)
    monkeypatch.setattr(answerer, "HAS_ALARM", False)

    def spin():
        while True:
            pass

    start = time.monotonic()
    value, error = answerer._timed(spin, 0.5)
    assert value is None and error["kind"] == "timeout" and time.monotonic() - start < 5
    assert answerer._timed(lambda: 7, 5) == (7, None)
    signal.signal(signal.SIGINT, previous)


def test_process_control_off_linux_does_nothing(monkeypatch):
    monkeypatch.setattr(processes, "LINUX", False)
    monkeypatch.setattr(processes, "POSIX", False)
    assert processes.prctl(processes.PR_SET_DUMPABLE, 0) is False
    processes.kill_group(os.getpid())  # no process groups: a no-op, not a crash


def test_no_memory_cgroup_where_none_can_be_made(tmp_path):
    from grader.sandbox.memory import MemoryCgroup

    assert MemoryCgroup.create(64, root=tmp_path / "no-cgroup-here") is None


@pytest.mark.skipif(not os.access("/sys/fs/cgroup/memory", os.W_OK), reason="needs a writable cgroup v1 memory controller")
def test_memory_cgroup_stops_shared_memory_the_rss_watch_misses():
    """Pages in /dev/shm are no process's RSS; the cgroup counts them and stops the tree."""
    from grader.sandbox.memory import MemoryCgroup

    cgroup = MemoryCgroup.create(64)
    assert cgroup is not None
    fill = "import os\nwith open('/dev/shm/grader-cgroup-test-%d' % os.getpid(), 'wb') as f:\n    [f.write(b'1' * (1 << 20)) for _ in range(256)]\n"
    try:
        done = subprocess.run([sys.executable, "-c", fill], preexec_fn=cgroup.enter, capture_output=True, timeout=60, check=False)
        assert done.returncode != 0 and cgroup.oom_killed()
    finally:
        for leftover in Path("/dev/shm").glob("grader-cgroup-test-*"):
            leftover.unlink()
        cgroup.remove()
    assert not cgroup.path.exists()


def test_files_from_the_sandbox_are_read_only_when_regular(tmp_path):
    from grader.sandbox.untrusted import copy_regular, open_regular

    secret = tmp_path / "secret"
    secret.write_text("root:x")
    (tmp_path / "link").symlink_to(secret)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "plain").write_text("printed")
    assert open_regular(tmp_path / "link") is None  # not followed: nothing outside is copied out
    assert open_regular(tmp_path / "fifo") is None  # not opened for reading: the grader never blocks
    assert not copy_regular(tmp_path / "link", tmp_path / "copy") and not (tmp_path / "copy").exists()
    assert copy_regular(tmp_path / "plain", tmp_path / "copy") and (tmp_path / "copy").read_text() == "printed"


def test_every_road_requires_the_strongest_level():
    """grade.yml and batch pass --require-isolation roads; Classroom 50 and Gradescope at least user."""
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "grade.yml").read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    steps = {step.get("id"): step for step in job["steps"]}
    script = steps["grade"]["run"]
    assert "--require-isolation roads" in script
    assert script.index('rm -rf "$GRADING_DIR"') < script.index("python -m grader")  # no stale grading is published
    assert "steps.grade.outcome == 'success'" in steps["mnist"]["if"]  # only a grading that succeeded
    assert any("apt-get install" in step.get("run", "") and "bubblewrap" in step.get("run", "") for step in job["steps"])
    autograder = (ROOT / "grader" / "platforms" / "classroom50" / "autograder.py").read_text(encoding="utf-8")
    assert re.search(r'"--require-isolation",\s*REQUIRED_LEVEL', autograder) and "become_subreaper(dumpable=False)" in autograder
    assert "PR_SET_DUMPABLE" in (ROOT / "grader" / "platforms" / "bounded_run.py").read_text(encoding="utf-8")
    assert 'REQUIRED_LEVEL = "user"' in autograder
    gradescope = (ROOT / "grader" / "platforms" / "gradescope" / "runner.py").read_text(encoding="utf-8")
    assert '"--require-isolation", REQUIRED_LEVEL' in gradescope and 'REQUIRED_LEVEL = "user"' in gradescope
    batch = (ROOT / "grader" / "instructor" / "batch.py").read_text(encoding="utf-8")
    assert re.search(r'"--require-isolation",\s*"roads"', batch)


def test_batch_stops_before_grading_without_the_roads_level(monkeypatch):
    from grader.instructor import batch

    monkeypatch.setattr(isolation, "namespaces_available", lambda: False)
    monkeypatch.delenv(isolation.FORCE_ENV, raising=False)
    sentence = batch._isolation_error(load_config(), "en")
    assert sentence is not None and "bubblewrap" in sentence and sentence.count(". ") == 0
    monkeypatch.setattr(isolation, "namespaces_available", lambda: True)
    assert batch._isolation_error(load_config(), "en") is None


@pytest.mark.skipif(not isolation.namespaces_available(), reason="needs bubblewrap")
def test_the_exchange_folders_are_reached_inside_the_sandbox_tmpfs_never_through_a_link(tmp_path):
    """At namespaces the observer's inbox and outbox are folders of the sandbox's capped tmpfs:
    reached through /proc/<pid>/root as descriptors, never through a link the student put there."""
    import psutil

    from grader.sandbox import wire

    paths = _paths(tmp_path)
    level = Isolation("namespaces", tmpfs_mb=16, storage_mb=16)
    level.prepare(paths)
    script = "mkdir /sandbox/state/outbox && ln -s / /sandbox/state/inbox && echo ready && exec sleep 60"
    process = subprocess.Popen(level.command(["sh", "-c", script], paths, ROOT / "grader"), stdout=subprocess.PIPE)
    try:
        assert process.stdout.readline() == b"ready\n"
        pids = {process.pid} | {p.pid for p in psutil.Process(process.pid).children(recursive=True)}
        source = tmp_path / "sent.npy"
        np.save(source, np.arange(3, dtype="int32"))
        outbox = level.open_state_folder(paths, pids, "outbox")
        try:
            wire.put_in(outbox, "sent.npy", source)
            ref = {"kind": "array", "file": "sent.npy", "dtype": "int32", "shape": [3]}
            assert wire.read_array(outbox, ref).tolist() == [0, 1, 2]
        finally:
            os.close(outbox)
        assert not (paths.state / "outbox").exists()  # written in the sandbox's tmpfs, not the host's folder
        with pytest.raises(OSError):
            level.open_state_folder(paths, pids, "inbox")  # a link to the grader's own root is refused
        with pytest.raises(FileNotFoundError):
            level.open_state_folder(paths, {os.getpid()}, "outbox")  # no process of the sandbox: never the host's folder
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
