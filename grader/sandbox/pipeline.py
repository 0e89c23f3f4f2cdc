"""The student's pipeline, step by step, as the worker runs it.

Each step calls the student's function on the grader's own data, records
plain facts about what came back (``observe``), and leaves in ``self`` the
state later steps need. Where the student's step fails, a stand-in from
``fallbacks`` takes its place and the step is listed in ``replaced``.

A step that killed an earlier worker is "dead": on restart it is not run
again, only replaced. Steps that already reported are "done": on restart
they are re-run silently (cheap) or restored from a checkpoint (training).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import numbers
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from grader import facts as observed
from grader.sandbox import fallbacks, introspect

SAMPLE_INDEX = 7
EPOCHS_PROBE_SAMPLES = 256


class Pipeline:
    def __init__(self, student: Any, data: tuple, seed: int, train_subset: int, state_dir: Path) -> None:
        (self.x_train, self.y_train), (self.x_test, self.y_test) = data
        self.student = student
        self.seed = seed
        self.train_subset = train_subset
        self.state_dir = state_dir
        self.replaced: set[str] = set()
        self.x_train_n: np.ndarray | None = None
        self.x_test_n: np.ndarray | None = None
        self.model: keras.Model | None = None
        self.history: keras.callbacks.History | None = None
        # Told of each training epoch (the terminal shows "epoch k/N"); set by the worker.
        self.progress: Callable[..., None] | None = None
        self.compiled: observed.CompileDescription | None = None  # how the student's compile_model compiled the model
        self._genuine: list[Any] = []
        self._returned: Any = None

    # -- helpers ------------------------------------------------------------
    def function(self, name: str) -> Callable[..., Any]:
        function = getattr(self.student, name, None)
        if not callable(function):
            raise MissingFunction(name)
        return function

    def _usable_images(self, value: Any, like: np.ndarray) -> bool:
        return isinstance(value, np.ndarray) and value.shape == like.shape and np.issubdtype(value.dtype, np.number) and bool(np.isfinite(value).all())

    # -- load_data ------------------------------------------------------------
    def load_data(self) -> observed.LoadDataFacts:
        value = self.function("load_data")()
        names = ("x_train", "y_train", "x_test", "y_test")
        reference = (self.x_train, self.y_train, self.x_test, self.y_test)
        try:
            (a, b), (c, d) = value
        except (TypeError, ValueError):
            return observed.LoadDataFacts(structure_ok=False, type=type(value).__name__)
        arrays = []
        for name, got, expected in zip(names, (a, b, c, d), reference):
            is_array = isinstance(got, np.ndarray)
            arrays.append(
                observed.ArrayFacts(
                    name=name,
                    type=type(got).__name__,
                    shape=[int(d) for d in got.shape] if is_array else None,
                    dtype=str(got.dtype) if is_array else None,
                    equal=bool(is_array and got.shape == expected.shape and np.array_equal(got, expected)),
                )
            )
        return observed.LoadDataFacts(structure_ok=True, type=type(value).__name__, arrays=arrays)

    # -- show_sample ------------------------------------------------------------
    def show_sample(self) -> observed.ShowSampleFacts:
        import matplotlib.pyplot as plt

        figure = self.function("show_sample")(self.x_train.copy(), self.y_train.copy(), SAMPLE_INDEX)
        description = introspect.describe_figure(figure)
        expected = self.x_train[SAMPLE_INDEX]
        images = [im for ax in description.axes for im in ax.images]
        matches = any(np.asarray(im).shape == expected.shape and np.allclose(im, expected) for im in images)
        plt.close("all")
        return observed.ShowSampleFacts(
            is_figure=description.is_figure,
            type=description.type,
            images=len(images),
            image_matches=bool(matches),
            label=int(self.y_train[SAMPLE_INDEX]),
            index=SAMPLE_INDEX,
        )

    # -- normalize ------------------------------------------------------------
    def normalize(self) -> observed.NormalizeFacts:
        normalize = self.function("normalize")
        probe = self.x_train[:2000].copy()
        result = normalize(probe)
        facts = observed.NormalizeFacts(type=type(result).__name__, input_unchanged=bool(np.array_equal(probe, self.x_train[:2000])))
        if isinstance(result, np.ndarray) and result.shape == probe.shape:
            numeric = np.issubdtype(result.dtype, np.number)
            facts.dtype = str(result.dtype)
            facts.is_float = bool(np.issubdtype(result.dtype, np.floating))
            facts.min = float(result.min()) if numeric else None
            facts.max = float(result.max()) if numeric else None
            facts.max_error = float(np.max(np.abs(result - probe / 255.0))) if numeric else None
            facts.shares_input = bool(np.shares_memory(result, probe))
        elif isinstance(result, np.ndarray):
            facts.shape = [int(d) for d in result.shape]
        self.restore_normalize()
        return facts

    def restore_normalize(self, dead: bool = False) -> None:
        normalize = None if dead else getattr(self.student, "normalize", None)
        # Only the training images that will be trained on (all of them unless train_subset).
        raw_train = self.x_train[: self.train_subset] if self.train_subset else self.x_train
        x_train = normalize(raw_train.copy()) if callable(normalize) else None
        x_test = normalize(self.x_test.copy()) if callable(normalize) else None
        if self._usable_images(x_train, raw_train) and self._usable_images(x_test, self.x_test):
            self.x_train_n, self.x_test_n = x_train, x_test
        else:
            self.replaced.add("normalize")
            self.x_train_n = fallbacks.normalize(raw_train)
            self.x_test_n = fallbacks.normalize(self.x_test)

    # -- build_model ------------------------------------------------------------
    def build_model(self) -> observed.BuildFacts:
        build = self.function("build_model")
        keras.utils.set_random_seed(self.seed)
        model = build()
        facts = observed.BuildFacts(default=_describe_built(model))
        variants = {"units_64_tanh": ((64, "tanh"), {}), "list_256_128": (([256, 128],), {}), "classes_5": ((), {"num_classes": 5})}
        for name, (args, kwargs) in variants.items():
            try:
                facts.variants[name] = _describe_built(build(*args, **kwargs))
            except Exception as error:  # noqa: BLE001 - reported as this variant's failure
                facts.variants[name] = observed.ModelDescription(error=describe_error(error))
        self.restore_build(model=model)
        return facts

    def restore_build(self, dead: bool = False, model: Any = None) -> None:
        if model is None and not dead and callable(getattr(self.student, "build_model", None)):
            keras.utils.set_random_seed(self.seed)
            model = self.student.build_model()
        if _output_shape(model) == [1, 10]:
            self.model = model
        else:
            self.replaced.add("build_model")
            keras.utils.set_random_seed(self.seed)
            self.model = fallbacks.build_model()

    # -- compile_model ------------------------------------------------------------
    def compile_model(self) -> observed.CompileFacts:
        compile_model = self.function("compile_model")
        returned = compile_model(self.model)
        self.compiled = introspect.describe_compile(self.model)
        try:
            other = self._fresh_model()
            compile_model(other, "sgd")
            sgd = introspect.describe_compile(other)
        except Exception as error:  # noqa: BLE001 - reported as the variant's failure
            sgd = observed.CompileDescription(error=describe_error(error))
        facts = observed.CompileFacts(returns_model=returned is self.model, default=self.compiled, sgd=sgd)
        if not getattr(self.model, "compiled", False):
            self.replaced.add("compile_model")
            fallbacks.compile_model(self.model)
        return facts

    def restore_compile(self, dead: bool = False) -> None:
        compile_model = None if dead else getattr(self.student, "compile_model", None)
        if callable(compile_model):
            compile_model(self.model)
            self.compiled = introspect.describe_compile(self.model)
        if dead or not getattr(self.model, "compiled", False):
            self.replaced.add("compile_model")
            fallbacks.compile_model(self.model)

    def _fresh_model(self) -> keras.Model:
        build = getattr(self.student, "build_model", None)
        model = build() if callable(build) and "build_model" not in self.replaced else None
        return model if isinstance(model, keras.Model) else fallbacks.build_model()

    # -- train_model ------------------------------------------------------------
    def train_model(self) -> observed.TrainFacts:
        """Train with the student's function; if that fails, once more on a stand-in compile.

        A wrong compile_model (a loss that does not fit the integer labels)
        makes a correct train_model crash. The second attempt starts from the
        same weights with the reference compile: if it works, train_model is
        judged on it and its facts say which earlier step the first failure
        came from (``first_error``, ``stand_ins``).
        """
        train = self.function("train_model")
        x, y = self._training_data()
        initial = self.model.get_weights()
        try:
            facts = self._train_once(train, x, y)
        except Exception as error:  # noqa: BLE001 - retried below, else re-raised as the step's failure
            if isinstance(error, MemoryError) or not self._compile_suspect():
                raise
            first = describe_error(error)
        else:
            if facts.weights_finite or not self._compile_suspect():
                return self._keep_training(facts, x, y)
            first = observed.ErrorInfo(type="weights_not_finite")
        self.model.set_weights(initial)
        fallbacks.compile_model(self.model)
        self.replaced.add("compile_model")
        facts = self._train_once(train, x, y)
        facts.first_error, facts.stand_ins = first, ["compile_model"]
        return self._keep_training(facts, x, y)

    def _compile_suspect(self) -> bool:
        """True when the student's own compile is in use and differs from the reference
        in what can break training (optimizer, loss, from_logits): only then is a retry worth it."""
        if "compile_model" in self.replaced:
            return False
        compiled = self.compiled or observed.CompileDescription()
        loss = compiled.loss or observed.LossDescription("")
        return compiled.optimizer != "Adam" or loss.name not in fallbacks.SPARSE_LOSSES or loss.from_logits

    def _train_once(self, train: Callable[..., Any], x: np.ndarray, y: np.ndarray) -> observed.TrainFacts:
        keras.utils.set_random_seed(self.seed)
        before = _weights_digest(self.model)
        fits = _intercept_fit(self.model, self.progress)
        try:
            returned = train(self.model, x.copy(), y.copy())
        finally:
            # Later fits (a retry, the stand-in training) are not the student's: neither recorded nor reported.
            self.model.__dict__.pop("fit", None)
        facts = observed.TrainFacts(
            returned_type=type(returned).__name__,
            is_history=isinstance(returned, keras.callbacks.History),
            from_fit=any(history is returned for _, history in fits),
            fit_calls=[call for call, _ in fits],
            weights_changed=_weights_digest(self.model) != before,
            weights_finite=all(bool(np.isfinite(w).all()) for w in self.model.get_weights()),
            default_epochs=_default(train, "epochs"),
        )
        if isinstance(returned, keras.callbacks.History):
            facts.epochs = len(getattr(returned, "epoch", []) or [])
            facts.metrics = sorted(str(k) for k in getattr(returned, "history", {}) or {})
        self._genuine = [history for _, history in fits if history is not None]
        self._returned = returned
        return facts

    def _keep_training(self, facts: observed.TrainFacts, x: np.ndarray, y: np.ndarray) -> observed.TrainFacts:
        """Keep the student's training if it trained; else the stand-in's. Checkpoint it."""
        facts.epochs_probe = self._epochs_probe(self.function("train_model"))
        if not self._genuine or not facts.weights_changed or not facts.weights_finite:
            self._fallback_training(x, y)
        else:
            self.history = self._returned if facts.from_fit else self._genuine[-1]
        self._checkpoint()
        return facts

    def _training_data(self) -> tuple[np.ndarray, np.ndarray]:
        if self.train_subset:
            return self.x_train_n[: self.train_subset], self.y_train[: self.train_subset]
        return self.x_train_n, self.y_train

    def _epochs_probe(self, train: Callable[..., Any]) -> observed.EpochsProbe:
        """train_model(..., epochs=1) on a throwaway model must train one epoch.

        The model is compiled by the student's compile_model when that works,
        so a pipeline that is consistent in itself (one-hot labels with
        categorical cross-entropy) is not blamed here for its loss.
        """
        model = fallbacks.build_model()
        compile_model = getattr(self.student, "compile_model", None)
        # The same compile as the attempt being judged (the stand-in after a retry).
        if callable(compile_model) and "compile_model" not in self.replaced:
            try:
                compile_model(model)
            except Exception:  # noqa: BLE001 - it worked in its own step; a fresh stand-in instead
                model = fallbacks.build_model()
        if not getattr(model, "compiled", False):
            fallbacks.compile_model(model)
        try:
            result = train(model, self.x_train_n[:EPOCHS_PROBE_SAMPLES], self.y_train[:EPOCHS_PROBE_SAMPLES], epochs=1)
        except Exception as error:  # noqa: BLE001 - reported in the train check
            return observed.EpochsProbe(error=describe_error(error))
        return observed.EpochsProbe(epochs=len(getattr(result, "epoch", []) or []) if isinstance(result, keras.callbacks.History) else None)

    def _fallback_training(self, x: np.ndarray, y: np.ndarray) -> None:
        self.replaced.add("train_model")
        if not all(bool(np.isfinite(w).all()) for w in self.model.get_weights()):
            # Weights that became NaN cannot be trained further: start from fresh ones.
            keras.utils.set_random_seed(self.seed)
            self.model.set_weights([_fresh_like(w) for w in self.model.get_weights()])
        keras.utils.set_random_seed(self.seed)
        # The stand-in trains on integer labels, whatever loss compile_model chose.
        self.history = fallbacks.train_model(fallbacks.compile_model(self.model), x, y)

    def _checkpoint(self) -> None:
        """Weights, History and the test-set output, for restarts and for the supervisor."""
        weights = {f"w{i}": w for i, w in enumerate(self.model.get_weights())}
        np.savez(self.state_dir / "weights.npz", **weights)
        (self.state_dir / "history.json").write_text(
            json.dumps({"history": _plain_history(self.history), "epoch": list(self.history.epoch), "params": _plain(self.history.params)})
        )
        np.save(self.state_dir / "x_test_n.npy", np.asarray(self.x_test_n, dtype="float32"))
        probabilities = self.model.predict(self.x_test_n, batch_size=1000, verbose=0)
        np.save(self.state_dir / "probabilities.npy", np.asarray(probabilities, dtype="float32"))
        (self.state_dir / "model.json").write_text(json.dumps(dataclasses.asdict(introspect.describe_model(self.model))))

    def restore_train(self, dead: bool = False) -> None:
        checkpoint = self.state_dir / "weights.npz"
        if dead or not checkpoint.exists():
            x, y = self._training_data()
            self._fallback_training(x, y)
            self._checkpoint()
            return
        with np.load(checkpoint) as weights:
            self.model.set_weights([weights[f"w{i}"] for i in range(len(weights.files))])
        saved = json.loads((self.state_dir / "history.json").read_text())
        self.history = keras.callbacks.History()
        self.history.history, self.history.epoch, self.history.params = saved["history"], saved["epoch"], saved["params"]
        self.history.set_model(self.model)

    # -- evaluate_model ------------------------------------------------------------
    def evaluate_model(self) -> observed.EvaluateFacts:
        evaluate = self.function("evaluate_model")
        # Graded on the reference loss and metric, whatever compile_model chose:
        # evaluate_model is judged for calling evaluate, not for the compile step.
        # (A model compiled that way already keeps its traced evaluation: no recompile.)
        if not _reference_loss_and_metric(introspect.describe_compile(self.model)):
            fallbacks.compile_model(self.model)
        result = evaluate(self.model, self.x_test_n.copy(), self.y_test.copy())
        facts = observed.EvaluateFacts(type=type(result).__name__)
        if isinstance(result, (tuple, list)) and len(result) == 2:
            facts.types = [type(v).__name__ for v in result]
            facts.numbers = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in result)
            facts.values = [float(v) if isinstance(v, numbers.Real) else None for v in result]
            facts.finite = facts.numbers and all(np.isfinite(v) for v in facts.values)
        return facts

    # -- history ------------------------------------------------------------
    def history_step(self) -> observed.HistoryFacts:
        import matplotlib.pyplot as plt

        facts = observed.HistoryFacts(history=_plain_history(self.history), epochs=len(self.history.epoch))
        try:
            facts.frame = _describe_frame(self.function("history_frame")(self.history))
        except Exception as error:  # noqa: BLE001 - history_frame and plot_history are graded apart
            facts.frame = observed.FrameFacts(error=describe_error(error))
        try:
            facts.figure = introspect.describe_figure(self.function("plot_history")(self.history))
        except Exception as error:  # noqa: BLE001
            facts.figure = observed.FigureDescription(error=describe_error(error))
        plt.close("all")
        return facts

    # -- predict ------------------------------------------------------------
    def predict(self) -> observed.PredictFacts:
        predict = self.function("predict_sample")
        probabilities = np.load(self.state_dir / "probabilities.npy")
        wrong = np.flatnonzero(probabilities.argmax(axis=1) != self.y_test)
        indices = [0] + ([int(wrong[0])] if wrong.size else [])
        samples = []
        for index in indices:
            result = predict(self.model, self.x_test_n.copy(), index)
            sample = observed.Prediction(index=index, type=type(result).__name__)
            if isinstance(result, (tuple, list)) and len(result) == 2:
                probs, label = result
                array = np.asarray(probs) if isinstance(probs, np.ndarray) else None
                sample.probs_type = type(probs).__name__
                sample.probs_shape = [int(d) for d in array.shape] if array is not None else None
                sample.probs = array.astype(float).ravel().tolist() if array is not None and array.size <= 100 else None
                sample.label_type = type(label).__name__
                sample.label = int(label) if isinstance(label, numbers.Integral) and not isinstance(label, bool) else None
            samples.append(sample)
        return observed.PredictFacts(samples=samples)


class MissingFunction(Exception):
    """The student's module does not define a step's function."""


def describe_error(error: BaseException) -> observed.ErrorInfo:
    """Type, message and the student's line; never a frame of the grader."""
    import traceback

    line = None
    function = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.endswith("mnist_dense.py"):
            line, function = frame.lineno, frame.name
    if isinstance(error, SyntaxError) and str(error.filename or "").endswith("mnist_dense.py"):
        line = error.lineno
    described = observed.ErrorInfo(type=type(error).__name__, message=" ".join(str(error).split())[:400], line=line, function=function)
    if isinstance(error, SystemExit):
        described.code = 0 if error.code is None else error.code if isinstance(error.code, int) else 1
    return described


