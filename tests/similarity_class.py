"""A generated class for the similarity tests and benchmark: no training.

Every student starts from the released template (``assignment/``) and writes
independent Spanish prose (random sentences over a shared vocabulary, so
independent answers share words but rarely runs of words) and the reference
code plus helpers of their own. ``copy_answers`` makes one student copy
another's answers with light edits (synonyms, sentences reordered, accents
removed); ``copy_code`` makes one copy another's code with names renamed and
comments added.
"""

from __future__ import annotations

import random
import re
import shutil
import unicodedata
from pathlib import Path

from grader.answers.markdown import ANSWER_PLACEHOLDER, SECTION_PLACEHOLDER

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = tuple(f"q{n}" for n in range(1, 8))

SUBJECTS = (
    "la capa oculta",
    "la red",
    "el modelo",
    "la capa de salida",
    "cada neurona",
    "el optimizador",
    "la función softmax",
    "la precisión",
    "el conjunto de prueba",
    "la pérdida",
    "el entrenamiento",
    "la normalización",
    "cada imagen",
    "el lote",
    "la activación relu",
    "la curva de validación",
    "el número de parámetros",
    "la tasa de aprendizaje",
)
VERBS = (
    "usa",
    "aprende",
    "transforma",
    "reduce",
    "mejora",
    "calcula",
    "convierte",
    "produce",
    "necesita",
    "compara",
    "acelera",
    "estabiliza",
    "separa",
    "resume",
    "multiplica",
    "ajusta",
    "empeora",
    "mantiene",
)
OBJECTS = (
    "los píxeles",
    "las probabilidades",
    "los pesos",
    "el error",
    "las etiquetas",
    "los gradientes",
    "las clases",
    "los valores entre cero y uno",
    "la forma de la entrada",
    "los diez dígitos",
    "las épocas",
    "el sobreajuste",
    "la media",
    "los sesgos",
    "el vector aplanado",
    "las predicciones",
    "la entropía cruzada",
    "las curvas",
)
COMPLEMENTS = (
    "con pocas épocas",
    "en cada lote",
    "tras normalizar",
    "desde la primera época",
    "sin tocar la salida",
    "al final del entrenamiento",
    "según mis pruebas",
    "en el conjunto de validación",
    "con mucha más rapidez",
    "de forma estable",
    "casi siempre",
    "en mi ejecución",
    "para cada dígito",
    "con menos memoria",
)
CONNECTORS = ("porque", "ya que", "así que", "mientras", "y además", "por eso")
SYNONYMS = {
    "usa": "utiliza",
    "mejora": "aumenta",
    "reduce": "disminuye",
    "calcula": "obtiene",
    "necesita": "requiere",
    "red": "modelo",
    "pruebas": "experimentos",
    "rapidez": "velocidad",
    "estable": "constante",
}


def sentence(rng: random.Random) -> str:
    first = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    second = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(COMPLEMENTS)}"
    number = f"con {rng.randint(2, 512)} unidades llegué a {rng.uniform(0.9, 0.99):.3f}"
    return f"{first.capitalize()} {rng.choice(CONNECTORS)} {second}; {number}."


def paragraph(rng: random.Random, sentences: int = 5) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def lightly_edited(text: str) -> str:
    """Synonyms, sentences in another order, accents removed."""
    parts = [s for s in re.split(r"(?<=\.)\s+", text) if s]
    parts = parts[1:] + parts[:1]
    edited = " ".join(parts)
    for word, synonym in SYNONYMS.items():
        edited = re.sub(rf"\b{word}\b", synonym, edited)
    return "".join(c for c in unicodedata.normalize("NFKD", edited) if not unicodedata.combining(c))


HELPER_STATEMENTS = (
    "    total += {v} * {a}\n",
    "    if {v} > {a}:\n        total -= {b}\n",
    "    for step in range({a}):\n        total += step % {b}\n",
    "    values = [item * {a} for item in range({b})]\n    total += sum(values)\n",
    "    while total > {a}:\n        total //= {b}\n",
    "    total = max(total, {a}) - min({v}, {b})\n",
    "    try:\n        total /= {v} - {a}\n    except ZeroDivisionError:\n        total = {b}\n",
    "    total ^= {a} << {b}\n",
)


