"""The platforms' one registry (grader/platforms/), fast: no training, no grading.

* every platform package is registered, and cli and outputs take their
  commands and exporters from the registry;
* a new platform is one new folder plus one registry line: a toy platform
  added that way to a copy of the grader is listed by ``python -m grader``,
  its command runs, and its exporter writes its file for a graded result;
* the old module names are the moved modules themselves;
* the standalone Classroom 50 autograder reads messages and schema facts that
  are exactly what the generator makes from the catalogues and the schema,
  in the source tree and in a bundle, and renders them as the grader does.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cli, i18n, platforms
from grader.exporters import outputs
from grader.platforms.base import Platform
from grader.platforms.classroom50 import autograder_data

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS_DIR = ROOT / "grader" / "platforms"


# -- the registry ------------------------------------------------------------------------
def test_every_platform_package_is_registered_once_under_its_folder_name():
    folders = sorted(p.name for p in PLATFORMS_DIR.iterdir() if (p / "__init__.py").is_file())
    assert sorted(name.rsplit(".", 1)[1] for name in platforms.REGISTRY) == folders
    assert len(set(platforms.REGISTRY)) == len(platforms.REGISTRY)
    for module, platform in zip(platforms.REGISTRY, platforms.platforms()):
        assert isinstance(platform, Platform) and module.endswith("." + platform.name)


def test_the_registry_names_modules_that_exist():
    for platform in platforms.platforms():
        for module in (platform.packager, platform.runner):
            if module is not None:
                assert importlib.util.find_spec(module) is not None, module
        if platform.workflow is not None:
            assert (ROOT / ".github" / "workflows" / platform.workflow).is_file()
        assert (platform.command is None) == (platform.packager is None)


def test_cli_offers_the_platform_commands_from_the_registry():
    assert {"bundle": "grader.platforms.classroom50.packager", "gradescope": "grader.platforms.gradescope.packager"} == platforms.commands()
    for command, module in platforms.commands().items():
        assert cli.COMMANDS[command] == module
        assert callable(importlib.import_module(module).main)


def test_outputs_write_every_registered_exporter():
    registered = platforms.exporters()
    assert registered and all(exporter in outputs.EXPORTERS for exporter in registered)
    assert all(exporter.publishing for exporter in registered)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("grader.exporters.classroom50", "grader.platforms.classroom50.exporter"),
        ("grader.exporters.gradescope", "grader.platforms.gradescope.exporter"),
        ("grader.exporters.legacy_classroom", "grader.platforms.legacy_classroom.exporter"),
        ("grader.classroom50_bundle", "grader.platforms.classroom50.packager"),
        ("grader.classroom50.autograder", "grader.platforms.classroom50.autograder"),
        ("grader.gradescope.autograder_zip", "grader.platforms.gradescope.packager"),
        ("grader.gradescope.run", "grader.platforms.gradescope.runner"),
        ("grader.actions", "grader.platforms.github_actions.runner"),
    ],
)
def test_an_old_module_name_is_the_moved_module(old, new):
    assert importlib.import_module(old) is importlib.import_module(new)


def test_python_m_on_an_old_runner_name_still_runs_it(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, "-m", "grader.actions", "--help"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and "usage: python -m grader.actions" in done.stdout


# -- a new platform: one folder and one registry line ----------------------------------------
TOY_INIT = '''\
"""A toy platform: it reads toy.txt."""

from grader.platforms.base import Platform
from grader.platforms.toy.exporter import ToyFiles

PLATFORM = Platform(name="toy", title="Toy", exporter=ToyFiles(), command="toy-pack", packager="grader.platforms.toy.packager")
'''
TOY_EXPORTER = """\
from grader.results import GradingResult


class ToyFiles:
    names, publishing = ("toy.txt",), True

    def files(self, result: GradingResult, env) -> dict[str, str | bytes]:
        return {"toy.txt": f"{result.score}/{result.max_score} {[c.id for c in result.checks]}\\n"}
"""
TOY_PACKAGER = """\
from pathlib import Path


def main(argv: list[str]) -> int:
    Path(argv[0]).write_text("toy package\\n")
    print("packed", argv[0])
    return 0
"""
WRITE_OUTPUTS = """\
import sys
from pathlib import Path

from grader import grade
from grader.config import load_config
from grader.results import CheckResult, GradingResult

check = CheckResult("normalize", "Normalizar", 10, 10, True, "bien", "", {})
for mode in ("full", "quick"):
    result = GradingResult(10, 10, [check], {}, mode=mode)
    grade._write_outputs(Path(sys.argv[1]) / mode, result, {}, Path(sys.argv[1]) / "no-output", load_config(None))
