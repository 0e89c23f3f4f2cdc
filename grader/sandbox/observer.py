"""The observer: runs the student's pipeline step by step from outside the student's process.

It never imports student code. Through ``AnswererLink`` (``link.py``) it
starts the answerer (``answerer.py``) in the sandbox with the supervisor's
mechanism (time and memory limits, killing, the subreaper, the storage quota)
and asks it to call the student's functions. A step's time is CPU time of the
answerer's tree (``limits.StepClock``), with ``wall_factor`` times it as the
wall backstop, shared by the step's calls. The data crosses through two
folders of the state folder (``outbox``, ``inbox``): at ``namespaces`` they
live in the sandbox's capped tmpfs and are reached as descriptors through
``/proc/<pid>/root``. Everything else is decided here, from the answers read as bounded data (``wire.py``): which
step runs next and for how long, each step's status, the typed facts the
checks read (``grader.facts``), which steps were replaced by the grader's
stand-ins (``fallbacks.py``, run here in clean Keras and sent to the answerer
as data), the checkpoint of the trained model (kept in a folder the sandbox
cannot reach), and the restart of an answerer that died: a new one is
started, imports the module again and receives the state as data.

Keras is imported here only when a stand-in is needed (a correct submission
never needs one).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from grader import facts as observed
from grader import reference
from grader.reference import STANDIN_SAMPLES
from grader.sandbox import wire
from grader.sandbox.link import AnswererDied, AnswererLink, StepFailed
from grader.sandbox.protocol import Phase, StepStatus
from grader.sandbox.supervisor import SandboxRun, StepOutcome, _harden, _kill_strays
from grader.spec import STEPS

# fallbacks.build_model().to_json(), kept as data so a grading that needs no stand-in never imports
# Keras here (tests/test_observer.py checks it is current).
STANDIN_ARCHITECTURE = Path(__file__).with_name("standin_model.json")
SAMPLE_INDEX = 7
EPOCHS_PROBE_SAMPLES = 256
NORMALIZE_PROBE = 2000
MAX_CHECKPOINT_BYTES = 256 * 2**20  # the trained weights; a dense MNIST model needs a few MB


def _digest(weights: list[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for weight in weights:
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


def _finite(weights: list[np.ndarray]) -> bool:
    return all(bool(np.isfinite(w).all()) for w in weights)


def _usable_images(value: Any, like: np.ndarray) -> bool:
    return isinstance(value, np.ndarray) and value.shape == like.shape and np.issubdtype(value.dtype, np.number) and bool(np.isfinite(value).all())


class Observer(AnswererLink):
    """Runs the step sequence (``grader.spec.STEPS``) through an answerer; returns a ``SandboxRun``.

    The policy: which step runs and for how long, its status and facts, the stand-ins, restarts
    (``_revive``). The answerer process and its channel are ``AnswererLink``'s."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from grader import data as mnist

        (self.x_train, self.y_train), (self.x_test, self.y_test) = mnist.read_npz(Path(self.dataset))
        self.subset = int(self.config.grading.train_subset)
        self.private = self.workdir / "observer"  # only this process writes here
        self.private.mkdir(parents=True, exist_ok=True)
        # The state later steps need, held here as data, re-sent to a restarted answerer.
        self.module_mode = "import"  # import, salvage or empty
        self.model_source: str | None = None  # "student" (build_model) or "standin"
        self.compiled_by: str | None = None  # "student" or "reference"
        self.standin: dict[str, Any] | None = None  # architecture and weights file of a stand-in model
        self.checkpoint: Path | None = None  # trained weights (npz written here)
        self.history: dict[str, Any] | None = None  # the History later steps receive, as data
        self.compiled: observed.CompileDescription | None = None
        self.x_train_file: Path | None = None
        self.x_test_n: np.ndarray | None = None
        self.standin_x: np.ndarray | None = None
        self.keras: Any = None
        self.grader_training = ""  # "student_model": the reference training on the student's model; "standin"

    # -- the sequence ---------------------------------------------------------------------------
    def run(self) -> SandboxRun:
        _harden()
        self.current_step = "import"
        try:
            self._start()
            self._budget("import")  # from the answerer's start: the grader's own start-up is not the student's time
            self._import()
            # Nothing could be imported (a SyntaxError): no step can run, and no stand-in
            # training either (issue 19); every check says the import failed.
            steps = STEPS if self.module_mode != "empty" else ()
            for spec in steps:
                if spec.action:
                    self.step(spec.name, getattr(self, spec.action), getattr(self, spec.restore) if spec.restore else None)
        except StepFailed:
            # Not even the grader's stand-ins could be put in place: the steps not run say so.
            self._log_malformed(self.current_step)
        finally:
            if self.process is not None:
                try:
                    self.process.stdin.write(b'{"op": "quit"}\n')
                    self.process.stdin.flush()
                except OSError:
                    pass
            self._stop_answerer()
        return SandboxRun(
            outcomes=self.outcomes,
            replaced=self.replaced,
            state_dir=self.state_dir,
            peak_memory_mb=round(self.peak_mb, 1),
            workers=self.workers,
            output_file=self.output_file,
            evidence_dir=self.evidence_dir if self.evidence else None,
            isolation=self.isolation.level,
            memory_wall=self.memory_wall,
            stray_processes=self.strays,
            grader_training=self.grader_training,
        )

    def _begin(self, step: str, kind: str = "run") -> None:
        self.current_step = step
        self._budget(Phase(step).limit_key)
        self.call_tampered, self.call_printed = [], []
        self._tell({"event": "start", "step": str(Phase(step, kind))})  # type: ignore[arg-type]

    def step(self, name: str, action: Callable[[], Any], restore: Callable[..., Any] | None) -> None:
        """Run one step and record its outcome; put its stand-in in place when it failed."""
        self._begin(name)
        start = time.monotonic()
        data, status, error = None, StepStatus.OK, None
        try:
            data = action()
        except StepFailed as failed:
            status, error = failed.status, failed.error
        except wire.WireError as bad:
            status, error = StepStatus.TAMPERED, {"names": [f"answer: {bad}"[:200]]}
        except (observed.MalformedFacts, KeyError, TypeError, AttributeError, ValueError, IndexError):
            # An answer not shaped as the answerer writes it: forged in the student's process.
            self._log_malformed(name)
            status, error = StepStatus.TAMPERED, {"names": ["answer"]}
        tampered = list(dict.fromkeys(self.call_tampered))
        if tampered and status == StepStatus.OK:
            data, status, error = None, StepStatus.TAMPERED, {"names": tampered[:10]}
        self.outcomes[name] = StepOutcome(
            step=name,
            status=status,
            error=error,
            data=dataclasses.asdict(data) if dataclasses.is_dataclass(data) else data,
            seconds=time.monotonic() - start,
            printed="".join(self.call_printed)[:2000],
            tampered=tampered[:10],
        )
        self.strays += _kill_strays(self.protected or ({self.process.pid} if self.process else set()))
        if self.outbox is not None:
            wire.clear(self.outbox)  # answers nobody read (arrays inside values the facts did not need)
        if status != StepStatus.OK and restore is not None:
            self.phase(name, "fallback", lambda: restore(dead=True))

    def _log_malformed(self, step: str) -> None:
        import traceback

        with open(self.workdir / "observer.log", "a", encoding="utf-8") as log:
            log.write(f"malformed answer in {step}:\n{traceback.format_exc()}\n")

    def phase(self, name: str, kind: str, action: Callable[[], Any]) -> None:
        """Re-create a step's state (not reported); a death or failure there is held against the step."""
        self._begin(name, kind)
        try:
            action()
            if self.call_tampered and name in self.outcomes:
                # The student's code replaced the grader's functions while its state was re-created.
                outcome = self.outcomes[name]
                names = sorted(set(outcome.tampered + self.call_tampered))[:10]
                self.outcomes[name] = StepOutcome(step=name, status=StepStatus.TAMPERED, error={"names": names}, tampered=names)
                self.replaced.add(name)
        except (StepFailed, wire.WireError, observed.MalformedFacts, KeyError, TypeError, AttributeError, ValueError, IndexError) as failed:
            self._log_malformed(name)
            if isinstance(failed, AnswererDied) or kind != "fallback":
                outcome = self.outcomes.get(name)
                if outcome is not None and outcome.status == StepStatus.OK:
                    status = failed.status if isinstance(failed, StepFailed) else StepStatus.TAMPERED
                    self.outcomes[name] = StepOutcome(step=name, status=status, error=getattr(failed, "error", None))
            if kind != "fallback":
                self.phase(name, "fallback", lambda: self._restores()[name](dead=True))
            else:
                raise

    # -- restart ------------------------------------------------------------------------------
    def _restores(self) -> dict[str, Callable[..., Any]]:
        return {s.name: getattr(self, s.restore) for s in STEPS if s.restore}

    def _revive(self) -> None:
        """A new answerer with the module imported again and the state re-sent as data."""
        step, cause = self.last_death or (self.current_step, StepStatus.CRASHED)
        self._tell({"event": "restart", "step": step, "cause": str(cause)})
        saved = self.current_step, self.step_deadline, self.step_limit, self.call_tampered, self.call_printed
        spent = self.clock.used() if self.step_limit is not None else 0.0  # CPU the step used before the death
        began = time.monotonic()
        self._start()
        self._budget("import")
        try:
            self.answer("import", mode=self.module_mode)
        except StepFailed:
            self.module_mode = "empty"
            self.answer("import", mode="empty")
        self._resend()
        self.current_step, self.step_deadline, self.step_limit, self.call_tampered, self.call_printed = saved
        # The restart's time is not the step's: neither its wall time nor its CPU.
        self.step_deadline += time.monotonic() - began
        if self.step_limit is not None:
            self.clock.start(self.step_limit)
            self.clock.started_cpu -= spent
        else:
            self.clock.stop()

    def _resend(self) -> None:
        if self.x_train_file is not None:
            self._send_array(self.x_train_file, "x_train_n")
            self._send_array(self.private / "x_test_n.npy", "x_test_n")
        if self.model_source is None:
            return
        self._budget("build_model")
        if self.model_source == "student":
            try:
                self.answer("call", function="build_model", seed=self.seed, keep="model", send=False)
            except AnswererDied:
                self.model_source = "standin"  # build_model killed the new answerer too: the stand-in from now on
                self.replaced.add("build_model")
                self._revive()
                return
            except StepFailed:
                self._load_standin_model()
        else:
            self._load_standin_model()
        if self.compiled_by is not None:
            self._budget("compile_model")
            try:
                if self.compiled_by != "student":
                    raise StepFailed(StepStatus.ERROR)
                self.answer("call", function="compile_model", args=[{"ref": "model"}], send=False)
            except StepFailed:
                self.answer("compile", ref="model", settings=reference.compile_settings())
        if self.checkpoint is not None:
            self._send_checkpoint()

    def _put(self, name: str, source: Path) -> None:
        """Put a file in the answerer's inbox (a restarted answerer's when it died)."""
        if self.process is None:
            self._revive()
        wire.put_in(self.inbox, name, source)

    def _send_array(self, source: Path, name: str) -> None:
        self._put(f"{name}.npy", source)
        self.answer("load", kind="array", file=f"{name}.npy", keep=name)

    def _send_checkpoint(self) -> None:
        self._put("weights.npz", self.checkpoint)
        self.answer("set_weights", ref="model", file="weights.npz")
        self.answer("load", kind="history", keep="history", model="model", **self.history)

    # -- import ------------------------------------------------------------------------------
    def _import(self) -> None:
        self._begin("import")
        start = time.monotonic()
        try:
            data = self.answer("import", mode="import")
            self.outcomes["import"] = StepOutcome(
                "import",
                StepStatus.OK,
                data={"mode": "import"},
                seconds=time.monotonic() - start,
                printed="".join(self.call_printed)[:2000],
                tampered=list(dict.fromkeys(self.call_tampered))[:10],
            )
            return
        except StepFailed as failed:
            self.outcomes["import"] = StepOutcome(
                "import", failed.status, failed.error, seconds=time.monotonic() - start, printed="".join(self.call_printed)[:2000]
            )
            data = None
        self.module_mode = "salvage"
        if self.process is None:
            step, cause = self.last_death or ("import", self.outcomes["import"].status)
            self._tell({"event": "restart", "step": step, "cause": str(cause)})
            self._start()
        self._begin("import-salvage")
        start = time.monotonic()
        try:
            data = self.answer("import", mode="salvage")
            dropped = data.get("dropped") if isinstance(data, dict) else None
            self.outcomes["import-salvage"] = StepOutcome(
                "import-salvage", StepStatus.OK, data={"mode": "salvaged", "dropped": dropped if type(dropped) is int else 0}, seconds=time.monotonic() - start
            )
        except StepFailed as failed:
            self.outcomes["import-salvage"] = StepOutcome("import-salvage", failed.status, failed.error, seconds=time.monotonic() - start)
            self.module_mode = "empty"
            self.answer("import", mode="empty", limit=30.0)

    # -- load_data -----------------------------------------------------------------------------
    def load_data(self) -> observed.LoadDataFacts:
        value = self.answer("call", function="load_data", keep="loaded")["value"]
        outer = value.get("items") if value.get("kind") == "sequence" and value.get("length") == 2 else None
        pairs = [v.get("items") for v in outer if v.get("kind") == "sequence" and v.get("length") == 2] if outer else []
        if len(pairs) != 2:
            return observed.LoadDataFacts(structure_ok=False, type=self.type_of(value))
        names = ("x_train", "y_train", "x_test", "y_test")
        reference = (self.x_train, self.y_train, self.x_test, self.y_test)
        arrays = []
        for name, got, expected in zip(names, pairs[0] + pairs[1], reference):
            is_array = got.get("kind") == "array"
            array = self.array(got) if is_array else None
            arrays.append(
                observed.ArrayFacts(
                    name=name,
                    type=self.type_of(got),
                    shape=list(array.shape) if is_array else None,
                    dtype=str(array.dtype) if is_array else None,
                    equal=bool(is_array and array.shape == expected.shape and np.array_equal(array, expected)),
                )
            )
        self.answer("forget", refs=["loaded"])
        return observed.LoadDataFacts(structure_ok=True, type=self.type_of(value), arrays=arrays)

    # -- show_sample ---------------------------------------------------------------------------
    def show_sample(self) -> observed.ShowSampleFacts:
        args = [{"data": "x_train"}, {"data": "y_train"}, {"value": SAMPLE_INDEX}]
        self.answer("call", function="show_sample", args=args, keep="figure", send=False)
        description = observed.parse_as(observed.FigureDescription, self.answer("describe", ref="figure", **{"as": "figure"}))
        expected = self.x_train[SAMPLE_INDEX]
        images = [im for ax in description.axes for im in ax.images]
        matches = any(not isinstance(im, dict) and _same_image(im, expected) for im in images)
        return observed.ShowSampleFacts(
            is_figure=description.is_figure,
            type=description.type,
            images=len(images),
            image_matches=bool(matches),
            label=int(self.y_train[SAMPLE_INDEX]),
            index=SAMPLE_INDEX,
        )

    # -- normalize -----------------------------------------------------------------------------
    def normalize(self) -> observed.NormalizeFacts:
        probe = self.x_train[:NORMALIZE_PROBE]
        answer = self.answer(
            "call", function="normalize", args=[{"data": "x_train", "stop": NORMALIZE_PROBE}], keep="normalized", keep_args=["probe"], shares=True
        )
        value = answer["value"]
        after = self.answer("describe", ref="probe")
        unchanged = after.get("kind") == "array" and np.array_equal(self.array(after), probe)
        facts = observed.NormalizeFacts(type=self.type_of(value), input_unchanged=bool(unchanged))
        if value.get("kind") == "array":
            result = self.array(value)
            if result.shape == probe.shape:
                numeric = np.issubdtype(result.dtype, np.number)
                facts.dtype = str(result.dtype)
                facts.is_float = bool(np.issubdtype(result.dtype, np.floating))
                facts.min = float(result.min()) if numeric else None
                facts.max = float(result.max()) if numeric else None
                facts.max_error = float(np.max(np.abs(result - probe / 255.0))) if numeric else None
                facts.shares_input = answer.get("shares") is True
            else:
                facts.shape = list(result.shape)
        elif value.get("kind") == "object" and isinstance(value.get("shape"), list):
            facts.shape = [int(d) for d in value["shape"] if type(d) is int]
        self.answer("forget", refs=["normalized", "probe"])
        self.restore_normalize()
        return facts

    def restore_normalize(self, dead: bool = False) -> None:
        raw_train = self.x_train[: self.subset] if self.subset else self.x_train
        x_train = x_test = None
        if not dead:
            try:
                stop = {"stop": self.subset} if self.subset else {}
                train = self.answer("call", function="normalize", args=[{"data": "x_train", **stop}], keep="x_train_n")["value"]
                x_train = self.array(train) if train.get("kind") == "array" else None
                test = self.answer("call", function="normalize", args=[{"data": "x_test"}], keep="x_test_n")["value"]
                x_test = self.array(test) if test.get("kind") == "array" else None
            except (StepFailed, wire.WireError) as failed:
                if isinstance(failed, AnswererDied):
                    raise
        if _usable_images(x_train, raw_train) and _usable_images(x_test, self.x_test):
            np.save(self.private / "x_train_n.npy", x_train)
            self.standin_x = np.asarray(x_train[:STANDIN_SAMPLES], dtype="float32")
            self.x_test_n = np.asarray(x_test, dtype="float32")
            del x_train
        else:
            self.replaced.add("normalize")
            np.save(self.private / "x_train_n.npy", raw_train.astype("float32") / 255.0)
            self.standin_x = raw_train[:STANDIN_SAMPLES].astype("float32") / 255.0
            self.x_test_n = self.x_test.astype("float32") / 255.0
            self.x_train_file = self.private / "x_train_n.npy"
            np.save(self.private / "x_test_n.npy", self.x_test_n)
            self._send_array(self.x_train_file, "x_train_n")
            self._send_array(self.private / "x_test_n.npy", "x_test_n")
            return
        self.x_train_file = self.private / "x_train_n.npy"
        np.save(self.private / "x_test_n.npy", self.x_test_n)

    # -- build_model ---------------------------------------------------------------------------
    def describe_model(self, ref: str) -> observed.ModelDescription:
        return observed.parse_as(observed.ModelDescription, self.answer("describe", ref=ref, **{"as": "model"}))

    def build_model(self) -> observed.BuildFacts:
        self.answer("call", function="build_model", seed=self.seed, keep="model", send=False)
        facts = observed.BuildFacts(default=self.describe_model("model"))
        if facts.default.is_model and not _matches_weights(facts.default, self.weights("model")[0]):
            raise wire.WireError("the model's description does not match its weights")
        for probe in reference.BUILD_CALLS:
            try:
                self.answer(
                    "call",
                    function="build_model",
                    args=[{"value": a} for a in probe.args],
                    kwargs={k: {"value": v} for k, v in probe.kwargs},
                    keep="variant",
                    send=False,
                )
                facts.variants[probe.name] = self.describe_model("variant")
            except StepFailed as failed:
                if isinstance(failed, AnswererDied):
                    raise
                facts.variants[probe.name] = observed.ModelDescription(error=observed.parse_as(observed.ErrorInfo, failed.error))
        self.answer("forget", refs=["variant"])
        self.model_source = "student"
        if facts.default.output_on_batch != [1, reference.NUM_CLASSES]:
            self._standin_build()
        return facts

    def restore_build(self, dead: bool = False) -> None:
        if not dead:
            self.answer("call", function="build_model", seed=self.seed, keep="model", send=False)
            if self.describe_model("model").output_on_batch == [1, reference.NUM_CLASSES]:
                self.model_source = "student"
                return
        self._standin_build()

    def _clean_keras(self) -> Any:
        """Keras in this process, for the stand-ins: imported on first need, quiet and deterministic."""
        if self.keras is None:
            import warnings

            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            warnings.filterwarnings("ignore")
            with self._log_stderr():
                import absl.logging
                import keras
                import tensorflow as tf

                absl.logging.set_verbosity(absl.logging.ERROR)
                tf.get_logger().setLevel("ERROR")
                try:
                    tf.config.threading.set_intra_op_parallelism_threads(self.threads)
                    tf.config.threading.set_inter_op_parallelism_threads(self.threads)
                    tf.config.experimental.enable_op_determinism()
                except RuntimeError:
                    pass  # already initialised in this process
            self.keras = keras
        return self.keras

    @contextlib.contextmanager
    def _log_stderr(self) -> Iterator[None]:
        """TensorFlow's start-up chatter (written by C++ to fd 2) goes to the grading's log, never to the student."""
        sys.stderr.flush()
        saved = os.dup(2)
        with open(self.workdir / "observer.log", "ab") as log:
            os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)

    def _standin_build(self) -> None:
        keras = self._clean_keras()  # first: TensorFlow's import chatter goes to the log
        from grader.sandbox import fallbacks

        self.replaced.add("build_model")
        keras.utils.set_random_seed(self.seed)
        with self._log_stderr():
            model = fallbacks.build_model()
        self.standin = {"architecture": model.to_json(), "weights": self._save_weights(model.get_weights(), "standin.npz")}
        self.model_source = "standin"
        self._load_standin_model()

    def _load_standin_model(self) -> None:
        if self.standin is None:
            self._standin_build()
            return
        self.answer("load", kind="model", keep="model", architecture=self.standin["architecture"])
        self._put("standin.npz", self.standin["weights"])
        self.answer("set_weights", ref="model", file="standin.npz")

    def _save_weights(self, weights: list[np.ndarray], name: str) -> Path:
        path = self.private / name
        np.savez(path, **{f"w{i}": np.asarray(w) for i, w in enumerate(weights)})
        return path

    # -- compile_model -------------------------------------------------------------------------
    def describe_compile(self, ref: str) -> observed.CompileDescription:
        return observed.parse_as(observed.CompileDescription, self.answer("describe", ref=ref, **{"as": "compile"}))

    def compile_model(self) -> observed.CompileFacts:
        answer = self.answer("call", function="compile_model", args=[{"ref": "model"}], same_as="model", send=False)
        self.compiled = self.describe_compile("model")
        self.compiled_by = "student"
        try:
            if self.model_source == "student":
                self.answer("call", function="build_model", keep="other", send=False)
                if not self.describe_model("other").is_model:
                    raise StepFailed(StepStatus.ERROR)
            else:
                raise StepFailed(StepStatus.ERROR)
        except StepFailed as failed:
            if isinstance(failed, AnswererDied):
                raise
            self.answer("load", kind="model", keep="other", architecture=self._standin_architecture())
        try:
            self.answer("call", function="compile_model", args=[{"ref": "other"}, {"value": reference.OPTIMIZER_PROBE[0]}], send=False)
            sgd = self.describe_compile("other")
        except StepFailed as failed:
            if isinstance(failed, AnswererDied):
                raise
            sgd = observed.CompileDescription(error=observed.parse_as(observed.ErrorInfo, failed.error))
        self.answer("forget", refs=["other"])
        facts = observed.CompileFacts(returns_model=answer.get("same") is True, default=self.compiled, sgd=sgd)
        if not self.compiled.compiled:
            self._standin_compile()
        return facts

    def restore_compile(self, dead: bool = False) -> None:
        if not dead:
            self.answer("call", function="compile_model", args=[{"ref": "model"}], send=False)
            self.compiled = self.describe_compile("model")
            self.compiled_by = "student"
        if dead or not self.compiled or not self.compiled.compiled:
            self._standin_compile()

    def _standin_compile(self) -> None:
        self.replaced.add("compile_model")
        self.compiled_by = "reference"
        self.answer("compile", ref="model", settings=reference.compile_settings())

    def _standin_architecture(self) -> str:
        """The stand-in model's architecture (JSON): the stand-in built here, or its precomputed description."""
        if self.standin is not None:
            return self.standin["architecture"]
        return STANDIN_ARCHITECTURE.read_text(encoding="utf-8")

    # -- train_model ---------------------------------------------------------------------------
    def weights(self, ref: str = "model", architecture: bool = False) -> tuple[list[np.ndarray], dict[str, Any]]:
        answer = self.answer("weights", ref=ref, architecture=architecture)
        refs = answer.get("weights")
        if not isinstance(refs, list):
            return [], answer
        budget, weights = MAX_CHECKPOINT_BYTES, []
        for ref_ in refs:
            array = self.array(ref_, max_bytes=budget)
            budget -= array.nbytes
            weights.append(array)
        return weights, answer

    def train_model(self) -> observed.TrainFacts:
        initial, _ = self.weights()
        try:
            facts, returned = self._train_once()
        except StepFailed as failed:
            if isinstance(failed, AnswererDied) or failed.status == StepStatus.MEMORY or not self._compile_suspect():
                raise
            first = observed.parse_as(observed.ErrorInfo, failed.error)
        else:
            if facts.weights_finite or not self._compile_suspect():
                return self._keep_training(facts, returned)
            first = observed.ErrorInfo(type="weights_not_finite")
        self._set_weights(initial)
        self._standin_compile()
        facts, returned = self._train_once()
        facts.first_error, facts.stand_ins = first, ["compile_model"]
        return self._keep_training(facts, returned)

    def _compile_suspect(self) -> bool:
        if "compile_model" in self.replaced:
            return False
        compiled = self.compiled or observed.CompileDescription()
        loss = compiled.loss or observed.LossDescription("")
        return compiled.optimizer != reference.OPTIMIZER_CLASS or loss.name not in reference.SPARSE_LOSSES or loss.from_logits

    def _labels(self, stop: int | None = None) -> dict[str, Any]:
        stop = stop or self.subset or None
        return {"data": "y_train", **({"stop": stop} if stop else {})}

    def _train_once(self) -> tuple[observed.TrainFacts, dict[str, Any]]:
        before, _ = self.weights()
        args = [{"ref": "model"}, {"ref": "x_train_n", "copy": True}, self._labels()]
        answer = self.answer("call", function="train_model", args=args, seed=self.seed, fit_on="model", keep="returned")
        after, _ = self.weights()
        value = answer["value"]
        fit_calls = [observed.parse_as(observed.FitCall, c) for c in answer.get("fit_calls") or []][:100]
        facts = observed.TrainFacts(
            returned_type=self.type_of(value),
            is_history=value.get("kind") == "history",
            from_fit=answer.get("from_fit") is True,
            fit_calls=fit_calls,
            weights_changed=_digest(after) != _digest(before),
            weights_finite=_finite(after),
            default_epochs=self.answer("signature", function="train_model", parameter="epochs"),
        )
        if value.get("kind") == "history":
            history = self._history_data(value)
            facts.epochs = len(history["epoch"])
            facts.metrics = sorted(history["history"])
        return facts, answer

    @staticmethod
    def _history_data(value: dict[str, Any]) -> dict[str, Any]:
        """A History that crossed, checked: every curve a list of numbers."""
        curves = value.get("history")
        if not isinstance(curves, dict):
            raise wire.WireError("History without a dict")
        epoch = value.get("epoch")
        return {
            "history": {str(k): wire.numbers(v) for k, v in curves.items()},
            "epoch": [int(e) for e in wire.numbers(epoch)] if isinstance(epoch, list) else [],
            "params": value.get("params") if isinstance(value.get("params"), dict) else {},
        }

    def _keep_training(self, facts: observed.TrainFacts, answer: dict[str, Any]) -> observed.TrainFacts:
        facts.epochs_probe = self._epochs_probe()
        genuine = answer.get("genuine") is True
        if not genuine or not facts.weights_changed or not facts.weights_finite:
            self._fallback_training()
        else:
            value = answer["value"] if facts.from_fit else answer.get("genuine_history")
            self.history = self._history_data(value)
            self.answer("load", kind="history", keep="history", model="model", **self.history)
        self._checkpoint()
        return facts

    def _epochs_probe(self) -> observed.EpochsProbe:
        self.answer("load", kind="model", keep="probe_model", architecture=self._standin_architecture())
        compiled = False
        if "compile_model" not in self.replaced:
            try:
                self.answer("call", function="compile_model", args=[{"ref": "probe_model"}], send=False)
                compiled = self.describe_compile("probe_model").compiled
            except StepFailed as failed:
                if isinstance(failed, AnswererDied):
                    raise
                self.answer("load", kind="model", keep="probe_model", architecture=self._standin_architecture())
        if not compiled:
            self.answer("compile", ref="probe_model", settings=reference.compile_settings())
        try:
            answer = self.answer(
                "call",
                function="train_model",
                args=[{"ref": "probe_model"}, {"ref": "x_train_n", "stop": EPOCHS_PROBE_SAMPLES}, self._labels(EPOCHS_PROBE_SAMPLES)],
                kwargs={"epochs": {"value": reference.EPOCHS_PROBE}},
            )
        except StepFailed as failed:
            if isinstance(failed, AnswererDied):
                raise
            return observed.EpochsProbe(error=observed.parse_as(observed.ErrorInfo, failed.error))
        finally:
            self.answer("forget", refs=["probe_model"])
        value = answer["value"]
        return observed.EpochsProbe(epochs=len(self._history_data(value)["epoch"]) if value.get("kind") == "history" else None)

    def _set_weights(self, weights: list[np.ndarray]) -> None:
        self._put("set.npz", self._save_weights(weights, "set.npz"))
        self.answer("set_weights", ref="model", file="set.npz")

    def _fallback_training(self) -> None:
        """The grader's training, here in clean Keras, on the model the later steps use.

        When that model is the student's own (build_model worked), it gets the
        reference training (issue 19: min_accuracy then measures the student's
        model, and says the training was the grader's); a stand-in model gets
        the short stand-in training.
        """
        keras = self._clean_keras()  # first: TensorFlow's import chatter goes to the log
        from grader.sandbox import fallbacks

        self.replaced.add("train_model")
        weights, answer = self.weights(architecture=True)
        model = None
        if self.model_source == "student" and _plain_sequential(answer.get("architecture")):
            try:
                with self._log_stderr():
                    model = keras.models.model_from_json(str(answer["architecture"]))
                    model.set_weights(weights)
            except Exception:  # noqa: BLE001 - a model clean Keras cannot rebuild: the stand-in's
                model = None
        if model is None and self.model_source == "standin" and self.standin is not None:
            with self._log_stderr():
                model = keras.models.model_from_json(self.standin["architecture"])
                model.set_weights(weights)
        if model is None:
            keras.utils.set_random_seed(self.seed)
            with self._log_stderr():
                model = fallbacks.build_model()
            self.replaced.add("build_model")
            self.standin = {"architecture": model.to_json(), "weights": self._save_weights(model.get_weights(), "standin.npz")}
            self.model_source = "standin"
            self._load_standin_model()
        if not _finite(model.get_weights()):
            keras.utils.set_random_seed(self.seed)
            model.set_weights([_fresh_like(w) for w in model.get_weights()])
        keras.utils.set_random_seed(self.seed)
        stop = self.subset or None
        with self._log_stderr():
            fallbacks.compile_model(model)
            if self.model_source == "student":
                self.grader_training = "student_model"
                x = np.load(self.x_train_file, allow_pickle=False).astype("float32", copy=False)
                history = fallbacks.train_model_as_reference(model, x, self.y_train[:stop])
                del x
            else:
                self.grader_training = "standin"
                history = fallbacks.train_model(model, self.standin_x, self.y_train[:stop][:STANDIN_SAMPLES])
        self.history = {
            "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            "epoch": list(history.epoch),
            "params": _plain_params(history.params),
        }
        self._set_weights(model.get_weights())
        self.answer("load", kind="history", keep="history", model="model", **self.history)

    def _checkpoint(self) -> None:
        """Weights, History, the test-set output: read from the answerer, kept where the sandbox cannot reach."""
        weights, _ = self.weights()
        self.checkpoint = self._save_weights(weights, "checkpoint.npz")
        description = self.describe_model("model")
        probabilities = self.array(self.answer("predict", ref="model", x={"ref": "x_test_n"}), max_bytes=len(self.x_test) * 64 * 8)
        self.evidence_dir.mkdir(exist_ok=True)
        (self.evidence_dir / "weights.npz").write_bytes(self.checkpoint.read_bytes())
        (self.evidence_dir / "history.json").write_text(json.dumps(self.history))
        np.save(self.evidence_dir / "x_test_n.npy", self.x_test_n)
        np.save(self.evidence_dir / "probabilities.npy", np.asarray(probabilities, dtype="float32"))
        (self.evidence_dir / "model.json").write_text(json.dumps(dataclasses.asdict(description)))
        self.evidence = True

    def restore_train(self, dead: bool = False) -> None:
        if self.checkpoint is None:
            self._fallback_training()
            self._checkpoint()
        else:
            self._send_checkpoint()

    # -- evaluate_model ------------------------------------------------------------------------
    def evaluate_model(self) -> observed.EvaluateFacts:
        if not _reference_loss_and_metric(self.describe_compile("model")):
            self.answer("compile", ref="model", settings=reference.compile_settings())
        value = self.answer("call", function="evaluate_model", args=[{"ref": "model"}, {"ref": "x_test_n", "copy": True}, {"data": "y_test"}])["value"]
        facts = observed.EvaluateFacts(type=self.type_of(value))
        if value.get("kind") == "sequence" and value.get("length") == 2:
            items = value["items"]
            facts.types = [self.type_of(v) for v in items]
            reals = [_real(v) for v in items]
            facts.numbers = all(r is not None for r in reals)
            facts.values = reals
            facts.finite = facts.numbers and all(np.isfinite(v) for v in reals)
        return facts

    # -- history ------------------------------------------------------------------------------
    def history_step(self) -> observed.HistoryFacts:
        history = self.history or {"history": {}, "epoch": []}
        facts = observed.HistoryFacts(history=history["history"], epochs=len(history["epoch"]))
        try:
            self.answer("call", function="history_frame", args=[{"ref": "history"}], keep="frame", send=False)
            facts.frame = observed.parse_as(observed.FrameFacts, self.answer("describe", ref="frame", **{"as": "frame"}))
        except StepFailed as failed:
            if isinstance(failed, AnswererDied):
                raise
            facts.frame = observed.FrameFacts(error=observed.parse_as(observed.ErrorInfo, failed.error))
        try:
            self.answer("call", function="plot_history", args=[{"ref": "history"}], keep="figure", send=False)
            facts.figure = observed.parse_as(observed.FigureDescription, self.answer("describe", ref="figure", **{"as": "figure"}))
        except StepFailed as failed:
            if isinstance(failed, AnswererDied):
                raise
            facts.figure = observed.FigureDescription(error=observed.parse_as(observed.ErrorInfo, failed.error))
        return facts

    # -- predict ------------------------------------------------------------------------------
    def predict(self) -> observed.PredictFacts:
        probabilities = np.load(self.evidence_dir / "probabilities.npy")
        wrong = np.flatnonzero(probabilities.argmax(axis=1) != self.y_test)
        indices = [0] + ([int(wrong[0])] if wrong.size else [])
        samples = []
        for index in indices:
            value = self.answer("call", function="predict_sample", args=[{"ref": "model"}, {"ref": "x_test_n", "copy": True}, {"value": index}])["value"]
            sample = observed.Prediction(index=index, type=self.type_of(value))
            if value.get("kind") == "sequence" and value.get("length") == 2:
                probs, label = value["items"]
                sample.probs_type = self.type_of(probs)
                if probs.get("kind") == "array":
                    array = self.array(probs, max_bytes=2**20)
                    sample.probs_shape = list(array.shape)
                    sample.probs = array.astype(float).ravel().tolist() if array.size <= 100 else None
                sample.label_type = self.type_of(label)
                sample.label = _integer(label)
            samples.append(sample)
        return observed.PredictFacts(samples=samples)


