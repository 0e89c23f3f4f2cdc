"""What the sandbox observed at each step: one dataclass per step.

The observer (``grader/sandbox/observer.py``) fills them in from the
answerer's answers; they are stored as JSON (``dataclasses.asdict``, in
observations.json) and the judge turns the JSON back into these classes with
:func:`parse`, which validates every field (pydantic), so the checks read
typed attributes, never string keys. A payload the observer could not have written (a field of the wrong type, a missing one) is refused
with :class:`MalformedFacts`.

A field that is ``None`` was not observed: ``NormalizeFacts.dtype`` is None
when ``normalize`` returned no array of the input's shape, ``error`` is None
when the call worked. Plain data only: no Keras, no NumPy, so the checks and
their tests never import TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from grader import spec

# -- shared descriptions ----------------------------------------------------------


@dataclass
class ErrorInfo:
    """An exception raised by the student's code: its type, message and line."""

    type: str
    message: str = ""
    line: int | None = None
    function: str | None = None  # the student's function the line is in
    code: int | None = None  # a SystemExit's exit code


@dataclass
class Layer:
    kind: str  # flatten, dense, activation, dropout, input, or other (any class that is not exactly Keras's)
    class_name: str  # a look-alike carries its module: mnist_dense.Flatten
    units: int | None = None
    activation: str | None = None  # what it computes (relu, softmax, ...), or other:<name>
    use_bias: bool = True
    custom: bool = False  # a subclass of a Keras layer: it may compute anything
    base: str | None = None  # the kind a look-alike imitates
    input_shape: list[int | None] | None = None
    output_shape: list[int | None] | None = None


@dataclass
class ModelDescription:
    """Whatever build_model returned, described; ``error`` when the call itself failed."""

    is_model: bool = False
    type: str = ""
    is_sequential: bool = False
    built: bool = False
    layers: list[Layer] = field(default_factory=list)
    input_shape: list[int | None] | None = None
    output_shape: list[int | None] | None = None
    params: int | None = None
    output_on_batch: list[int] | None = None  # the output's shape on one 28x28 image
    error: ErrorInfo | None = None


@dataclass
class LossDescription:
    """A loss or a metric as compile received it: its name, and from_logits for a loss object."""

    name: str
    from_logits: bool = False


@dataclass
class CompileDescription:
    """How a model was compiled; ``error`` when compile_model itself failed."""

    is_model: bool = True
    type: str = ""
    compiled: bool = False
    config_error: str | None = None  # get_compile_config() failed with this exception type
    optimizer: str | None = None  # the exact Keras class name, or custom:<name>
    loss: LossDescription | None = None
    metrics: list[LossDescription] = field(default_factory=list)
    error: ErrorInfo | None = None


@dataclass
class Axes:
    images: list[Any] = field(default_factory=list)  # pixel rows, or {"shape": [...]} for a large image
    lines: list[list[float]] = field(default_factory=list)  # the y values of each line


@dataclass
class FigureDescription:
    is_figure: bool = False
    type: str = ""
    axes: list[Axes] = field(default_factory=list)
    error: ErrorInfo | None = None


# -- one class per step -------------------------------------------------------------


@dataclass
class ImportFacts:
    mode: str  # "import", or "salvaged": only the definitions that load were kept
    dropped: list[Any] = field(default_factory=list)


@dataclass
class ArrayFacts:
    name: str
    type: str
    shape: list[int] | None = None
    dtype: str | None = None
    equal: bool = False  # equal to the grader's own copy of the array


@dataclass
class LoadDataFacts:
    structure_ok: bool  # ((x_train, y_train), (x_test, y_test)) came back
    type: str = ""
    arrays: list[ArrayFacts] = field(default_factory=list)


@dataclass
class ShowSampleFacts:
    is_figure: bool
    label: int  # the sample's label, which the student must print
    index: int
    type: str = "Figure"
    images: int = 0
    image_matches: bool = False


