"""The answerer as the observer runs it: a process that says ``ready``, answers
one request per line of its standard input on its standard output, and ends
(exit 0) on ``quit`` while its input is still open, answering nothing after.

Fast: Keras is the stand-in of tests/keras_fakes.py and TensorFlow's runtime
settings (``_quiet_runtime``: its log level, threads, determinism) are left
out, so no TensorFlow is imported; the dataset is a tiny generated file. A real
answerer runs in tests/test_observer.py and tests/test_import_runtime.py (slow).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

# The answerer's main with the stand-in Keras. sys.exit, not os._exit: a traced run
# (the planted-bug bench) keeps its coverage data.
CHILD = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests")!r}]
from keras_fakes import fake_keras
keras = fake_keras()
keras.utils.set_random_seed = lambda seed: None
sys.modules.update({{"keras": keras, "keras.ops": keras.ops, "keras.utils": keras.utils}})
from grader.sandbox import answerer
answerer._quiet_runtime = lambda threads, seed=0: None
sys.exit(answerer.main(sys.argv[1]))
"""

STUDENT = "def normalize(x):\n    return x / 255.0\n"


@pytest.fixture
def plan(tmp_path) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 8, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 4, dtype=np.uint8),
    }
    np.savez(tmp_path / "mini.npz", **arrays)
    (tmp_path / "mnist_dense.py").write_text(STUDENT, encoding="utf-8")
    plan = {
        "state_dir": str(state),
        "threads": 1,
        "seed": 0,
        "outbox": str(tmp_path / "outbox"),
        "inbox": str(tmp_path / "inbox"),
        "module": str(tmp_path / "mnist_dense.py"),
        "dataset": str(tmp_path / "mini.npz"),
        "wall_factor": 2.0,
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    return path


def test_the_answerer_answers_each_request_and_ends_on_quit_with_its_input_still_open(plan):
    env = {k: v for k, v in os.environ.items() if k != "MNIST_NPZ"}  # the plan names the dataset
    script = plan.parent / "answerer_child.py"
    script.write_text(CHILD, encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, str(script), str(plan)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=plan.parent
    )
    try:
        requests = [
            {"op": "import", "id": 1},
            {"op": "signature", "id": 2, "function": "normalize", "parameter": "x"},
            {"op": "quit"},
            {"op": "import", "id": 3},
        ]
        child.stdin.write(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
        child.stdin.flush()  # and not closed: the observer keeps its end open
        try:
            code = child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the answerer did not end on quit: it waited for another request")
        events = [json.loads(line) for line in child.stdout.read().splitlines()]
        assert code == 0, child.stderr.read().decode()
    finally:
        child.kill()
        child.wait()
        for stream in (child.stdin, child.stdout, child.stderr):
            stream.close()
    assert events[0] == {"event": "ready"}
    replies = [e for e in events[1:] if e.get("event") == "reply"]
    assert [(r["id"], r["ok"], r["value"]) for r in replies] == [(1, True, {"mode": "import"}), (2, True, None)]
    assert len(events) == 3  # nothing for quit, and the request after it is never read
