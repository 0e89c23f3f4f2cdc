"""Text from a submission shows literally in every human-read output.

An exception text, a printed line or an answer can hold Markdown, HTML or a
workflow command. Rendered the way each reader renders it (GitHub's own
cmark-gfm for summary.md, release-body.md and report.md; an HTML parser for
report.html; the runner's command syntax for ``::error``), it is the same
text again: no image, no ``<details>``, no link, no bold, no extra table
cell, no second command. Stub results built by hand: no grading runs here.
"""

from __future__ import annotations

import html
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from grader import actions
from grader.exporters import classroom50, gradescope, legacy_classroom, outputs, score_json, summary_md
from grader.exporters.escape import markdown_code, markdown_text, one_line, workflow_data, workflow_property
from grader.instructor import class_report, records
from grader.instructor.similarity import Comparison, Pair, Settings
from grader.results import AnswerReview, CheckResult, GradingResult

# The attack of issue 17 item 5, and the rest of Markdown's inline syntax.
ATTACK = (
    "ValueError: <img src=x onerror=alert(1)> <details open><summary>ok</summary> "
    "[**Nota final 100/100**](https://evil.example/nota) a|b `code` ~~tachado~~ _cursiva_ *x* "
    "\\ &amp; &#60;b&#62; www.evil.example <https://evil.example> ![i](https://evil.example/i.png)"
)
# Lines that would start a block (heading, list, quote, rule) where the text starts a line.
BLOCK_STARTS = ("# Nota 100", "1. uno", "3) tres", "- guion", "+ mas", "> cita", "===", "---", "***", "<!-- c -->", "    sangrado")


class _Collect(HTMLParser):
    """The tags of an HTML fragment and the text of each table cell / list item / paragraph."""

    BLOCKS = ("td", "th", "li", "p", "h1", "h2", "h3", "blockquote")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.links: list[tuple[str, str]] = []  # the href and id of every <a>
        self.rows: list[list[str]] = []
        self.tables: list[list[list[str]]] = []
        self.blocks: list[tuple[str, str]] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.links.append((dict(attrs).get("href") or "", dict(attrs).get("id") or ""))
        if tag == "table":
            self.tables.append([])
        if tag == "tr":
            self.rows.append([])
            self.tables[-1].append(self.rows[-1])
        if tag in self.BLOCKS:
            self._open.append((tag, []))

    def handle_endtag(self, tag):
        if tag in self.BLOCKS and self._open and self._open[-1][0] == tag:
            name, parts = self._open.pop()
            text = "".join(parts).strip()
            self.blocks.append((name, text))
            if name in ("td", "th") and self.rows:
                self.rows[-1].append(text)

    def handle_data(self, data):
        for _, parts in self._open:
            parts.append(data)


def gfm(markdown: str) -> _Collect:
    """``markdown`` rendered as GitHub renders it (raw HTML let through, so none may be there)."""
    collect = _Collect()
    collect.feed(cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE))
    return collect


FORBIDDEN = {"a", "img", "details", "summary", "strong", "em", "del", "code", "h1", "h2", "blockquote", "ol", "hr", "pre"}


@pytest.mark.parametrize("text", [ATTACK, *BLOCK_STARTS, "a\nb\r\n\tc\x00d\x1b[31m", "  leading | and trailing  "])
def test_markdown_text_renders_as_the_text_itself(text):
    escaped = markdown_text(text)
    assert "\n" not in escaped and "\r" not in escaped
    for markdown, place in (
        (f"| x | y |\n|---|---|\n| {escaped} | z |\n", "td"),
        (f"- {escaped}\n", "li"),
        (f"{escaped}\n", "p"),
    ):
        page = gfm(markdown)
        assert not FORBIDDEN & set(page.tags), (markdown, page.tags)
        assert (place, one_line(text)) in page.blocks, (markdown, page.blocks)
        if place == "td":
            assert page.rows == [["x", "y"], [one_line(text), "z"]]


def test_one_line_turns_every_line_break_and_control_character_into_one_space():
    assert one_line("a\nb\r\n\tc\x00d\x7f\x85e\u2028f\u2029  g ") == "a b c d e f g"
    assert one_line("ñ · ✓ «»") == "ñ · ✓ «»"


