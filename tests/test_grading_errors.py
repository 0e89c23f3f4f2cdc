"""Gradings that cannot start say why in one sentence, in the student's
language, and exit 2: an output folder that is not the grader's, and a
worker that dies before running any step (a broken installation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradingkit import STUBS, grade, mnist_env, private_repo, submission

from grader.sandbox import isolation

pytestmark = pytest.mark.parametrize("lang", ["es", "en"])


def test_an_output_folder_that_is_not_the_graders_is_left_alone(tmp_path: Path, lang: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    work = submission(tmp_path / "submission", STUBS.read_text(encoding="utf-8"))
    graded = grade(private_repo(tmp_path / "repo"), work, out, lang=lang, timeout=120)
    assert graded.returncode == 2, graded.stderr
    expected = {
        "es": f"No se pudo calificar: la carpeta de salida {out} ya existe y no es del calificador; elige otra con --out.",
        "en": f"Could not grade: the output folder {out} already exists and is not the grader's; choose another with --out.",
    }
    assert graded.stderr.strip() == expected[lang]
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_worker_that_cannot_start_points_at_the_installation(tmp_path: Path, lang: str) -> None:
    repo = private_repo(tmp_path / "repo")
    worker = repo / "grader" / "sandbox" / "answerer.py"
    worker.write_text("raise SystemExit(3)  # a broken installation\n" + worker.read_text(encoding="utf-8"), encoding="utf-8")
    work = submission(tmp_path / "submission", STUBS.read_text(encoding="utf-8"))
    env = dict(mnist_env(), **{isolation.FORCE_ENV: "process"})
    graded = grade(repo, work, tmp_path / "out", lang=lang, env=env, timeout=120)
    assert graded.returncode == 2, graded.stderr
    expected = {
        "es": "No se pudo calificar: el proceso que ejecuta tu código no pudo arrancar (the grading worker stopped before running any step). "
        "Comprueba la instalación con pip install -r requirements.txt.",
        "en": "Could not grade: the process that runs your code could not start (the grading worker stopped before running any step). "
        "Check the installation with pip install -r requirements.txt.",
    }
    assert graded.stderr.strip() == expected[lang]