@dataclass
class NormalizeFacts:
    type: str
    input_unchanged: bool
    dtype: str | None = None  # set when an array of the input's shape came back
    is_float: bool = False
    min: float | None = None
    max: float | None = None
    max_error: float | None = None  # largest difference from x / 255
    shares_input: bool = False
    shape: list[int] | None = None  # the shape of an array of another shape


@dataclass
class BuildFacts:
    default: ModelDescription
    variants: dict[str, ModelDescription] = field(default_factory=dict)  # build_model called with parameters


@dataclass
class CompileFacts:
    returns_model: bool
    default: CompileDescription
    sgd: CompileDescription  # compile_model(model, "sgd")


@dataclass
class FitCall:
    """One call of model.fit inside train_model. epochs and batch_size are as the student passed them."""

    epochs: Any = None
    batch_size: Any = None
    x_min: float | None = None
    x_max: float | None = None
    x_shape: list[int] | None = None


@dataclass
class EpochsProbe:
    """train_model(..., epochs=1) on a throwaway model."""

    epochs: int | None = None
    error: ErrorInfo | None = None


@dataclass
class TrainFacts:
    returned_type: str
    is_history: bool
    from_fit: bool  # the returned History is one a call of model.fit returned
    weights_changed: bool
    fit_calls: list[FitCall] = field(default_factory=list)
    weights_finite: bool = True
    default_epochs: Any = None  # train_model's default for epochs, as written
    epochs: int | None = None  # epochs in the returned History
    metrics: list[str] = field(default_factory=list)  # curves in the returned History
    epochs_probe: EpochsProbe = field(default_factory=EpochsProbe)
    first_error: ErrorInfo | None = None  # the first attempt failed on the student's compile (then retried)
    stand_ins: list[str] = field(default_factory=list)  # steps replaced for the retry


@dataclass
class EvaluateFacts:
    type: str
    types: list[str] | None = None  # set when a pair came back
    numbers: bool = False
    values: list[float | None] | None = None
    finite: bool = False


@dataclass
class FrameFacts:
    is_frame: bool = False
    type: str = ""
    rows: int = 0
    columns: dict[str, list[float]] = field(default_factory=dict)
    error: ErrorInfo | None = None


@dataclass
class HistoryFacts:
    history: dict[str, list[float]]  # the History the later steps received
    epochs: int
    frame: FrameFacts = field(default_factory=FrameFacts)
    figure: FigureDescription = field(default_factory=FigureDescription)


@dataclass
class Prediction:
    index: int
    type: str
    probs_type: str | None = None  # set when a pair came back
    probs_shape: list[int] | None = None
    probs: list[float] | None = None
    label_type: str | None = None
    label: int | None = None  # set when the label is an integer


@dataclass
class PredictFacts:
    samples: list[Prediction]


@dataclass
class GraderTraining:
    """How the model ``min_accuracy`` measures was trained, read from the History the grader kept.

    ``epochs`` is how many epochs that History holds; with ``train_model``
    replaced, a training of the activity's length means the grader trained the
    student's own model as the activity asks, not the short stand-in.
    """

    epochs: int = 0


# The facts each step reports, named in the step table (grader.spec.STEPS); the salvage reports the import's.
FACTS_OF_STEP: dict[str, type] = {
    **{step.name: globals()[step.facts] for step in spec.STEPS},
    spec.SALVAGE: globals()[spec.step_of(spec.SALVAGE).facts],
}

T = TypeVar("T")


class MalformedFacts(ValueError):
    """What arrived is not what the worker writes: a forgery, or a grader bug."""


@cache
def _adapter(cls: type) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(cls)


def parse_as(cls: type[T], data: Any) -> T:
    """``data`` (JSON-ready, as the channel or a file gives it) as an instance of ``cls``."""
    if isinstance(data, cls):
        return data
    from pydantic import ValidationError

    try:
        return _adapter(cls).validate_python(data)
    except ValidationError as error:
        raise MalformedFacts(f"{cls.__name__}: {error.error_count()} field(s) malformed") from error


def parse(step: str, data: Any) -> Any:
    """The facts ``step`` reported, typed."""
    return parse_as(FACTS_OF_STEP[step], data)
