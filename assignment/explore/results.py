"""The results table: a pandas DataFrame written as CSV and as Markdown.

``results.csv`` has fixed column names (``experiment, setting,
test_accuracy, final_loss, train_time_s, note``) so that programs can read it
in any language; ``results.md`` has the same rows under headers in the
student's language, rendered with a Jinja2 template.

With ``--only``, rows of the experiments not run this time are kept from the
previous ``results.csv``, so running one experiment again does not lose the
others.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import jinja2
import pandas as pd

from assignment.explore.analysis import Row
from assignment.explore.experiments import IDS
from assignment.explore.text import Text

COLUMNS = ("experiment", "setting", "test_accuracy", "final_loss", "train_time_s", "note")
DIGITS = {"test_accuracy": 4, "final_loss": 4, "train_time_s": 2}

TEMPLATE = """\
# {{ title }}

{{ mode }}
{{ help }}
{%- if merged %}
{{ merged }}
{%- endif %}

| {{ headers | join(" | ") }} |
|---|---|---:|---:|---:|---|
{% for row in rows -%}
| {{ row | map("cell") | join(" | ") }} |
{% endfor -%}
"""


def frame(rows: Iterable[Row]) -> pd.DataFrame:
    data = pd.DataFrame([asdict(r) for r in rows], columns=list(COLUMNS))
    for column, digits in DIGITS.items():
        data[column] = pd.to_numeric(data[column], errors="coerce").round(digits)
    return data


def merge(previous: Path, new: pd.DataFrame, replaced: Iterable[str]) -> tuple[pd.DataFrame, bool]:
    """``new`` plus the rows of ``previous`` whose experiment was not run again.

    Also whether any old row was kept. An unreadable or foreign CSV is ignored.
    """
    try:
        old = pd.read_csv(previous, dtype={"note": str, "setting": str}, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError):
        return new, False
    if list(old.columns) != list(COLUMNS):
        return new, False
    kept = old[~old["experiment"].isin(set(replaced)) & old["experiment"].isin(IDS)]
    if kept.empty:
        return new, False
    combined = pd.concat([kept, new], ignore_index=True) if not new.empty else kept.reset_index(drop=True)
    order = {experiment: i for i, experiment in enumerate(IDS)}
    # Stable sort: the rows of one experiment keep their order.
    combined = combined.sort_values("experiment", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return combined, True


def write_csv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return " ".join(str(value).split()).replace("|", "\\|")


def render_markdown(table: pd.DataFrame, text: Text, mode: str, merged: bool) -> str:
    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["cell"] = _cell
    rows = []
    for record in table.to_dict("records"):
        cells = []
        for column in COLUMNS:
            value = record[column]
            if column in DIGITS and isinstance(value, float) and not math.isnan(value):
                value = f"{value:.{DIGITS[column]}f}"
            cells.append(value)
        rows.append(cells)
    return env.from_string(TEMPLATE).render(
        title=text("table.title"),
        mode=mode,
        help=text("table.help"),
        merged=text("table.merged") if merged else "",
        headers=[text(f"col.{c}") for c in COLUMNS],
        rows=rows,
    )


def write_markdown(table: pd.DataFrame, text: Text, mode: str, merged: bool, path: Path) -> None:
    path.write_text(render_markdown(table, text, mode, merged), encoding="utf-8")
