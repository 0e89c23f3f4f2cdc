"""The Gradescope autograder zip: ``python -m grader gradescope OUT.zip`` and its run_autograder.

The zip is built with the fast test config, then laid out the way Gradescope's
harness does (gradescope/autograder_samples, docs/specs.md): its contents in
``ROOT/source``, ``run_autograder`` copied to ``ROOT/run_autograder``, the
student's files in ``ROOT/submission``; ``run_autograder`` runs in ``ROOT``
with ``GRADESCOPE_AUTOGRADER_ROOT=ROOT`` and this interpreter as
``GRADESCOPE_PYTHON`` (setup.sh, which installs TensorFlow, is not run).
Every run must leave a ``ROOT/results/results.json`` that the schema accepts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from gradingkit import fast_config, grader_command, mnist_env, rendered_from

from grader import i18n
from grader.config import load_config
from grader.gradescope import run
from grader.spec import check_ids

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "grader" / "schemas" / "gradescope-results.schema.json").read_text(encoding="utf-8"))
SOLUTIONS = ROOT / "solutions"
STUBS = ROOT / "assignment"


def build(out: Path, *args: str) -> subprocess.CompletedProcess:
    return grader_command("gradescope", str(out), *args)


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    return fast_config(tmp_path_factory.mktemp("config") / "fast.toml")


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory, config) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    done = build(out, "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    return out


def layout(autograder_zip: Path, root: Path) -> Path:
    """ROOT laid out like Gradescope's /autograder before a submission arrives."""
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops the permission bits
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path, reach: bool = False, **extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    """``reach``: this interpreter made reachable for the `user` level's uid (see python_reachable)."""
    from test_classroom50_runtime import python_reachable

    env = {k: v for k, v in mnist_env().items() if not k.startswith("GRADESCOPE_")}
    env.update(GRADESCOPE_AUTOGRADER_ROOT=str(root), GRADESCOPE_PYTHON=sys.executable, **extra)
    command = [str(root / "run_autograder")]
    done = subprocess.run(
        python_reachable(command) if reach else command,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    results = root / "results" / "results.json"
    assert results.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    document = json.loads(results.read_text(encoding="utf-8"))
    jsonschema.validate(document, SCHEMA)
    assert document["score"] == sum(t["score"] for t in document["tests"])
    return done, document


def the_error(document: dict, lang: str = "es") -> dict:
    (test,) = document["tests"]
    assert document["score"] == 0 and test["score"] == 0 and test["status"] == "failed"
    assert test["name"] == i18n.render(lang, "gradescope.error_title")
    assert test["extra_data"]["id"] == "autograder_error"
    return test


# -- the zip ----------------------------------------------------------------------------
def test_zip_layout(autograder_zip, config):
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        names = set(infos)
        assert {
            "setup.sh",
            "run_autograder",
            "requirements.txt",
            "autograder.json",
            "grader/__main__.py",
            "grader/platforms/gradescope/runner.py",
            "grader/exporters/gradescope.py",
        } <= names
        for name in ("setup.sh", "run_autograder"):
            assert (infos[name].external_attr >> 16) & stat.S_IXUSR, f"{name} is not executable"
            assert archive.read(name).startswith(b"#!/usr/bin/env bash\n")
        assert archive.read("requirements.txt") == (ROOT / "requirements.txt").read_bytes()
        assert archive.read("grader/config.toml") == config.read_bytes()
        assert not any(n.split("/")[0] in ("solutions", "tests", "assignment", "docs") for n in names)
        assert not any("__pycache__" in n or n.endswith((".pyc", ".pyo")) for n in names)
        solutions = {hashlib.sha256(p.read_bytes()).hexdigest() for p in SOLUTIONS.rglob("*") if p.is_file()}
        assert not solutions & {hashlib.sha256(archive.read(n)).hexdigest() for n in names}
        assert json.loads(archive.read("autograder.json"))["lang"] == "es"


def test_zip_refuses_a_bad_config_or_name(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[grading]\nno_such_key = 1\n")
    done = build(tmp_path / "a.zip", "--config", str(bad))
    assert done.returncode == 2 and "no_such_key" in done.stderr and not (tmp_path / "a.zip").exists()
    assert build(tmp_path / "a.tar").returncode == 2


def test_setup_script_is_valid_bash():
    done = subprocess.run(["bash", "-n", str(ROOT / "grader" / "platforms" / "gradescope" / "setup.sh")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    script = (ROOT / "grader" / "platforms" / "gradescope" / "setup.sh").read_text(encoding="utf-8")
    assert 'pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"' in script
    assert "keras.datasets.mnist.load_data()" in script


# -- run_autograder -----------------------------------------------------------------------
@pytest.fixture
def world_root():
    """A folder others may traverse, as Gradescope's /autograder (pytest's tmp_path is root's own)."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="gradescope-root-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_a_whole_repository_is_graded(autograder_zip, world_root):
    """At the `user` level, the one Gradescope's root containers give where bubblewrap cannot make namespaces."""
    root = layout(autograder_zip, world_root / "autograder")
    repo = root / "submission"
    shutil.copytree(SOLUTIONS, repo / "assignment")
    (repo / "grader").mkdir()  # a student's own grader package is never imported
    (repo / "grader" / "__init__.py").write_text("raise SystemExit('the student grader ran')\n")
    forced = {"GRADER_ISOLATION": "user"} if os.geteuid() == 0 else {}
    done, document = run_autograder(root, reach=True, **forced)
    assert done.returncode == 0, done.stderr
    assert "isolation" in document["extra_data"], json.dumps(document)[:3000] + done.stdout[-2000:]
    assert document["extra_data"]["isolation"] == (forced.get("GRADER_ISOLATION") or document["extra_data"]["isolation"])
    assert document["extra_data"]["isolation"] in ("user", "namespaces"), "recorded in results.json"
    max_score = load_config(root / "source" / "grader" / "config.toml").max_score
    assert document["score"] == max_score == 100, [t for t in document["tests"] if t["status"] != "passed"]
    ids = [t["extra_data"]["id"] for t in document["tests"]]
    assert set(check_ids("code")) | set(check_ids("answer")) <= set(ids)


@pytest.mark.slow
def test_files_uploaded_alone_are_found(autograder_zip, tmp_path):
    """A module plus flat answers (no folders), inside one top folder as a zip upload gives.

    The module does not parse, so no step runs and no stand-in trains: what is
    tested is where the files are found, not the grading of the steps."""
    root = layout(autograder_zip, tmp_path / "autograder")
    flat = root / "submission" / "mi-entrega"
    flat.mkdir()
    (flat / "mnist_dense.py").write_text(STUBS.joinpath("mnist_dense.py").read_text(encoding="utf-8") + "\ndef sin_terminar(:\n", encoding="utf-8")
    shutil.copy2(SOLUTIONS / "answers" / "q1.md", flat / "q1.md")
    done, document = run_autograder(root)
    assert done.returncode == 0, done.stderr
    tests = {t["extra_data"]["id"]: t for t in document["tests"]}
    assert set(check_ids("code")) <= set(tests)
    assert tests["q1"]["status"] == "passed", tests["q1"]  # found beside the module
    assert tests["q2"]["status"] == "failed"
    assert all(tests[c]["score"] == 0 for c in check_ids("code"))  # found, and graded: it does not import


def test_no_module_gives_a_results_file_that_says_so(autograder_zip, tmp_path):
    root = layout(autograder_zip, tmp_path / "autograder")
    (root / "submission" / "README.md").write_text("nothing here\n")
    done, document = run_autograder(root)
    assert done.returncode == 0
    test = the_error(document)
    assert test["output"] == i18n.render("es", "gradescope.no_module")
    assert test["max_score"] == 100


def test_a_failing_grader_still_gives_a_results_file(autograder_zip, tmp_path):
    root = layout(autograder_zip, tmp_path / "autograder")
    (root / "source" / "grader" / "cli.py").write_text("raise RuntimeError('grader is broken')\n")
    shutil.copy2(STUBS / "mnist_dense.py", root / "submission" / "mnist_dense.py")
    done, document = run_autograder(root)
    assert done.returncode == 0
    test = the_error(document)
    assert rendered_from(test["output"], "es", "gradescope.grader_failed"), test["output"]
    assert "grader is broken" in test["output"]


@pytest.mark.slow
def test_the_time_budget_gives_a_results_file(autograder_zip, tmp_path):
    root = layout(autograder_zip, tmp_path / "autograder")
    shutil.copy2(SOLUTIONS / "mnist_dense.py", root / "submission" / "mnist_dense.py")
    _, document = run_autograder(root, GRADESCOPE_TIME_BUDGET="2")
    test = the_error(document)
    assert test["output"] == i18n.render("es", "gradescope.timeout", seconds="2")


def test_a_crash_of_run_gives_a_results_file(tmp_path, monkeypatch):
    (tmp_path / "submission").mkdir()
    shutil.copy2(STUBS / "mnist_dense.py", tmp_path / "submission" / "mnist_dense.py")
    monkeypatch.setenv(run.ROOT_ENV, str(tmp_path))

    def crash(*_):
        raise OSError("disk full")

    monkeypatch.setattr(run, "grade", crash)
    assert run.main() == 0
    document = json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, SCHEMA)
    test = the_error(document)
    assert test["output"] == i18n.render("es", "gradescope.crash", error="OSError: disk full")


def test_student_files_are_copied_and_nothing_else(tmp_path):
    folder = tmp_path / "sub"
    (folder / "answers").mkdir(parents=True)
    (folder / "mnist_dense.py").write_text("x = 1\n")
    (folder / "answers" / "q2.md").write_text("two\n")
    (folder / "q3.md").write_text("three\n")
    (folder / "exploration.md").write_text("sheet\n")
    (folder / "results.csv").write_text("a,b\n")
    (folder / "conftest.py").write_text("raise SystemExit\n")
    os.symlink("/etc/passwd", folder / "q4.md")
    run.copy_student_files(run.find_module_folder(tmp_path), tmp_path / "out")
    copied = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert copied == ["answers/q2.md", "answers/q3.md", "exploration.md", "exploration_results/results.csv", "mnist_dense.py"]


# -- the results file: placeholder first, honest grade in one step, the level recorded -----------
# Stands in for the zip's grader (the wrapper is under test): records what results.json held
# while it ran, optionally waits to be killed, and leaves a gradescope.json and score.json.
STUB_GRADER = """import json, os, pathlib, sys, time
args = sys.argv[1:]
out = pathlib.Path(args[args.index("--out") + 1])
results = pathlib.Path(os.environ["GRADESCOPE_AUTOGRADER_ROOT"]) / "results" / "results.json"
record = {"argv": args, "pid": os.getpid(), "results_during_grading": json.loads(results.read_text())}
pathlib.Path(os.environ["STUB_RECORD"]).write_text(json.dumps(record))
if os.environ.get("STUB_WAIT"):
    time.sleep(float(os.environ["STUB_WAIT"]))
out.mkdir(parents=True)
tests = [{"name": "Normalización", "score": 10, "max_score": 10, "status": "passed", "output": "Bien."}]
(out / "gradescope.json").write_text(json.dumps({"score": 10, "tests": tests, "extra_data": {"max_score": 10}}))
(out / "score.json").write_text(json.dumps({"isolation": os.environ.get("STUB_LEVEL", "namespaces")}))
"""


def stubbed(autograder_zip: Path, root: Path) -> Path:
    root = layout(autograder_zip, root)
    (root / "source" / "grader" / "__main__.py").write_text(STUB_GRADER)
    shutil.copy2(STUBS / "mnist_dense.py", root / "submission" / "mnist_dense.py")
    return root


def test_results_json_is_a_placeholder_while_grading_then_the_honest_grade(autograder_zip, tmp_path):
    root = stubbed(autograder_zip, tmp_path / "autograder")
    record = tmp_path / "stub.json"
    done, document = run_autograder(root, STUB_RECORD=str(record), STUB_LEVEL="user")
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(record.read_text())
    placeholder = seen["results_during_grading"]
    jsonschema.validate(placeholder, SCHEMA)
    assert the_error(placeholder)["output"] == i18n.render("es", "gradescope.interrupted")
    argv = seen["argv"]
    assert argv[argv.index("--require-isolation") + 1] == "user"
    assert document["score"] == 10 and document["extra_data"]["isolation"] == "user"
    assert "isolation level" in done.stdout
    results = root / "results"
    assert [p.name for p in results.iterdir()] == ["results.json"], "no staging file is left behind"
    assert stat.S_IMODE(results.stat().st_mode) == 0o755 and results.stat().st_uid == os.geteuid()


def test_a_kill_during_grading_leaves_the_placeholder_not_a_grade(autograder_zip, tmp_path):
    import signal
    import time

    root = stubbed(autograder_zip, tmp_path / "autograder")
    record = tmp_path / "stub.json"
    env = {k: v for k, v in mnist_env().items() if not k.startswith("GRADESCOPE_")}
    env.update(GRADESCOPE_AUTOGRADER_ROOT=str(root), GRADESCOPE_PYTHON=sys.executable, STUB_RECORD=str(record), STUB_WAIT="120")
    process = subprocess.Popen([str(root / "run_autograder")], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (record.exists() and record.read_text()):
            assert time.monotonic() < deadline and process.poll() is None, "the grader never started"
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)  # run_autograder exec'd run.py: this is its process
        process.wait(timeout=30)
    finally:
        stub = json.loads(record.read_text()) if record.exists() and record.read_text() else {}
        if stub.get("pid"):
            try:
                os.kill(stub["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        if process.poll() is None:
            process.kill()
    document = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, SCHEMA)
    assert the_error(document)["output"] == i18n.render("es", "gradescope.interrupted")


def test_a_grading_below_user_is_refused(autograder_zip, tmp_path):
    root = stubbed(autograder_zip, tmp_path / "autograder")
    _, document = run_autograder(root, STUB_RECORD=str(tmp_path / "stub.json"), STUB_LEVEL="process")
    test = the_error(document)
    assert test["output"] == i18n.render("es", "gradescope.isolation", level="process", required="user")


def test_without_the_user_level_nothing_is_graded(tmp_path, monkeypatch):
    """A container that offers only `process` (not root, no namespaces): the grader never starts."""
    (tmp_path / "submission").mkdir()
    shutil.copy2(STUBS / "mnist_dense.py", tmp_path / "submission" / "mnist_dense.py")
    monkeypatch.setenv(run.ROOT_ENV, str(tmp_path))
    written: list[dict] = []
    real_write = run.write_results

    def spy(path, document):
        written.append(json.loads(json.dumps(document)))
        real_write(path, document)

    def offers_process(minimum, *_):
        raise run.isolation.IsolationError("process")

    monkeypatch.setattr(run, "write_results", spy)
    monkeypatch.setattr(run.isolation, "choose", offers_process)
    monkeypatch.setattr(run, "grade", lambda *_: pytest.fail("graded below the required level"))
    assert run.main() == 0
    first, last = written
    assert the_error(first)["output"] == i18n.render("es", "gradescope.interrupted"), "the placeholder comes first"
    assert the_error(last)["output"] == i18n.render("es", "gradescope.isolation", level="process", required="user")
    assert json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8")) == last


def test_setup_installs_bubblewrap():
    script = (ROOT / "grader" / "platforms" / "gradescope" / "setup.sh").read_text(encoding="utf-8")
    assert "apt-get install -y -qq --no-install-recommends bubblewrap" in script


def test_the_exporter_records_the_isolation_level():
    from grader.exporters import gradescope
    from grader.results import CheckResult, GradingResult

    check = CheckResult("normalize", "Normalización", 10, 10, True, "Bien.", "normalize.ok")
    result = GradingResult(10, 10, [check], {}, isolation="user")
    assert gradescope.to_gradescope(result)["extra_data"]["isolation"] == "user"
    result.isolation = ""
    assert "isolation" not in gradescope.to_gradescope(result)["extra_data"], "no level claimed that was not observed"