def _reference_loss_and_metric(compiled: observed.CompileDescription) -> bool:
    """Compiled with exactly the reference loss and metric (as strings), so evaluate gives what the reference gives."""
    loss = compiled.loss
    return loss is not None and loss.name == "sparse_categorical_crossentropy" and not loss.from_logits and [m.name for m in compiled.metrics] == ["accuracy"]


def _fresh_like(weight: np.ndarray) -> np.ndarray:
    """Small random weights (or zero biases) of the same shape."""
    if weight.ndim < 2:
        return np.zeros_like(weight)
    return np.random.default_rng(0).normal(0.0, 0.05, weight.shape).astype(weight.dtype)


def _output_shape(model: Any) -> list[int] | None:
    if not isinstance(model, keras.Model):
        return None
    try:
        output = model(np.zeros((1, 28, 28), dtype="float32"), training=False)
        return [int(d) for d in np.shape(output)]
    except Exception:  # noqa: BLE001 - a model that cannot run counts as unusable
        return None


def _weights_digest(model: keras.Model) -> str:
    import hashlib

    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


class _EpochReporter(keras.callbacks.Callback):
    """Tells ``report(epoch=k, epochs=N)`` at the end of each epoch; changes nothing in training."""

    def __init__(self, report: Callable[..., None], epochs: Any) -> None:
        super().__init__()
        self.report, self.epochs = report, epochs

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.report(epoch=epoch + 1, epochs=self.epochs if isinstance(self.epochs, int) else None)