PLAIN_LAYERS = ("InputLayer", "Flatten", "Dense", "Dropout", "Activation", "ReLU", "Softmax")


def _plain_sequential(architecture: Any) -> bool:
    """An architecture (JSON text from the answerer) that clean Keras may rebuild: a Sequential of plain
    Keras layers only, so deserializing it imports and runs nothing else."""
    try:
        config = json.loads(architecture) if isinstance(architecture, str) and len(architecture) < 200_000 else None
    except ValueError:
        return False
    if not isinstance(config, dict) or config.get("class_name") != "Sequential" or config.get("module") != "keras":
        return False
    layers = (config.get("config") or {}).get("layers") if isinstance(config.get("config"), dict) else None
    if not isinstance(layers, list):
        return False
    for layer in layers:
        if not isinstance(layer, dict) or layer.get("class_name") not in PLAIN_LAYERS or layer.get("module") != "keras.layers":
            return False
        activation = (layer.get("config") or {}).get("activation") if isinstance(layer.get("config"), dict) else None
        if activation is not None and not isinstance(activation, str):
            return False
    return True


def _matches_weights(description: observed.ModelDescription, weights: list[np.ndarray]) -> bool:
    """The described Dense layers agree with the weights' shapes (a description the answerer forged does not).

    Only checkable when every layer with weights is a plain Dense; otherwise True.
    """
    if any(layer.kind not in ("input", "flatten", "dense", "activation", "dropout") for layer in description.layers):
        return True
    position = 0
    for layer in description.layers:
        if layer.kind != "dense":
            continue
        if position >= len(weights) or weights[position].ndim != 2 or weights[position].shape[1] != layer.units:
            return False
        position += 1
        if layer.use_bias:
            if position >= len(weights) or weights[position].shape != (layer.units,):
                return False
            position += 1
    return position == len(weights)


