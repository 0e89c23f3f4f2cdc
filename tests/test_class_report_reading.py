"""The class report as an instructor reads it (report.md rendered the way GitHub
renders it, report.html parsed): the gradebook's order, the counts in words, and
student ids that Markdown would read as emphasis. Stub records: no grading runs."""

from __future__ import annotations

from test_escaping import _Collect, gfm

from grader.instructor import class_report, records
from grader.instructor.similarity import Comparison, Pair, Settings
from grader.results import CheckResult, GradingResult


def _result(score: int, maximum: int = 40) -> GradingResult:
    checks = [CheckResult("architecture", "Arquitectura", score, maximum, score == maximum, "Revisa las capas.", "architecture.hidden_units")]
    return GradingResult(score, maximum, checks, {"test_accuracy": 0.97})


def _graded(ident: str, score: int, **fields) -> records.StudentRecord:
    return records.StudentRecord(ident, "graded", f"/class/{ident}", "k", 3.0, result=_result(score), **fields)


# Ids given so that alphabetical order, score order and "not graded last" all differ.
CLASS = [
    _graded("bea", 20),
    records.StudentRecord("abel", "timeout", "/class/abel", "k", 45.0, message="killed after 45 s (--timeout)"),
    _graded("cata", 40),
    records.StudentRecord("ana", "error", "/class/ana", "k", 1.0, message="No se pudo calificar"),
    _graded("dora", 30),
    _graded("ema", 30),
]


def _table(page: _Collect, first_header: str, second_header: str) -> list[list[str]]:
    [table] = [t for t in page.tables if t[0][:2] == [first_header, second_header]]
    return table


def test_the_markdown_gradebook_lists_the_highest_score_first_and_those_not_graded_last():
    page = gfm(class_report.render_md(class_report.build(CLASS, 0.95, lang="en")))
    header, *rows = _table(page, "Student", "Score")
    assert [(row[0], row[1]) for row in rows] == [
        ("cata", "40/40"),
        ("dora", "30/40"),  # a tie: by id
        ("ema", "30/40"),
        ("bea", "20/40"),
        ("abel", "–"),  # not graded: last, by id
        ("ana", "–"),
    ]


def test_the_html_gradebook_starts_in_the_same_order():
    html = class_report.render_html(class_report.build(CLASS, 0.95, lang="en"))
    page = _Collect()
    page.feed(html)
    [table] = [t for t in page.tables if t[0][:2] == ["Student", "Score"]]
    assert [row[0] for row in table[1:]] == ["cata", "dora", "ema", "bea", "abel", "ana"]


def test_each_status_count_reads_in_the_singular_or_the_plural():
    # Spanish words a count: "1 con error", "3 calificados", never "1 con errores" or "3 calificado".
    markdown = class_report.render_md(class_report.build(CLASS, 0.95, lang="es"))
    subtitle = markdown.splitlines()[2]
    assert "6 entregas: 1 con error, 4 calificados, 1 con tiempo agotado ·" in subtitle, subtitle
    header = _table(gfm(markdown), "Entregas", "con error")[0]
    assert header[:4] == ["Entregas", "con error", "calificados", "con tiempo agotado"]
    one = class_report.render_md(class_report.build([_graded("bea", 20), *CLASS[1:2], *CLASS[3:4]], 0.95, lang="es"))
    assert "3 entregas: 1 con error, 1 calificado, 1 con tiempo agotado ·" in one.splitlines()[2]
    two = class_report.render_md(class_report.build([*CLASS[3:4], records.StudentRecord("zoe", "error", message="x")], 0.95, lang="es"))
    assert "2 entregas: 2 con errores ·" in two.splitlines()[2]


# A roster may give any id of letters, digits, ".", "_" and "-": "_ana_" would read as *ana*.
EMPHASIS_IDS = ("_ana_", "__ben__", "_cy_")


def test_an_id_that_markdown_reads_as_emphasis_shows_literally_everywhere():
    ana = _graded("_ana_", 20, changed_files=["grader/config.toml (modified)"])  # flagged, and in a failure group
    ben = _graded("__ben__", 30)
    cy = records.StudentRecord("_cy_", "timeout", "/class/_cy_", "k", 45.0, message="killed")  # needs attention
    shared = "model = keras.Sequential()"
    pair = Pair("_ana_", "__ben__", "q1", 0.9, [(0, len(shared))], [(0, len(shared))], shared, shared)
    similar = Comparison(Settings(), [pair], ["_ana_", "__ben__"], ["q1"])
    markdown = class_report.render_md(class_report.build([ana, ben, cy], 0.95, lang="en", similar=similar))
    page = gfm(markdown)
    assert "em" not in page.tags and "strong" not in page.tags
    texts = [text for _, text in page.blocks]
    # the attention list (a link to each section), the failure group, the flags table, the similar pair,
    # the gradebook and each student's heading
    assert any(text.startswith("_cy_: ") for name, text in page.blocks if name == "li"), page.blocks
    assert ("#s-_cy_", "") in page.links
    failures = _table(page, "Times", "Cause")
    assert failures[1][4] == "__ben__, _ana_"
    assert _table(page, "Student", "Status")[1][0] == "_ana_"
    assert _table(page, "Pair", "Part")[1][0] == "_ana_ · __ben__"
    assert [row[0] for row in _table(page, "Student", "Score")[1:]] == ["__ben__", "_ana_", "_cy_"]
    headings = [text.split(" · ")[0] for name, text in page.blocks if name == "h3"]
    assert headings == ["__ben__", "_ana_", "_cy_"]
    assert sum(text.count("__ben__") for text in texts) >= 5
