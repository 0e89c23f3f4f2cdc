"""The class report's charts: matplotlib figures as base64 PNG data URIs.

Uses ``matplotlib.figure.Figure`` directly (no pyplot, no GUI backend), so it
works headless and leaves no global state behind. The words on each chart come
from the caller, in the report's language.
"""

from __future__ import annotations

import base64
import io

from matplotlib.figure import Figure

BLUE = "#3b6ea5"
GREEN = "#3d8b4f"
RED = "#b5453a"


def data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(height: float = 3.0) -> Figure:
    figure = Figure(figsize=(6.4, height))
    figure.set_layout_engine("tight")
    return figure


def score_histogram(scores: list[int], max_score: int, *, title: str, xlabel: str, ylabel: str) -> str:
    figure = _figure()
    ax = figure.add_subplot()
    step = max(1, max_score // 20)
    bins = list(range(0, max_score + step + 1, step))
    ax.hist(scores, bins=bins, color=BLUE, edgecolor="white")
    ax.set_xlim(0, max_score + step)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.yaxis.get_major_locator().set_params(integer=True)
    return data_uri(figure)


def pass_rates(labels: list[str], rates: list[float], *, title: str, xlabel: str) -> str:
    figure = _figure(height=max(2.5, 0.32 * len(labels) + 1))
    ax = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    colors = [GREEN if r >= 0.8 else (BLUE if r >= 0.5 else RED) for r in rates]
    ax.barh(positions, [100 * r for r in rates], color=colors)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    for y, rate in zip(positions, rates):
        ax.text(min(100 * rate + 1, 92), y, f"{100 * rate:.0f}%", va="center", fontsize=7)
    return data_uri(figure)


def accuracy_distribution(accuracies: list[float], minimum: float | None, *, title: str, xlabel: str, ylabel: str, required: str) -> str:
    figure = _figure()
    ax = figure.add_subplot()
    low = min([*accuracies, minimum or 1.0, 0.8])
    ax.hist(accuracies, bins=20, range=(low, 1.0), color=BLUE, edgecolor="white")
    if minimum is not None:
        ax.axvline(minimum, color=RED, linestyle="--", label=required)
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.yaxis.get_major_locator().set_params(integer=True)
    return data_uri(figure)
