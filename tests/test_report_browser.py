"""report.html in a real headless browser (Debian's chromium): no console
errors (its Content-Security-Policy would report any resource it tried to
load), every chart decodes, and it renders to a non-blank screenshot.

Skipped only when chromium is not installed (apt-get install -y chromium).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from similarity_class import make_class

from grader.instructor import class_report, files, records, similarity
from grader.instructor.workspace import REPO_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]
CHECK_IMAGES = """<script>
addEventListener("load", () => {
  const bad = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt);
  document.body.dataset.images = bad.length ? "broken:" + bad.join("|") : "ok:" + document.images.length;
});
</script>"""


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        *extra,
        page.as_uri(),
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def console(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(params=["es", "en"])
def report(request, tmp_path, synthetic_shard) -> Path:
    """The report in each language, with a similarity section from a generated class."""
    folder = synthetic_shard(tmp_path / "shard")
    folders = make_class(tmp_path / "class", 6)
    compared = similarity.compare(similarity.read_folders(folders, tuple(files.student_files())), similarity.Template.from_root(REPO_ROOT))
    assert compared.top()  # the section has pairs side by side
    class_report.write(tmp_path, records.load_all(folder / "students"), min_accuracy=0.95, lang=request.param, similar=compared)
    return tmp_path / "report.html"


def test_no_console_errors_and_charts_decode(report, tmp_path):
    done = chromium(report, tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert console(done) == []
    assert 'id="s-ben"' in done.stdout and "&lt;script&gt;" in done.stdout
    assert 'id="similarity"' in done.stdout and "<mark>" in done.stdout
    # A copy with a script that checks every image decoded (the CSP is relaxed only there).
    probe = tmp_path / "probe.html"
    html = report.read_text(encoding="utf-8").replace(f"script-src '{class_report.SORT_SCRIPT_HASH}'", "script-src 'unsafe-inline'")
    probe.write_text(html.replace("</body>", CHECK_IMAGES + "</body>"), encoding="utf-8")
    done = chromium(probe, tmp_path / "profile", "--dump-dom")
    assert console(done) == []
    assert re.search(r'data-images="ok:3"', done.stdout), re.findall(r"data-images=\"[^\"]*\"", done.stdout)


def test_the_harness_sees_errors(report, tmp_path):
    """The same run reports a blocked external resource: the check above is not blind."""
    bad = tmp_path / "bad.html"
    bad.write_text(report.read_text(encoding="utf-8").replace("</body>", '<img src="https://cdn.example.invalid/x.png"></body>'), encoding="utf-8")
    done = chromium(bad, tmp_path / "profile", "--dump-dom")
    assert any("Content Security Policy" in line for line in console(done)), done.stderr[-2000:]


def test_screenshot_is_not_blank(report, tmp_path):
    shot = tmp_path / "report.png"
    done = chromium(report, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,1600", "--hide-scrollbars")
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    assert pixels.std() > 0.05  # text, tables and charts, not an empty page


SORT_PROBE = """<script>
addEventListener("load", () => {
  const ids = () => [...document.querySelectorAll("#grades tbody tr")].map(r => r.cells[0].textContent.trim()).join(",");
  const before = ids();
  document.querySelectorAll("#grades th")[1].click();
  const up = ids();
  document.querySelectorAll("#grades th")[1].click();
  document.body.dataset.sorted = before + "|" + up + "|" + ids();
});
</script>"""


def test_attention_list_on_top_and_the_grade_table_sorts(report, tmp_path):
    done = chromium(report, tmp_path / "profile", "--dump-dom")
    assert console(done) == []
    dom = done.stdout
    # the attention list comes before everything else and links to the students' sections
    assert dom.index('id="attention"') < dom.index('id="charts"') < dom.index('id="gradebook"')
    section = dom[dom.index('id="attention"') : dom.index('id="charts"')]
    assert '<a href="#s-' in section
    # the sorter ran under the report's own CSP (it makes the headers focusable)
    assert re.search(r'<th[^>]*data-sort="num"[^>]*tabindex="0"|<th[^>]*tabindex="0"[^>]*data-sort="num"', dom), dom[dom.index('id="grades"') :][:600]
    probe = tmp_path / "sort.html"
    html = report.read_text(encoding="utf-8").replace(f"script-src '{class_report.SORT_SCRIPT_HASH}'", "script-src 'unsafe-inline'")
    probe.write_text(html.replace("</body>", SORT_PROBE + "</body>"), encoding="utf-8")
    done = chromium(probe, tmp_path / "profile", "--dump-dom")
    assert console(done) == []
    before, up, down = re.search(r'data-sorted="([^"]*)"', done.stdout)[1].split("|")
    # served highest score first; one click sorts lowest first, a second click back to the served order
    assert before != up and down == before
    assert set(before.split(",")) == set(up.split(","))
