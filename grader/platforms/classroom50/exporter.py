"""Classroom 50 exporter: ``result.json`` (``classroom50/result/v1``) and
``release-body.md`` from a :class:`~grader.results.GradingResult`.

Contract (foundation50/classroom50, ``cli/gh-teacher/skeleton/dotgithub/
scripts/runner.py`` and ``wiki/Advanced-Autograding.md``): the runner executes
``autograder.py`` with the student's checkout as working directory and reads
``./result.json`` (required) and ``./release-body.md`` (optional, synthesized
when absent) from there after a zero exit. It passes ``CLASSROOM``,
``ASSIGNMENT``, ``SUBMISSION_TAG``, ``USERNAME``/``OWNER``,
``ASSIGNMENT_TYPE``, ``COMMIT_URL``, ``RELEASE_URL``, ``REVIEW_URL`` and the
usual ``GITHUB_*`` variables. Before validating, the runner overwrites
``owner``, ``assignment_type``, ``datetime``, ``graded_at`` and
``submitted_by``; every other field is ours and must already be right.

Both functions are pure: the clock is read only when ``now`` is not given.
"""

from __future__ import annotations

import datetime as _dt
import urllib.parse
from collections.abc import Mapping
from typing import Any

from grader.exporters import summary_md
from grader.exporters.common import check_totals, refuse_quick, unique_names
from grader.exporters.escape import markdown_text
from grader.exporters.protocol import ExportEnv, json_text
from grader.results import GradingResult, whole_points

SCHEMA = "classroom50/result/v1"
RESULT_FILENAME = "result.json"
RELEASE_BODY_FILENAME = "release-body.md"

# Used when the environment does not say (a local run, outside the runner).
DEFAULT_CLASSROOM = "local"
DEFAULT_ASSIGNMENT = "mnist-dense"
DEFAULT_OWNER = "unknown"
DEFAULT_SERVER_URL = "https://github.com"
LOCAL_LINK = "local"
ASSIGNMENT_TYPES = ("individual", "group")
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# GitHub refuses a release body longer than this (API error "body is too
# long (maximum is 125000 characters)"); the runner publishes ours verbatim.
MAX_RELEASE_BODY_CHARS = 125_000


