"""The Classroom 50 bundle: ``python -m grader bundle`` and its ``autograder.py``.

The bundle is built into a temporary folder with the fast test config
(training on 3,000 images), then its ``autograder.py`` runs the way
Classroom 50's runner runs it: ``python3 autograder.py`` in a student
checkout, with the runner's environment. ``CLASSROOM50_SKIP_INSTALL=1``
makes it use this interpreter instead of a fresh virtual environment.
Whatever happens, it must exit 0 and leave a ``result.json`` the runner
accepts and a ``release-body.md``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import jsonschema
import psutil
import pytest

from gradingkit import fast_config, grader_command, mnist_npz

from grader import classroom50_bundle
from grader.config import load_config
from grader.spec import check_ids

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "grader" / "schemas" / "classroom50-result-v1.schema.json").read_text(encoding="utf-8"))
SOLUTIONS = ROOT / "solutions"
STUBS = ROOT / "assignment"
MAX_BYTES = 10 * 1024 * 1024
SLUG = "mnist-dense"
SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
REPOSITORY = "ml-course/ml-2026-mnist-dense-alice"
RUNNER_ENV = {
    "CLASSROOM": "ml-2026",
    "ASSIGNMENT": SLUG,
    "SUBMISSION_TAG": "submit/2026-06-01T14-32-05Z-a1b2c3d",
    "USERNAME": "alice",
    "OWNER": "alice",
    "ASSIGNMENT_TYPE": "individual",
    "COMMIT_URL": f"https://github.com/{REPOSITORY}/commit/{SHA}",
    "RELEASE_URL": f"https://github.com/{REPOSITORY}/releases/tag/submit%2F2026-06-01T14-32-05Z-a1b2c3d",
    "REVIEW_URL": f"https://github.com/{REPOSITORY}/compare/0f0f0f0...{SHA}",
    "GITHUB_REPOSITORY": REPOSITORY,
    "GITHUB_SHA": SHA,
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_ACTOR": "alice",
    "GITHUB_ACTOR_ID": "1234567",
    "GITHUB_ACTIONS": "true",
}
# A grader package in the student's repository that would award full marks
# if it were ever imported instead of the bundle's.
HOSTILE_MAIN = """import json, pathlib, sys
doc = {"schema": "classroom50/result/v1", "score": 100, "max-score": 100, "tests": []}
pathlib.Path("result.json").write_text(json.dumps(doc))
sys.exit(0)
"""


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def build(out: Path, *args: str) -> subprocess.CompletedProcess:
    return grader_command("bundle", str(out), *args)


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    return fast_config(tmp_path_factory.mktemp("config") / "fast.toml")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, config) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    done = build(out, "--slug", SLUG, "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert f"{out / SLUG}" in done.stdout and "KiB" in done.stdout
    return out / SLUG


def checkout(folder: Path, source: Path | None, hostile: bool = False) -> Path:
    """A student's checkout: ``source`` as assignment/, plus what the template ships."""
    folder.mkdir(parents=True)
    if source is not None:
        shutil.copytree(source, folder / "assignment", ignore=shutil.ignore_patterns("__pycache__"))
    if hostile:
        (folder / "grader").mkdir()
        (folder / "grader" / "__init__.py").write_text("")
        (folder / "grader" / "__main__.py").write_text(HOSTILE_MAIN)
        (folder / "requirements.txt").write_text("this-is-not-installed==0\n")
    # Stale outputs from an earlier run must not survive.
    (folder / "result.json").write_text('{"score": 100}')
    (folder / "release-body.md").write_text("stale")
    return folder