def helpers(rng: random.Random, functions: int = 4) -> str:
    blocks = []
    for index in range(functions):
        body = "".join(rng.choice(HELPER_STATEMENTS).format(v="value", a=rng.randint(2, 999), b=rng.randint(2, 999)) for _ in range(rng.randint(5, 8)))
        blocks.append(f"\n\ndef helper_{index}(value):\n    total = {rng.randint(0, 99)}\n{body}    return total\n")
    return "".join(blocks)


def renamed(code: str) -> str:
    """The same code with other names and comments: what a copier does."""
    code = code.replace("helper_", "utilidad_").replace("total", "acumulado").replace("value", "dato")
    return re.sub(r"^(def .*)$", r"# función auxiliar mía\n\1", code, flags=re.MULTILINE)


def fill(text: str, placeholder: str, answers: list[str]) -> str:
    for answer in answers:
        text = text.replace(placeholder, answer, 1)
    return text


def make_student(folder: Path, seed: int, answers: dict[str, str] | None = None, code_extra: str | None = None) -> dict[str, str]:
    """One submission in ``folder``; returns its answers (part -> text)."""
    rng = random.Random(seed)
    assignment = folder / "assignment"
    shutil.copytree(ROOT / "assignment", assignment, ignore=shutil.ignore_patterns("__pycache__", "explore", "*.ipynb"))
    written = dict(answers or {})
    for q in QUESTIONS:
        written.setdefault(q, paragraph(rng))
        path = assignment / "answers" / f"{q}.md"
        path.write_text(fill(path.read_text(encoding="utf-8"), ANSWER_PLACEHOLDER, [written[q]]), encoding="utf-8")
    sheet = assignment / "exploration.md"
    text = sheet.read_text(encoding="utf-8")
    sections = text.count(SECTION_PLACEHOLDER)
    for n in range(1, sections + 1):
        written.setdefault(f"exploration.{n}", paragraph(rng, 3))
    sheet.write_text(fill(text, SECTION_PLACEHOLDER, [written[f"exploration.{n}"] for n in range(1, sections + 1)]), encoding="utf-8")
    extra = code_extra if code_extra is not None else helpers(rng)
    (assignment / "mnist_dense.py").write_text((ROOT / "solutions" / "mnist_dense.py").read_text(encoding="utf-8") + extra, encoding="utf-8")
    written["code_extra"] = extra
    return written


def make_class(root: Path, size: int, seed: int = 7) -> dict[str, Path]:
    """``size`` submissions: s00 and s01 share q4 and q6 (light edits), s02 and
    s03 share their code, s04 left every answer as the template; the rest are
    independent. Returns id -> folder."""
    folders = {f"s{i:02d}" if size <= 100 else f"s{i:03d}": None for i in range(size)}
    ids = list(folders)
    out: dict[str, Path] = {}
    source = make_student(root / ids[0], seed)
    out[ids[0]] = root / ids[0]
    copied = {q: lightly_edited(source[q]) for q in ("q4", "q6")}
    make_student(root / ids[1], seed + 1, answers=copied)
    out[ids[1]] = root / ids[1]
    original = make_student(root / ids[2], seed + 2)
    out[ids[2]] = root / ids[2]
    make_student(root / ids[3], seed + 3, code_extra=renamed(original["code_extra"]))
    out[ids[3]] = root / ids[3]
    for index, student in enumerate(ids[4:], start=4):
        make_student(root / student, seed + index)
        out[student] = root / student
    blank = root / ids[4] / "assignment"  # answers identical to the template
    for q in QUESTIONS:
        shutil.copy(ROOT / "assignment" / "answers" / f"{q}.md", blank / "answers" / f"{q}.md")
    shutil.copy(ROOT / "assignment" / "exploration.md", blank / "exploration.md")
    return out
