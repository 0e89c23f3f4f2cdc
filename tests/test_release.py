"""``python -m grader release OUT``: the student template holds the stubs, the
sheets, the grader and the student workflows, never a solution or a model
answer; its manifest covers every protected file; the released stubs score 0.

The command runs in-process (``release.main``); only the grading of the
released stubs starts ``python -m grader``, as a student would.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

from grader.instructor import release as release_command

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
STUDENT_FILES = [
    "assignment/mnist_dense.py",
    *[f"assignment/answers/q{n}.md" for n in range(1, 8)],
    "assignment/exploration.md",
]


def run(*args: str, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


class Done:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def release_cli(*args: str) -> Done:
    """``python -m grader release ARGS``, in-process: exit status, stdout, stderr."""
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = release_command.main(list(args))
    return Done(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "mnist-dense-template"
    done = release_cli(str(out))
    assert done.returncode == 0, done.stderr
    return out


def released_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_layout(release):
    names = {p.relative_to(release).as_posix() for p in released_files(release)}
    for required in [*STUDENT_FILES, "grader/__main__.py", "grader/config.toml", "requirements.txt", "pytest.ini", ".gitignore", ".grader-manifest.json"]:
        assert required in names, required
    if (ROOT / "README.md").is_file():
        assert "README.md" in names
    for name in names:
        top = name.split("/")[0]
        assert top in {
            "assignment",
            "grader",
            ".github",
            "README.md",
            "requirements.txt",
            "requirements-notebook.txt",
            "pytest.ini",
            ".gitignore",
            ".gitattributes",
            "LICENSE",
            ".grader-manifest.json",
        }, name
        assert "__pycache__" not in name and not name.endswith(".pyc"), name
    assert not any(n.startswith(("solutions/", "tests/", "docs/", ".ci/")) for n in names)
    assert ".github/workflows/grade-class.yml" not in names  # instructor-only


def test_released_readme_speaks_to_students_in_spanish(release):
    # The English intro for instructors opened the students' README.
    readme = (release / "README.md").read_text(encoding="utf-8")
    assert "An auto-graded assignment" not in readme and "instructor" not in readme.lower()
    assert readme.startswith("# Redes neuronales completamente conectadas aplicadas en MNIST\n") and "## Para estudiantes" in readme


def test_manifest_covers_every_protected_file(release):
    manifest = json.loads((release / ".grader-manifest.json").read_text(encoding="utf-8"))
    protected = {
        p.relative_to(release).as_posix()
        for p in released_files(release)
        if p.relative_to(release).parts[0] in ("grader", ".github") or p.name in ("requirements.txt", "pytest.ini") and p.parent == release
    }
    assert set(manifest["protected"]) == protected
    for path, digest in manifest["protected"].items():
        assert hashlib.sha256((release / path).read_bytes()).hexdigest() == digest, path
    assert manifest["student_files"] == STUDENT_FILES
    assert not set(manifest["student_files"]) & set(manifest["protected"])


# --- no reference code, no model answer -------------------------------------
# Independent of grader/instructor/leaks.py on purpose.


def squash(code: str) -> str:
    return re.sub(r"\s+", "", code).replace('"', "'")


def reference_bodies() -> dict[str, list[str]]:
    """Function -> its body's statements, docstrings and comments left out."""
    tree = ast.parse((SOLUTIONS / "mnist_dense.py").read_text(encoding="utf-8"))
    bodies = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            lines = []
            for stmt in ast.walk(ast.Module(body=node.body, type_ignores=[])):
                if isinstance(stmt, (ast.Return, ast.Assign, ast.Expr, ast.AugAssign)) and not (
                    isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                ):
                    lines.append(squash(ast.unparse(stmt)))
            bodies[node.name] = [line for line in lines if len(line) >= 16]
    return bodies


def code_without_docstrings(source: str) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body[0] = ast.Pass()
    return squash(ast.unparse(tree))


def test_no_reference_code(release):
    bodies = reference_bodies()
    assert len(bodies) >= 9 and all(bodies.values())
    for path in released_files(release):
        text = path.read_text(encoding="utf-8", errors="replace")
        flat = squash(text)
        for function, lines in bodies.items():
            if len(lines) >= 2:  # a whole multi-statement body, anywhere (prose, notebook, markdown)
                assert not all(line in flat for line in lines), f"{path}: the body of {function}()"
        if path.suffix == ".py":
            code = code_without_docstrings(text)  # hints in docstrings may name a call; code may not
            for function, lines in bodies.items():
                for line in lines:
                    assert line not in code, f"{path}: {line} (from {function})"


