"""``python -m assignment.explore``: the exploration's experiment runner.

The slow tests run the command in a subprocess (TensorFlow stays out of the
test process) on a slice of MNIST written to a temporary folder, against the
reference solution and against broken submissions.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from assignment.explore import experiments as ex
from assignment.explore import results
from assignment.explore.analysis import Row, confusion_matrix
from assignment.explore.run import describe_error
from assignment.explore.text import LANGUAGES, MESSAGES, Text

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
PNG = b"\x89PNG\r\n\x1a\n"
NOISE = ("oneDNN", "I0000", "absl::InitializeLog", "cuda", "Traceback", "WARNING")


# -- fast: definitions, messages, table --------------------------------------------
def test_experiment_ids_match_the_sheet_and_the_grader_config() -> None:
    sheet = (ROOT / "assignment" / "exploration.md").read_text(encoding="utf-8")
    in_sheet = re.findall(r"\*\*Experimento:\*\*\s*`([a-z_]+)`", sheet)
    with open(ROOT / "grader" / "config.toml", "rb") as handle:
        configured = tomllib.load(handle)["exploration"]["exercises"]
    assert list(ex.IDS) == in_sheet == configured
    assert [e.number for e in ex.EXPERIMENTS] == list(range(1, len(ex.IDS) + 1))


def test_settings_the_exercises_ask_for() -> None:
    def values(exp_id: str, attribute: str, mode: ex.Mode = ex.FULL) -> list:
        return [getattr(s, attribute) for s in ex.BY_ID[exp_id].settings(mode)]

    assert values("hidden_units", "hidden_units") == [32, 64, 128, 256, 512]
    assert values("activation", "activation") == ["relu", "sigmoid", "tanh"]
    assert values("optimizer", "optimizer") == ["adam", "sgd", "rmsprop"]
    assert values("epochs", "epochs") == [5, 10, 20]
    # Quick mode keeps the exercise's shape: 5, 10 and 20 epochs, on a subset.
    assert values("epochs", "epochs", ex.QUICK) == [5, 10, 20]
    assert ex.QUICK.train_size and ex.QUICK.epochs >= 3  # a median of epochs after the first
    assert values("extra_layers", "hidden_units") == [(128,), (256, 128), (256, 128, 64)]
    assert values("no_normalization", "normalized") == [False, True]
    assert values("output_units", "num_classes") == [5, 12]
    assert values("batch_size", "batch_size") == [16, 32, 128]
    assert values("no_flatten", "flatten") == [False]
    # Equal trainings are recognised as such (trained once per run).
    assert ex.BY_ID["activation"].settings(ex.FULL)[0].key(ex.FULL) == ex.BASELINE.key(ex.FULL)
    assert ex.BY_ID["epochs"].settings(ex.FULL)[0].key(ex.FULL) == ex.BASELINE.key(ex.FULL)


def test_messages_exist_and_format_in_both_languages() -> None:
    assert set(MESSAGES["es"]) == set(MESSAGES["en"])
    for lang in LANGUAGES:
        for key, template in MESSAGES[lang].items():
            fields = {name: 1 for name in re.findall(r"{(\w+)", template)}
            assert template.format(**fields), (lang, key)
        for experiment in ex.EXPERIMENTS:
            for mode in (ex.FULL, ex.QUICK):
                for setting in experiment.settings(mode):
                    assert setting.label(Text(lang))


@pytest.mark.parametrize(
    ("lang", "words"), [("es", ("precisión (prueba) 0.9040", "pérdida (entrenamiento) 0.1279")), ("en", ("test accuracy 0.9040", "training loss 0.1279"))]
)
def test_run_line_says_which_data_each_number_comes_from(lang: str, words: tuple[str, str]) -> None:
    # As results.md's columns do: the accuracy is on the test images, the loss the last epoch's training loss.
    line = Text(lang)("run.ok", accuracy="0.9040", loss="0.1279", seconds=8.9)
    assert all(w in line for w in words)


def test_describe_error_keeps_the_line_that_explains() -> None:
    message = (
        "Graph execution error:\n\nDetected at node x defined at (most recent call last):\n"
        '  File "a.py", line 1, in <module>\n\n'
        "Received a label value of 9 which is outside the valid range of [0, 5).  Label values: 5 7 9\n"
        "\t [[{{node x}}]] [Op:__inference_multi_step_on_iterator_989]"
    )
    error = type("InvalidArgumentError", (Exception,), {})(message)
    assert describe_error(error) == ("InvalidArgumentError: Received a label value of 9 which is outside the valid range of [0, 5).")
    assert describe_error(NotImplementedError("Paso 4")) == "NotImplementedError: Paso 4"
    assert len(describe_error(ValueError("x" * 1000))) <= 220


def test_confusion_matrix_counts_true_against_predicted() -> None:
    matrix = confusion_matrix(np.array([0, 1, 1, 9]), np.array([0, 1, 7, 9]))
    assert matrix.shape == (10, 10)
    assert matrix[1, 7] == 1 and matrix[1, 1] == 1 and matrix.sum() == 4


def test_table_csv_markdown_and_merge(tmp_path: Path) -> None:
    rows = [
        Row("hidden_units", "32 neuronas", 0.91234567, 0.3, 1.234, "parámetros: 25 450"),
        Row("no_flatten", "sin Flatten", None, None, None, "Error en train_model: a | b"),
    ]
    table = results.frame(rows)
    path = tmp_path / "results.csv"
    results.write_csv(table, path)
    with open(path, newline="", encoding="utf-8") as handle:
        read = list(csv.reader(handle))
    assert read[0] == list(results.COLUMNS)
    assert read[1][:3] == ["hidden_units", "32 neuronas", "0.9123"]
    assert read[2][2:5] == ["", "", ""]
    markdown = results.render_markdown(table, Text("es"), "Modo rápido", merged=False)
    assert "| Experimento | Configuración | Precisión (prueba) |" in markdown
    assert "a \\| b" in markdown and "| — |" in markdown
    assert "Experiment | Setting | Test accuracy" in results.render_markdown(table, Text("en"), "", False)
    # --only optimizer: the other experiments' rows are kept, in the sheet's order.
    new = results.frame([Row("optimizer", "sgd", 0.8, 0.5, 2.0, "")])
    merged, kept = results.merge(path, new, {"optimizer"})
    assert kept and list(merged["experiment"]) == ["hidden_units", "no_flatten", "optimizer"]
    replaced, _ = results.merge(path, results.frame([Row("hidden_units", "64", 0.9, 0.1, 1.0, "")]), {"hidden_units"})
    assert list(replaced["setting"]) == ["64", "sin Flatten"]


def test_runner_does_not_leak_the_reference_solution() -> None:
    from grader.instructor.leaks import find_leaks

    files = {p.relative_to(ROOT).as_posix(): p.read_bytes() for p in (ROOT / "assignment" / "explore").glob("*.py")}
    assert len(files) >= 5
    assert find_leaks(ROOT, files) == []


def test_help_is_in_spanish_by_default_and_follows_lang(capsys: pytest.CaptureFixture[str]) -> None:
    from assignment.explore.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    spanish = capsys.readouterr().out
    assert spanish.startswith("uso: python -m assignment.explore")
    assert "\nopciones:\n" in spanish and "muestra esta ayuda y termina" in spanish
    assert "usage" not in spanish and "show this help" not in spanish
    with pytest.raises(SystemExit):
        main(["--help", "--lang", "en"])
    english = capsys.readouterr().out
    assert english.startswith("usage: ") and "\noptions:\n" in english and "show this help message" in english


def test_curves_that_are_the_start_of_a_longer_training_are_not_drawn_twice() -> None:
    from assignment.explore.plots import CURVE_KEYS, contained

    rng = np.random.default_rng(0)
    long = {k: list(rng.random(20)) for k in CURVE_KEYS}
    items = [(f"{e}", {k: v[:e] for k, v in long.items()}) for e in (5, 10, 20)]
    assert contained(items) == {0: 2, 1: 2}  # 5 and 10 epochs: marked on the 20-epoch curves
    other = {k: [v + 0.01 for v in values[:5]] for k, values in long.items()}  # another seed
    assert contained([("a", other), ("b", long)]) == {}
    assert contained([("relu", long), ("tanh", dict(long))]) == {}  # equal length: both drawn


def test_epoch_time_is_the_median_after_the_first_epoch() -> None:
    from assignment.explore.run import Outcome

    outcome = Outcome(ex.BASELINE, 5, epoch_times=[9.0, 1.0, 1.4, 1.1, 5.0])
    assert outcome.epoch_time == pytest.approx(1.25)  # 9.0, the warm-up, left out
    assert Outcome(ex.BASELINE, 1, epoch_times=[2.0]).epoch_time == 2.0
    assert Outcome(ex.BASELINE, 1).epoch_time is None


def test_help_and_list_do_not_import_tensorflow() -> None:
    code = "import sys; from assignment.explore.cli import main; assert main(['--list']) == 0; assert 'tensorflow' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "hidden_units" in done.stdout


# -- slow: the command itself ------------------------------------------------------
def _mnist_source() -> Path:
    from grader.data import dataset_file

    source = dataset_file()
    if source is None:
        pytest.fail("MNIST is not available: set MNIST_NPZ to a local mnist.npz (or run python -m grader.fetch_data)")
    return source


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2000 training and 500 test images, written outside the repository."""
    with np.load(_mnist_source()) as f:
        subset = {
            "x_train": f["x_train"][:2000],
            "y_train": f["y_train"][:2000],
            "x_test": f["x_test"][:500],
            "y_test": f["y_test"][:500],
        }
    path = tmp_path_factory.mktemp("mnist") / "mnist_small.npz"
    np.savez_compressed(path, **subset)
    return path


