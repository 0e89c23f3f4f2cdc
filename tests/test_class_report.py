"""The class report (report.html, report.md) built from student records
alone: statistics, failure groups, flags, uncertain answers highlighted,
student text escaped, self-contained HTML with embedded charts."""

from __future__ import annotations

import base64
import csv
import re

from conftest import HOSTILE

from grader.instructor import class_report, gradebook, records


def build(tmp_path, synthetic_shard, students=None, lang="en"):
    folder = synthetic_shard(tmp_path / "shard", **({"students": students} if students else {}))
    everyone = records.load_all(folder / "students")
    report = class_report.write(tmp_path, everyone, min_accuracy=0.95, lang=lang)
    return report, (tmp_path / "report.html").read_text(encoding="utf-8"), (tmp_path / "report.md").read_text(encoding="utf-8")


def test_statistics(tmp_path, synthetic_shard):
    report, _, _ = build(tmp_path, synthetic_shard)
    assert report.status_counts == {"error": 1, "graded": 3, "timeout": 1}
    assert report.scores == [46, 37, 23] and report.max_score == 46 and report.full_marks == 1
    rates = {c.id: (c.passed, c.graded) for c in report.checks}
    assert rates == {"normalize": (3, 3), "architecture": (1, 3), "compile": (2, 3), "q1": (3, 3), "q2": (2, 3)}
    top = report.failures[0]
    assert (top.key, top.count, top.students, top.checks) == ("architecture.hidden_units", 2, ["ben", "cris"], ["architecture"])
    assert [r.id for r in report.flagged] == ["cris", "dani", "eva"]
    assert report.records[2].flags == ["grader_files_modified", "protected_files_changed"]


def test_html_is_self_contained_with_three_charts(tmp_path, synthetic_shard):
    _, html, _ = build(tmp_path, synthetic_shard)
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 3
    assert all(base64.b64decode(i).startswith(b"\x89PNG\r\n\x1a\n") for i in images)
    assert "Content-Security-Policy" in html
    # the only script is the table sorter, allowed by its hash (no 'unsafe-inline' for scripts)
    assert html.count("<script") == 1 and f'<script id="table-sort">{class_report.SORT_SCRIPT}</script>' in html
    assert f"script-src '{class_report.SORT_SCRIPT_HASH}'" in html and "script-src 'unsafe-inline'" not in html
    html = html.replace(f'<script id="table-sort">{class_report.SORT_SCRIPT}</script>', "")
    assert not re.search(r"<(script|link|iframe|object)\b", html, re.IGNORECASE)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"url\(", html)


def test_student_text_is_escaped_and_uncertain_answers_stand_out(tmp_path, synthetic_shard):
    _, html, markdown = build(tmp_path, synthetic_shard)
    html = html.replace(f'<script id="table-sort">{class_report.SORT_SCRIPT}</script>', "")
    assert HOSTILE not in html and "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;negrita&lt;/b&gt;" in html
    uncertain = re.findall(r'<details class="answer uncertain" open>\s*<summary><code>(q\d)</code>', html)
    assert uncertain == ["q2"]  # ben's
    assert html.count('class="answer uncertain"') == 1  # the legend shows the badge once more
    section = html[html.index('id="s-ben"') : html.index('id="s-cris"')]
    assert "✓ nombre del conjunto de datos" in section and "✗ intervalo resultante" in section
    assert "<script>" not in markdown and "**q2** ⚠ **uncertain: read it**" in markdown


def test_markdown_tables(tmp_path, synthetic_shard):
    _, _, markdown = build(tmp_path, synthetic_shard)
    for heading in ("## Pass rate per check", "## Most frequent failures", "## Flags", "## Gradebook", "## Students"):
        assert heading in markdown
    assert "| 2 | `architecture.hidden_units` | architecture |" in markdown
    assert "| cris | graded | grader_files_modified, protected_files_changed | grader/config.toml (modified) |" in markdown
    assert "### dani · not graded · timeout" in markdown


def test_spanish_summary_counts_the_students_with_full_marks_in_those_words(tmp_path, synthetic_shard):
    # "Nota máxima | 1" beside "Máx. | 46" read as a highest grade of 1.
    _, html, markdown = build(tmp_path, synthetic_shard, lang="es")
    assert "| Con todos los puntos |" in markdown and "Nota máxima" not in markdown
    assert "<b>1</b>con todos los puntos" in html


