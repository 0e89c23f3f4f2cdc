"""The notebook's first cell (grader/notebook_cells/environment.py): silences
TensorFlow before it is imported; in Colab clones the student's repository
(token from Colab's secrets, never on the command line) or takes an upload.
Run with a stand-in google.colab module: facts in, effects out."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest

from grader import notebook

SOURCE = notebook.ENVIRONMENT.read_text(encoding="utf-8")


class SecretNotFoundError(Exception):
    pass


class NotebookAccessError(Exception):
    pass


def fake_colab(monkeypatch, secrets: dict[str, str], uploads: dict[str, bytes] | None = None) -> None:
    def get(name: str) -> str:
        if name not in secrets:
            raise SecretNotFoundError(name)
        return secrets[name]

    userdata = types.SimpleNamespace(get=get, SecretNotFoundError=SecretNotFoundError, NotebookAccessError=NotebookAccessError)
    files = types.SimpleNamespace(upload=lambda: dict(uploads or {}))
    colab = types.ModuleType("google.colab")
    colab.userdata, colab.files = userdata, files
    monkeypatch.setitem(sys.modules, "google.colab", colab)


def run_cell(tmp_path: Path, repository: str = "") -> dict:
    source = SOURCE.replace('REPOSITORIO = ""', f"REPOSITORIO = {repository!r}")
    source = source.replace('RAIZ_COLAB = Path("/content")', f"RAIZ_COLAB = Path({str(tmp_path / 'content')!r})")
    namespace: dict = {}
    exec(compile(source, "environment.py", "exec"), namespace)
    return namespace


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    return tmp_path


@pytest.fixture
def clones(monkeypatch):
    """Record git clone calls; each 'clones' a repository with assignment/."""
    calls = []

    def run(argv, env=None, **kwargs):
        calls.append((argv, env or {}))
        folder = Path(argv[-1]) / "assignment"
        folder.mkdir(parents=True)
        (folder / "mnist_dense.py").write_text("", "utf-8")
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(subprocess, "run", run)
    return calls


def test_outside_colab_it_only_silences_tensorflow(workdir, clones):
    namespace = run_cell(workdir, "https://github.com/clase/mnist-ana")
    assert namespace["EN_COLAB"] is False
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3" and os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert Path.cwd() == workdir and clones == []


def test_in_colab_it_clones_with_the_token_from_the_secrets(workdir, clones, monkeypatch):
    fake_colab(monkeypatch, {"GITHUB_TOKEN": "ghp_secreto"})
    run_cell(workdir, "https://github.com/clase/mnist-ana.git")
    [(argv, env)] = clones
    assert argv == ["git", "clone", "--quiet", "https://github.com/clase/mnist-ana.git", str(workdir / "content" / "mnist-ana")]
    assert "ghp_secreto" not in " ".join(argv)  # never on the command line
    header = base64.b64encode(b"x-access-token:ghp_secreto").decode()
    assert env["GIT_CONFIG_KEY_0"] == "http.https://github.com/.extraheader"
    assert env["GIT_CONFIG_VALUE_0"] == f"AUTHORIZATION: basic {header}"
    assert Path.cwd() == workdir / "content" / "mnist-ana" / "assignment"


def test_a_public_repository_needs_no_token(workdir, clones, monkeypatch):
    fake_colab(monkeypatch, {})
    run_cell(workdir, "https://github.com/clase/mnist-ana")
    [(argv, env)] = clones
    assert "GIT_CONFIG_COUNT" not in env
    assert Path.cwd() == workdir / "content" / "mnist-ana" / "assignment"


def test_a_failed_clone_says_what_to_check(workdir, monkeypatch):
    fake_colab(monkeypatch, {})
    monkeypatch.setattr(subprocess, "run", lambda argv, **kw: subprocess.CompletedProcess(argv, 128))
    with pytest.raises(RuntimeError, match="GITHUB_TOKEN"):
        run_cell(workdir, "https://github.com/clase/privado")


def test_without_a_repository_it_takes_an_uploaded_zip(workdir, clones, monkeypatch):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as folder:
        folder.writestr("assignment/mnist_dense.py", "# mi código\n")
        folder.writestr("assignment/answers/q1.md", "respuesta\n")
    fake_colab(monkeypatch, {}, {"assignment.zip": archive.getvalue()})
    run_cell(workdir)
    assert clones == []
    assert Path.cwd() == workdir / "content" / "assignment" / "assignment"
    assert Path("mnist_dense.py").read_text("utf-8") == "# mi código\n"
