"""Find reference code or model answers in files about to be released.

- Code: every statement of the reference functions (``solutions/*.py``),
  compared as ``ast.unparse`` writes it without white space, must not be a
  statement of any released Python code: ``.py`` files, notebook code cells
  and fenced code blocks in Markdown. Docstrings and messages are prose: the
  stubs' hints may name a call, but no stub may implement it. A reference
  function with two or more statements must also not appear whole in the
  text of any released file.
- Prose: the model answers' sentences (``solutions/**/*.md``, minus the
  sentences the student's copy of the same sheet has, such as the questions)
  must not appear in any released file.
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MIN_STATEMENT_CHARS = 16  # shorter ones ("return fig") are too common to mean anything
MIN_SENTENCE_WORDS = 8
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
FENCE = re.compile(r"^```[ \t]*(?:python|py)?[ \t]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
MARKER = re.compile(r"^\s*<!--.*-->\s*$", re.MULTILINE)
COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try)


@dataclass(frozen=True)
class Leak:
    file: str  # the released file
    source: str  # the solutions file it comes from
    text: str  # the statement or sentence found

    def __str__(self) -> str:
        return f"{self.file}: contains {self.text!r} from {self.source}"


def code_key(text: str) -> str:
    return re.sub(r"\s+", "", text).replace('"', "'")


def prose_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"[*_`>#]", "", plain)
    return " ".join(plain.split())


def statements(tree: ast.AST) -> set[str]:
    """Keys of the simple statements in ``tree`` (docstrings left out)."""
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or isinstance(node, COMPOUND):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        found.add(code_key(ast.unparse(node)))
    return found


def reference_bodies(source: str) -> dict[str, set[str]]:
    """Function name -> keys of its significant statements."""
    bodies = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            keys = {k for k in statements(ast.Module(body=node.body, type_ignores=[])) if len(k) >= MIN_STATEMENT_CHARS}
            if keys:
                bodies[node.name] = keys
    return bodies


def sentences(markdown: str) -> list[str]:
    kept = []
    for line in markdown.splitlines():
        stripped = line.strip()
        kept.append("" if stripped.startswith(("#", ">", "<!--", "|")) else stripped)
    text = "\n".join(kept)
    return [prose_key(s) for s in SENTENCE_END.split(text) if len(s.split()) >= MIN_SENTENCE_WORDS]


def answer_regions(markdown: str) -> str | None:
    """The text between each opening marker (``<!-- RESPUESTA ... -->``,
    ``<!-- OBSERVACIONES ... -->``) and the next ``<!-- ... -->`` line, or None
    when the sheet has no markers."""
    regions: list[str] = []
    inside = False
    for line in markdown.splitlines():
        if MARKER.match(line):
            inside = not line.strip().upper().startswith("<!-- FIN")
            continue
        if inside:
            regions.append(line)
    return "\n".join(regions) if regions or MARKER.search(markdown) else None


def model_sentences(model: Path, stub: Path) -> list[str]:
    """Sentences of a model answer sheet that a student's sheet must not hold:
    those inside its answer markers or, without markers, those the stub lacks."""
    text = model.read_text(encoding="utf-8")
    regions = answer_regions(text)
    if regions is not None:
        return sentences(regions)
    shared = set(sentences(stub.read_text(encoding="utf-8"))) if stub.is_file() else set()
    return [s for s in sentences(text) if s not in shared]


def code_of(path: str, text: str) -> list[str]:
    """The Python code in a released file: the file, its code cells or its fenced blocks."""
    if path.endswith(".py"):
        return [text]
    if path.endswith(".ipynb"):
        try:
            cells = json.loads(text).get("cells", [])
        except ValueError:
            return []
        return ["".join(c.get("source", [])) for c in cells if c.get("cell_type") == "code"]
    if path.endswith(".md"):
        return FENCE.findall(text)
    return []


def _parsed_statements(chunks: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks:
        lines = [ln for ln in chunk.splitlines() if not ln.lstrip().startswith(("%", "!"))]  # notebook magics
        try:
            found |= statements(ast.parse("\n".join(lines)))
        except (SyntaxError, ValueError):
            continue
    return found


def _needles(source_root: Path) -> tuple[list[tuple[str, str, set[str]]], list[tuple[str, str]]]:
    solutions = source_root / "solutions"
    bodies: list[tuple[str, str, set[str]]] = []  # (origin, function, statement keys)
    prose: list[tuple[str, str]] = []  # (origin, sentence key)
    for path in sorted(solutions.rglob("*.py")):
        origin = path.relative_to(source_root).as_posix()
        try:
            found = reference_bodies(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        bodies.extend((origin, name, keys) for name, keys in sorted(found.items()))
    for path in sorted(solutions.rglob("*.md")):
        stub = source_root / "assignment" / path.relative_to(solutions)
        if not stub.is_file():
            continue  # not a model answer sheet (e.g. the runner's generated results.md)
        origin = path.relative_to(source_root).as_posix()
        prose.extend((origin, s) for s in model_sentences(path, stub))
    return bodies, prose


def find_leaks(source_root: Path, files: Mapping[str, bytes]) -> list[Leak]:
    """Leaks of ``source_root/solutions`` into ``files`` (path -> content)."""
    if not (source_root / "solutions").is_dir():
        return []
    bodies, prose = _needles(source_root)
    leaks = []
    for name, content in sorted(files.items()):
        if b"\0" in content[:4096]:
            continue  # binary
        text = content.decode("utf-8", errors="replace")
        code = _parsed_statements(code_of(name, text))
        flat = code_key(text)
        for origin, function, keys in bodies:
            hits = sorted(keys & code)
            if not hits and len(keys) >= 2 and all(k in flat for k in keys):
                hits = [f"the whole body of {function}()"]
            leaks.extend(Leak(name, origin, hit) for hit in hits)
        plain = prose_key(text)
        leaks.extend(Leak(name, origin, s) for origin, s in prose if s in plain)
    return leaks
