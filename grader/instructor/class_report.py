"""The class report: ``report.html`` (one self-contained file) and ``report.md``.

Both are rendered with Jinja2 from ``grader/templates/class_report.*.j2``
out of the student records alone. The HTML embeds its charts as base64 PNG
and its CSS inline; a Content-Security-Policy forbids loading anything else,
so it opens offline and student text can never run as script (everything
the students wrote is escaped by Jinja2's autoescaping).

Every word of both follows ``lang`` (``--lang``): the templates take their
text from the catalogue (``grader/messages/<lang>/instructor.toml``) through
``t(key, **params)``. With a similarity comparison, a section lists the top
pairs with their shared passages highlighted side by side.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from grader.exporters.escape import markdown_text
from grader.i18n import render
from grader.instructor import plots, triage
from grader.instructor.gradebook import class_max, graded_checks
from grader.instructor.records import StudentRecord
from grader.instructor.similarity import Comparison

TEMPLATES = jinja2.PackageLoader("grader", "templates")
# Re-sorts a table whose header cells carry data-sort ("num" or "text") on a
# click; numeric cells give their value in data-value. Allowed by its hash in
# the report's Content-Security-Policy: nothing else may run.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th[data-sort]").forEach(function (th, column) {
    th.tabIndex = 0;
    function sort() {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var up = th.getAttribute("aria-sort") !== "ascending", numeric = th.dataset.sort === "num";
      rows.sort(function (a, b) {
        var x = a.cells[column], y = b.cells[column];
        var p = numeric ? parseFloat(x.dataset.value) : x.textContent.trim();
        var q = numeric ? parseFloat(y.dataset.value) : y.textContent.trim();
        if (numeric && isNaN(p)) return 1;
        if (numeric && isNaN(q)) return -1;
        var order = numeric ? p - q : p.localeCompare(q);
        return up ? order : -order;
      });
      table.querySelectorAll("th[aria-sort]").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      rows.forEach(function (row) { body.appendChild(row); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (event) { if (event.key === "Enter") sort(); });
  });
});
"""
SORT_SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode("utf-8")).digest()).decode("ascii")
MAX_LISTED = 12  # students named in one failure group before "and N more"


@dataclass
class CheckStat:
    id: str
    title: str
    max_score: int
    graded: int
    passed: int
    mean_score: float

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass
class FailureGroup:
    key: str
    count: int
    checks: list[str]
    example: str
    students: list[str]


@dataclass
class ClassReport:
    generated: str
    records: list[StudentRecord]
    max_score: int | None
    min_accuracy: float | None
    status_counts: dict[str, int]
    scores: list[int]
    accuracies: list[float]
    checks: list[CheckStat]
    failures: list[FailureGroup]
    flagged: list[StudentRecord]
    charts: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    lang: str = "es"
    similar: Comparison | None = None
    attention: list[triage.Attention] = field(default_factory=list)

    @property
    def by_score(self) -> list[StudentRecord]:
        """The grade table's order: highest score first, those not graded last, then by id."""
        return sorted(self.records, key=lambda r: (r.result is None, -(r.result.score if r.result else 0), r.id))

    @property
    def graded(self) -> list[StudentRecord]:
        return [r for r in self.records if r.result is not None]

    def stat(self, name: str) -> str:
        if not self.scores:
            return "-"
        value = {"mean": statistics.mean, "median": statistics.median, "min": min, "max": max}[name](self.scores)
        return f"{value:.1f}" if isinstance(value, float) and not value.is_integer() else str(int(value))

    @property
    def full_marks(self) -> int:
        return sum(1 for r in self.graded if r.result and r.result.score == r.result.max_score)


def _check_stats(records: list[StudentRecord]) -> list[CheckStat]:
    stats = []
    for check in graded_checks(records):
        found = [c for r in records if r.result for c in r.result.checks if c.id == check]
        if not found:
            continue
        stats.append(
            CheckStat(
                id=check,
                title=found[0].title,
                max_score=max(c.max_score for c in found),
                graded=len(found),
                passed=sum(1 for c in found if c.passed),
                mean_score=statistics.mean(c.score for c in found),
            )
        )
    return stats


def _failures(records: list[StudentRecord]) -> list[FailureGroup]:
    by_key: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # key -> (student, check, message)
    for record in records:
        for check in record.result.checks if record.result else []:
            if not check.passed:
                by_key[check.message_key or f"{check.id}.?"].append((record.id, check.id, check.message))
    groups = []
    for key, hits in by_key.items():
        students = sorted({s for s, _, _ in hits})
        checks = sorted({c for _, c, _ in hits})
        example = Counter(m for _, _, m in hits).most_common(1)[0][0]
        groups.append(FailureGroup(key, len(hits), checks, example, students))
    return sorted(groups, key=lambda g: (-g.count, g.key))


