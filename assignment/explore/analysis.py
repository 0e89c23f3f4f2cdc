"""From trainings to the table's rows, and the figures each experiment draws.

Most experiments compare trainings: one row per setting, with a note that
gives what the exercise asks to look at (parameters, time per epoch, loss per
epoch...). Four look inside the reference model instead (``probabilities``,
``unseen_images``, ``misclassified``, ``confusion_matrix``): their rows are
built here from that model's predictions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assignment.explore import plots
from assignment.explore.experiments import Experiment
from assignment.explore.run import (
    Data,
    Outcome,
    StageError,
    Submission,
    describe_error,
    finite,
)
from assignment.explore.text import Text, number

GALLERY_SIZE = 24


@dataclass
class Row:
    experiment: str
    setting: str
    test_accuracy: float | None
    final_loss: float | None
    train_time_s: float | None
    note: str


@dataclass
class Figure:
    file: str
    draw: Callable[[Path], None]  # writes the file at the given path


def _values(values: list[float], digits: int = 3) -> str:
    return ", ".join(number(v, digits) for v in values)


def row(experiment: str, label: str, outcome: Outcome, notes: list[str] | None = None) -> Row:
    parts = list(outcome.notes) + list(notes or [])
    if outcome.error:
        parts.append(outcome.error)
    return Row(
        experiment,
        label,
        outcome.test_accuracy,
        outcome.final_loss,
        outcome.train_time,
        "; ".join(parts),
    )


def predictions(outcome: Outcome) -> np.ndarray:
    """The model's probabilities for every test image (computed once)."""
    if outcome.predictions is None:
        try:
            outcome.predictions = np.asarray(outcome.model.predict(outcome.x_test))
        except Exception as error:
            raise StageError("model.predict", describe_error(error)) from error
    return outcome.predictions


# -- experiments that compare trainings ------------------------------------------
def training_notes(experiment: str, outcome: Outcome, text: Text) -> list[str]:
    """What the exercise asks to look at, for one training."""
    notes: list[str] = []
    history = outcome.history
    if experiment == "no_flatten" and outcome.output_shape:
        notes.append(text("note.output_shape", shape=outcome.output_shape))
    if experiment in ("hidden_units", "extra_layers") and outcome.params is not None:
        notes.append(text("note.params", params=f"{outcome.params:,}".replace(",", " ")))
    if experiment in ("hidden_units", "batch_size") and outcome.epoch_time is not None:
        notes.append(text("note.epoch_time", seconds=outcome.epoch_time))
    if experiment == "activation" and history.get("val_accuracy"):
        notes.append(text("note.val_accuracy", values=_values(history["val_accuracy"])))
    if experiment in ("optimizer", "no_normalization") and history.get("loss"):
        notes.append(text("note.losses", values=_values(history["loss"])))
    if experiment == "epochs" and history.get("val_loss"):
        val_loss = history["val_loss"]
        notes.append(text("note.val_losses", loss=_values(history.get("loss", [])), val_loss=_values(val_loss)))
        if all(finite(v) for v in val_loss):
            notes.append(text("note.best_epoch", epoch=int(np.argmin(val_loss)) + 1))
    if outcome.final_loss is not None and not finite(outcome.final_loss):
        notes.append(text("note.nan_loss"))
    if experiment == "output_units" and outcome.ok and outcome.setting.num_classes > 10:
        try:
            extra = predictions(outcome)[:, 10:]
            units = f"{10}-{outcome.setting.num_classes - 1}"
            notes.append(text("note.output_extra", units=units, value=f"{float(extra.mean()):.1e}"))
        except StageError as error:
            notes.append(text("note.error", stage=error.stage, error=error.error))
    return notes


def training_figures(experiment: Experiment, items: list[tuple[str, Outcome]], text: Text) -> list[Figure]:
    done = [(label, o) for label, o in items if o.ok]
    if not done:
        return []
    if experiment.id == "hidden_units":
        points = [(int(o.setting.hidden_units), o.test_accuracy, o.params) for _, o in done]  # type: ignore[arg-type]
        return [Figure("accuracy_vs_hidden_units.png", lambda path: plots.hidden_units(points, text, path))]
    titles = {"activation": "plot.curves.activation", "optimizer": "plot.curves.optimizer", "epochs": "plot.curves.epochs"}
    if experiment.id in titles:
        curves = [(label, o.history) for label, o in done if o.history]
        file = experiment.plots[0]
        title = text(titles[experiment.id])
        return [Figure(file, lambda path: plots.curves(curves, title, text, path))] if curves else []
    return []


# -- experiments on the reference model --------------------------------------------
def analyse(experiment: Experiment, label: str, outcome: Outcome, submission: Submission, data: Data, text: Text) -> tuple[list[Row], list[Figure]]:
    if not outcome.ok:
        return [row(experiment.id, label, outcome)], []
    analysis = {
        "probabilities": _probabilities,
        "unseen": _unseen,
        "misclassified": _misclassified,
        "confusion": _confusion,
    }[experiment.analysis or ""]
    try:
        return analysis(experiment, label, outcome, submission, data, text)
    except StageError as error:
        note = text("note.error", stage=error.stage, error=error.error)
        return [row(experiment.id, label, outcome, [note])], []


