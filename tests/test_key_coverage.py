"""The key-coverage rule (tests/key_coverage.py): ``grader.i18n`` records the
keys it renders in ``GRADER_KEYS_LOG``, from any process, and a full, green
run fails when a catalogue key was never rendered."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from key_coverage import ALLOWED, catalogue_keys, read_log, unreached

from grader import i18n
from grader.config import load_config
from grader.sandbox import supervisor

ROOT = Path(__file__).resolve().parents[1]
RENDER = "import sys; from grader import i18n; [i18n.render('en', key) for key in sys.argv[1:] * 2]"
PLAIN = ("progress.starting", "progress.checks")  # keys whose templates take no field


def _child_env(log: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != i18n.KEYS_LOG_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    if log is not None:
        env[i18n.KEYS_LOG_ENV] = str(log)
    return env


def test_concurrent_processes_each_append_the_keys_they_render_once(tmp_path: Path) -> None:
    log = tmp_path / "keys.log"
    children = [subprocess.Popen([sys.executable, "-c", RENDER, *PLAIN], env=_child_env(log)) for _ in range(3)]
    assert [child.wait(timeout=60) for child in children] == [0, 0, 0]
    lines = log.read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == sorted(PLAIN * 3)  # whole lines, once per process although rendered twice
    assert read_log(log) == set(PLAIN)


def test_without_the_variable_nothing_is_written(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", RENDER, *PLAIN], cwd=tmp_path, env=_child_env(None), timeout=60, check=False)
    assert done.returncode == 0 and list(tmp_path.iterdir()) == []


def test_the_sandboxed_worker_does_not_inherit_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(i18n.KEYS_LOG_ENV, str(tmp_path / "keys.log"))
    module = tmp_path / "mnist_dense.py"
    module.write_text("")
    worker_env = supervisor.Supervisor(load_config(), module, tmp_path / "mnist.npz", tmp_path / "sandbox")._environment()
    assert i18n.KEYS_LOG_ENV not in supervisor.INHERITED_ENV and i18n.KEYS_LOG_ENV not in worker_env


def test_the_comparison_names_each_key_not_reached_nor_allowed(tmp_path: Path) -> None:
    assert unreached(["a", "c"], keys=["a", "b", "c", "d"], allowed=["d"]) == ["b"]
    assert unreached(read_log(tmp_path / "absent.log"), keys=["x"], allowed=[]) == ["x"]
    assert set(ALLOWED) <= catalogue_keys(), "an exemption for a key the catalogues no longer have"
    assert catalogue_keys() >= set(i18n.catalogue("es")) | set(i18n.catalogue("en"))


INNER = """
import os, subprocess, sys
from grader import i18n
from grader.config import load_config

SPARED = os.environ["INNER_SPARED"]


def test_every_key_but_one():
    for key in sorted({k for lang in i18n.LANGUAGES for k in i18n.catalogue(lang)} - {SPARED}):
        i18n._log_key(key)


def test_other():
    if os.environ.get("INNER_CHILD"):  # the spared key, rendered by a grandchild process
        subprocess.run([sys.executable, "-c", "from grader import i18n; i18n.render('es', %r)" % SPARED], check=True)
    assert not os.environ.get("INNER_FAIL")
"""


SCENARIOS: dict[str, tuple[list[str], dict[str, str]]] = {  # name -> (pytest arguments, environment)
    "full": ([], {}),
    "child": ([], {"INNER_CHILD": "1"}),
    "named": (["tests"], {}),
    "failing": ([], {"INNER_FAIL": "1"}),
    "-k": (["-k", "every"], {}),
    "-m": (["-m", "not slow"], {}),
    "file": (["tests/test_inner.py"], {}),
    "node": (["tests/test_inner.py::test_other"], {}),
    "--deselect": (["--deselect", "tests/test_inner.py::test_other"], {}),
}


@pytest.fixture(scope="module")
def inner(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Each scenario's (exit code, output): a suite in its own root (testpaths = tests)
    with the plugin, run by pytest in subprocesses started all at once."""
    project = tmp_path_factory.mktemp("project")
    (project / "tests").mkdir()
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n", encoding="utf-8")
    (project / "tests" / "conftest.py").write_text('pytest_plugins = ["key_coverage"]\n', encoding="utf-8")
    (project / "tests" / "test_inner.py").write_text(textwrap.dedent(INNER), encoding="utf-8")
    running = {}
    for name, (args, env) in SCENARIOS.items():
        basetemp = tmp_path_factory.mktemp("basetemp")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={basetemp}", *args]
        environment = _child_env(None) | {"INNER_SPARED": PLAIN[0]} | env
        running[name] = subprocess.Popen(command, cwd=project, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return {name: (child.wait(timeout=300), child.communicate()[0]) for name, child in running.items()}


def test_a_full_green_run_fails_on_a_key_no_process_rendered(inner: dict[str, tuple[int, str]]) -> None:
    code, output = inner["full"]
    assert code == pytest.ExitCode.TESTS_FAILED, output
    assert "message keys never reached" in output
    assert f"\n{PLAIN[0]}\n" in output and "1 message key(s)" in output
    assert "2 passed" in output


def test_a_key_rendered_by_a_subprocess_counts(inner: dict[str, tuple[int, str]]) -> None:
    code, output = inner["child"]
    assert code == pytest.ExitCode.OK and "never reached" not in output, output


def test_the_whole_suite_named_as_tests_is_checked(inner: dict[str, tuple[int, str]]) -> None:
    code, output = inner["named"]
    assert code == pytest.ExitCode.TESTS_FAILED and "never reached" in output, output


def test_a_run_with_failures_reports_only_them(inner: dict[str, tuple[int, str]]) -> None:
    code, output = inner["failing"]
    assert code == pytest.ExitCode.TESTS_FAILED, output
    assert "1 failed" in output and "never reached" not in output


@pytest.mark.parametrize("scenario", ["-k", "-m", "file", "node", "--deselect"])
def test_a_partial_run_is_not_checked(inner: dict[str, tuple[int, str]], scenario: str) -> None:
    code, output = inner[scenario]
    assert code == pytest.ExitCode.OK and "never reached" not in output, output
