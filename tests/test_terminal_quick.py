"""The terminal (progress, table, help in the student's language) and --quick.

Fast tests render from hand-made results and events; one slow test runs
``python -m grader --quick`` on the reference solution.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from gradingkit import ROOT, SOLUTION, mnist_env, private_repo, submission

from grader import cli, terminal
from grader.config import ConfigError, load_config
from grader.exporters import classroom50, gradescope, legacy_classroom, outputs, score_json, summary_md
from grader.exporters.common import UnpublishableResult
from grader.results import CheckResult, GradingResult

ANSI = re.compile(r"\x1b\[")


def result(mode: str = "full", lang: str = "es") -> GradingResult:
    checks = [
        CheckResult("normalize", "Paso 3: normalizar (normalize)", 10, 10, True, "Correcto: " + "muy bien " * 30, "normalize.ok"),
        CheckResult("architecture", "Paso 4: arquitectura del modelo (build_model)", 9, 18, False, "build_model: | dos diferencias **", "architecture.several"),
        CheckResult("compile", "Paso 5: compilar (compile_model)", 0, 12, False, "compile_model: falla", "compile.loss"),
    ]
    return GradingResult(19, 40, checks, {"test_accuracy": 0.9, "train_subset": 2000}, ["worker_restarted"], language=lang, mode=mode)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# -- the table -------------------------------------------------------------------
def test_table_is_plain_text_wrapped_to_the_width_without_colour_off_a_tty():
    stream = io.StringIO()
    terminal.print_result(result(), "grading", stream)
    text = stream.getvalue()
    assert not ANSI.search(text)
    assert max(len(line) for line in text.splitlines()) <= 80
    for words in ("Puntuación: 19/40", "bien", "parcial", "falla", "Avisos", "Informe completo en grading/"):
        assert words in text
    assert "|---" not in text and "**Puntuación" not in text


def test_step_titles_are_never_cut_in_an_80_column_terminal():
    long = CheckResult("predict", "Paso 9: predecir (predict_sample)", 3, 3, True, "Correcto.", "predict.ok")
    stream = io.StringIO()
    terminal.print_result(replace(result(), checks=[*result().checks, long]), "grading", stream)
    text = stream.getvalue()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    assert "(compile_model)" in text and "(predict_sample)" in text


def test_table_has_colour_on_a_tty():
    stream = Terminal()
    terminal.print_result(result(), "grading", stream)
    assert ANSI.search(stream.getvalue())


def test_quick_result_says_provisional_everywhere():
    stream = io.StringIO()
    terminal.print_result(result("quick"), "grading", stream)
    text = " ".join(stream.getvalue().split())
    assert "Modo rápido (--quick): entrenado con 2000 imágenes" in text and "no se escribe nada para publicar" in text
    assert "Modo rápido (--quick)" in summary_md.render(result("quick"))
    assert "Modo rápido" not in summary_md.render(result())
    assert json.loads(score_json.dumps(result("quick")))["mode"] == "quick"
    assert GradingResult.from_dict(result("quick").to_dict()).mode == "quick"


@pytest.mark.parametrize(
    "export",
    [
        lambda r: classroom50.to_result_json(r, {}),
        lambda r: classroom50.release_body(r, ""),
        gradescope.to_gradescope,
        legacy_classroom.to_legacy_payload,
    ],
)
def test_exporters_refuse_a_quick_result(export):
    with pytest.raises(UnpublishableResult, match="--quick"):
        export(result("quick"))
    export(replace(result(), checks=result().checks))  # a full result is exported


# -- progress ----------------------------------------------------------------------
def test_progress_lines_off_a_tty():
    stream = io.StringIO()
    with terminal.ProgressDisplay("es", stream) as progress:
        progress({"event": "start", "step": "import"})
        progress({"event": "start", "step": "train_model"})
        progress({"event": "epoch", "step": "train_model", "epoch": 3, "epochs": 5})
        progress({"event": "start", "step": "train_model:restore"})
        progress.checking()
    lines = stream.getvalue().splitlines()
    # A line at once, before the first event: a piped run never starts silent.
    assert lines[0] == "[0 s] Preparando la calificación"
    assert lines[1] == "[0 s] Cargando tu mnist_dense.py"
    assert lines[3].endswith("Paso 6: entrenar (train_model): época 3/5")
    assert lines[4].endswith("Paso 6: entrenar (train_model): se recupera su resultado tras el reinicio (no se califica de nuevo)")
    assert lines[5].endswith("Comprobando los resultados")
    assert (
        terminal.describe({"event": "start", "step": "import:restore"}, "en")
        == "Loading your mnist_dense.py: its result is recovered after the restart (not graded again)"
    )


def test_a_long_step_off_a_tty_gets_a_heartbeat_that_names_it():
    stream = io.StringIO()
    with terminal.ProgressDisplay("es", stream, heartbeat=0.2) as progress:
        progress({"event": "start", "step": "import"})
        time.sleep(0.9)
    beats = [line for line in stream.getvalue().splitlines() if line.endswith("Cargando tu mnist_dense.py (sigue en marcha)")]
    assert len(beats) >= 2


@pytest.mark.parametrize(
    ("event", "lang", "line"),
    [
        ({"event": "restart", "step": "history", "cause": "memory"}, "es", "Tu código superó el límite de memoria en el paso 8; se reinicia y se continúa."),
        ({"event": "restart", "step": "train_model", "cause": "timeout"}, "es", "Tu código superó su tiempo límite en el paso 6; se reinicia y se continúa."),
        (
            {"event": "restart", "step": "predict", "cause": "crashed"},
            "es",
            "El proceso que ejecuta tu código se cayó en el paso 9; se reinicia y se continúa.",
        ),
        (
            {"event": "restart", "step": "evaluate_model", "cause": "exited"},
            "es",
            "Tu código terminó el proceso (exit) en el paso 7; se reinicia y se continúa.",
        ),
        ({"event": "restart", "step": "normalize", "cause": "tampered"}, "es", "Tu código modificó el calificador en el paso 3; se reinicia y se continúa."),
        (
            {"event": "restart", "step": "import", "cause": "error"},
            "es",
            "El proceso que ejecuta tu código se detuvo al cargar tu mnist_dense.py; se reinicia y se continúa.",
        ),
        ({"event": "restart", "step": "history", "cause": "memory"}, "en", "Your code went over the memory limit in step 8; restarting and carrying on."),
        ({"event": "restart", "step": "train_model", "cause": "timeout"}, "en", "Your code went over its time limit in step 6; restarting and carrying on."),
        ({"event": "restart", "step": "predict", "cause": "crashed"}, "en", "The process running your code crashed in step 9; restarting and carrying on."),
        ({"event": "restart", "step": "evaluate_model", "cause": "exited"}, "en", "Your code ended the process (exit) in step 7; restarting and carrying on."),
        ({"event": "restart", "step": "normalize", "cause": "tampered"}, "en", "Your code modified the grader in step 3; restarting and carrying on."),
        (
            {"event": "restart", "step": "import", "cause": "error"},
            "en",
            "The process running your code stopped while loading your mnist_dense.py; restarting and carrying on.",
        ),
    ],
)
def test_a_restarted_worker_is_said_in_plain_words(event, lang, line):
    stream = io.StringIO()
    with terminal.ProgressDisplay(lang, stream) as progress:
        progress(event)  # as the supervisor's progress callback sends it
    assert stream.getvalue().splitlines()[-1].endswith(line)


def test_a_failed_step_is_not_announced_twice_as_if_it_ran_again():
    # A stub's failed normalize, then the stand-in that lets the next steps run.
    assert (
        terminal.describe({"event": "start", "step": "normalize:fallback"}, "es")
        == "Paso 3: normalizar (normalize): falló; se sigue con la versión del calificador"
    )
    assert (
        terminal.describe({"event": "start", "step": "train_model:fallback"}, "en")
        == "Step 6: train (train_model): failed; going on with the grader's stand-in"
    )


def test_progress_live_on_a_tty_in_english():
    stream = Terminal()
    with terminal.ProgressDisplay("en", stream) as progress:
        progress({"event": "epoch", "step": "train_model", "epoch": 1, "epochs": None})
    assert terminal.describe({"event": "epoch", "step": "train_model", "epoch": 2, "epochs": 5}, "en") == "Step 6: train (train_model): epoch 2/5"
    shown = stream.getvalue()
    assert "Preparing the grading" in shown and "Step 6: train (train_model): epoch 1/?" in shown and ANSI.search(shown)


# -- help --------------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "lang"), [([], "es"), (["--lang", "en"], "en"), (["--lang=en"], "en"), (["--lang", "xx"], "es")])
def test_help_follows_lang(argv, lang):
    assert cli.requested_lang(argv) == lang
    text = cli._grade_parser(lang).format_help()
    if lang == "es":
        assert text.startswith("uso: ") and "opciones:" in text and "--quick" in text and "CARPETA" in text
    else:
        assert text.startswith("usage: ") and "quick self-check" in text


def test_help_runs_in_spanish_by_default():
    done = subprocess.run([sys.executable, "-m", "grader", "--help"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "muestra esta ayuda y termina" in done.stdout and "autocomprobación rápida" in done.stdout


# -- config -------------------------------------------------------------------------
def test_quick_settings_are_typed(tmp_path):
    text = (ROOT / "grader" / "config.toml").read_text(encoding="utf-8").replace("train_subset = 2000", 'train_subset = "many"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[quick\] train_subset must be a whole number"):
        load_config(path)


# -- the quick self-check, end to end --------------------------------------------------
@pytest.mark.slow
def test_quick_grades_every_step_and_publishes_nothing(tmp_path):
    repo = private_repo(tmp_path / "repo")
    folder = submission(tmp_path / "submission", SOLUTION.read_text(encoding="utf-8"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "--submission", str(folder), "--out", str(out), "--quick"]
    done = subprocess.run(command, cwd=repo, env=mnist_env(), capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    score = json.loads((out / "score.json").read_text(encoding="utf-8"))
    assert score["mode"] == "quick" and score["metrics"]["train_subset"] == load_config().quick.train_subset
    code = [c for c in score["checks"] if c["id"] in ("normalize", "architecture", "compile", "train", "evaluate", "history", "predict", "min_accuracy")]
    assert code and all(c["passed"] for c in code), [c["message"] for c in code if not c["passed"]]
    publishing = [name for exporter in outputs.EXPORTERS if exporter.publishing for name in exporter.names]
    assert publishing and not any((out / name).exists() for name in publishing)
    assert "época 5/5" in done.stderr and "Modo rápido" in done.stdout


@pytest.mark.parametrize(
    ("lang", "words"), [("es", ("uso: ", "opciones:", "muestra esta ayuda y termina")), ("en", ("usage: ", "options:", "show this help message and exit"))]
)
def test_explore_help_follows_lang(lang, words):
    from assignment.explore import cli as explore_cli
    from assignment.explore.text import Text

    text = explore_cli.parser(Text(lang)).format_help()
    assert text.startswith(words[0]) and all(w in text for w in words)
