"""summary.md: the table a student reads, rendered from a Jinja2 template."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from grader import i18n
from grader.exporters.common import check_totals
from grader.exporters.escape import markdown_text
from grader.results import GradingResult

TEMPLATES = jinja2.PackageLoader("grader", "templates")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=TEMPLATES, autoescape=False, keep_trailing_newline=True)
    # Every text of a check may hold the submission's words (an exception
    # text, a printed line): it shows literally, one line, in its cell.
    env.filters["cell"] = markdown_text
    return env


def render(result: GradingResult) -> str:
    """The Markdown table of ``result``. Raises ValueError when a check scores
    outside its points or the checks do not add up to the total."""
    check_totals(result)
    lang = result.language

    def t(key: str, **params: object) -> str:
        return i18n.render(lang, key, **params)

    return _environment().get_template("summary.md.j2").render(result=result, t=t)