"""


@pytest.fixture(scope="module")
def toy_grader(tmp_path_factory):
    """A copy of grader/ with the toy platform added: its folder and one registry line, nothing else."""
    root = tmp_path_factory.mktemp("toy")
    shutil.copytree(ROOT / "grader", root / "grader", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    toy = root / "grader" / "platforms" / "toy"
    toy.mkdir()
    (toy / "__init__.py").write_text(TOY_INIT)
    (toy / "exporter.py").write_text(TOY_EXPORTER)
    (toy / "packager.py").write_text(TOY_PACKAGER)
    registry = root / "grader" / "platforms" / "__init__.py"
    text = registry.read_text(encoding="utf-8")
    last = f'    "{platforms.REGISTRY[-1]}",\n'
    registry.write_text(text.replace(last, last + '    "grader.platforms.toy",\n'), encoding="utf-8")
    return root


def run_copy(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1", PYTHONSAFEPATH="1")
    work = root / "cwd"
    work.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=work, timeout=120)


def test_the_toy_platform_is_one_new_folder_and_one_registry_line(toy_grader):
    source = {p.relative_to(ROOT / "grader") for p in (ROOT / "grader").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    copy = {p.relative_to(toy_grader / "grader") for p in (toy_grader / "grader").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert {p.parts[:2] for p in copy - source} == {("platforms", "toy")} and not source - copy
    changed = [p for p in source if (ROOT / "grader" / p).read_bytes() != (toy_grader / "grader" / p).read_bytes()]
    assert changed == [Path("platforms/__init__.py")]
    before = (ROOT / "grader" / changed[0]).read_text(encoding="utf-8").splitlines()
    after = (toy_grader / "grader" / changed[0]).read_text(encoding="utf-8").splitlines()
    edits = [line for line in difflib.ndiff(before, after) if line[:1] in "+-"]
    assert edits == ['+     "grader.platforms.toy",']


def test_python_m_grader_lists_and_runs_the_toy_command(toy_grader, tmp_path):
    listed = run_copy(toy_grader, "-m", "grader", "--help")
    assert listed.returncode == 0, listed.stderr
    assert "toy-pack" in listed.stdout and "bundle" in listed.stdout
    made = run_copy(toy_grader, "-m", "grader", "toy-pack", str(tmp_path / "toy.pkg"))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "toy.pkg").read_text() == "toy package\n"


def test_the_toy_exporter_writes_its_file_for_a_graded_result(toy_grader, tmp_path):
    script = tmp_path / "write_outputs.py"
    script.write_text(WRITE_OUTPUTS)
    done = run_copy(toy_grader, str(script), str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "full" / "toy.txt").read_text() == "10/10 ['normalize']\n"
    assert (tmp_path / "full" / outputs.RESULT_JSON).is_file()  # beside the other platforms' files
    assert not (tmp_path / "quick" / "toy.txt").exists()  # a publishing file: never for a quick self-check
    assert (tmp_path / "quick" / outputs.SCORE_JSON).is_file()


# -- the Classroom 50 autograder's generated data ---------------------------------------------
def load_autograder():
    spec = importlib.util.spec_from_file_location("c50_autograder_platforms", PLATFORMS_DIR / "classroom50" / "autograder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_autograder_data_beside_it_is_what_the_generator_makes():
    """Refresh with ``python -m grader.platforms.classroom50.autograder_data`` when this fails."""
    assert autograder_data.DATA_FILE.read_text(encoding="utf-8") == autograder_data.dumps(autograder_data.generate())


def test_a_bundle_carries_freshly_generated_autograder_data(tmp_path):
    from grader.platforms.classroom50 import packager

    bundle = packager.build(tmp_path).path
    assert (bundle / autograder_data.FILE_NAME).read_text(encoding="utf-8") == autograder_data.dumps(autograder_data.generate())
    assert (bundle / "grader" / "platforms" / "bounded_run.py").is_file()  # what autograder.py imports


def test_the_generated_schema_facts_come_from_the_schema():
    schema = json.loads(autograder_data.SCHEMA_FILE.read_text(encoding="utf-8"))
    facts = autograder_data.generate()["schema"]
    assert facts["id"] == schema["properties"]["schema"]["const"] == outputs.classroom50.SCHEMA
    assert facts["required"] == schema["required"] and "owner" in facts["required"]
    assert facts["submission_prefix"] == "submit/"
    assert facts["assignment_types"] == list(outputs.classroom50.ASSIGNMENT_TYPES)


def sample(template: str) -> dict[str, object]:
    values = {"seconds": 12.5, "max_score": 100, "code": 3}
    return {name: values.get(name, f"<{name}>") for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_autograder_renders_each_message_as_the_grader_does(lang, monkeypatch):
    module = load_autograder()
    monkeypatch.setattr(module, "language", lambda: lang)
    keys = autograder_data.messages(lang)
    assert set(keys) == set(module.MESSAGES[lang]) and {"title", "no_module", "timeout", "summary"} <= set(keys)
    for key, template in keys.items():
        params = sample(template)
        assert module.text(key, **params) == i18n.render(lang, "classroom50." + key, **params)


def test_the_autograder_checks_the_required_fields_of_the_schema():
    module = load_autograder()
    document = module.error_result("a reason")
    document["submission"] = "submit/1"
    module.validate_result(document)  # its own error result passes its own check
    del document["owner"]
    with pytest.raises(ValueError, match="missing owner"):
        module.validate_result(document)
    document = module.error_result("a reason") | {"assignment_type": "team"}
    with pytest.raises(ValueError, match="assignment_type"):
        module.validate_result(document)


BOUNDED = """\
import os, sys, time
from pathlib import Path

