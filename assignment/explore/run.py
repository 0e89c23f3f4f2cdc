"""Training one setting with the student's own functions.

The student's ``mnist_dense.py`` is imported by path (``--submission``). Each
training calls, in order, ``build_model``, ``compile_model``, ``train_model``
and ``evaluate_model``; the data come from the student's ``load_data`` and
``normalize``. An exception in any of them ends that training only: the
:class:`Outcome` records which function failed and why, and the program goes
on with the next one.

Two things are done by the runner itself, and the table's note says so: the
model without ``Flatten`` (``build_model`` always adds it) and a fixed
``batch_size`` (``train_model`` has no such parameter; the runner passes it
to ``model.fit``). The runner also makes ``fit``, ``evaluate`` and
``predict`` silent (``verbose=0``) whatever the student's code asks, and
hides what the student's functions print.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import os
import sys
import time
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assignment.explore.experiments import Mode, Setting
from assignment.explore.text import Text

MODULE_NAME = "mnist_dense"
# Lines of a TensorFlow error that locate it rather than say what went wrong.
_NOISE = ("File ", "Detected at node", "Graph execution error", "[[", "Traceback", "Op:__")


class StageError(Exception):
    """A student's function failed; ``stage`` is its name."""

    def __init__(self, stage: str, error: str) -> None:
        super().__init__(f"{stage}: {error}")
        self.stage = stage
        self.error = error


def describe_error(error: BaseException, limit: int = 220) -> str:
    """``Type: the line that explains it``, short enough for a table cell."""
    lines = [line.strip() for line in str(error).splitlines()]
    useful = [line for line in lines if line and not line.startswith(_NOISE)]
    message = useful[0] if useful else ""
    # TensorFlow appends every label of the batch: not needed to understand.
    message = message.split("  Label values:")[0].strip()
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextlib.contextmanager
def silenced_stderr_fd() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ logs go there."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow() -> None:
    """Import TensorFlow and Keras without their log noise; deterministic ops."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("MPLBACKEND", "Agg")
    warnings.filterwarnings("ignore")
    with silenced_stderr_fd():
        import keras  # noqa: F401
        import tensorflow as tf

    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.get_logger().setLevel("ERROR")
    # Same seed, same table: TensorFlow may otherwise pick kernels whose
    # floating-point sums depend on thread timing.
    tf.config.experimental.enable_op_determinism()


def use_local_mnist() -> None:
    """Offline copy of MNIST named by MNIST_NPZ, through the repo's grader."""
    try:
        from grader.data import use_local_mnist as hook
    except ImportError:  # the grader is not next to the assignment: use Keras's download
        return
    hook()


# -- the student's module --------------------------------------------------------
@dataclass
class Submission:
    path: Path
    text: Text
    module: types.ModuleType | None = None
    error: str | None = None  # the import failed: every training records it

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``mnist_dense.NAME(...)``, its printing hidden; failures as StageError."""
        function = getattr(self.module, name, None)
        if not callable(function):
            raise StageError(name, self.text("note.missing_function", module=MODULE_NAME, name=name))
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                return function(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            raise StageError(name, describe_error(error)) from error


def load_submission(folder: Path, text: Text) -> Submission:
    path = (folder / f"{MODULE_NAME}.py").resolve()
    submission = Submission(path, text)
    try:
        spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
        if spec is None or spec.loader is None or not path.is_file():
            raise FileNotFoundError(f"{path} not found")
        module = importlib.util.module_from_spec(spec)
        sys.modules[MODULE_NAME] = module
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), silenced_stderr_fd():
            spec.loader.exec_module(module)
        submission.module = module
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        submission.error = describe_error(error)
    return submission


# -- data --------------------------------------------------------------------------
@dataclass
class Data:
    x_train: Any = None
    y_train: Any = None
    x_test: Any = None
    y_test: Any = None
    x_train_n: Any = None  # normalized with the student's normalize()
    x_test_n: Any = None
    error: StageError | None = None  # no data at all
    normalize_error: StageError | None = None  # raw pixels only

    def images(self, normalized: bool) -> tuple[Any, Any]:
        if normalized:
            return self.x_train_n, self.x_test_n
        return self.x_train, self.x_test


def load_data(submission: Submission, mode: Mode, train_size: int | None, test_size: int | None) -> Data:
    """MNIST from the student's ``load_data``, sliced, then their ``normalize``."""
    if submission.error is not None:
        return Data(error=StageError(f"{MODULE_NAME}.py", submission.error))
    try:
        result = submission.call("load_data")
        try:
            (x_train, y_train), (x_test, y_test) = result
        except (TypeError, ValueError) as error:
            raise StageError("load_data", describe_error(error)) from error
    except StageError as error:
        return Data(error=error)
    n_train = train_size or mode.train_size
    n_test = test_size or mode.test_size
    data = Data(
        np.asarray(x_train)[:n_train],
        np.asarray(y_train)[:n_train],
        np.asarray(x_test)[:n_test],
        np.asarray(y_test)[:n_test],
    )
    try:
        # Copies: a normalize() that divides in place must not change the raw pixels.
        data.x_train_n = submission.call("normalize", data.x_train.copy())
        data.x_test_n = submission.call("normalize", data.x_test.copy())
    except StageError as error:
        data.normalize_error = error
    return data


