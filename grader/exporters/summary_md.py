"""summary.md: the table a student reads, rendered from a Jinja2 template."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from grader import i18n
from grader.results import GradingResult

TEMPLATES = jinja2.PackageLoader("grader", "templates")


def _cell(text: object) -> str:
    """Markdown table cell: no line breaks, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=TEMPLATES, autoescape=False, keep_trailing_newline=True)
    env.filters["cell"] = _cell
    return env


def render(result: GradingResult) -> str:
    lang = result.language

    def t(key: str, **params: object) -> str:
        return i18n.render(lang, key, **params)

    return _environment().get_template("summary.md.j2").render(result=result, t=t)