def prose(text: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[*_`]", "", text).casefold().split())


def model_sentences(model: Path, stub: Path) -> list[str]:
    def sentences(text: str) -> set[str]:
        body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith(("#", ">", "<!--")))
        return {prose(s) for s in re.split(r"(?<=[.!?])\s+|\n\s*\n", body) if len(s.split()) >= 8}

    shared = sentences(stub.read_text(encoding="utf-8")) if stub.is_file() else set()
    return sorted(sentences(model.read_text(encoding="utf-8")) - shared)


def test_no_model_answer(release):
    # Model answer sheets are the ones that mirror a student file (not, say,
    # the runner's generated solutions/exploration_results/results.md).
    models = [m for m in sorted(SOLUTIONS.rglob("*.md")) if (ROOT / "assignment" / m.relative_to(SOLUTIONS)).is_file()]
    assert len(models) >= 8
    needles = [(m, s) for m in models for s in model_sentences(m, ROOT / "assignment" / m.relative_to(SOLUTIONS))]
    assert len(needles) >= 30
    for path in released_files(release):
        text = prose(path.read_text(encoding="utf-8", errors="replace"))
        for model, sentence in needles:
            assert sentence not in text, f"{path} holds a sentence of {model.name}: {sentence!r}"


@pytest.mark.slow
def test_released_stubs_score_zero(release, tmp_path):
    work = tmp_path / "student"
    shutil.copytree(release, work)
    done = run("--out", str(tmp_path / "grading"), "--quiet", cwd=work)
    assert done.returncode == 0, done.stderr
    score = json.loads((tmp_path / "grading" / "score.json").read_text(encoding="utf-8"))
    assert score["score"] == 0 and score["max_score"] > 0


# --- the command's guards ----------------------------------------------------


def small_source(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    for folder in ("assignment", "grader", "solutions"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("requirements.txt", "pytest.ini"):
        shutil.copy(ROOT / name, source / name)
    return source


def test_refuses_to_release_a_solution(tmp_path):
    source = small_source(tmp_path)
    shutil.copy(SOLUTIONS / "mnist_dense.py", source / "assignment" / "mnist_dense.py")
    done = release_cli(str(tmp_path / "out"), "--source", str(source))
    assert done.returncode == 2
    assert "reference code or model answers" in done.stderr and "assignment/mnist_dense.py" in done.stderr
    assert not (tmp_path / "out").exists()


def test_refuses_a_model_answer_and_strips_instructor_sections(tmp_path):
    source = small_source(tmp_path)
    (source / "README.md").write_text(
        "# Actividad\n\nPara estudiantes.\n<!-- instructor-only -->\nSolutions live in solutions/.\n<!-- /instructor-only -->\nFin.\n",
        encoding="utf-8",
    )
    done = release_cli(str(tmp_path / "out"), "--source", str(source))
    assert done.returncode == 0, done.stderr
    readme = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "Para estudiantes." in readme and "Fin." in readme and "solutions/" not in readme
    shutil.copy(SOLUTIONS / "answers" / "q3.md", source / "assignment" / "answers" / "q3.md")
    done = release_cli(str(tmp_path / "out"), "--source", str(source), "--force")
    assert done.returncode == 2 and "solutions/answers/q3.md" in done.stderr


def test_out_must_be_empty_unless_forced(tmp_path, release):
    out = tmp_path / "template"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "stale.txt").write_text("old\n")
    done = release_cli(str(out))
    assert done.returncode == 2 and "--force" in done.stderr
    done = release_cli(str(out), "--force")
    assert done.returncode == 0, done.stderr
    assert not (out / "stale.txt").exists()
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (out / ".grader-manifest.json").read_bytes() == (release / ".grader-manifest.json").read_bytes()


def test_the_command_says_how_many_files_and_how_many_are_protected(tmp_path):
    out = tmp_path / "template"
    done = release_cli(str(out))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / ".grader-manifest.json").read_text(encoding="utf-8"))
    written = [p for p in released_files(out) if p.name != ".grader-manifest.json"]
    assert f"Wrote {len(written)} files to {out} ({len(manifest['protected'])} protected, listed in .grader-manifest.json)." in done.stdout


# --- the rubric belongs to the instructor ---------------------------------------


def test_released_config_has_no_idea_patterns(release):
    import tomllib

    released = tomllib.loads((release / "grader" / "config.toml").read_text(encoding="utf-8"))["rubric"]
    source = tomllib.loads((ROOT / "grader" / "config.toml").read_text(encoding="utf-8"))["rubric"]
    assert released["provisional"] is True
    for question, table in source.items():
        if not isinstance(table, dict):
            continue
        assert "topic" not in released[question]
        for mine, theirs in zip(table["ideas"], released[question]["ideas"], strict=True):
            assert "patterns" not in theirs and "patterns_en" not in theirs
            assert (theirs["name"], theirs["hint"]) == (mine["name"], mine["hint"])  # the checklist stays
    # not one pattern of the rubric is in the file, as text
    text = (release / "grader" / "config.toml").read_text(encoding="utf-8")
    patterns = {p for t in source.values() if isinstance(t, dict) for i in t["ideas"] for p in i["patterns"] + i.get("patterns_en", [])}
    assert not [p for p in patterns if f"'{p}'" in text]


def test_with_rubric_keeps_it_and_batch_accepts_both(tmp_path, release):
    out = tmp_path / "with-rubric"
    done = release_cli(str(out), "--with-rubric")
    assert done.returncode == 0, done.stderr
    assert (out / "grader" / "config.toml").read_bytes() == (ROOT / "grader" / "config.toml").read_bytes()
    # batch compares protected files with the instructor's own when there is no manifest:
    # the config as either release wrote it is no change
    from grader.config import load_config
    from grader.instructor import files, workspace

    config_bytes = (ROOT / "grader" / "config.toml").read_bytes()
    template = workspace.load_template(load_config(ROOT / "grader" / "config.toml"), config_bytes, "es", None)
    for checkout in (release, out):
        changed = files.compare_protected(checkout, template.protected, template.protected_variants)
        assert "grader/config.toml" not in [c.path for c in changed], changed
    tampered = tmp_path / "tampered"
    shutil.copytree(release, tampered)
    config = tampered / "grader" / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("min_words = 40", "min_words = 1", 1), encoding="utf-8")
    changed = files.compare_protected(tampered, template.protected, template.protected_variants)
    assert ("grader/config.toml", "modified") in [(c.path, c.kind) for c in changed]
