"""The release's leak detector (grader/instructor/leaks.py), through the
release command: the only gate before the template reaches a whole class.
It reads notebook code cells (not their Markdown), and folds quotes, case and
accents, so a pasted reference body or model answer cannot slip through."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from test_release import ROOT, SOLUTIONS, model_sentences, release_cli, small_source

from grader.instructor.leaks import find_leaks


def _notebook(*cells: tuple[str, str]) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": kind,
                    "metadata": {},
                    "source": text.splitlines(keepends=True),
                    **({"outputs": [], "execution_count": None} if kind == "code" else {}),
                }
                for kind, text in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


COMPILE_LINE = 'model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])'


def test_refuses_reference_code_in_a_notebook_code_cell(tmp_path):
    source = small_source(tmp_path)
    (source / "assignment" / "cuaderno.ipynb").write_text(_notebook(("markdown", "# Paso 4"), ("code", f"import keras\n{COMPILE_LINE}\n")), encoding="utf-8")
    done = release_cli(str(tmp_path / "out"), "--source", str(source))
    assert done.returncode == 2 and "assignment/cuaderno.ipynb" in done.stderr and "compile" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_call_named_in_a_notebook_markdown_cell_is_not_a_leak(tmp_path):
    # Prose may name the call (a hint does); only code cells are code.
    source = small_source(tmp_path)
    (source / "assignment" / "cuaderno.ipynb").write_text(_notebook(("markdown", COMPILE_LINE), ("code", "print(1)")), encoding="utf-8")
    done = release_cli(str(tmp_path / "out"), "--source", str(source))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "assignment" / "cuaderno.ipynb").is_file()


def test_refuses_a_whole_reference_body_pasted_as_prose_with_other_quotes(tmp_path):
    source = small_source(tmp_path)
    # As written in the reference: double quotes, where the detector's keys (ast.unparse) have single ones.
    body = reference_function_text("show_sample")
    assert '"gray"' in body
    (source / "assignment" / "pistas.md").write_text(f"Notas sueltas:\n\n{body}\n", encoding="utf-8")
    done = release_cli(str(tmp_path / "out"), "--source", str(source))
    assert done.returncode == 2 and "assignment/pistas.md" in done.stderr and "show_sample" in done.stderr


def test_refuses_a_model_answer_in_capitals(tmp_path):
    source = small_source(tmp_path)
    models = [m for m in sorted(SOLUTIONS.glob("answers/*.md"))]
    sentence = model_sentences(models[0], ROOT / "assignment" / models[0].relative_to(SOLUTIONS))[0]
    (source / "assignment" / "apuntes.md").write_text(f"# Apuntes\n\n{sentence.upper()}\n", encoding="utf-8")
    done = release_cli(str(tmp_path / "out"), "--source", str(source))
    assert done.returncode == 2 and "assignment/apuntes.md" in done.stderr


def reference_function_text(name: str) -> str:
    """The statements of a reference function's body, as written (one per line, no docstring or comment)."""
    tree = ast.parse((SOLUTIONS / "mnist_dense.py").read_text(encoding="utf-8"))
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    body = [s for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return "\n".join(ast.get_source_segment((SOLUTIONS / "mnist_dense.py").read_text(encoding="utf-8"), s) for s in body)


QUESTION = "Explica con tus palabras por qué se dividen los píxeles entre 255 antes de entrenar la red."
ANSWER = "Los valores quedan entre cero y uno, y así el optimizador avanza con pasos de tamaño parecido."


def _sheet_root(tmp_path: Path) -> Path:
    """A source with one model answer sheet without markers: the answer is what the stub lacks."""
    root = tmp_path / "source"
    (root / "solutions" / "answers").mkdir(parents=True)
    (root / "assignment" / "answers").mkdir(parents=True)
    (root / "assignment" / "answers" / "q9.md").write_text(f"# Pregunta 9\n\n{QUESTION}\n\nEscribe aquí.\n", encoding="utf-8")
    (root / "solutions" / "answers" / "q9.md").write_text(f"# Pregunta 9\n\n{QUESTION}\n\n{ANSWER}\n", encoding="utf-8")
    return root


def test_without_markers_the_question_is_not_a_leak_and_the_answer_is(tmp_path):
    root = _sheet_root(tmp_path)
    assert find_leaks(root, {"assignment/answers/q9.md": f"{QUESTION}\n".encode()}) == []
    leaks = find_leaks(root, {"README.md": f"Pista: {ANSWER.lower()}\n".encode()})
    assert [(leak.file, leak.source) for leak in leaks] == [("README.md", "solutions/answers/q9.md")]


def test_binary_files_and_a_source_without_solutions_are_skipped(tmp_path):
    root = _sheet_root(tmp_path)
    assert find_leaks(root, {"img.png": b"\x89PNG\0" + ANSWER.encode()}) == []
    assert find_leaks(tmp_path / "nowhere", {"README.md": ANSWER.encode()}) == []
