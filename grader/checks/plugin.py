"""The pytest plugin that hands checks their context and records verdicts.

Each check's verdict (catalogue key, fields, fraction of its points) goes into
pytest-json-report's per-test ``metadata``, so ``report.json`` alone is
enough to rebuild the grade (see ``grader/from_report.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.checks.context import GradingContext
from grader.checks.verdict import CheckFailed, Verdict

VERDICT = pytest.StashKey[Verdict]()


class GradingPlugin:
    def __init__(self, context: GradingContext) -> None:
        self.context = context

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

    def pytest_json_runtest_metadata(self, item: pytest.Item, call: pytest.CallInfo) -> dict[str, Any]:
        if call.when != "call":
            return {}
        marker = item.get_closest_marker("check")
        metadata: dict[str, Any] = {"check": marker.args[0] if marker else item.name}
        error = call.excinfo.value if call.excinfo else None
        if isinstance(error, CheckFailed):
            metadata.update(fraction=error.fraction, key=error.key, params=_plain(error.params))
        elif error is not None:
            metadata.update(fraction=0.0, key="check.internal_error", params={"error_type": type(error).__name__})
        else:
            verdict = item.stash.get(VERDICT, Verdict())
            metadata.update(fraction=1.0, key=verdict.key, params=_plain(verdict.params))
        return metadata


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
