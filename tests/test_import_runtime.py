"""The grader never changes how a correct file behaves on import.

The answerer enables TensorFlow's op determinism, which makes any random op
without a seed raise; ``_quiet_runtime`` sets a global seed before the
student's module is imported, so module-level test code that runs alone
(building and briefly training a model, printing, np.random / tf.random
calls) also runs under the grader. Each module is imported the way the
answerer imports it (``student_module.load``), after the worker's own set-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = (ROOT / "solutions" / "mnist_dense.py").read_text("utf-8")

# Typical test code students leave at the top level of mnist_dense.py.
TOP_LEVEL = {
    "train_a_moment": """
        import numpy as np
        _x = np.random.rand(32, 28, 28).astype("float32")
        _y = np.random.randint(0, 10, 32)
        _m = compile_model(build_model())
        _m.fit(_x, _y, epochs=1, validation_split=0.25, verbose=0)
        print("modelo de prueba entrenado")
        """,
    "random_calls": """
        import numpy as np
        import tensorflow as tf
        import keras
        print(np.random.rand(3), tf.random.uniform((2,)), tf.random.normal((1,)), keras.random.normal((1,)))
        print(tf.data.Dataset.range(10).shuffle(5).take(1))
        """,
    "dropout_model": """
        import numpy as np
        import keras
        _m = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(8, activation="relu"),
                               keras.layers.Dropout(0.5), keras.layers.Dense(10, activation="softmax")])
        _m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        _m.fit(np.random.rand(16, 28, 28), np.random.randint(0, 10, 16), epochs=1, verbose=0)
        print(_m(np.random.rand(2, 28, 28), training=True).shape)
        """,
}

RUNNER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from grader.sandbox import answerer, student_module

    if sys.argv[1] == "unseeded":
        import keras
        keras.utils.set_random_seed = lambda seed: None  # the set-up without its seed: the bug this guards against
    answerer._quiet_runtime(1, 7)
    for path in sys.argv[2:]:
        try:
            module = student_module.load(Path(path))
            print("OK", Path(path).parent.name, callable(module.build_model))
        except Exception as error:
            print("FAIL", Path(path).parent.name, type(error).__name__, str(error)[:120])
    """
)


def _import_all(tmp_path: Path, mode: str) -> dict[str, str]:
    paths = []
    for name, code in TOP_LEVEL.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "mnist_dense.py").write_text(SOLUTION + "\n\n" + textwrap.dedent(code), "utf-8")
        paths.append(str(folder / "mnist_dense.py"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", RUNNER, mode, *paths], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith(("OK ", "FAIL ")):
            verdict, _, rest = line.partition(" ")
            folder, _, detail = rest.partition(" ")
            results[folder] = verdict if verdict == "OK" else detail
    # Each module's folder is its name (the file is always mnist_dense.py).
    return results


@pytest.mark.slow
def test_module_level_code_that_runs_alone_also_runs_under_the_graders_setup(tmp_path):
    results = _import_all(tmp_path, "seeded")
    assert set(results.values()) == {"OK"}, results


@pytest.mark.slow
def test_without_the_global_seed_op_determinism_would_break_them(tmp_path):
    # Shows the test above is meaningful: the worker's set-up minus its seed fails these imports.
    results = _import_all(tmp_path, "unseeded")
    assert any("Random ops require a seed" in detail for detail in results.values()), results