def to_result_json(
    result: GradingResult,
    env: Mapping[str, str],
    *,
    now: _dt.datetime | None = None,
) -> dict[str, Any]:
    """The ``result.json`` document for ``result``.

    ``env`` is the process environment (or a fixed mapping in tests). Every
    field the schema requires is present: values come from ``env`` when it
    has them and fall back to values derived from ``GITHUB_*`` or to local
    placeholders otherwise. ``now`` stamps ``datetime`` and ``graded_at``
    (the runner replaces both with the commit's committer date and its own
    clock).

    Raises ``ValueError`` when the result's scores are not non-negative
    integers, a check scores above its maximum, or the checks do not add up
    to ``result.score`` / ``result.max_score``. Points are whole
    (:func:`~grader.results.whole_points`): the schema takes integers.
    """
    refuse_quick(result)
    check_totals(result)
    result = whole_points(result)
    score, max_score = _totals(result)
    classroom = _get(env, "CLASSROOM") or DEFAULT_CLASSROOM
    assignment = _get(env, "ASSIGNMENT") or DEFAULT_ASSIGNMENT
    repository = _get(env, "GITHUB_REPOSITORY")
    sha = _get(env, "GITHUB_SHA")
    server = (_get(env, "GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/")

    submission = _get(env, "SUBMISSION_TAG")
    if not submission.startswith("submit/"):
        # The runner always hands a canonical submit/<UTC>-<short-sha> tag;
        # anything else (or nothing) would fail its validation.
        submission = f"submit/local-{sha[:7]}" if sha else "submit/local"

    commit = _get(env, "COMMIT_URL")
    if not commit:
        if repository and sha:
            commit = f"{server}/{repository}/commit/{sha}"
        else:
            commit = sha or LOCAL_LINK
    release = _get(env, "RELEASE_URL")
    if not release:
        if repository:
            tag = urllib.parse.quote(submission, safe="")
            release = f"{server}/{repository}/releases/tag/{tag}"
        else:
            release = LOCAL_LINK
    review = _get(env, "REVIEW_URL") or commit

    stamp = now or _dt.datetime.now(_dt.UTC)
    if stamp.tzinfo is None:  # a naive time is taken to be UTC already
        stamp = stamp.replace(tzinfo=_dt.UTC)
    when = stamp.astimezone(_dt.UTC).strftime(DATETIME_FORMAT)

    document: dict[str, Any] = {
        "schema": SCHEMA,
        "classroom": classroom,
        "assignment": assignment,
        "assignment_type": _assignment_type(env),
        "owner": _owner(env, classroom, assignment),
        "submission": submission,
        "commit": commit,
        "release": release,
        "review": review,
        "datetime": when,
        "graded_at": when,
        "score": score,
        "max-score": max_score,
        "tests": [
            {
                "test-name": name,
                "passed": bool(check.passed),
                "score": _int(check.score, f"score of {check.id!r}"),
                "max-score": _int(check.max_score, f"max_score of {check.id!r}"),
                # Extra fields are allowed and kept verbatim by the runner.
                "id": check.id,
                "message": check.message,
            }
            for name, check in zip(unique_names(result.checks), result.checks)
        ],
    }
    actor = _get(env, "GITHUB_ACTOR")
    if actor:
        raw_id = _get(env, "GITHUB_ACTOR_ID")
        document["submitted_by"] = {
            "username": actor,
            "id": int(raw_id) if raw_id.isdigit() else None,
        }
    return document


def release_body(result: GradingResult, summary_md: str) -> str:
    """The ``release-body.md`` Markdown: a score heading, then ``summary_md``.

    With an empty summary the body is the runner's own table (test, PASS or
    FAIL, score). The runner appends its removed-files note to this file and
    mirrors it to the run's Summary page. The heading has the whole points
    of result.json.
    """
    refuse_quick(result)
    check_totals(result)
    result = whole_points(result)
    score, max_score = _totals(result)
    lines = [f"### classroom50 autograde: {score}/{max_score}", ""]
    summary = summary_md.strip()
    if summary:
        lines.append(summary)
    else:
        lines += ["| Test | Result | Score |", "|---|---|---|"]
        for name, check in zip(unique_names(result.checks), result.checks):
            verdict = "PASS" if check.passed else "FAIL"
            cell = markdown_text(name)
            lines.append(f"| {cell} | {verdict} | {check.score} / {check.max_score} |")
    body = "\n".join(lines) + "\n"
    if len(body) > MAX_RELEASE_BODY_CHARS:
        note = "\n\n_(truncated)_\n"
        body = body[: MAX_RELEASE_BODY_CHARS - len(note)] + note
    return body


def _get(env: Mapping[str, str], key: str) -> str:
    return (env.get(key) or "").strip()


def _assignment_type(env: Mapping[str, str]) -> str:
    # ASSIGNMENT_TYPE is what the runner hands autograder.py; MODE is the
    # manifest mode it derives it from. Anything unknown is "individual",
    # the strictest type, as in runner.py's assignment_type_for_mode.
    value = (_get(env, "ASSIGNMENT_TYPE") or _get(env, "MODE")).lower()
    return value if value in ASSIGNMENT_TYPES else "individual"


def _owner(env: Mapping[str, str], classroom: str, assignment: str) -> str:
    for key in ("OWNER", "USERNAME"):
        if _get(env, key):
            return _get(env, key)
    # runner.py's username_from_repo: <owner>/<classroom>-<assignment>-<user>.
    repo = _get(env, "GITHUB_REPOSITORY").rpartition("/")[2]
    prefix = f"{classroom.lower()}-{assignment.lower()}-"
    if repo.lower().startswith(prefix) and len(repo) > len(prefix):
        return repo[len(prefix) :]
    return _get(env, "GITHUB_ACTOR") or DEFAULT_OWNER


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} is a boolean, not a number of points")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number of points, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}")
    return value


def _totals(result: GradingResult) -> tuple[int, int]:
    score = _int(result.score, "score")
    max_score = _int(result.max_score, "max_score")
    if score > max_score:
        raise ValueError(f"score {score} is above max_score {max_score}")
    got = want = 0
    for check in result.checks:
        points = _int(check.score, f"score of {check.id!r}")
        most = _int(check.max_score, f"max_score of {check.id!r}")
        if points > most:
            raise ValueError(f"check {check.id!r} scores {points} of {most}")
        got += points
        want += most
    if result.checks and (got, want) != (score, max_score):
        raise ValueError(f"checks add up to {got}/{want}, but the result says {score}/{max_score}")
    return score, max_score


class Classroom50Files:
    """``result.json`` and ``release-body.md``: what Classroom 50's runner reads from the checkout."""

    names, publishing = (RESULT_FILENAME, RELEASE_BODY_FILENAME), True

    def files(self, result: GradingResult, env: ExportEnv) -> dict[str, str | bytes]:
        return {
            RESULT_FILENAME: json_text(to_result_json(result, env.environ)),
            RELEASE_BODY_FILENAME: release_body(result, summary_md.render(result)),
        }
