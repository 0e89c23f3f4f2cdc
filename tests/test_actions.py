"""``python -m grader.actions`` in-process, on hand-made grading folders: what
the job summary, the step outputs and the runner's command lines receive.
(test_workflow.py runs the same module as the workflow does, in a subprocess.)"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from grader import actions
from grader.exporters import legacy_classroom, score_json, summary_md
from grader.results import CheckResult, GradingResult


def _result(compile_points: int = 6) -> GradingResult:
    checks = [
        CheckResult("normalize", "Normalización", 10, 10, True, "Bien.", "normalize.ok"),
        CheckResult("compile", "Compilación", compile_points, 12, compile_points == 12, "Mensaje, con: signos", "compile.x"),
    ]
    return GradingResult(10 + compile_points, 22, checks, {"test_accuracy": 0.98})


def _folder(tmp_path: Path, result: GradingResult, *, payload: GradingResult | None = None, summary: bool = True) -> Path:
    folder = tmp_path / "grading"
    folder.mkdir()
    (folder / actions.SCORE_FILE).write_text(score_json.dumps(result), encoding="utf-8")
    if summary:
        (folder / actions.SUMMARY_FILE).write_text(summary_md.render(result).rstrip("\n"), encoding="utf-8")
    encoded = legacy_classroom.encode(legacy_classroom.to_legacy_payload(payload or result))
    (folder / actions.PAYLOAD_FILE).write_text(encoded + "\n", encoding="ascii")
    return folder


def _publish(tmp_path: Path, folder: Path, lang: str | None = None) -> tuple[int, list[str], str, str]:
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary"), "GITHUB_OUTPUT": str(tmp_path / "step-output")}
    if lang:
        env["GRADER_LANG"] = lang
    out = io.StringIO()
    code = actions.publish(folder, env, out)
    read = lambda name: (tmp_path / name).read_text(encoding="utf-8") if (tmp_path / name).exists() else ""  # noqa: E731
    return code, out.getvalue().splitlines(), read("step-summary"), read("step-output")


def test_a_graded_folder_publishes_summary_outputs_and_the_reporter_notices(tmp_path):
    folder = _folder(tmp_path, _result())
    code, lines, summary, output = _publish(tmp_path, folder)
    assert code == 0
    assert summary == (folder / actions.SUMMARY_FILE).read_text(encoding="utf-8") + "\n"  # ends its line
    encoded = (folder / actions.PAYLOAD_FILE).read_text().strip()
    assert output == f"result={encoded}\npoints=16\nmax=22\nexact=16\n"
    assert lines == ["::notice title=Autograding complete::Points 16/22", '::notice title=Autograding report::{"totalPoints":16,"maxPoints":22}']


def test_without_summary_md_the_grade_is_still_published(tmp_path):
    code, _, summary, output = _publish(tmp_path, _folder(tmp_path, _result(), summary=False))
    assert code == 0 and summary == "" and "points=16\n" in output


@pytest.mark.parametrize("missing", [actions.SCORE_FILE, actions.PAYLOAD_FILE])
def test_a_missing_file_is_an_error_not_a_grade(tmp_path, missing):
    folder = _folder(tmp_path, _result())
    (folder / missing).unlink()
    code, lines, summary, output = _publish(tmp_path, folder, lang="en")
    assert code == 1 and output == ""
    assert len(lines) == 1 and lines[0].startswith("::error ") and missing in lines[0]
    assert missing in summary and "Automatic grading" in summary


def test_a_payload_that_disagrees_with_score_json_is_an_error(tmp_path):
    folder = _folder(tmp_path, _result(12), payload=_result(0))
    code, lines, _, output = _publish(tmp_path, folder)
    assert code == 1 and output == "" and lines[0].startswith("::error ")
    assert "10/22" in lines[0] and "22/22" in lines[0]


def test_an_unknown_language_falls_back_to_spanish(tmp_path):
    code, _, summary, _ = _publish(tmp_path, tmp_path / "nowhere", lang="xx")
    assert code == 1 and "Calificación automática" in summary


@pytest.mark.parametrize(
    ("value", "multiline"),
    [("plain", False), ("a\nb", True), ("a\rb", True), ("a\r\nb", True), ("", False)],
)
def test_step_outputs_with_a_line_break_use_a_delimiter(value, multiline):
    text = actions.output_lines({"x": value})
    if not multiline:
        assert text == f"x={value}\n"
    else:
        first, *rest = text.split("\n")
        name, delimiter = first.split("<<")
        assert name == "x" and delimiter.startswith("ghadelimiter_") and text.endswith(f"\n{delimiter}\n")
        assert "\n".join(rest).removesuffix(f"\n{delimiter}\n") == value


def test_grading_dir_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv("GRADING_DIR", raising=False)
    assert actions.grading_dir() == Path("grading")
    monkeypatch.setenv("GRADING_DIR", "elsewhere")
    assert actions.grading_dir() == Path("elsewhere") and actions.grading_dir("given") == Path("given")