def _same_image(image: Any, expected: np.ndarray) -> bool:
    try:
        array = np.asarray(image, dtype=float)
    except (TypeError, ValueError):
        return False
    return array.shape == expected.shape and bool(np.allclose(array, expected))


def _real(value: dict[str, Any]) -> float | None:
    if value.get("kind") in ("plain", "scalar") and value.get("type") not in ("bool", "bool_"):
        return wire.number(value.get("value"))
    return None


def _integer(value: dict[str, Any]) -> int | None:
    if value.get("kind") in ("plain", "scalar") and value.get("type") not in ("bool", "bool_") and type(value.get("value")) is int:
        return int(value["value"])
    return None


def _reference_loss_and_metric(compiled: observed.CompileDescription) -> bool:
    loss = compiled.loss
    return loss is not None and loss.name == reference.LOSS and not loss.from_logits and [m.name for m in compiled.metrics] == [reference.METRIC]


def _fresh_like(weight: np.ndarray) -> np.ndarray:
    if weight.ndim < 2:
        return np.zeros_like(weight)
    return np.random.default_rng(0).normal(0.0, 0.05, weight.shape).astype(weight.dtype)


def _plain_params(params: Any) -> dict[str, Any]:
    return {str(k): v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for k, v in (params or {}).items()}
