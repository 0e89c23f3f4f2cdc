"""Similarity between submissions (``grader.instructor.similarity``) on a
generated class of 12 (``similarity_class``), no training: the copied pairs
rank first for their parts, no independent pair reaches the documented
threshold, template-only answers score 0, the CSV and the report sections
show the shared passages."""

from __future__ import annotations

import csv
import itertools

import pytest

from similarity_class import lightly_edited, make_class

from grader.instructor import class_report, files, records, similarity
from grader.instructor.workspace import REPO_ROOT
from grader.results import GradingResult

COPIED = {"q4": ("s00", "s01"), "q6": ("s00", "s01"), "code": ("s02", "s03")}
TEMPLATE_ONLY = "s04"
THRESHOLD = 0.5  # docs/instructors.md, "Similarity"; grader/config.toml [similarity]


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    folders = make_class(tmp_path_factory.mktemp("class"), 12)
    return similarity.read_folders(folders, tuple(files.student_files()))


@pytest.fixture(scope="module")
def compared(submissions):
    return similarity.compare(submissions, similarity.Template.from_root(REPO_ROOT), similarity.Settings.from_config(REPO_ROOT / "grader" / "config.toml"))


def test_the_documented_threshold_is_the_configured_one():
    assert similarity.Settings.from_config(REPO_ROOT / "grader" / "config.toml").threshold == THRESHOLD
    docs = (REPO_ROOT / "docs" / "instructors.md").read_text(encoding="utf-8")
    assert f"threshold = {THRESHOLD}" in docs


def test_every_part_is_compared(compared):
    assert len(compared.students) == 12
    assert compared.parts[:7] == [f"q{n}" for n in range(1, 8)]
    assert "exploration.1" in compared.parts and compared.parts[-1] == "code"


def test_copied_pairs_rank_first_for_their_parts(compared):
    for part, pair in COPIED.items():
        ranked = [p for p in compared.pairs if p.part == part]
        assert (ranked[0].a, ranked[0].b) == pair, (part, ranked[:3])
        assert ranked[0].score >= THRESHOLD
        assert ranked[0].passage, part


def test_no_independent_pair_reaches_the_threshold(compared):
    copied = {(part, pair) for part, pair in COPIED.items()}
    for p in compared.pairs:
        if (p.part, (p.a, p.b)) not in copied:
            assert p.score < THRESHOLD, p
    assert {(p.part, (p.a, p.b)) for p in compared.top()} == copied


def test_template_answers_score_zero(submissions):
    every = similarity.compare(submissions, similarity.Template.from_root(REPO_ROOT), similarity.Settings(listed_from=0.0))
    assert len(every.pairs) > 100  # every pair sharing anything is listed here, however little
    others = [s for s in every.students if s != TEMPLATE_ONLY]
    for part in every.parts:
        if part == "code":
            continue
        for other in others:
            assert every.score(TEMPLATE_ONLY, other, part) == 0.0, (part, other)
    assert not [p for p in every.pairs if TEMPLATE_ONLY in (p.a, p.b) and p.part != "code"]


def test_template_and_question_text_are_not_counted(tmp_path):
    """Two students who both paste the question and the placeholder share nothing of their own."""
    folders = make_class(tmp_path, 5)
    question = (REPO_ROOT / "assignment" / "answers" / "q4.md").read_text(encoding="utf-8")
    for student in ("s02", "s03"):
        (folders[student] / "assignment" / "answers" / "q4.md").write_text(question.replace("_Escribe aquí tu respuesta._", question), encoding="utf-8")
    submissions = similarity.read_folders(folders, tuple(files.student_files()))
    compared = similarity.compare(submissions, similarity.Template.from_root(REPO_ROOT))
    assert compared.score("s02", "s03", "q4") == 0.0


def test_light_edits_keep_the_words():
    edited = lightly_edited("La red usa los píxeles. El modelo mejora rápido.")
    assert edited == "El modelo aumenta rapido. La modelo utiliza los pixeles."


def test_csv_has_one_row_per_pair_and_part(compared, tmp_path):
    path = tmp_path / similarity.CSV_FILE
    similarity.write_csv(path, compared)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["a", "b", "part", "score", "passage"]
    keys = [(r["a"], r["b"], r["part"]) for r in rows]
    assert len(keys) == len(set(keys)) == len(compared.pairs)
    assert all(r["a"] < r["b"] and 0 < float(r["score"]) <= 1 for r in rows)
    q6 = next(r for r in rows if r["part"] == "q6")
    assert (q6["a"], q6["b"]) == COPIED["q6"] and float(q6["score"]) >= THRESHOLD and len(q6["passage"].split()) >= 4


def test_pairs_are_unordered_and_complete(compared):
    pairs = {(p.a, p.b) for p in compared.pairs}
    assert pairs <= set(itertools.combinations(compared.students, 2))


@pytest.mark.parametrize("lang, heading", [("es", "Similitud"), ("en", "Similarity")])
def test_report_shows_top_pairs_side_by_side(compared, tmp_path, lang, heading):
    everyone = [records.StudentRecord(s, "graded", result=GradingResult(1, 1, [], {}, [], [])) for s in compared.students]
    class_report.write(tmp_path, everyone, lang=lang, similar=compared)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="similarity"') : html.index('id="gradebook"')]
    assert heading in section
    assert section.count('class="pair"') == len(COPIED)
    assert "<mark>" in section and section.count('class="side"') == len(COPIED)
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"## {heading}" in markdown and "| s02 · s03 | `code` | 1.00 |" in markdown


def test_student_text_in_passages_is_escaped(tmp_path):
    folders = make_class(tmp_path, 5)
    hostile = "<script>alert(1)</script> la capa oculta usa relu porque aprende rapido los pesos con pocas epocas siempre"
    template = (REPO_ROOT / "assignment" / "answers" / "q1.md").read_text(encoding="utf-8")
    for student in ("s01", "s02"):
        path = folders[student] / "assignment" / "answers" / "q1.md"
        path.write_text(template.replace("_Escribe aquí tu respuesta._", hostile), encoding="utf-8")
    submissions = similarity.read_folders(folders, tuple(files.student_files()))
    compared = similarity.compare(submissions, similarity.Template.from_root(REPO_ROOT))
    assert compared.score("s01", "s02", "q1") == 1.0
    everyone = [records.StudentRecord(s, "graded") for s in compared.students]
    class_report.write(tmp_path, everyone, lang="en", similar=compared)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;<mark>script&gt;alert(1)&lt;/script&gt; la capa oculta" in html  # escaped, and highlighted as shared


def test_a_bad_similarity_table_is_refused(tmp_path):
    from grader.config import ConfigError

    config = tmp_path / "config.toml"
    config.write_text('[similarity]\nthreshold = "high"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="threshold"):
        similarity.Settings.from_config(config)
    config.write_text("[similarity]\nthreshhold = 0.4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="threshhold"):
        similarity.Settings.from_config(config)