# -- one training ------------------------------------------------------------------
@dataclass
class Outcome:
    setting: Setting
    epochs: int
    params: int | None = None
    output_shape: str | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    final_loss: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None
    train_time: float | None = None
    epoch_times: list[float] = field(default_factory=list)  # seconds of each epoch
    error: str | None = None  # "Error in STAGE: ..." in the table's language
    notes: list[str] = field(default_factory=list)  # said whatever happened
    model: Any = None
    x_test: Any = None  # the images it was evaluated with
    predictions: Any = None  # model.predict(x_test), computed when needed

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def epoch_time(self) -> float | None:
        """Median seconds per epoch, the first (graph building, warm-up)
        left out when there are others: a steadier figure than the total."""
        times = self.epoch_times[1:] or self.epoch_times
        return float(np.median(times)) if times else None


def _epoch_clock(times: list[float]) -> Any:
    """A Keras callback appending each epoch's duration to ``times``."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            times.append(time.perf_counter() - self.started)

    return EpochClock()


def _quiet(model: Any, batch_size: int | None, epoch_times: list[float] | None = None) -> None:
    """No progress bars from fit/evaluate/predict; ``batch_size`` forced if
    given; each epoch of ``fit`` timed into ``epoch_times``."""
    for name in ("fit", "evaluate", "predict"):
        original = getattr(model, name)

        def silent(*args: Any, _original: Callable[..., Any] = original, _name: str = name, **kwargs: Any) -> Any:
            kwargs["verbose"] = 0
            if _name == "fit" and batch_size is not None:
                kwargs["batch_size"] = batch_size
            if _name == "fit" and epoch_times is not None:
                kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _epoch_clock(epoch_times)]
            return _original(*args, **kwargs)

        setattr(model, name, silent)


def _model_without_flatten(setting: Setting) -> Any:
    import keras

    units = setting.hidden_units if isinstance(setting.hidden_units, tuple) else (setting.hidden_units,)
    model = keras.Sequential([keras.Input(shape=(28, 28))])
    for n in units:
        model.add(keras.layers.Dense(n, activation=setting.activation))
    model.add(keras.layers.Dense(setting.num_classes, activation="softmax"))
    return model


def _history(returned: Any, model: Any) -> dict[str, list[float]]:
    raw = getattr(returned, "history", None)
    if not isinstance(raw, dict):
        raw = getattr(getattr(model, "history", None), "history", None)
    if not isinstance(raw, dict):
        return {}
    history = {}
    for key, values in raw.items():
        with contextlib.suppress(TypeError, ValueError):
            history[str(key)] = [float(v) for v in values]
    return history


def train(submission: Submission, data: Data, setting: Setting, mode: Mode, seed: int, text: Text) -> Outcome:
    """Build, compile, train and evaluate one setting; never raises for the student's errors."""
    import keras

    outcome = Outcome(setting, setting.epochs_in(mode))
    if not setting.flatten:
        outcome.notes.append(text("note.built_by_runner"))
    if setting.batch_size is not None:
        outcome.notes.append(text("note.batch_by_runner", batch_size=setting.batch_size))
    try:
        if data.error is not None:
            raise data.error
        if setting.normalized and data.normalize_error is not None:
            raise data.normalize_error
        x_train, x_test = data.images(setting.normalized)
        keras.utils.clear_session()
        keras.utils.set_random_seed(seed)
        with silenced_stderr_fd():
            _train(submission, data, setting, outcome, x_train, x_test)
    except StageError as error:
        outcome.error = text("note.error", stage=error.stage, error=error.error)
    return outcome


def _train(submission: Submission, data: Data, setting: Setting, outcome: Outcome, x_train: Any, x_test: Any) -> None:
    import keras

    if setting.flatten:
        units = list(setting.hidden_units) if isinstance(setting.hidden_units, tuple) else setting.hidden_units
        model = submission.call("build_model", hidden_units=units, activation=setting.activation, num_classes=setting.num_classes)
        if not isinstance(model, keras.Model):
            raise StageError("build_model", submission.text("note.not_a_model", type=type(model).__name__))
    else:
        model = _model_without_flatten(setting)
    with contextlib.suppress(Exception):
        outcome.params = int(model.count_params())
    with contextlib.suppress(Exception):
        outcome.output_shape = str(tuple(model.output_shape))
    compiled = submission.call("compile_model", model, optimizer=setting.optimizer)
    if isinstance(compiled, keras.Model):
        model = compiled
    _quiet(model, setting.batch_size, outcome.epoch_times)
    start = time.perf_counter()
    returned = submission.call("train_model", model, x_train, data.y_train, epochs=outcome.epochs)
    outcome.train_time = time.perf_counter() - start
    outcome.history = _history(returned, model)
    losses = outcome.history.get("loss") or []
    if losses:
        outcome.final_loss = losses[-1]
    result = submission.call("evaluate_model", model, x_test, data.y_test)
    try:
        loss, accuracy = result
        outcome.test_loss, outcome.test_accuracy = float(loss), float(accuracy)
    except (TypeError, ValueError) as error:
        raise StageError("evaluate_model", describe_error(error)) from error
    outcome.model = model
    outcome.x_test = x_test


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