def explore_many(npz: Path, *runs: tuple[Path, tuple[str, ...]]) -> list[subprocess.CompletedProcess[str]]:
    """Run ``python -m assignment.explore --out OUT ARGS...`` for each run, in parallel."""
    env = {**os.environ, "MNIST_NPZ": str(npz), "PYTHONPATH": str(ROOT)}
    processes = []
    for out, args in runs:
        command = [sys.executable, "-m", "assignment.explore", "--out", str(out), *args]
        processes.append((command, subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    done = []
    for command, process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stdout + stderr
        done.append(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
    return done


def explore(npz: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return explore_many(npz, (out, args))[0]


def read_table(out: Path) -> list[dict[str, str]]:
    with open(out / "results.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == list(results.COLUMNS)
        return list(reader)


QUICK_RUN = ("hidden_units", "no_flatten", "output_units", "misclassified", "confusion_matrix")


@pytest.fixture(scope="module")
def quick_run(small_mnist: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("explore") / "exploration_results"
    only = [arg for exp_id in QUICK_RUN for arg in ("--only", exp_id)]
    return out, explore(small_mnist, out, "--quick", "--submission", str(SOLUTIONS), *only)


@pytest.mark.slow
def test_quick_run_writes_the_table_and_the_plots(quick_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, done = quick_run
    rows = read_table(out)
    assert [r["experiment"] for r in rows] == ["hidden_units"] * 5 + ["no_flatten"] + ["output_units"] * 2 + ["misclassified", "confusion_matrix"]
    for row in rows[:5]:
        assert 0.5 < float(row["test_accuracy"]) <= 1
        assert float(row["final_loss"]) > 0 and float(row["train_time_s"]) > 0
        assert row["note"].startswith("parámetros: ")
    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert "| Experimento | Configuración | Precisión (prueba) | Pérdida final (entrenamiento) | Tiempo de entrenamiento (s) | Nota |" in markdown
    assert markdown.count("\n| hidden_units |") == 5
    for name in ("accuracy_vs_hidden_units.png", "confusion_matrix.png", "misclassified.png"):
        assert (out / name).read_bytes().startswith(PNG), name
    matrix = np.loadtxt(out / "confusion_matrix.csv", delimiter=",", skiprows=1)[:, 1:]
    assert matrix.shape == (10, 10) and matrix.sum() == 500
    # One progress line per row, then which file answers which exercise.
    assert len(re.findall(r"^\[\s*\d+/10\] ", done.stdout, flags=re.MULTILINE)) == 10
    assert "Ejercicio  1 (hidden_units): filas «hidden_units» de results.md" in done.stdout
    assert "accuracy_vs_hidden_units.png" in done.stdout.split("Ejercicio  1")[1]
    # No TensorFlow log noise, no Keras progress bars.
    output = done.stdout + done.stderr
    assert not [word for word in NOISE if word in output], output
    assert "━" not in output and "ms/step" not in output


@pytest.mark.slow
def test_no_flatten_and_output_units_record_what_happens(quick_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = quick_run
    rows = {(r["experiment"], r["setting"]): r for r in read_table(out)}
    no_flatten = rows["no_flatten", "sin Flatten (modelo del programa)"]
    assert "modelo construido por el programa" in no_flatten["note"]
    assert "(None, 28, 10)" in no_flatten["note"]
    assert "Error en train_model" in no_flatten["note"] and no_flatten["test_accuracy"] == ""
    five = rows["output_units", "5 neuronas de salida"]
    # TensorFlow on CPU rejects labels >= 5; on other devices the loss may be NaN.
    assert "Error en train_model" in five["note"] or "NaN" in five["note"], five
    twelve = rows["output_units", "12 neuronas de salida"]
    assert float(twelve["test_accuracy"]) > 0.5 and "10-11" in twelve["note"]


@pytest.mark.slow
def test_same_seed_same_table(small_mnist: Path, tmp_path: Path) -> None:
    args = ("--quick", "--submission", str(SOLUTIONS), "--only", "optimizer", "--train-size", "800", "--test-size", "300", "--seed", "7", "--lang", "en")
    runs = ("first", "second")
    explore_many(small_mnist, *((tmp_path / run, args) for run in runs))
    tables = [[{k: v for k, v in r.items() if k != "train_time_s"} for r in read_table(tmp_path / run)] for run in runs]
    assert tables[0] == tables[1]
    assert [r["setting"] for r in tables[0]] == ["adam optimizer", "sgd optimizer", "rmsprop optimizer"]
    assert len({r["test_accuracy"] for r in tables[0]}) > 1  # really three trainings
    assert (tmp_path / "first" / "optimizer_curves.png").read_bytes().startswith(PNG)


STUB = """
def load_data():
    raise NotImplementedError("Paso 1 (load_data): escribe aquí tu código.")
"""

PARTIAL = """
import keras

print("this print must not reach the terminal")

def load_data():
    return keras.datasets.mnist.load_data()

def normalize(images):
    return images / 255.0

def build_model(hidden_units=128, activation="relu", num_classes=10):
    if isinstance(hidden_units, list):
        raise TypeError("solo un número")
    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(hidden_units, activation=activation),
                              keras.layers.Dense(num_classes, activation="softmax")])
    return model

def compile_model(model, optimizer="adam"):
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

def train_model(model, x_train, y_train, epochs=5, validation_split=0.1):
    return model.fit(x_train, y_train, epochs=epochs, validation_split=validation_split)

def evaluate_model(model, images, labels):
    raise ValueError("todavía no")
"""


@pytest.mark.slow
def test_broken_submissions_record_errors_per_row(small_mnist: Path, tmp_path: Path) -> None:
    stub, partial = tmp_path / "stub", tmp_path / "partial"
    for folder, source in ((stub, STUB), (partial, PARTIAL)):
        folder.mkdir()
        (folder / "mnist_dense.py").write_text(source, encoding="utf-8")

    stub_args = ("--quick", "--submission", str(stub), "--only", "hidden_units", "--only", "probabilities")
    partial_args = (
        "--quick",
        "--submission",
        str(partial),
        "--only",
        "extra_layers",
        "--only",
        "probabilities",
        "--train-size",
        "300",
        "--test-size",
        "100",
        "--lang",
        "en",
    )
    _, done = explore_many(small_mnist, (tmp_path / "out_stub", stub_args), (tmp_path / "out_partial", partial_args))
    rows = read_table(tmp_path / "out_stub")
    assert len(rows) == 6
    for row in rows:
        assert row["note"] == "Error en load_data: NotImplementedError: Paso 1 (load_data): escribe aquí tu código."
        assert row["test_accuracy"] == ""

    assert "this print" not in done.stdout + done.stderr
    rows = read_table(tmp_path / "out_partial")
    notes = [r["note"] for r in rows]
    assert notes[:3] == ["Error in build_model: TypeError: solo un número"] * 3
    assert notes[3] == "Error in evaluate_model: ValueError: todavía no"
