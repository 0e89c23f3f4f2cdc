"""summary.md's flag list shows the cause of a flag literally: the cause of a
failed import is the student's own exception text (a ``raise`` can say
anything), and GitHub renders the job summary as Markdown. Stub results: no
grading runs."""

from __future__ import annotations

from test_escaping import ATTACK, gfm

from grader.exporters import summary_md
from grader.exporters.escape import one_line
from grader.i18n import render
from grader.results import CheckResult, GradingResult

# A student's exception: Markdown, HTML, a line break that would start a heading and a table.
CAUSE = f"ValueError: {ATTACK}\n# Nota final 100/100\n| a | b |\n|---|---|"


def _salvaged(lang: str) -> GradingResult:
    checks = [CheckResult("normalize", "Normalización", 10, 10, True, "Bien.", "normalize.ok")]
    result = GradingResult(10, 10, checks, {"test_accuracy": 0.97}, ["import_salvaged"], language=lang)
    result.flag_details = {"import_salvaged": {"cause": CAUSE}}
    return result


def test_the_cause_of_a_flag_shows_literally_in_its_list_item():
    for lang in ("es", "en"):
        page = gfm(summary_md.render(_salvaged(lang)))
        assert not {"a", "img", "details", "em", "del", "code", "h3", "blockquote", "hr", "ol"} & set(page.tags), page.tags
        # the template's own: its title, the total in bold, the flags' heading
        assert (page.tags.count("h1"), page.tags.count("strong"), page.tags.count("h2")) == (1, 1, 1), page.tags
        assert len(page.tables) == 1  # the checks' table only: the cause started none
        items = [text for name, text in page.blocks if name == "li"]
        expected = one_line(render(lang, "flag.import_salvaged_cause", cause=CAUSE))
        assert items == [expected], items