def run_autograder(bundle: Path, cwd: Path, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess:
    """Run autograder.py as the runner does; $GITHUB_OUTPUT is ``github_output(tmp_path)``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "CLASSROOM50_"))}
    env.pop("PYTHONPATH", None)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    github_output(tmp_path).write_text("")
    env.update(RUNNER_ENV)
    env.update(
        CLASSROOM50_BUNDLE_DIR=str(bundle),
        CLASSROOM50_SKIP_INSTALL="1",
        RUNNER_TEMP=str(runner_temp),
        PYTHONDONTWRITEBYTECODE="1",
        GITHUB_OUTPUT=str(github_output(tmp_path)),
    )
    if os.environ.get("MNIST_NPZ"):
        env["MNIST_NPZ"] = os.environ["MNIST_NPZ"]
    env.update(extra)
    env = {k: v for k, v in env.items() if v is not None and v != "<unset>"}
    return subprocess.run(
        [sys.executable, str(bundle / "autograder.py")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def github_output(tmp_path: Path) -> Path:
    return tmp_path / "github-output"


def status_outputs(tmp_path: Path) -> dict[str, str]:
    """The status= and summary= lines autograder.py wrote to $GITHUB_OUTPUT."""
    path = github_output(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    found = [line.partition("=") for line in lines]
    assert all(sep for _, sep, _ in found), lines
    keys = [key for key, _, _ in found]
    assert len(keys) == len(set(keys)), f"a key written twice: {lines}"
    return {key: value for key, _, value in found}


def assert_infrastructure_error(tmp_path: Path) -> None:
    """The runner's contract for a failure that is not the student's: no Release, no gradebook entry."""
    outputs = status_outputs(tmp_path)
    assert set(outputs) == {"status", "summary"}, outputs
    assert outputs["status"] == "error"
    assert outputs["summary"].startswith("classroom50 autograde: error")
    assert 0 < len(outputs["summary"]) <= 140 and "\n" not in outputs["summary"]


def accepted_by_runner(document: dict) -> None:
    """The schema, plus the rules runner.py checks in code."""
    jsonschema.validate(document, SCHEMA)
    assert document["classroom"] == RUNNER_ENV["CLASSROOM"]
    assert document["assignment"] == RUNNER_ENV["ASSIGNMENT"]
    assert document["submission"].startswith("submit/")
    for key in ("commit", "release", "review"):
        assert document[key]
    assert 0 <= document["score"] <= document["max-score"]
    for test in document["tests"]:
        assert 0 <= test["score"] <= test["max-score"]
    assert sum(t["score"] for t in document["tests"]) == document["score"]
    assert sum(t["max-score"] for t in document["tests"]) == document["max-score"]


def outputs(cwd: Path) -> tuple[dict, str]:
    document = json.loads((cwd / "result.json").read_text(encoding="utf-8"))
    accepted_by_runner(document)
    body = (cwd / "release-body.md").read_text(encoding="utf-8")
    assert body.strip() and body != "stale"
    return document, body


def no_process_mentions(text: str) -> bool:
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(text in part for part in process.info["cmdline"] or []):
                return False
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return True


# -- the bundle -----------------------------------------------------------------
def test_bundle_contents(bundle, config):
    files = {str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()}
    assert {"autograder.py", "README.md", "requirements.txt", "bundle.json", "grader/__main__.py"} <= files
    assert (bundle / "autograder.py").read_bytes() == (ROOT / "grader" / "platforms" / "classroom50" / "autograder.py").read_bytes()
    assert (bundle / "requirements.txt").read_bytes() == (ROOT / "requirements.txt").read_bytes()
    assert (bundle / "grader" / "config.toml").read_bytes() == config.read_bytes()
    assert not any("__pycache__" in f or f.endswith((".pyc", ".pyo")) for f in files)
    assert not any("solutions" in Path(f).parts for f in files)
    assert not any(f.startswith(("grader/classroom50/", "grader/instructor/")) for f in files)
    solutions = {hashlib.sha256(p.read_bytes()).hexdigest() for p in SOLUTIONS.rglob("*") if p.is_file()}
    assert not solutions & set(digest(bundle).values()), "a reference solution is in the bundle"
    # Everything else of the grader is there, unchanged.
    grader = digest(ROOT / "grader")
    for name, value in digest(bundle / "grader").items():
        if name != "config.toml":
            assert grader.get(name) == value, name
    settings = json.loads((bundle / "bundle.json").read_text())
    assert settings["slug"] == SLUG and settings["lang"] == "es" and settings["python"] == "3.11"


def test_bundle_size_is_under_the_limit(bundle, tmp_path):
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname=SLUG)
    print(f"bundle: {size} bytes, {archive.stat().st_size} bytes as tar.gz")
    assert size < MAX_BYTES and archive.stat().st_size < MAX_BYTES


def test_bundle_readme_says_how_to_configure_classroom50(bundle):
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    assert f"autograders/{SLUG}/" in readme
    assert '"python": "3.11"' in readme and "runtime" in readme
    assert "$" not in readme.replace("$RUNNER_TEMP", "").replace("$GITHUB_OUTPUT", ""), "an unfilled template field"
    # The error test is named as the results name it (autograder.py's catalogue, the one source).
    title = load_autograder(bundle).MESSAGES["es"]["title"]
    assert title == "Error de la calificación automática"
    assert f'"{title}"' in readme and "autograder error" not in readme
    assert "about 10 minutes" in readme  # the Pages delay


def test_bundle_readme_names_the_error_test_in_the_feedback_language(tmp_path):
    bundle = classroom50_bundle.build(tmp_path, lang="en")
    readme = (bundle.path / "README.md").read_text(encoding="utf-8")
    assert f'"{load_autograder(bundle.path).MESSAGES["en"]["title"]}"' in readme


def test_bundle_refuses_bad_slugs_and_foreign_folders(tmp_path):
    assert build(tmp_path, "--slug", "../escape").returncode == 2
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    done = build(tmp_path, "--slug", "taken")
    assert done.returncode == 2 and "not an autograder bundle" in done.stderr
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


def test_bundle_refuses_a_config_that_does_not_load(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[grading]\nno_such_key = 1\n")
    done = build(tmp_path / "out", "--config", str(bad))
    assert done.returncode == 2 and "no_such_key" in done.stderr
    assert not (tmp_path / "out" / SLUG).exists()


def test_bundle_refuses_solution_content(tmp_path, monkeypatch):
    fake_solutions = tmp_path / "solutions"
    fake_solutions.mkdir()
    shutil.copy2(ROOT / "grader" / "results.py", fake_solutions / "results.py")
    monkeypatch.setattr(classroom50_bundle, "SOLUTIONS", fake_solutions)
    with pytest.raises(classroom50_bundle.BundleError, match="reference solution"):
        classroom50_bundle.build(tmp_path / "out")
    assert not (tmp_path / "out" / SLUG).exists()


def test_rebuilding_replaces_the_previous_bundle(tmp_path):
    assert build(tmp_path).returncode == 0
    (tmp_path / SLUG / "leftover.txt").write_text("old")
    assert build(tmp_path).returncode == 0
    assert not (tmp_path / SLUG / "leftover.txt").exists()
    assert load_config(tmp_path / SLUG / "grader" / "config.toml").grading.train_subset == 0
    assert [p.name for p in tmp_path.iterdir()] == [SLUG]


# -- autograder.py ------------------------------------------------------------------
@pytest.mark.slow
def test_reference_solution_gets_full_marks_of_the_code_checks(bundle, tmp_path):
    mnist_npz()
    before = digest(bundle)
    cwd = checkout(tmp_path / "checkout", SOLUTIONS)
    done = run_autograder(bundle, cwd, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    document, body = outputs(cwd)
    checks = {t["id"]: t for t in document["tests"]}
    for check in check_ids("code"):
        assert checks[check]["passed"] and checks[check]["score"] == checks[check]["max-score"], checks[check]
    assert document["max-score"] == load_config(bundle / "grader" / "config.toml").max_score
    assert body.startswith(f"### classroom50 autograde: {document['score']}/{document['max-score']}")
    assert digest(bundle) == before, "grading changed the bundle"


@pytest.mark.slow
def test_stubs_score_zero_and_the_students_grader_is_ignored(bundle, tmp_path):
    mnist_npz()
    cwd = checkout(tmp_path / "checkout", STUBS, hostile=True)
    done = run_autograder(bundle, cwd, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    document, body = outputs(cwd)
    assert document["score"] == 0 and document["max-score"] > 0
    assert {t["id"] for t in document["tests"]} >= set(check_ids("code"))
    assert "NotImplementedError" in body
    assert status_outputs(tmp_path) == {}, "a graded zero is the student's grade: the runner derives failure"


def test_missing_module_is_the_students_zero_not_an_error(bundle, tmp_path):
    cwd = checkout(tmp_path / "checkout", None)
    done = run_autograder(bundle, cwd, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    document, body = outputs(cwd)
    (test,) = document["tests"]
    assert document["score"] == 0 and not test["passed"] and test["id"] == "autograder_error"
    assert document["max-score"] == load_config(bundle / "grader" / "config.toml").max_score
    assert test["message"] == load_autograder(bundle).MESSAGES["es"]["no_module"]
    assert "assignment/mnist_dense.py" in body
    # The student's doing: the 0-point result is published (the runner derives status=failure).
    assert status_outputs(tmp_path) == {}
    assert "dependencies installed" not in done.stdout, "nothing was installed for a missing module"


def test_broken_grader_still_exits_zero_with_an_error_result(bundle, tmp_path):
    broken = tmp_path / "bundle"
    shutil.copytree(bundle, broken)
    (broken / "grader" / "cli.py").write_text("raise RuntimeError('grader is broken')\n")
    cwd = checkout(tmp_path / "checkout", STUBS)
    done = run_autograder(broken, cwd, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    document, body = outputs(cwd)
    assert document["score"] == 0 and document["tests"][0]["id"] == "autograder_error"
    assert "grader is broken" in body
    assert_infrastructure_error(tmp_path)


def test_unusable_bundle_config_still_gives_a_valid_result(bundle, tmp_path):
    broken = tmp_path / "bundle"
    shutil.copytree(bundle, broken)
    (broken / "grader" / "config.toml").write_text("not toml [")
    (broken / "bundle.json").write_text("{")
    cwd = checkout(tmp_path / "checkout", STUBS)
    done = run_autograder(broken, cwd, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    document, _ = outputs(cwd)
    assert document["score"] == 0 and document["max-score"] == 100  # the fallback total
    assert_infrastructure_error(tmp_path)


def test_time_budget_stops_the_grader_and_its_workers(bundle, tmp_path):
    cwd = checkout(tmp_path / "checkout", SOLUTIONS)
    private = tmp_path / "bundle"
    shutil.copytree(bundle, private)
    done = run_autograder(private, cwd, tmp_path, CLASSROOM50_TIME_BUDGET="3")
    assert done.returncode == 0, done.stdout + done.stderr
    document, _ = outputs(cwd)
    assert document["tests"][0]["id"] == "autograder_error"
    assert "tiempo" in document["tests"][0]["message"]
    assert_infrastructure_error(tmp_path)
    assert no_process_mentions(str(private)), "a grader or worker process outlived the autograder"


def test_failed_install_gives_an_error_result(bundle, tmp_path):
    """Without CLASSROOM50_SKIP_INSTALL: a virtual environment, then pip (offline here)."""
    private = tmp_path / "bundle"
    shutil.copytree(bundle, private)
    (private / "requirements.txt").write_text("--no-index\nnot-a-real-distribution-for-this-test==1.0\n")
    cwd = checkout(tmp_path / "checkout", STUBS)
    venv = tmp_path / "venv"
    done = run_autograder(private, cwd, tmp_path, CLASSROOM50_SKIP_INSTALL="<unset>", CLASSROOM50_VENV=str(venv))
    assert done.returncode == 0, done.stdout + done.stderr
    document, body = outputs(cwd)
    assert document["tests"][0]["id"] == "autograder_error"
    assert "pip install" in document["tests"][0]["message"]
    assert "not-a-real-distribution-for-this-test" in body
    assert (venv / "bin" / "python").exists()
    assert not (venv / ".requirements-sha256").exists()
    assert_infrastructure_error(tmp_path)
    assert "pip install" in status_outputs(tmp_path)["summary"]


def test_failed_virtual_environment_is_an_infrastructure_error(bundle, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the venv's parent folder should be")
    cwd = checkout(tmp_path / "checkout", STUBS)
    done = run_autograder(bundle, cwd, tmp_path, CLASSROOM50_SKIP_INSTALL="<unset>", CLASSROOM50_VENV=str(blocker / "venv"))
    assert done.returncode == 0, done.stdout + done.stderr
    document, _ = outputs(cwd)
    assert document["tests"][0]["message"].startswith(load_autograder(bundle).MESSAGES["es"]["venv"])
    assert_infrastructure_error(tmp_path)


# -- autograder.py's failure paths, in this process -------------------------------
def load_autograder(bundle: Path):
    spec = importlib.util.spec_from_file_location("bundle_autograder", bundle / "autograder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def in_process(bundle, tmp_path, monkeypatch):
    """autograder.py's main() in this process, in a checkout with the stubs."""
    module = load_autograder(bundle)
    cwd = checkout(tmp_path / "checkout", STUBS)
    monkeypatch.chdir(cwd)
    for key, value in RUNNER_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CLASSROOM50_SKIP_INSTALL", raising=False)
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path))
    monkeypatch.setenv("GITHUB_OUTPUT", str(github_output(tmp_path)))
    github_output(tmp_path).write_text("")
    monkeypatch.setattr(module, "become_subreaper", lambda: None)  # not on the test process
    return module, cwd


