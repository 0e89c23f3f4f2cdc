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


def _save(fig: Any, path: Path, bottom: float = 0.0) -> None:
    """Write ``fig``; ``bottom`` is the figure's share kept free for notes."""
    fig.tight_layout(rect=(0, bottom, 1, 1))
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


# One marker per training, besides its colour, so that lines stay apart in
# print and for colour-blind readers.
MARKERS = ("o", "s", "^", "v", "P", "X", "*", "h")
CURVE_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy")


def is_prefix(short: dict[str, list[float]], long: dict[str, list[float]]) -> bool:
    """Whether every curve of ``short`` is the start of ``long``'s (the same
    training stopped earlier: same seed, fewer epochs)."""
    keys = [k for k in CURVE_KEYS if short.get(k)]
    return bool(keys) and all(len(short[k]) < len(long.get(k) or []) and np.allclose(short[k], long[k][: len(short[k])], rtol=1e-6, atol=1e-9) for k in keys)


def contained(items: list[tuple[str, dict[str, list[float]]]]) -> dict[int, int]:
    """Index of each training whose curves start the longest one's -> that one."""
    return {
        i: j
        for i, (_, short) in enumerate(items)
        for j, (_, long) in enumerate(items)
        if i != j and is_prefix(short, long) and not any(is_prefix(long, other) for _, other in items)
    }


def curves(items: list[tuple[str, dict[str, list[float]]]], title: str, text: Text, path: Path) -> None:
    """Loss and accuracy per epoch; solid: training, dashed: validation.

    Each training has its colour and marker. A training whose curves are
    the start of a longer one's (5 epochs inside 20, with the same seed) is
    not drawn again on top of it: its last epoch is marked on the longer
    curves and the legend says so.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    inside = contained(items)
    for i, (label, history) in enumerate(items):
        color, marker = colors[i % len(colors)], MARKERS[i % len(MARKERS)]
        for ax, metric in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            for key, style, part in ((metric, "-", "plot.train"), (f"val_{metric}", "--", "plot.val")):
                values = history.get(key)
                if not values:
                    continue
                if i in inside:  # a point on the longer curve, not a hidden copy of it
                    mark = f"{label} · ◆" if key == metric else None
                    ax.plot([len(values)], [values[-1]], "D", color=color, markersize=8, markeredgecolor="black", label=mark)
                    continue
                epochs = range(1, len(values) + 1)
                ax.plot(epochs, values, style, color=color, marker=marker, markersize=4, label=f"{label} · {text(part)}")
    notes = [
        text("plot.prefix_of", label=items[i][0], longer=items[j][0], epochs=len(next(v for v in items[i][1].values() if v))) for i, j in sorted(inside.items())
    ]
    bottom = 0.05 * len(notes)
    if notes:
        fig.text(0.5, 0.01, "\n".join(notes), ha="center", va="bottom", fontsize=8)
    for ax, name in ((ax_loss, "plot.loss"), (ax_acc, "plot.acc")):
        ax.set_title(text(name))
        ax.set_xlabel(text("plot.epoch"))
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle(title)
    _save(fig, path, bottom)


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