def _probabilities(experiment: Experiment, label: str, outcome: Outcome, submission: Submission, data: Data, text: Text) -> tuple[list[Row], list[Figure]]:
    second_best = np.sort(predictions(outcome), axis=1)[:, -2]
    doubtful = int(np.argmax(second_best))
    chosen = [(0, "setting.sample")] + ([(doubtful, "setting.doubtful")] if doubtful != 0 else [])
    rows: list[Row] = []
    items: list[tuple[int, int, np.ndarray, np.ndarray]] = []
    for index, key in chosen:
        digit = int(data.y_test[index])
        setting = text(key, index=index, label=digit)
        try:
            returned = submission.call("predict_sample", outcome.model, outcome.x_test, index)
            try:
                probabilities, predicted = returned
                probabilities = np.asarray(probabilities, dtype=float).ravel()
                predicted = int(predicted)
            except (TypeError, ValueError) as error:
                raise StageError("predict_sample", describe_error(error)) from error
        except StageError as error:
            rows.append(row(experiment.id, setting, outcome, [text("note.error", stage=error.stage, error=error.error)]))
            continue
        order = np.argsort(-probabilities, kind="stable")
        second = int(order[1]) if len(order) > 1 else predicted
        note = text(
            "note.probabilities",
            values=", ".join(f"{d}: {number(p, 3)}" for d, p in enumerate(probabilities)),
            total=number(float(probabilities.sum()), 3),
            predicted=predicted,
            second=second,
            second_p=number(float(probabilities[second]), 3),
        )
        rows.append(row(experiment.id, setting, outcome, [note]))
        items.append((index, digit, probabilities, data.x_test[index]))
    figures = [Figure("probabilities.png", lambda path: plots.probabilities(items, text, path))] if items else []
    return rows, figures


def _unseen(experiment: Experiment, label: str, outcome: Outcome, submission: Submission, data: Data, text: Text) -> tuple[list[Row], list[Figure]]:
    x_train, _ = data.images(outcome.setting.normalized)
    returned = submission.call("evaluate_model", outcome.model, x_train, data.y_train)
    try:
        _, train_accuracy = returned
        train_accuracy = float(train_accuracy)
    except (TypeError, ValueError) as error:
        raise StageError("evaluate_model", describe_error(error)) from error
    test_accuracy = outcome.test_accuracy or 0.0
    note = text(
        "note.unseen",
        train=number(train_accuracy),
        test=number(test_accuracy),
        gap=f"{(train_accuracy - test_accuracy) * 100:.2f}",
    )
    return [row(experiment.id, label, outcome, [note])], []


def _predicted(outcome: Outcome) -> np.ndarray:
    return np.argmax(predictions(outcome), axis=1)


def _misclassified(experiment: Experiment, label: str, outcome: Outcome, submission: Submission, data: Data, text: Text) -> tuple[list[Row], list[Figure]]:
    predicted = _predicted(outcome)
    truth = np.asarray(data.y_test)
    wrong = np.flatnonzero(predicted != truth)
    note = text(
        "note.misclassified",
        wrong=len(wrong),
        total=len(truth),
        percent=f"{100 * len(wrong) / max(1, len(truth)):.2f} %",
        file="misclassified.png",
    )
    shown = wrong[:GALLERY_SIZE]
    images, true, pred = data.x_test[shown], truth[shown], predicted[shown]
    figure = Figure("misclassified.png", lambda path: plots.gallery(images, true, pred, len(wrong), text, path))
    return [row(experiment.id, label, outcome, [note])], [figure]


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    matrix = np.zeros((classes, classes), dtype=int)
    valid = (truth >= 0) & (truth < classes) & (predicted >= 0) & (predicted < classes)
    np.add.at(matrix, (truth[valid], predicted[valid]), 1)
    return matrix


def _confusion(experiment: Experiment, label: str, outcome: Outcome, submission: Submission, data: Data, text: Text) -> tuple[list[Row], list[Figure]]:
    matrix = confusion_matrix(np.asarray(data.y_test), _predicted(outcome))
    off = [(int(matrix[i, j]), i, j) for i in range(10) for j in range(10) if i != j and matrix[i, j] > 0]
    off.sort(key=lambda item: (-item[0], item[1], item[2]))
    if off:
        pairs = ", ".join(f"{i}→{j} ({n})" for n, i, j in off[:3])
        note = text("note.confusion", pairs=pairs, file="confusion_matrix.png")
    else:
        note = text("note.no_confusion", file="confusion_matrix.png")
    figures = [
        Figure("confusion_matrix.png", lambda path: plots.confusion(matrix, text, path)),
        Figure("confusion_matrix.csv", lambda path: _matrix_csv(matrix, text, path)),
    ]
    return [row(experiment.id, label, outcome, [note])], figures


def _matrix_csv(matrix: np.ndarray, text: Text, path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame(matrix, index=pd.Index(range(10), name=text("plot.confusion.true")), columns=range(10))
    frame.to_csv(path, encoding="utf-8")
