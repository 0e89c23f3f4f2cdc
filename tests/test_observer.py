"""The observer drives a real answerer on a tiny data set (120 images): the pipeline policies
that used to run inside the student's process now run outside it (issue 17).

* a wrong loss makes a correct train_model crash: retried once on the stand-in
  compile, and the facts say so (``first_error``, ``stand_ins``);
* a bug in train_model itself is not retried on another compile;
* each training epoch reaches the progress callback; an answerer that dies
  is restarted past its step with an ``restart`` event, and later steps are
  graded on the state the observer re-sent;
* the stand-in architecture kept as data is the one fallbacks.py builds.

Each test starts one answerer at the process level: about 10 s each.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader import facts
from grader.config import load_config
from grader.sandbox.isolation import Isolation
from grader.sandbox.observer import STANDIN_ARCHITECTURE, Observer

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = (ROOT / "solutions" / "mnist_dense.py").read_text(encoding="utf-8")


def tiny_dataset(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (120, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 120).astype(np.uint8)
    path = folder / "mnist.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:40], y_test=y[:40])
    return path


def observe(tmp_path: Path, source: str) -> tuple[object, list[dict]]:
    module = tmp_path / "mnist_dense.py"
    module.write_text(source, encoding="utf-8")
    events: list[dict] = []
    observer = Observer(load_config(), module, tiny_dataset(tmp_path), tmp_path / "sandbox", threads=1, progress=events.append, isolation=Isolation("process"))
    return observer.run(), events


def fact(run, step: str):
    return facts.parse(step, run.outcomes[step].data)


@pytest.mark.slow
def test_wrong_loss_is_retried_on_the_standin_compile(tmp_path):
    source = SOLUTION.replace('loss="sparse_categorical_crossentropy"', 'loss="categorical_crossentropy"')
    run, events = observe(tmp_path, source)
    train = fact(run, "train_model")
    assert run.outcomes["train_model"].status == "ok"
    assert train.first_error.type == "ValueError" and train.stand_ins == ["compile_model"]
    assert train.from_fit and train.weights_changed and train.epochs == train.fit_calls[0].epochs
    assert "compile_model" in run.replaced and "train_model" not in run.replaced
    epochs = [e["epoch"] for e in events if e["event"] == "epoch"]
    assert epochs[: train.epochs] == list(range(1, train.epochs + 1))
    assert train.epochs_probe.epochs == 1
    assert run.evidence_dir is not None and (run.evidence_dir / "weights.npz").is_file()
    assert all(o.status == "ok" for s, o in run.outcomes.items() if s != "compile_model")


@pytest.mark.slow
def test_a_train_bug_with_a_correct_compile_is_not_retried_and_the_standin_trains(tmp_path):
    source = SOLUTION + "\n\ndef train_model(model, x_train, y_train, epochs=5):\n    raise RuntimeError('own bug')\n"
    run, _ = observe(tmp_path, source)
    assert run.outcomes["train_model"].status == "error" and run.outcomes["train_model"].error["message"] == "own bug"
    assert "compile_model" not in run.replaced and "train_model" in run.replaced
    history = json.loads((run.evidence_dir / "history.json").read_text())
    assert len(history["epoch"]) >= 1  # the grader's stand-in training, run by the observer
    assert run.outcomes["evaluate_model"].status == "ok" and run.outcomes["predict"].status == "ok"


@pytest.mark.slow
def test_a_dead_answerer_is_restarted_and_the_state_resent(tmp_path):
    source = SOLUTION + "\n\ndef history_frame(history):\n    import os\n    os._exit(3)\n"
    run, events = observe(tmp_path, source)
    assert run.outcomes["history"].status == "exited" and run.workers == 2
    assert {"event": "restart", "step": "history", "cause": "exited"} in events
    assert run.outcomes["predict"].status == "ok"  # on the model and images the observer re-sent
    assert fact(run, "predict").samples[0].probs_shape == [10]


@pytest.mark.slow
def test_the_standin_architecture_kept_as_data_is_the_fallbacks_one():
    import keras

    from grader.sandbox import fallbacks

    keras.backend.clear_session()  # names as in the observer's fresh process, whatever this worker built before
    assert json.loads(STANDIN_ARCHITECTURE.read_text(encoding="utf-8")) == json.loads(fallbacks.build_model().to_json())


@pytest.mark.slow
def test_nothing_importable_runs_no_step_and_no_standin(tmp_path):
    """A SyntaxError: no step runs, no stand-in trains, Keras is never imported here (issue 19)."""
    module = tmp_path / "mnist_dense.py"
    module.write_text(SOLUTION + "\ndef broken(:\n", encoding="utf-8")
    observer = Observer(load_config(), module, tiny_dataset(tmp_path), tmp_path / "sandbox", threads=1, isolation=Isolation("process"))
    run = observer.run()
    assert set(run.outcomes) == {"import", "import-salvage"}
    assert run.outcomes["import"].error["type"] == "SyntaxError" and run.outcomes["import-salvage"].status == "error"
    assert run.replaced == set() and run.evidence_dir is None and run.grader_training == ""
    assert observer.keras is None
