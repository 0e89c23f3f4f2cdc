"""The PNG figures of the exploration (matplotlib, Agg backend: no window)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from assignment.explore.text import Text

DPI = 100


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    # No "Software"/date metadata: the same results give the same file.
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def hidden_units(points: list[tuple[int, float | None, int | None]], text: Text, path: Path) -> None:
    """Test accuracy against the hidden layer's units (log scale), with parameters."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    units = [p[0] for p in points]
    accuracy = [p[1] for p in points]
    ax.plot(units, accuracy, marker="o")
    ax.set_xscale("log", base=2)
    ax.set_xticks(units, [str(u) for u in units])
    for u, a, params in points:
        if params is not None and a is not None:
            ax.annotate(text("plot.params", params=f"{params:,}".replace(",", " ")), (u, a), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
    ax.margins(x=0.1, y=0.15)
    ax.set_xlabel(text("plot.hidden_units.x"))
    ax.set_ylabel(text("plot.accuracy"))
    ax.set_title(text("plot.hidden_units.title"))
    ax.grid(True, alpha=0.3)
    _save(fig, path)


def curves(items: list[tuple[str, dict[str, list[float]]]], title: str, text: Text, path: Path) -> None:
    """Loss and accuracy per epoch; solid: training, dashed: validation."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, history) in enumerate(items):
        color = colors[i % len(colors)]
        for ax, metric in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            for key, style, part in ((metric, "-", "plot.train"), (f"val_{metric}", "--", "plot.val")):
                values = history.get(key)
                if values:
                    epochs = range(1, len(values) + 1)
                    ax.plot(epochs, values, style, color=color, marker="o", markersize=3, label=f"{label} · {text(part)}")
    for ax, name in ((ax_loss, "plot.loss"), (ax_acc, "plot.acc")):
        ax.set_title(text(name))
        ax.set_xlabel(text("plot.epoch"))
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle(title)
    _save(fig, path)


def confusion(matrix: np.ndarray, text: Text, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    limit = matrix.max() / 2 if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8, color="white" if matrix[i, j] > limit else "black")
    ticks = list(range(matrix.shape[0]))
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel(text("plot.confusion.pred"))
    ax.set_ylabel(text("plot.confusion.true"))
    ax.set_title(text("plot.confusion.title"))
    _save(fig, path)


def gallery(images: np.ndarray, true: np.ndarray, predicted: np.ndarray, wrong: int, text: Text, path: Path) -> None:
    """Misclassified test images with their true and predicted digits."""
    columns = 6
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.8 * columns, 2.0 * rows + 0.6), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(images):
            ax.imshow(images[k], cmap="gray")
            ax.set_title(text("plot.misclassified.item", true=int(true[k]), pred=int(predicted[k])), fontsize=9)
    fig.suptitle(text("plot.misclassified.title", shown=len(images), wrong=wrong))
    _save(fig, path)


def probabilities(items: list[tuple[int, int, np.ndarray, np.ndarray]], text: Text, path: Path) -> None:
    """Each chosen image next to the bar chart of its probabilities."""
    fig, axes = plt.subplots(len(items), 2, figsize=(9, 3.2 * len(items)), squeeze=False, gridspec_kw={"width_ratios": [1, 2.5]})
    for (index, digit, probs, image), (ax_image, ax_bars) in zip(items, axes):
        ax_image.imshow(image, cmap="gray")
        ax_image.axis("off")
        ax_image.set_title(text("plot.probabilities.item", index=index, label=digit), fontsize=9)
        ax_bars.bar(range(len(probs)), probs, color=["tab:orange" if d == int(np.argmax(probs)) else "tab:blue" for d in range(len(probs))])
        ax_bars.set_xticks(range(len(probs)))
        ax_bars.set_ylim(0, 1)
        ax_bars.set_xlabel(text("plot.digit"))
        ax_bars.set_ylabel(text("plot.probabilities.y"))
        for d, p in enumerate(probs):
            if p >= 0.01:
                ax_bars.text(d, p + 0.02, f"{p:.2f}", ha="center", fontsize=8)
    fig.suptitle(text("plot.probabilities.title"))
    _save(fig, path)