def test_unsupported_python_is_an_infrastructure_error(in_process, tmp_path, monkeypatch):
    module, cwd = in_process
    monkeypatch.setattr(module, "SUPPORTED_PYTHONS", ((3, 99),))
    assert module.main() == 0
    document, _ = outputs(cwd)
    assert "runtime" in document["tests"][0]["message"] and '"python": "3.11"' in document["tests"][0]["message"]
    assert_infrastructure_error(tmp_path)


def test_a_crash_of_the_autograder_is_an_infrastructure_error(in_process, tmp_path, monkeypatch):
    module, cwd = in_process

    def crash(*_):
        raise KeyError("an autograder bug")

    monkeypatch.setattr(module, "install", crash)
    assert module.main() == 0
    document, body = outputs(cwd)
    assert "an autograder bug" in document["tests"][0]["message"] and "Traceback" in body
    assert_infrastructure_error(tmp_path)


def test_without_github_output_only_the_result_is_written(in_process, tmp_path, monkeypatch):
    module, cwd = in_process
    monkeypatch.delenv("GITHUB_OUTPUT")
    monkeypatch.setattr(module, "SUPPORTED_PYTHONS", ((3, 99),))
    assert module.main() == 0
    outputs(cwd)
    assert github_output(tmp_path).read_text() == ""


def test_status_summary_is_one_short_line(bundle):
    module = load_autograder(bundle)
    summary = module.status_summary("pip failed\nwith a very long log line " * 20)
    assert len(summary) <= module.STATUS_SUMMARY_LIMIT == 140
    assert "\n" not in summary and summary.startswith("classroom50 autograde: error")