def test_markdown_text_escapes_exactly_what_markdown_reads():
    assert markdown_text("0.97 - ok (x) #3 a:b") == "0.97 - ok (x) #3 a:b"  # plain prose stays readable
    assert markdown_text("a|b*c_d`e[f]g~h\\i") == "a\\|b\\*c\\_d\\`e\\[f\\]g\\~h\\\\i"
    assert markdown_text("<b> & x") == "&lt;b&gt; &amp; x"
    assert markdown_text("see https://x.io or www.x.io") == "see https\\://x.io or www\\.x.io"
    assert [markdown_text(t) for t in ("# h", "12. x", "3) y", "- z", "+ w", "= v")] == ["\\# h", "12\\. x", "3\\) y", "\\- z", "\\+ w", "\\= v"]


def test_markdown_code_cannot_end_its_code_span():
    inside = markdown_code("a` **b** <img src=x>\n\n# c")
    page = gfm(f"no se encontró `{inside}`.")
    assert page.tags == ["p", "code"]


def _check(message: str, title: str = "Normalización", score: int = 0, maximum: int = 10) -> CheckResult:
    return CheckResult("normalize", title, score, maximum, score == maximum, message, "step.error", {"error_message": message})


def _result(message: str = ATTACK, title: str = "Normalización", answer: str = ATTACK) -> GradingResult:
    checks = [_check(message, title), CheckResult("compile", "Compilación", 12, 12, True, "Bien.", "compile.ok")]
    review = [AnswerReview("q1", answer, [], ["idea"], True)]
    return GradingResult(12, 22, checks, {"test_accuracy": 0.97}, [], review)


def test_summary_md_table_keeps_its_columns_and_shows_the_exception_literally():
    page = gfm(summary_md.render(_result(ATTACK + " | otra | celda")))
    assert not FORBIDDEN - {"strong", "h1"} & set(page.tags)
    assert page.tags.count("strong") == 1  # the total, from the template
    header, *rows = page.rows
    assert all(len(row) == len(header) == 4 for row in rows)
    assert rows[0][3] == one_line(ATTACK + " | otra | celda")


def test_summary_md_title_is_escaped_too():
    page = gfm(summary_md.render(_result("x", title="# <b>Título</b> | falso")))
    assert page.rows[1][0] == "# <b>Título</b> | falso" and "b" not in page.tags


@pytest.mark.parametrize("summary", ["from-template", ""], ids=["with-summary", "fallback-table"])
def test_classroom50_release_body_shows_the_text_literally(summary):
    result = _result(ATTACK, title=f"Paso | {ATTACK}")
    body = classroom50.release_body(result, summary_md.render(result) if summary else "")
    page = gfm(body)
    assert not {"a", "img", "details", "em", "del", "code"} & set(page.tags)
    header, *rows = page.rows
    assert all(len(row) == len(header) for row in rows)
    assert rows[0][0] == one_line(f"Paso | {ATTACK}")


def test_gradescope_output_is_plain_text_and_verbatim():
    document = gradescope.to_gradescope(_result(ATTACK))
    # "text": Gradescope renders no HTML or Markdown, so the text needs no escape and keeps every character.
    assert document["test_output_format"] == document["test_name_format"] == "text"
    assert document["tests"][0]["output"] == ATTACK


def _report(tmp_path: Path) -> tuple[str, str]:
    student = records.StudentRecord("ana", "graded", "/class/ana", "k", 3.0, result=_result(ATTACK, title=ATTACK, answer=f"{ATTACK}\n# titular\n- lista"))
    failed = records.StudentRecord("ben", "error", "/class/ben", "k", 1.0, message=f"No se pudo calificar: {ATTACK}", changed_files=[f"{ATTACK} (added)"])
    shared = f"x = 1  # {ATTACK}"
    pair = Pair("ana", "ben", "q1", 0.9, [(0, len(shared))], [(0, len(shared))], shared, shared)
    similar = Comparison(Settings(), [pair], ["ana", "ben"], ["q1"])
    report = class_report.build([student, failed], 0.95, lang="es", similar=similar)
    return class_report.render_md(report), class_report.render_html(report)