def _describe_built(model: Any) -> observed.ModelDescription:
    described = introspect.describe_model(model)
    described.output_on_batch = _output_shape(model)
    return described


def _intercept_fit(model: keras.Model, progress: Callable[..., None] | None = None) -> list[tuple[observed.FitCall, Any]]:
    """Record every call of ``model.fit``: what data reached it, and the History it returned."""
    calls: list[tuple[observed.FitCall, Any]] = []
    real_fit = model.fit

    def fit(x=None, y=None, *args: Any, **kwargs: Any) -> Any:
        if progress is not None and len(args) < 4:
            epochs = kwargs.get("epochs", args[1] if len(args) > 1 else 1)
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _EpochReporter(progress, epochs)]
        array = np.asarray(x) if isinstance(x, np.ndarray) else None
        call = observed.FitCall(
            epochs=_plain(kwargs.get("epochs", args[1] if len(args) > 1 else 1)),
            batch_size=_plain(kwargs.get("batch_size", args[0] if args else None)),
            x_min=float(array.min()) if array is not None and array.size else None,
            x_max=float(array.max()) if array is not None and array.size else None,
            x_shape=[int(d) for d in array.shape] if array is not None else None,
        )
        index = len(calls)
        calls.append((call, None))
        history = real_fit(x, y, *args, **kwargs)
        calls[index] = (call, history)
        return history

    object.__setattr__(model, "fit", fit)
    return calls


def _default(function: Callable[..., Any], name: str) -> Any:
    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):
        return None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return parameter.default if isinstance(parameter.default, (int, float, str)) else repr(parameter.default)


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def _plain_history(history: Any) -> dict[str, list[float]]:
    raw = getattr(history, "history", {}) or {}
    return {str(k): [float(x) for x in v] for k, v in raw.items()}


def _describe_frame(frame: Any) -> observed.FrameFacts:
    if not isinstance(frame, pd.DataFrame):
        return observed.FrameFacts(is_frame=False, type=type(frame).__name__)
    columns = {}
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        columns[str(column)] = [float(v) for v in values]
    return observed.FrameFacts(is_frame=True, type=type(frame).__name__, rows=int(len(frame)), columns=columns)
