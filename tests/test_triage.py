"""The "needs attention" list of the class report: every reason, in order,
with a link to the student's section, in both languages and both formats; the
grade table sorted by score; plain counts; the untouched-template measure."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from grader.instructor import class_report, files, records, similarity, triage, untouched
from grader.instructor.workspace import REPO_ROOT
from grader.results import AnswerReview, CheckResult, GradingResult


def result(score: int, review: tuple[str, ...] = (), isolation: str = "namespaces", flags: tuple[str, ...] = ()) -> GradingResult:
    checks = [CheckResult("normalize", "Paso 3", score, 100, score == 100, "m", "normalize.ok")]
    answers = [AnswerReview(q, "texto", [], ["idea"], True) for q in review]
    graded = GradingResult(score, 100, checks, {}, list(flags), answers)
    object.__setattr__(graded, "isolation", isolation)
    return graded


def klass() -> list[records.StudentRecord]:
    return [
        records.StudentRecord("ana", "graded", result=result(95), lines_changed=240),
        records.StudentRecord("ben", "unavailable", message="git clone failed: Could not resolve host", lines_changed=None),
        records.StudentRecord("cris", "graded", result=result(0), lines_changed=0),
        records.StudentRecord("dani", "graded", result=result(12), lines_changed=4),
        records.StudentRecord("eva", "graded", result=result(40, flags=("import_failed",)), lines_changed=80),
        records.StudentRecord("fede", "graded", result=result(88, isolation="process"), lines_changed=200),
        records.StudentRecord("gala", "graded", result=result(91, review=("q4", "q6")), lines_changed=210),
        records.StudentRecord("hugo", "graded", result=result(91), lines_changed=220, changed_files=["grader/config.toml (modified)"]),
        records.StudentRecord("ines", "timeout", message="killed after 900 s (--timeout)", lines_changed=150),
        records.StudentRecord("juan", "error", message="the grader exited with code 1", lines_changed=90),
    ]


def comparison() -> similarity.Comparison:
    pairs = [similarity.Pair("ana", "fede", "q1", 0.9), similarity.Pair("ana", "fede", "q2", 0.64), similarity.Pair("ana", "gala", "q3", 0.2)]
    return similarity.Comparison(similarity.Settings(), pairs, ["ana", "fede", "gala"], ["q1", "q2", "q3"])


def test_every_reason_in_order():
    listed = triage.needs_attention(klass(), "namespaces", comparison())
    found = {a.id: [r.key for r in a.reasons] for a in listed}
    assert found == {
        "ben": ["unavailable"],
        "ines": ["not_graded"],
        "juan": ["not_graded"],
        "cris": ["untouched"],
        "dani": ["nearly_untouched"],
        "eva": ["import_failed"],
        "fede": ["isolation", "similar"],
        "hugo": ["flags"],
        "ana": ["similar"],
        "gala": ["review"],
    }
    assert [a.id for a in listed] == ["ben", "ines", "juan", "cris", "dani", "eva", "fede", "hugo", "ana", "gala"]
    similar = next(r for r in listed if r.id == "ana").reasons[0]
    assert similar.params == {"other": "fede", "parts": "q1 0.90, q2 0.64"}  # gala's 0.20 is under the threshold
    assert triage.needs_attention([klass()[0]], "namespaces") == []


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "es",
            [
                "Necesitan atención",
                "la plantilla sin tocar",
                "casi sin tocar: solo 4 línea(s)",
                "no se pudo importar",
                "por debajo del exigido (namespaces)",
                "parecida a fede (q1 0.90, q2 0.64)",
                "2 respuesta(s) para leer: q4, q6",
                "git clone failed: Could not resolve host",
                "sin calificar: tiempo agotado",
                "avisos: protected_files_changed",
                "7 calificados",
                "1 no disponible",
                "1 con error",
                "1 con tiempo agotado",
            ],
        ),
        (
            "en",
            [
                "Needs attention",
                "the untouched template",
                "nearly untouched: only 4 line(s)",
                "could not be imported",
                "below the level required (namespaces)",
                "similar to fede (q1 0.90, q2 0.64)",
                "2 answer(s) to read: q4, q6",
                "git clone failed: Could not resolve host",
                "not graded: timeout (killed",
                "flags: protected_files_changed",
                "7 graded",
                "1 unavailable",
                "1 with an error",
                "1 timed out",
            ],
        ),
    ],
)
def test_the_list_heads_both_reports(tmp_path, lang, words):
    report = class_report.write(tmp_path, klass(), 0.95, lang=lang, similar=comparison(), required_isolation="namespaces")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    # report.md escapes Markdown's punctuation (protected\\_files): compare the text it renders to
    markdown = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", (tmp_path / "report.md").read_text(encoding="utf-8"))
    top = html[html.index('id="attention"') : html.index('class="cards"')]
    for text in words[:-4]:
        assert text in top, text
        assert text in markdown, text
    for text in words[-4:]:  # counts read as plain words, in the cards and the summary table
        assert text in html and text in markdown, text
    for item in report.attention:
        assert f'<a href="#s-{item.id}">' in top and f'id="s-{item.id}"' in html
        assert f"(#s-{item.id})" in markdown and f'<a id="s-{item.id}"></a>' in markdown
    assert markdown.index(words[0]) < markdown.index("## " + ("Notas" if lang == "es" else "Gradebook"))


def test_nobody_needs_attention(tmp_path):
    class_report.write(tmp_path, [klass()[0]], lang="en", required_isolation="namespaces")
    assert "Nobody needs attention" in (tmp_path / "report.html").read_text(encoding="utf-8")
    class_report.write(tmp_path, [klass()[0]], lang="es", required_isolation="namespaces")
    assert "Nadie necesita atención" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_the_grade_table_is_sorted_by_score(tmp_path):
    report = class_report.write(tmp_path, klass(), lang="es")
    assert [r.id for r in report.by_score] == ["ana", "gala", "hugo", "fede", "eva", "dani", "cris", "ben", "ines", "juan"]
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    table = html[html.index('id="grades"') :]
    assert table.index('href="#s-ana"') < table.index('href="#s-gala"') < table.index('href="#s-cris"') < table.index('href="#s-ben"')
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    book = markdown[markdown.index("## Notas") :]
    assert book.index("| ana |") < book.index("| cris |") < book.index("| ines |")


def test_lines_changed_against_the_released_template(tmp_path):
    paths = files.student_files()
    released = {rel: (REPO_ROOT / rel).read_bytes() for rel in paths}
    assert untouched.lines_changed(released, REPO_ROOT, paths) == 0
    edited = dict(released)
    code = "assignment/mnist_dense.py"
    edited[code] = released[code].replace(b"raise NotImplementedError", b"return None", 1)
    assert untouched.lines_changed(edited, REPO_ROOT, paths) == 2  # one line out, one in
    answered = dict(released, **{"assignment/answers/q1.md": released["assignment/answers/q1.md"] + b"una\ndos\ntres\n"})
    assert untouched.lines_changed(answered, REPO_ROOT, paths) == 3
    missing = {k: v for k, v in released.items() if k != code}
    assert untouched.lines_changed(missing, REPO_ROOT, paths) == len(released[code].splitlines())


def test_the_batch_records_lines_changed(tmp_path):
    from tests.test_batch_guards import new_batch

    shutil.copytree(REPO_ROOT / "assignment", tmp_path / "class" / "ana" / "assignment", ignore=shutil.ignore_patterns("__pycache__", "explore"))
    bob = Path(tmp_path / "class" / "bob")
    shutil.copytree(REPO_ROOT / "assignment", bob / "assignment", ignore=shutil.ignore_patterns("__pycache__", "explore"))
    shutil.copy(REPO_ROOT / "solutions" / "mnist_dense.py", bob / "assignment" / "mnist_dense.py")
    run = new_batch(tmp_path)
    from grader.instructor import roster

    run.plan(roster.list_submissions(tmp_path / "class"))
    assert run.pending["ana"].lines_changed == 0
    assert run.pending["bob"].lines_changed > untouched.NEARLY_UNTOUCHED


def test_counts_read_as_words():
    assert class_report.counted("calificado|calificados", 1) == "calificado"
    assert class_report.counted("calificado|calificados", 6) == "calificados"
    assert class_report.counted("graded", 6) == "graded"
