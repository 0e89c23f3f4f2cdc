"""A small class through ``python -m grader batch`` end to end, with both LMS
exports: a roster with a missing e-mail, an unreachable repository, an
untouched template and a keyword-stuffed answer. Only cheap submissions (the
stubs: nothing trains), so the whole run takes the three gradings' start-up.

- the export refuses the roster (a missing e-mail), then writes the rest with
  ``--allow-missing``; both files import with the real importers' column
  rules (tests/lms_importers.py); the unreachable student is blank, not 0;
- the report's "needs attention" list names the unreachable repository, the
  untouched template and the stuffed answer, and opens in headless chromium
  in both languages without a console error.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.instructor import class_report, lms, records
from tests.lms_importers import canvas_import, moodle_import

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "Práctica 3 (MNIST)"
STUFFED_Q4 = (
    "Mi perro se llama Relu y le encanta correr por el parque con los niños del barrio todas las tardes. "
    "Ayer comimos un helado softmax de chocolate con mis primos en la heladería nueva de la plaza. "
    "Las manzanas del mercado suman uno cuando las cuento despacio en la cocina de mi abuela. "
    "Mi tía dice que el gradiente de la montaña cansa mucho a los ciclistas del pueblo en verano."
)
GOOD_Q1 = (
    "Trabajamos con MNIST, que son imágenes en escala de grises de 28 por 28 pixeles. Cada una contiene un dígito "
    "manuscrito. El conjunto de entrenamiento tiene 60.000 imágenes y el de prueba 10.000. Se trata de un problema de "
    "clasificación en el que hay diez posibles respuestas, del 0 al 9."
)

pytestmark = [pytest.mark.slow, pytest.mark.slots(2)]  # three gradings and a browser: about a minute


def run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", GRADER_ISOLATION="process")
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def answer(folder: Path, question: str, text: str) -> None:
    path = folder / "assignment" / "answers" / f"{question}.md"
    content = path.read_text(encoding="utf-8")
    assert "_Escribe aquí tu respuesta._" in content
    path.write_text(content.replace("_Escribe aquí tu respuesta._", text), encoding="utf-8")


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    release = tmp / "release"
    done = run("release", str(release))
    assert done.returncode == 0, done.stderr
    for student in ("ana", "cris", "dani"):
        shutil.copytree(release, tmp / "repos" / student, ignore=shutil.ignore_patterns(".git"))
    answer(tmp / "repos" / "ana", "q1", GOOD_Q1)  # ana: the stubs and one real answer
    answer(tmp / "repos" / "dani", "q4", STUFFED_Q4)  # dani: rubric words in sentences about something else
    # cris: the untouched template. ben: a repository that cannot be reached.
    roster = tmp / "roster.txt"
    roster.write_text(
        "# ID URL EMAIL\n"
        "ana repos/ana Ana.Perez@uni.example\n"
        f"ben {(tmp / 'nowhere' / 'ben.git').as_uri()} ben@uni.example\n"
        "cris repos/cris cris@uni.example\n"
        "dani repos/dani\n",  # no e-mail
        encoding="utf-8",
    )
    config = tmp / "config.toml"
    text = (ROOT / "grader" / "config.toml").read_text(encoding="utf-8")
    config.write_text(text.replace('roads = "namespaces"', 'roads = "process"', 1), encoding="utf-8")
    out = tmp / "out"
    common = ("batch", str(roster), "--out", str(out), "--config", str(config), "--jobs", "2", "--export", "moodle", "--export", "canvas")
    refused = run(*common, "--assignment-name", ASSIGNMENT)
    allowed = run(*common, "--assignment-name", ASSIGNMENT, "--allow-missing")
    return {"tmp": tmp, "out": out, "refused": refused, "allowed": allowed}


def test_a_missing_email_stops_the_export_but_not_the_grading(klass):
    refused = klass["refused"]
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "moodle-grades.csv no se escribió" in refused.stderr and "dani (sin identificador)" in refused.stderr
    with open(klass["out"] / "gradebook.csv", newline="", encoding="utf-8") as handle:
        book = {row["id"]: row for row in csv.DictReader(handle)}
    assert {k: v["estado"] for k, v in book.items()} == {"ana": "graded", "ben": "unavailable", "cris": "graded", "dani": "graded"}


def test_allow_missing_writes_files_the_importers_accept(klass):
    allowed = klass["allowed"]
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "se omitieron 1 estudiante(s)" in allowed.stderr and "dani" in allowed.stderr
    assert "quedan con la nota vacía (no 0): ben" in allowed.stderr
    assert "Skipping 3 unchanged" in allowed.stderr  # the second run graded nothing again
    out = klass["out"]
    users = {"Ana.Perez@uni.example", "ben@uni.example", "cris@uni.example"}
    moodle = moodle_import((out / lms.FILES["moodle"]).read_text(encoding="utf-8"), users, lms.MOODLE_IDENTIFIER, ASSIGNMENT)
    assert moodle.grades["ben@uni.example"] is None and moodle.grades["cris@uni.example"] == 0.0
    assert set(moodle.grades) == users
    canvas, new = canvas_import((out / lms.FILES["canvas"]).read_text(encoding="utf-8"), {u: u.split("@")[0] for u in users}, {ASSIGNMENT})
    assert not new and canvas.points_possible == "100" and canvas.unknown_students == []
    assert canvas.grades["ben@uni.example"] is None and set(canvas.grades) == users


def test_the_stuffed_answer_is_marked_for_review(klass):
    dani = records.load(klass["out"] / "students" / "dani")
    assert dani is not None and dani.result is not None
    (q4,) = [a for a in dani.result.review if a.id == "q4"]
    assert q4.uncertain and q4.missing == []  # every idea "found", and still marked


def test_the_report_lists_who_needs_attention(klass):
    report = (klass["out"] / "report.md").read_text(encoding="utf-8")
    top = report[report.index("## Necesitan atención") : report.index("## Tasa de aprobados")]
    assert re.search(r"\[ben\]\(#s-ben\): no se pudo calificar, no hay entrega \(git clone failed", top)
    assert "[cris](#s-cris): la plantilla sin tocar" in top
    assert re.search(r"\[dani\]\(#s-dani\):.*respuesta\(s\) para leer: [^\n]*q4", top)
    assert top.index("[ben]") < top.index("[cris]") < top.index("[dani]")
    assert "3 calificados" in report and "1 no disponible " in report


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_report_opens_in_chromium(klass, tmp_path, lang):
    from tests.test_report_browser import CHROMIUM, chromium, console

    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    everyone = records.load_all(klass["out"] / "students")
    class_report.write(tmp_path, everyone, 0.97, lang=lang, required_isolation="process")
    done = chromium(tmp_path / "report.html", tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0 and console(done) == [], done.stderr[-2000:]
    heading = "Necesitan atención" if lang == "es" else "Needs attention"
    assert heading in done.stdout and '<a href="#s-cris">' in done.stdout
    assert re.search(r'<th[^>]*tabindex="0"', done.stdout)  # the sorter ran under the report's CSP