def build(
    records: list[StudentRecord],
    min_accuracy: float | None = None,
    extra: dict[str, Any] | None = None,
    lang: str = "es",
    similar: Comparison | None = None,
    required_isolation: str | None = None,
) -> ClassReport:
    graded = [r for r in records if r.result is not None]
    maximum = class_max(records)
    scores = [r.result.score for r in graded if r.result]
    accuracies = [float(a) for r in graded if r.result and (a := r.result.metrics.get("test_accuracy")) is not None]
    report = ClassReport(
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        records=sorted(records, key=lambda r: r.id),
        max_score=maximum,
        min_accuracy=min_accuracy,
        status_counts=dict(sorted(Counter(r.status for r in records).items())),
        scores=scores,
        accuracies=accuracies,
        checks=_check_stats(graded),
        failures=_failures(graded),
        flagged=[r for r in sorted(records, key=lambda r: r.id) if r.flags or r.status != "graded"],
        extra=dict(extra or {}),
        lang=lang,
        similar=similar,
        attention=triage.needs_attention(records, required_isolation, similar),
    )
    return report


def add_charts(report: ClassReport) -> None:
    def t(key: str, **params: object) -> str:
        return render(report.lang, f"instructor.report.{key}", **params)

    students = t("chart_students")
    if report.scores and report.max_score:
        title, xlabel = t("chart_scores_title", count=len(report.scores)), t("chart_scores_x", max=report.max_score)
        report.charts["scores"] = plots.score_histogram(report.scores, report.max_score, title=title, xlabel=xlabel, ylabel=students)
    if report.checks:
        labels = [c.id for c in report.checks]
        report.charts["checks"] = plots.pass_rates(labels, [c.rate for c in report.checks], title=t("chart_checks_title"), xlabel=t("chart_checks_x"))
    if report.accuracies:
        required = t("chart_accuracy_required", value=f"{report.min_accuracy:.2f}") if report.min_accuracy is not None else ""
        title = t("chart_accuracy_title", count=len(report.accuracies))
        report.charts["accuracy"] = plots.accuracy_distribution(
            report.accuracies, report.min_accuracy, title=title, xlabel=t("chart_accuracy_x"), ylabel=students, required=required
        )


def _reason(item: triage.Reason, lang: str) -> str:
    """One reason of the attention list in ``lang`` (a status named in words)."""
    params = dict(item.params)
    if "status" in params:
        params["status"] = render(lang, f"instructor.status.{params['status']}")
    return render(lang, f"instructor.attention.{item.key}", **params)


def counted(text: str, count: int) -> str:
    """``"1 calificado|2 calificados"``: the singular when ``count`` is 1, else the plural (a text without | is both)."""
    forms = text.split("|")
    return forms[0] if count == 1 else forms[-1]


def _environment(autoescape: bool, lang: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=TEMPLATES, autoescape=autoescape, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    # Text from a submission or a grading shows literally: in report.md as
    # Markdown (then "|e" is a no-op: no <, > or & is left), in report.html by autoescape.
    env.filters["cell"] = markdown_text
    env.filters["pct"] = lambda value: f"{100 * value:.0f}%"
    env.globals["t"] = lambda key, **params: render(lang, f"instructor.report.{key}", **params)
    env.globals["status_label"] = lambda status: render(lang, f"instructor.status.{status}")
    env.globals["status_count"] = lambda status, count: counted(render(lang, f"instructor.status_count.{status}"), count)
    env.globals["reason"] = lambda item: _reason(item, lang)
    env.globals["sort_script"] = SORT_SCRIPT
    env.globals["sort_script_hash"] = SORT_SCRIPT_HASH
    return env


def _render(report: ClassReport, name: str, autoescape: bool) -> str:
    return _environment(autoescape, report.lang).get_template(name).render(report=report, listed=MAX_LISTED, lang=report.lang)


def render_html(report: ClassReport) -> str:
    return _render(report, "class_report.html.j2", True)


def render_md(report: ClassReport) -> str:
    return _render(report, "class_report.md.j2", False)


def write(
    out: Path,
    records: list[StudentRecord],
    min_accuracy: float | None = None,
    extra: dict[str, Any] | None = None,
    lang: str = "es",
    similar: Comparison | None = None,
    required_isolation: str | None = None,
) -> ClassReport:
    report = build(records, min_accuracy, extra, lang, similar, required_isolation)
    add_charts(report)
    (out / "report.html").write_text(render_html(report), encoding="utf-8")
    (out / "report.md").write_text(render_md(report), encoding="utf-8")
    return report
