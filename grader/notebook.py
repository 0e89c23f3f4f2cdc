"""``python -m grader notebook [--check]``: generate assignment/mnist_dense.ipynb.

The notebook is never edited by hand. It is built from one source of truth:

- the steps of ``assignment/mnist_dense.py``: each function's name and
  Spanish docstring, read with ``ast`` (the module is not imported, so this
  needs neither TensorFlow nor working student code);
- the questions of ``assignment/answers/qN.md`` (title and question text).

Only the code cells that CALL the functions live here (:data:`CALLS`): the
notebook has no code of the activity, it imports ``mnist_dense`` and shows
what its functions return. Every function of the module needs an entry, and
every entry a function, or the generation fails.

The output is deterministic: cell ids derived from the step names, no
timestamps, no outputs. ``--check`` exits 1 when the committed notebook is
not what the sources generate.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from grader.spec import MODULE_FILE, MODULE_NAME

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "assignment" / MODULE_FILE
ANSWERS = ROOT / "assignment" / "answers"
NOTEBOOK = ROOT / "assignment" / f"{MODULE_NAME}.ipynb"

TITLE = "Redes neuronales completamente conectadas aplicadas en MNIST"

# How the notebook calls each step's function; names defined by earlier
# cells (x_train, model, history...) are the notebook's shared state.
CALLS: dict[str, str] = {
    "load_data": """\
(x_train, y_train), (x_test, y_test) = md.load_data()
print("Entrenamiento:", x_train.shape, y_train.shape)
print("Prueba:", x_test.shape, y_test.shape)""",
    "show_sample": """\
fig = md.show_sample(x_train, y_train, 0)""",
    "normalize": """\
x_train_n = md.normalize(x_train)
x_test_n = md.normalize(x_test)
print("Antes:", x_train.dtype, x_train.min(), "a", x_train.max())
print("Después:", x_train_n.dtype, x_train_n.min(), "a", x_train_n.max())""",
    "build_model": """\
model = md.build_model()
model.summary()""",
    "compile_model": """\
model = md.compile_model(model)
print("Optimizador:", type(model.optimizer).__name__, "· pérdida:", model.loss)""",
    "train_model": """\
history = md.train_model(model, x_train_n, y_train)""",
    "evaluate_model": """\
loss, accuracy = md.evaluate_model(model, x_test_n, y_test)
print(f"Pérdida con las imágenes de prueba: {loss:.4f}")
print(f"Precisión con las imágenes de prueba: {accuracy:.4f}")""",
    "history_frame": """\
md.history_frame(history)""",
    "plot_history": """\
fig = md.plot_history(history)""",
    "predict_sample": """\
probabilidades, clase = md.predict_sample(model, x_test_n, 0)
print("Probabilidades:", probabilidades.round(3))
print("Suma:", float(probabilidades.sum()))
print("Predicción:", clase, "· etiqueta real:", y_test[0])""",
}

INTRO = f"""\
# {TITLE}

Este cuaderno muestra, paso a paso, lo que hacen **tus** funciones.

- **Tu código se escribe SOLO en [`mnist_dense.py`](mnist_dense.py)**, una
  función por paso. El cuaderno no tiene código de la actividad: llama a esas
  funciones y enseña sus resultados y gráficas. Así todo está en un único
  sitio, sin copiar nada del cuaderno al archivo, y el calificador
  (`python -m grader`) califica las mismas funciones que usa el cuaderno. Las
  funciones que escribas en el cuaderno no las ve el calificador.
- Cada sección vuelve a importar `mnist_dense.py` (`importlib.reload`): tras
  guardar un cambio en el archivo, basta con volver a ejecutar la celda.
- Ejecuta las celdas en orden, empezando por la de entorno y la de
  preparación: cada paso usa
  los resultados del anterior. Un paso que aún no has escrito muestra
  `NotImplementedError`.
- Las respuestas a las preguntas se escriben en los archivos `answers/qN.md`
  (enlaces al final del cuaderno).

**En Jupyter.** Desde la raíz del repositorio, una sola vez:
`pip install -r requirements-notebook.txt`. Después,
`jupyter notebook assignment/mnist_dense.ipynb` lo abre en el navegador; sin
abrir nada, `jupyter execute --inplace assignment/mnist_dense.ipynb` ejecuta
todas las celdas y guarda sus salidas y gráficas en el cuaderno. También
puedes abrirlo en VS Code (extensión Jupyter).

