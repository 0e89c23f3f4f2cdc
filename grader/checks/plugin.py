"""The pytest plugin that hands checks their context and collects their outcomes.

Each check test leaves one :class:`CheckOutcome` in ``outcomes`` (in memory:
the grade is assembled from these, see ``grader/scoring.py``). The same
verdict also goes into pytest-json-report's per-test ``metadata``, so
``report.json`` stays the raw record of the run.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.checks.context import GradingContext
from grader.checks.verdict import CheckOutcome, Verdict

VERDICT = pytest.StashKey[Verdict]()


def check_id(item: pytest.Item) -> str:
    marker = item.get_closest_marker("check")
    return marker.args[0] if marker else item.name


class GradingPlugin:
    def __init__(self, context: GradingContext) -> None:
        self.context = context
        self.outcomes: dict[str, CheckOutcome] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "check(id): the check id this test grades")

    @pytest.fixture
    def ctx(self) -> GradingContext:
        return self.context

    @pytest.fixture
    def verdict(self, request: pytest.FixtureRequest) -> Verdict:
        verdict = Verdict()
        request.node.stash[VERDICT] = verdict
        return verdict

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> None:
        """Record the check's outcome (before any hook wrapper, pytest-json-report's among them, reads it)."""
        check = check_id(item)
        error = call.excinfo.value if call.excinfo else None
        if call.when == "call":
            self.outcomes[check] = CheckOutcome.of(check, item.stash.get(VERDICT, Verdict()), error)
        elif call.when == "setup" and error is not None:
            # The check never ran (a fixture failed): a grader bug, said as such.
            self.outcomes[check] = CheckOutcome.internal_error(check, type(error).__name__)

    def pytest_json_runtest_metadata(self, item: pytest.Item, call: pytest.CallInfo) -> dict[str, Any]:
        outcome = self.outcomes.get(check_id(item))
        if call.when == "teardown" or outcome is None:
            return {}
        return {"check": outcome.check, "fraction": outcome.fraction, "key": outcome.key, "params": _plain(outcome.params), "metrics": _plain(outcome.metrics)}


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain_value(v) for k, v in params.items()}


def _plain_value(value: Any) -> Any:
    """JSON-ready: scalars as they are, nested messages (dicts, lists) kept, the rest as text."""
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_value(v) for v in value]
    return str(value)
