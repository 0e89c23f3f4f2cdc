"""Pytest plugin: every message key in the catalogues is reached by some test.

``grader.i18n.render`` appends each key it renders to the file named by
``GRADER_KEYS_LOG`` (once per process). At configure time the controller
points that variable at a fresh file under the session's temporary folder, so
the grader's subprocesses spawned by tests (gradings, batch, notebook runs)
inherit it, and so do pytest-xdist's workers (``-n auto`` in pytest.ini): only
the controller makes the file and judges it. At the end, only when the whole suite ran
(default ``testpaths`` or ``tests``, nothing selected away) and nothing failed,
the keys of both catalogues that no process rendered are listed and the
session fails.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from grader import i18n

# Keys exempt from the rule, each with the reason no test can reach it. Keep
# it empty: a key no test renders is a message nobody has seen.
ALLOWED: dict[str, str] = {}

_SAVED = pytest.StashKey[str | None]()  # the variable's value before this session
_LOG = pytest.StashKey[Path]()
_DESELECTED = pytest.StashKey[int]()
_REPORT = pytest.StashKey[list[str]]()  # what the terminal summary prints


def catalogue_keys() -> set[str]:
    return {key for lang in i18n.LANGUAGES for key in i18n.catalogue(lang)}


def read_log(path: Path) -> set[str]:
    try:
        return set(path.read_text(encoding="utf-8").split())
    except FileNotFoundError:  # nothing was rendered at all
        return set()


def unreached(logged: Iterable[str], keys: Iterable[str] | None = None, allowed: Iterable[str] = ALLOWED) -> list[str]:
    """The catalogue keys neither logged nor allowed, sorted."""
    return sorted(set(catalogue_keys() if keys is None else keys) - set(logged) - set(allowed))


def partial_run(config: pytest.Config, deselected: int = 0) -> str | None:
    """Why this run is not the whole suite, or None when it is."""
    option = config.option
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        tests = config.rootpath / "tests"
        if [(config.invocation_params.dir / arg).resolve() for arg in config.args] != [tests.resolve()]:
            return "paths or node ids given"
    reasons = {
        "-k": getattr(option, "keyword", ""),
        "-m": getattr(option, "markexpr", ""),
        "--deselect": getattr(option, "deselect", None),
        "--ignore": getattr(option, "ignore", None) or getattr(option, "ignore_glob", None),
        "--lf": getattr(option, "lf", False),
        "--sw": getattr(option, "stepwise", False) or getattr(option, "stepwise_skip", False),
        "--collect-only": getattr(option, "collectonly", False),
        "--setup-only/--setup-plan": getattr(option, "setuponly", False) or getattr(option, "setupplan", False),
    }
    given = [name for name, value in reasons.items() if value]
    if given:
        return ", ".join(given)
    if deselected:
        return f"{deselected} deselected"
    return None


@pytest.hookimpl(trylast=True)  # after the tmpdir plugin has its factory
def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: it inherited the controller's file
        return
    factory = getattr(config, "_tmp_path_factory", None)
    folder = factory.mktemp("keys") if factory is not None else Path(tempfile.mkdtemp(prefix="keys-"))
    log = folder / "keys.log"
    log.touch()
    config.stash[_SAVED] = os.environ.get(i18n.KEYS_LOG_ENV)
    config.stash[_LOG] = log
    config.stash[_DESELECTED] = 0
    os.environ[i18n.KEYS_LOG_ENV] = str(log)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _LOG not in config.stash:
        return
    saved = config.stash[_SAVED]
    if saved is None:
        os.environ.pop(i18n.KEYS_LOG_ENV, None)
    else:
        os.environ[i18n.KEYS_LOG_ENV] = saved


def pytest_deselected(items: list[pytest.Item]) -> None:
    config = items[0].config if items else None
    if config is not None and _DESELECTED in config.stash:
        config.stash[_DESELECTED] += len(items)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if _LOG not in config.stash or exitstatus != pytest.ExitCode.OK or session.testsfailed or not session.testscollected:
        return
    if partial_run(config, config.stash[_DESELECTED]) is not None:
        return
    missing = unreached(read_log(config.stash[_LOG]))
    if not missing:
        return
    lines = [*missing, f"{len(missing)} message key(s) in grader/messages/ that no test renders: add a test that reaches each (tests/key_coverage.py)."]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped:
        lines.append(f"{skipped} test(s) were skipped; some of these keys may be theirs.")
    if reporter is None:
        print("\n".join(lines), file=sys.stderr)
    config.stash[_REPORT] = lines
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    lines = config.stash.get(_REPORT, None)
    if lines:
        terminalreporter.section("message keys never reached", sep="=", red=True, bold=True)
        for line in lines:
            terminalreporter.write_line(line)