**En Google Colab.** *Archivo → Abrir cuaderno → GitHub* y elige
`assignment/mnist_dense.ipynb` de tu repositorio. Escribe la dirección de tu
repositorio en el campo `REPOSITORIO` de la primera celda (la de entorno) y
ejecútala: clona el repositorio y entra en su carpeta `assignment/`. Si el
repositorio es privado, guarda antes en los secretos de Colab (icono de la
llave) un token de acceso personal de GitHub con permiso de lectura, con el
nombre `GITHUB_TOKEN`, y dale acceso al cuaderno. Si dejas el campo vacío,
la celda te pide que subas un `.zip` de tu carpeta `assignment/`.

Colab ya trae TensorFlow, Keras, pandas y matplotlib: no hace falta
`pip install -r requirements.txt`. Edita `mnist_dense.py` en el panel
*Archivos* de Colab; lo que cambies allí se pierde al cerrar la sesión, así
que descarga el archivo o súbelo a tu repositorio (commit y push)."""

# The first code cell: silences TensorFlow's logs before it is imported and,
# in Colab, clones the student's repository or takes an upload. Kept as a
# real Python file so that it is linted and tested like any code.
ENVIRONMENT = Path(__file__).with_name("notebook_cells") / "environment.py"

SETUP = """\
# Preparación: ejecuta esta celda después de la de entorno.
%matplotlib inline
import importlib
import sys
from pathlib import Path

# La carpeta de este cuaderno (assignment/) contiene mnist_dense.py.
CARPETA = Path.cwd()
if not (CARPETA / "mnist_dense.py").is_file() and (CARPETA / "assignment" / "mnist_dense.py").is_file():
    CARPETA = CARPETA / "assignment"
sys.path.insert(0, str(CARPETA))

# Sin internet: si la variable MNIST_NPZ indica una copia local de MNIST,
# el calificador del repositorio (grader/) hace que Keras la lea.
sys.path.append(str(CARPETA.parent))
try:
    from grader.data import use_local_mnist
except ImportError:
    pass
else:
    use_local_mnist()

import mnist_dense as md"""

QUESTIONS_INTRO = """\
## Preguntas

Responde cada pregunta en su archivo, con tus propias palabras, entre las
marcas que indica el archivo. El cuaderno no guarda las respuestas."""

EXPLORATION = """\
## Exploración

