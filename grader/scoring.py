"""Check outcomes (in memory, one per check) -> GradingResult.

The checks leave one :class:`CheckOutcome` each (``grader/checks/plugin.py``);
points come from the config, titles and messages from the catalogue of the
requested language. A check the registry knows whose outcome is missing (it
never ran) scores 0 with the grader's own-fault message: it never vanishes
from the total.
"""

from __future__ import annotations

from typing import Any

from grader import i18n, spec
from grader.checks.verdict import CheckOutcome
from grader.config import Config
from grader.results import CheckResult, GradingResult, points


def score_check(outcome: CheckOutcome, most: int, lang: str) -> CheckResult:
    """One row of the result: ``outcome``'s share of ``most`` points, its message in ``lang``."""
    # Exact fractional points (two decimals): they agree with the message. A
    # check short of full marks never rounds up to them.
    passed = outcome.fraction >= 1.0
    score = most if passed else max(0, min(points(most * outcome.fraction), points(most - 0.01)))
    return CheckResult(
        id=outcome.check,
        title=i18n.render(lang, spec.check_by_id(outcome.check).title_key),
        score=score,
        max_score=most,
        passed=passed,
        message=i18n.render(lang, outcome.key, **outcome.params),
        message_key=outcome.key,
        message_params=dict(outcome.params),
    )


def result_from_outcomes(outcomes: dict[str, CheckOutcome], config: Config, lang: str, metrics: dict[str, Any], flags: list[str]) -> GradingResult:
    """The grade: every check with points in ``config``, in the registry's order."""
    graded = [c for c in spec.checks() if c.points_key in config.points]
    found = [outcomes.get(c.id) or CheckOutcome.internal_error(c.id, "not_run") for c in graded]
    checks = [score_check(outcome, config.points[c.points_key], lang) for c, outcome in zip(graded, found, strict=True)]
    for outcome in found:
        metrics.update(outcome.metrics)
    return GradingResult(
        score=points(sum(c.score for c in checks)),
        max_score=sum(c.max_score for c in checks),
        checks=checks,
        metrics=metrics,
        flags=flags,
        review=sorted((entry for outcome in found for entry in outcome.review), key=lambda entry: entry.id),
        language=lang,
    )
