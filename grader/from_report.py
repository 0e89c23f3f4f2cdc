"""report.json (pytest-json-report) -> GradingResult.

The checks record their verdict in each test's ``metadata``; points come
from the config, messages from the catalogue of the requested language.
"""

from __future__ import annotations

from typing import Any

from grader import i18n, spec
from grader.config import Config
from grader.results import CheckResult, GradingResult, points


def verdicts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Check id -> {"fraction", "key", "params"} from the raw report."""
    found: dict[str, dict[str, Any]] = {}
    known = set(spec.check_ids())
    for test in report.get("tests", []):
        metadata = test.get("metadata") or {}
        check = metadata.get("check")
        if check in known and "key" in metadata:
            found[check] = metadata
        elif check in known:
            # The test errored before its body ran: a grader bug, say so.
            found[check] = {"fraction": 0.0, "key": "check.internal_error", "params": {"error_type": test.get("outcome", "error")}}
    return found


def check_from_verdict(check: str, most: int, verdict: dict[str, Any], lang: str) -> CheckResult:
    fraction = float(verdict.get("fraction", 0.0))
    # Exact fractional points (two decimals): they agree with the message. A
    # check short of full marks never rounds up to them.
    passed = fraction >= 1.0
    score = most if passed else max(0, min(points(most * fraction), points(most - 0.01)))
    params = dict(verdict.get("params") or {})
    key = verdict["key"]
    return CheckResult(
        id=check,
        title=i18n.render(lang, spec.check(check).title_key),
        score=score,
        max_score=most,
        passed=passed,
        message=i18n.render(lang, key, **params),
        message_key=key,
        message_params=params,
    )


def result_from_report(report: dict[str, Any], config: Config, lang: str, metrics: dict[str, Any], flags: list[str]) -> GradingResult:
    found = verdicts(report)
    checks = [
        check_from_verdict(check.id, config.points[check.points_key], found[check.id], lang)
        for check in spec.checks()
        if check.points_key in config.points and check.id in found
    ]
    return GradingResult(
        score=points(sum(c.score for c in checks)),
        max_score=sum(c.max_score for c in checks),
        checks=checks,
        metrics=metrics,
        flags=flags,
        language=lang,
    )