def test_class_report_markdown_shows_student_text_literally(tmp_path):
    markdown, _ = _report(tmp_path)
    page = gfm(markdown)
    assert not {"img", "details", "del", "em"} & set(page.tags)
    # the only <a> are the report's own: the attention list's links to each student's section, and those sections' anchors
    assert all(href.startswith("#s-") if href else anchor.startswith("s-") for href, anchor in page.links), page.links
    texts = [text for _, text in page.blocks]
    # ben's message (flags table and his section), ana's check title, message and answer, the shared passage.
    assert sum(one_line(ATTACK) in t for t in texts) >= 6
    assert any(t.startswith("x = 1 # " + one_line(ATTACK)[:20]) for t in texts)
    assert len(page.tables) >= 4 and all(len(row) == len(table[0]) for table in page.tables for row in table)
    # The answer's own "# titular" line stays a quoted line, not a heading.
    assert "h3" in page.tags and not any(name in ("h1", "h2") and "titular" in text for name, text in page.blocks)


def test_class_report_html_shows_student_text_literally(tmp_path):
    _, page_html = _report(tmp_path)
    collect = _Collect()
    collect.feed(page_html)
    assert "img" not in collect.tags or "onerror" not in page_html.replace("onerror=alert(1)&gt;", "")
    assert "<details open><summary>ok" not in page_html and "<img src=x" not in page_html
    assert html.escape("<img src=x onerror=alert(1)>", quote=False) in page_html


def test_workflow_command_text_cannot_start_another_command():
    text = "falta\n::error title=Falso::100/100\r\n%0A::set-output name=points::76"
    assert workflow_data(text) == "falta%0A::error title=Falso::100/100%0D%0A%250A::set-output name=points::76"
    assert workflow_property("a: b, c%\n") == "a%3A b%2C c%25%0A"


def test_actions_error_for_a_broken_folder_is_one_escaped_command(tmp_path):
    folder = tmp_path / "nota\n::error title=Nota::100\n`x` **y**"
    summary = tmp_path / "summary.md"
    out = io.StringIO()
    code = actions.publish(folder, {"GITHUB_STEP_SUMMARY": str(summary)}, out)
    assert code == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("::error title=Calificaci")
    message = lines[0].split("::", 2)[2]
    assert message.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%") == str(folder / "score.json")
    page = gfm(summary.read_text(encoding="utf-8"))
    assert "strong" not in page.tags and page.tags.count("code") == 1


def test_legacy_notices_are_single_commands():
    result = _result("línea 1\n::error::no")
    for line in (legacy_classroom.points_notice(result), legacy_classroom.report_notice(result)):
        assert "\n" not in line and line.count("::") == 2


# -- a check above its points is never a grade --------------------------------------------
def _over() -> GradingResult:
    return GradingResult(11, 10, [_check("x", score=11, maximum=10)], {"test_accuracy": 0.97})


def _negative() -> GradingResult:
    return GradingResult(-1, 10, [_check("x", score=-1, maximum=10)], {"test_accuracy": 0.97})


EXPORTS = {
    "summary.md": summary_md.render,
    "result.json": lambda r: classroom50.to_result_json(r, {}),
    "release-body.md": lambda r: classroom50.release_body(r, ""),
    "gradescope.json": gradescope.to_gradescope,
    "legacy": legacy_classroom.to_legacy_payload,
    "all files": lambda r: outputs.files(r, outputs.ExportEnv()),
}


@pytest.mark.parametrize("export", list(EXPORTS), ids=list(EXPORTS))
@pytest.mark.parametrize("make", [_over, _negative], ids=["above-maximum", "negative"])
def test_a_check_outside_its_points_is_refused(export, make):
    with pytest.raises(ValueError, match="scores"):
        EXPORTS[export](make())


@pytest.mark.parametrize("export", list(EXPORTS), ids=list(EXPORTS))
def test_a_check_at_its_maximum_is_exported(export):
    full = GradingResult(10, 10, [_check("x", score=10, maximum=10)], {"test_accuracy": 0.97})
    assert EXPORTS[export](full)
    assert json.loads(score_json.dumps(full))["checks"][0]["score"] == 10