def test_chart_words_follow_the_language(tmp_path, synthetic_shard, monkeypatch):
    from matplotlib.text import Text

    from grader.instructor import plots

    words: list[str] = []
    draw = plots.data_uri

    def reading(figure):
        words.extend(t.get_text() for t in figure.findobj(Text) if t.get_text())
        return draw(figure)

    monkeypatch.setattr(plots, "data_uri", reading)
    build(tmp_path, synthetic_shard, lang="es")
    shown = " | ".join(words)
    for spanish in (
        "Distribución de las notas (3 calificadas)",
        "nota total (sobre",
        "estudiantes",
        "Tasa de aprobados por comprobación",
        "Precisión en prueba (",
        "mínimo 0.95",
    ):
        assert spanish in shown
    assert not any(english in shown for english in ("Score distribution", "students", "Pass rate", "required"))


def test_class_without_grades_renders(tmp_path, synthetic_shard):
    report, html, markdown = build(tmp_path, synthetic_shard, students=("dani", "eva"))
    assert report.charts == {} and "nothing to chart" in html and "<img" not in html
    assert "No failures." in markdown


def test_gradebook_columns(tmp_path, synthetic_shard):
    folder = synthetic_shard(tmp_path / "shard")
    path = tmp_path / "gradebook.csv"
    gradebook.write(path, records.load_all(folder / "students"), lang="en")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "id",
        "total",
        "max",
        "normalize",
        "architecture",
        "compile",
        "q1",
        "q2",
        "test_accuracy",
        "isolation",
        "commit",
        "flags",
        "changed_files",
        "grading_seconds",
        "status",
    ]
    by_id = {r["id"]: r for r in rows}
    assert by_id["cris"]["total"] == "23" and by_id["cris"]["architecture"] == "9" and by_id["cris"]["compile"] == "0"
    assert by_id["cris"]["flags"] == "grader_files_modified;protected_files_changed"
    assert by_id["cris"]["changed_files"] == "grader/config.toml"
    assert by_id["dani"]["total"] == "0" and by_id["dani"]["max"] == "46"
    assert by_id["dani"]["architecture"] == "" and by_id["dani"]["status"] == "timeout"


def test_every_instructor_string_is_reached_in_both_languages(tmp_path, synthetic_shard, monkeypatch):
    """Reports in every shape (grades or none, flags or none, similar pairs or
    none, a long student list) use every report and status string of the
    catalogues, in Spanish and in English."""
    from similarity_class import make_class

    from grader import i18n
    from grader.instructor import files, similarity
    from grader.instructor.workspace import REPO_ROOT

    reached: set[str] = set()

    def recording(lang, key, **params):
        reached.add(key)
        return i18n.render(lang, key, **params)

    monkeypatch.setattr(class_report, "render", recording)
    monkeypatch.setattr(class_report, "MAX_LISTED", 1)  # "and N more"
    folders = make_class(tmp_path / "class", 5)
    similar = similarity.compare(similarity.read_folders(folders, tuple(files.student_files())), similarity.Template.from_root(REPO_ROOT))
    alone = similarity.compare({}, similarity.Template.from_root(REPO_ROOT))
    everyone = records.load_all(synthetic_shard(tmp_path / "all") / "students")
    unavailable = records.StudentRecord("zoe", "unavailable", message="sin entrega en v1")
    everyone[0].result.review[0].text = ""  # an unanswered question
    for lang in ("es", "en"):
        for group, compared in (
            (everyone + [unavailable], similar),
            ([r for r in everyone if r.id == "ana"], alone),
            ([r for r in everyone if r.id in ("dani", "eva")], None),
        ):
            report = class_report.build(group, 0.95, lang=lang, similar=compared)
            class_report.add_charts(report)
            class_report.render_html(report)
            class_report.render_md(report)
        for key in i18n.catalogue(lang):
            if key.startswith(("instructor.report.", "instructor.status.")):
                assert key in reached, key
    assert set(i18n.catalogue("es")) == set(i18n.catalogue("en"))