from grader.platforms import bounded_run

folder = Path(sys.argv[1])
DAEMON = (
    "import subprocess, sys, time; from pathlib import Path; "
    "d = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], start_new_session=True); "
    "Path(sys.argv[1]).write_text(str(d.pid)); time.sleep(float(sys.argv[2]))"
)


def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] not in "ZX"
    except OSError:
        return False


import ctypes

PR_GET_DUMPABLE = 3
prctl = ctypes.CDLL(None, use_errno=True).prctl
print("subreaper", bounded_run.become_subreaper(), prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
bounded_run.become_subreaper(dumpable=False)
print("undumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
for name, stay in (("exits", "0"), ("hangs", "120")):
    pid_file = folder / name
    code = bounded_run.run_bounded([sys.executable, "-c", DAEMON, str(pid_file), stay], folder / "log", 3.0)
    print(name, code, alive(int(pid_file.read_text())), bounded_run.descendants(os.getpid()))
"""


def test_the_shared_kill_leaves_no_process_behind(tmp_path):
    """bounded_run in a runner (a subreaper): the daemon a command left, or a command that hung, is gone when it returns."""
    if not sys.platform.startswith("linux"):
        pytest.skip("a subreaper and /proc are Linux's")
    script = tmp_path / "bounded.py"
    script.write_text(BOUNDED)
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["subreaper True 1", "undumpable 0", "exits 0 False []", "hangs None False []"]


def test_the_kill_freezes_a_tree_before_killing_it(monkeypatch):
    """Every process found is stopped (SIGSTOP) before any is killed, so a fork loop cannot outrun the kill."""
    import signal

    from grader.platforms import bounded_run

    found = iter([[111, 222], [111, 222, 333], [111, 222, 333]])
    monkeypatch.setattr(bounded_run, "descendants", lambda root: next(found, []))
    sent: list[tuple[list[int], int]] = []
    monkeypatch.setattr(bounded_run, "_signal", lambda pids, signum: sent.append((list(pids), signum)))
    monkeypatch.setattr(bounded_run.time, "sleep", lambda seconds: None)
    bounded_run.kill_descendants(root=1)
    assert sent == [([111, 222], signal.SIGSTOP), ([333], signal.SIGSTOP), ([111, 222, 333], signal.SIGKILL)]


def test_a_timed_out_command_is_killed_even_without_proc(monkeypatch, tmp_path):
    """Where no descendant can be listed (no /proc), the command itself is still killed at the deadline."""
    import time

    from grader.platforms import bounded_run

    monkeypatch.setattr(bounded_run, "kill_descendants", lambda root=None: None)
    started = time.monotonic()
    assert bounded_run.run_bounded([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path / "log", 1.0) is None
    assert time.monotonic() - started < 15


def test_a_deadline_keeps_its_reserve():
    from grader.platforms import bounded_run

    left = bounded_run.Deadline(100.0, reserve=20.0).left()
    assert 79.0 < left <= 80.0
    assert bounded_run.Deadline(100.0).left() > 99.0
    assert bounded_run.Deadline(5.0, reserve=20.0).left() == 1.0  # never less than a second


def test_the_time_budget_is_the_first_number_given():
    from grader.platforms import bounded_run

    assert bounded_run.budget(("", None, "bad", "12"), 5.0) == 12.0 and bounded_run.budget((), 5.0) == 5.0


def test_a_bundle_without_its_grader_copy_still_gets_an_error_result(tmp_path):
    """autograder.py imports the shared kill from the bundle's grader/: without it, the runner still gets a result and status=error."""
    from grader.platforms.classroom50 import packager

    bundle = packager.build(tmp_path / "bundles").path
    shutil.rmtree(bundle / "grader")
    checkout = tmp_path / "checkout"
    (checkout / "assignment").mkdir(parents=True)
    outputs_file = tmp_path / "github_output"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"GITHUB_OUTPUT": str(outputs_file), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, str(bundle / "autograder.py")], cwd=checkout, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    document = json.loads((checkout / "result.json").read_text(encoding="utf-8"))
    assert document["score"] == 0 and document["tests"][0]["id"] == "autograder_error"
    assert document["tests"][0]["message"].startswith("Error inesperado del autocalificador: ModuleNotFoundError")
    assert "status=error" in outputs_file.read_text(encoding="utf-8")