Cuando tu red funcione, haz los experimentos de [`exploration.md`](exploration.md).
Ejecútalos desde la raíz del repositorio con `python -m assignment.explore`
(`--quick` para una versión rápida, `--help` para elegir un experimento);
los resultados y las gráficas quedan en `assignment/exploration_results/`."""


class NotebookError(RuntimeError):
    """The sources do not make a notebook (a step without a call, a bad question file)."""


@dataclass(frozen=True)
class Step:
    function: str
    label: str  # "1", "8a"...
    summary: str  # the docstring's first line, without "Paso N:"
    body: str  # the rest of the docstring, as Markdown


@dataclass(frozen=True)
class Question:
    number: int
    title: str  # "Pregunta 1. El conjunto de datos y el problema"
    text: str
    link: str  # relative to the notebook: answers/q1.md


_STEP = re.compile(r"^Paso\s+(\d+[a-z]?)\s*:\s*(.+)$")


def _markdown(docstring: str) -> str:
    """reST inline literals (``x``) as Markdown code (`x`)."""
    return re.sub(r"``(.+?)``", r"`\1`", docstring, flags=re.DOTALL)


def read_steps(module: Path = MODULE) -> list[Step]:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    steps = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        docstring = ast.get_docstring(node, clean=True) or ""
        first, _, rest = docstring.partition("\n")
        match = _STEP.match(first.strip())
        if not match:
            raise NotebookError(f"{module.name}: the docstring of {node.name}() does not start with 'Paso N: ...'")
        steps.append(Step(node.name, match.group(1), match.group(2).strip().rstrip("."), _markdown(rest.strip())))
    if not steps:
        raise NotebookError(f"{module}: no steps found")
    names = [s.function for s in steps]
    missing, unknown = sorted(set(names) - set(CALLS)), sorted(set(CALLS) - set(names))
    if missing or unknown:
        raise NotebookError(f"grader/notebook.py CALLS out of date: no call for {missing}, no function for {unknown}")
    return steps


def read_questions(answers: Path = ANSWERS) -> list[Question]:
    files = sorted(answers.glob("q*.md"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    questions = []
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        title = next((line[2:].strip() for line in lines if line.startswith("# ")), "")
        quoted = []
        for line in lines:
            if line.startswith(">") and "**Pregunta.**" in line:
                quoted.append(line.split("**Pregunta.**", 1)[1].strip())
            elif quoted and line.startswith(">") and line.strip("> ").strip():
                quoted.append(line.lstrip(">").strip())
            elif quoted:
                break
        if not title or not quoted:
            raise NotebookError(f"{path}: needs a '# Pregunta N. ...' title and a '> **Pregunta.** ...' line")
        number = int(re.sub(r"\D", "", path.stem))
        questions.append(Question(number, title, " ".join(quoted), f"{answers.name}/{path.name}"))
    if not questions:
        raise NotebookError(f"{answers}: no question files q*.md")
    return questions


def _cell_id(*parts: str) -> str:
    return re.sub(r"[^a-zA-Z0-9-]+", "-", "-".join(parts)).strip("-").lower()[:64]


def build(module: Path = MODULE, answers: Path = ANSWERS):  # -> nbformat.NotebookNode
    import nbformat
    from nbformat import v4

    cells = [
        v4.new_markdown_cell(INTRO, id="intro"),
        v4.new_code_cell(ENVIRONMENT.read_text(encoding="utf-8").rstrip(), id="entorno"),
        v4.new_code_cell(SETUP, id="preparacion"),
    ]
    for step in read_steps(module):
        text = f"## Paso {step.label}: {step.summary} (`{step.function}`)"
        if step.body:
            text += f"\n\n{step.body}"
        text += f"\n\nEscribe `{step.function}` en [`mnist_dense.py`](mnist_dense.py) y ejecuta la celda siguiente."
        code = f"md = importlib.reload(md)\n{CALLS[step.function]}"
        cells.append(v4.new_markdown_cell(text, id=_cell_id("paso", step.label, step.function)))
        cells.append(v4.new_code_cell(code, id=_cell_id("codigo", step.label, step.function)))
    cells.append(v4.new_markdown_cell(QUESTIONS_INTRO, id="preguntas"))
    for q in read_questions(answers):
        text = f"### {q.title}\n\n> {q.text}\n\nEscribe tu respuesta en [`{q.link}`]({q.link})."
        cells.append(v4.new_markdown_cell(text, id=_cell_id("pregunta", f"q{q.number}")))
    cells.append(v4.new_markdown_cell(EXPLORATION, id="exploracion"))

    notebook = v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    ids = [cell.id for cell in notebook.cells]
    if len(set(ids)) != len(ids):
        raise NotebookError(f"duplicate cell ids: {ids}")
    nbformat.validate(notebook)
    return notebook


def render(module: Path = MODULE, answers: Path = ANSWERS) -> str:
    import nbformat

    return nbformat.writes(build(module, answers)) + "\n"


def main(argv: list[str] | None = None) -> int:
    from grader.cli import add_lang, command_parser, requested_lang

    lang = requested_lang(sys.argv[1:] if argv is None else argv)
    parser, t = command_parser("notebook", lang)
    parser.add_argument("--check", action="store_true", help=t("check"))
    parser.add_argument("--module", type=Path, default=MODULE, help=t("module"))
    parser.add_argument("--answers", type=Path, default=ANSWERS, help=t("answers"))
    parser.add_argument("--out", type=Path, default=NOTEBOOK, help=t("out"))
    add_lang(parser, lang)
    args = parser.parse_args(argv)
    try:
        text = render(args.module, args.answers)
    except (NotebookError, OSError, SyntaxError) as error:
        print(f"notebook: {error}", file=sys.stderr)
        return 2
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
        if current != text:
            state = "missing" if current is None else "stale"
            print(f"{args.out} is {state}: run python -m grader notebook", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
