"""What each exercise of ``assignment/exploration.md`` runs.

One :class:`Experiment` per exercise, in the sheet's order, with the
exercise's id. Each lists the :class:`Setting` s it trains. A setting says
how to call the student's functions (``build_model(hidden_units, activation,
num_classes)``, ``compile_model(model, optimizer)``, ``train_model(model, x,
y, epochs)``) and, for the two variants those functions do not offer, what the
runner does itself: a model without ``Flatten`` and a fixed ``batch_size``.

Two settings that train the same thing (``hidden_units`` 128 and activation
``relu``, for instance) are trained once per run of the program.

No TensorFlow here: ``--help`` and ``--list`` stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Mode:
    name: str  # "quick" or "full"
    train_size: int | None  # first N training images; None: all
    test_size: int | None
    epochs: int  # epochs of every setting that does not choose its own
    epoch_grid: tuple[int, ...]  # the ``epochs`` experiment


FULL = Mode("full", None, None, epochs=5, epoch_grid=(5, 10, 20))
# Quick mode trains on a subset, but keeps each experiment's shape: three
# epochs (so an epoch time can be the median of the epochs after the first)
# and the same 5/10/20 epochs as the full run, where overfitting shows.
QUICK = Mode("quick", 6000, 2000, epochs=3, epoch_grid=(5, 10, 20))


@dataclass(frozen=True)
class Setting:
    """One training: how the student's functions are called.

    Settings with the same :meth:`key` are the same training.
    """

    label_key: str = field(compare=False)
    label_args: tuple[tuple[str, Any], ...] = field(default=(), compare=False)
    hidden_units: int | tuple[int, ...] = 128  # a tuple is passed as a list
    activation: str = "relu"
    optimizer: str = "adam"
    epochs: int | None = None  # None: the mode's epochs
    num_classes: int = 10
    normalized: bool = True  # False: raw pixels, 0-255
    flatten: bool = True  # False: the runner builds the model, without Flatten
    batch_size: int | None = None  # None: whatever train_model does (Keras: 32)

    def label(self, text: Callable[..., str]) -> str:
        return text(self.label_key, **dict(self.label_args))

    def epochs_in(self, mode: Mode) -> int:
        return self.epochs if self.epochs is not None else mode.epochs

    def key(self, mode: Mode) -> tuple[Any, ...]:
        """What makes two settings the same training (labels aside)."""
        return (
            self.hidden_units,
            self.activation,
            self.optimizer,
            self.epochs_in(mode),
            self.num_classes,
            self.normalized,
            self.flatten,
            self.batch_size,
        )

    def cost(self, mode: Mode) -> float:
        """Rough relative training time, for the progress display's ETA."""
        steps = 32 / self.batch_size if self.batch_size else 1.0
        units = sum(self.hidden_units) if isinstance(self.hidden_units, tuple) else self.hidden_units
        return self.epochs_in(mode) * (0.4 + 0.6 * steps) * (0.6 + units / 640)


BASELINE = Setting("setting.baseline")


@dataclass(frozen=True)
class Experiment:
    id: str
    number: int  # exercise number in exploration.md
    settings: Callable[[Mode], list[Setting]]
    # For experiments that look inside the reference model rather than
    # compare trainings: "probabilities", "unseen", "misclassified", "confusion".
    analysis: str | None = None
    plots: tuple[str, ...] = ()  # files in the output folder


def _hidden_units(mode: Mode) -> list[Setting]:
    return [Setting("setting.units", (("units", n),), hidden_units=n) for n in (32, 64, 128, 256, 512)]


def _activation(mode: Mode) -> list[Setting]:
    return [Setting("setting.activation", (("activation", a),), activation=a) for a in ("relu", "sigmoid", "tanh")]


def _no_flatten(mode: Mode) -> list[Setting]:
    return [Setting("setting.no_flatten", flatten=False)]


def _optimizer(mode: Mode) -> list[Setting]:
    return [Setting("setting.optimizer", (("optimizer", o),), optimizer=o) for o in ("adam", "sgd", "rmsprop")]


def _epochs(mode: Mode) -> list[Setting]:
    return [Setting("setting.epochs" if e != 1 else "setting.epoch", (("epochs", e),), epochs=e) for e in mode.epoch_grid]


def _extra_layers(mode: Mode) -> list[Setting]:
    grid = ((128,), (256, 128), (256, 128, 64))
    return [Setting("setting.layers", (("layers", list(g)),), hidden_units=g) for g in grid]


def _no_normalization(mode: Mode) -> list[Setting]:
    return [Setting("setting.raw_pixels", normalized=False), Setting("setting.normalized")]


def _output_units(mode: Mode) -> list[Setting]:
    return [Setting("setting.output_units", (("units", n),), num_classes=n) for n in (5, 12)]


def _baseline(mode: Mode) -> list[Setting]:
    return [BASELINE]


def _batch_size(mode: Mode) -> list[Setting]:
    return [Setting("setting.batch_size", (("batch_size", b),), batch_size=b) for b in (16, 32, 128)]


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("hidden_units", 1, _hidden_units, plots=("accuracy_vs_hidden_units.png",)),
    Experiment("activation", 2, _activation, plots=("activation_curves.png",)),
    Experiment("no_flatten", 3, _no_flatten),
    Experiment("optimizer", 4, _optimizer, plots=("optimizer_curves.png",)),
    Experiment("epochs", 5, _epochs, plots=("epochs_curves.png",)),
    Experiment("extra_layers", 6, _extra_layers),
    Experiment("no_normalization", 7, _no_normalization),
    Experiment("output_units", 8, _output_units),
    Experiment("probabilities", 9, _baseline, analysis="probabilities", plots=("probabilities.png",)),
    Experiment("unseen_images", 10, _baseline, analysis="unseen"),
    Experiment("misclassified", 11, _baseline, analysis="misclassified", plots=("misclassified.png",)),
    Experiment("confusion_matrix", 12, _baseline, analysis="confusion", plots=("confusion_matrix.png", "confusion_matrix.csv")),
    Experiment("batch_size", 13, _batch_size),
)

IDS: tuple[str, ...] = tuple(e.id for e in EXPERIMENTS)
BY_ID: dict[str, Experiment] = {e.id: e for e in EXPERIMENTS}


def select(ids: list[str] | None) -> list[Experiment]:
    """The experiments named (all when none), always in the sheet's order."""
    wanted = set(ids or IDS)
    unknown = wanted - set(IDS)
    if unknown:
        raise KeyError(f"unknown experiments: {sorted(unknown)}")
    return [e for e in EXPERIMENTS if e.id in wanted]
