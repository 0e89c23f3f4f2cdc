"""Names and fields the platforms show: one clean line per test name, distinct
names when titles repeat, the Classroom 50 owner and timestamps as the runner
expects them. Stub results, no grading."""

from __future__ import annotations

import datetime as dt

from grader.exporters import classroom50, gradescope
from grader.exporters.common import clean, unique_names
from grader.results import CheckResult, GradingResult


def _check(ident: str, title: str) -> CheckResult:
    return CheckResult(ident, title, 1, 1, True, "ok", "x.ok")


def test_clean_makes_one_line_without_control_characters():
    assert clean("Paso\t3:\n normalizar\x00\x1b[31m\x7f fin  ") == "Paso 3: normalizar [31m fin"
    assert clean("áé ñ · ✓") == "áé ñ · ✓"  # printable text is kept


def test_test_names_are_clean_and_distinct():
    checks = [
        _check("a\nb", "Paso\n3"),
        _check("dup\t1", "Igual"),
        _check("dup\t2", "Igual"),
        _check("id\x00x", ""),
        _check("", "\x01"),
        _check("same", "T"),
        _check("same", "T"),
        _check("same", "T"),
        _check("\x01", "Sin id"),
        _check("\x02", "Sin id"),
    ]
    names = unique_names(checks)
    assert names == ["Paso 3", "Igual (dup 1)", "Igual (dup 2)", "id x", "check", "T (same)", "T (same) #2", "T (same) #3", "Sin id", "Sin id #2"]
    assert len(set(names)) == len(names)


def test_a_unique_title_is_the_name_alone():
    assert unique_names([_check("normalize", "Normalización"), _check("compile", "Compilación")]) == ["Normalización", "Compilación"]


def test_platform_test_names_are_the_clean_names():
    result = GradingResult(2, 2, [_check("a", "Uno\r\ndos"), _check("b", "Uno\r\ndos")], {"test_accuracy": 0.9})
    assert [t["name"] for t in gradescope.to_gradescope(result)["tests"]] == ["Uno dos (a)", "Uno dos (b)"]
    assert [t["test-name"] for t in classroom50.to_result_json(result, {})["tests"]] == ["Uno dos (a)", "Uno dos (b)"]


def _result() -> GradingResult:
    return GradingResult(1, 1, [_check("a", "A")], {"test_accuracy": 0.9})


def test_a_naive_time_is_taken_as_utc_and_an_aware_one_converted():
    naive = classroom50.to_result_json(_result(), {}, now=dt.datetime(2026, 6, 1, 14, 32, 1))
    aware = classroom50.to_result_json(_result(), {}, now=dt.datetime(2026, 6, 1, 16, 32, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    assert naive["datetime"] == naive["graded_at"] == aware["datetime"] == "2026-06-01T14:32:01Z"


def test_the_owner_comes_from_the_repository_name_after_the_assignment_prefix():
    env = {"CLASSROOM": "ML-2026", "ASSIGNMENT": "mnist-dense", "GITHUB_ACTOR": "teacher"}
    owner = lambda repo: classroom50.to_result_json(_result(), env | {"GITHUB_REPOSITORY": repo})["owner"]  # noqa: E731
    assert owner("course/ml-2026-mnist-dense-alice") == "alice"
    # Only the prefix (no student after it), or another assignment: the actor.
    assert owner("course/ml-2026-mnist-dense-") == "teacher"
    assert owner("course/other-repo-alice") == "teacher"
    assert classroom50.to_result_json(_result(), env | {"USERNAME": "bob", "GITHUB_REPOSITORY": "c/ml-2026-mnist-dense-alice"})["owner"] == "bob"
    assert classroom50.to_result_json(_result(), {})["owner"] == classroom50.DEFAULT_OWNER
