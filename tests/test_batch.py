"""``python -m grader batch`` on a class of ten submissions built from the
release, the reference solution and the stubs by textual mutation: totals,
flags, tampering ignored, a hanging submission bounded by --timeout, serial
and parallel runs agreeing, reruns skipping unchanged work, sharding and
merging. One graded class (module fixture) serves every test.

Needs MNIST (``MNIST_NPZ`` or Keras's cache); trains four small models on the
test config's 3,000-image slice.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from grader.config import load_config

ROOT = Path(__file__).resolve().parents[1]
HANG_TIMEOUT = 75  # --timeout: well above a normal grading at --jobs 2 (~30 s quiet, ~60 s on a busy machine), low enough to be cheap
CLASS = (
    # First in sorted order, so graded first: its --timeout overlaps the other gradings
    # instead of being a tail in which the machine waits on one sleeping submission.
    "aaron-hang",
    "alice-ref",
    "bob-stubs",
    "carol-tanh",
    "dave-nonorm",
    "erin-rmsprop",
    "frank-tamper",
    "heidi-hostile",
    "judy-killer",
    "ivan-empty",
)
TIMING = ("grading_seconds",)
ENGLISH = ("--lang", "en")  # English feedback, report and gradebook headers (Spanish, the default, is tested in test_batch_ref)

pytestmark = [pytest.mark.slow, pytest.mark.slots(2)]


def run(*args: str, cwd: Path = ROOT, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", GRADER_ISOLATION="process")
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def mutate(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: mutation anchor {old!r} not found"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_config(folder: Path) -> Path:
    """grader/config.toml with a 3,000-image training slice and test limits."""
    settings = {
        ("grading", "train_subset"): "3000",
        ("grading", "min_accuracy"): "0.85",
        ("time_limits", "train_model"): "60",
        ("time_limits", "import"): "120",  # aaron's hang must outlast --timeout
        # heidi, judy and aaron attack the grader itself: these tests show what
        # the process level still stops (tests/test_isolation.py and the
        # hostile corpus cover the namespaces level, where they cannot reach it).
        ("isolation", "roads"): '"process"',
    }
    lines, section, replaced = [], "", set()
    for line in (ROOT / "grader" / "config.toml").read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\[([^\]]+)\]", line)
        section = header[1] if header else section
        key = line.split("=")[0].strip()
        if (section, key) in settings:
            line = f"{key} = {settings[section, key]}"
            replaced.add((section, key))
        lines.append(line)
    assert replaced == set(settings)
    path = folder / "test-config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


test_config.__test__ = False  # type: ignore[attr-defined]


def build_class(tmp: Path) -> tuple[Path, Path]:
    release = tmp / "release"
    done = run("release", str(release))
    assert done.returncode == 0, done.stderr
    subs = tmp / "class"
    for name in CLASS[:-1]:
        shutil.copytree(release, subs / name)
    solution = ROOT / "solutions"

    def solve(name: str) -> Path:
        student = subs / name / "assignment"
        shutil.copy(solution / "mnist_dense.py", student / "mnist_dense.py")
        for answer in (solution / "answers").glob("q*.md"):
            shutil.copy(answer, student / "answers" / answer.name)
        shutil.copy(solution / "exploration.md", student / "exploration.md")
        table = subs / name / "assignment" / "exploration_results" / "results.csv"
        table.parent.mkdir()
        table.write_text("experiment,value,test_accuracy\nhidden_units,128,0.97\n", encoding="utf-8")
        return student / "mnist_dense.py"

    solve("alice-ref")
    mutate(solve("carol-tanh"), 'activation: str = "relu"', 'activation: str = "tanh"')
    mutate(solve("dave-nonorm"), "return images / 255.0", 'return images.astype("float32")')
    mutate(solve("erin-rmsprop"), 'optimizer: str = "adam"', 'optimizer: str = "rmsprop"')
    # frank: the stubs, plus a grader that gives full marks and a looser config
    # in his checkout; the batch must grade with its own grader and flag it.
    frank = subs / "frank-tamper"
    (frank / "grader" / "scoring.py").write_text(
        (frank / "grader" / "scoring.py").read_text(encoding="utf-8") + "\n\ndef score_check(outcome, most, lang):  # tampered\n"
        "    return CheckResult(outcome.check, outcome.check, most, most, True, 'ok', 'check.ok')\n",
        encoding="utf-8",
    )
    mutate(frank / "grader" / "config.toml", "min_accuracy = 0.97", "min_accuracy = 0.0")
    with open(frank / ".github" / "workflows" / "grade.yml", "a", encoding="utf-8") as handle:
        handle.write("\n# tampered\n")
    (frank / ".github" / "workflows" / "extra.yml").write_text("name: extra\n", encoding="utf-8")
    # aaron: hangs at import, deaf to the grader's alarm, and leaves a daemon.
    aaron = solve("aaron-hang")
    pidfile = tmp / "aaron-daemon.pid"
    daemon = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(3600)"
    hang = (
        "import os, signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        f"subprocess.Popen([sys.executable, '-c', {daemon!r}], start_new_session=True)\n"
        "while True:\n    time.sleep(1)\n"
    )
    mutate(aaron, "from __future__ import annotations\n", "from __future__ import annotations\n" + hang)
    # heidi: the stubs, rewriting the grader's config while she is graded.
    heidi = subs / "heidi-hostile" / "assignment" / "mnist_dense.py"
    heidi.write_text(
        heidi.read_text(encoding="utf-8")
        + "\nimport pathlib as _p, grader as _g\n_c = _p.Path(_g.__file__).parent / 'config.toml'\n_c.write_text(_c.read_text() + '\\n# tampered\\n')\n",
        encoding="utf-8",
    )
    # judy: the stubs, killing her grader and staying behind as an orphan.
    judy = subs / "judy-killer" / "assignment" / "mnist_dense.py"
    judy.write_text(
        judy.read_text(encoding="utf-8") + f"\nimport os as _o, signal as _s, time as _t\nopen({str(tmp / 'judy-worker.pid')!r}, 'w').write(str(_o.getpid()))\n"
        "_o.kill(_o.getppid(), _s.SIGKILL)\n_t.sleep(3600)\n",
        encoding="utf-8",
    )
    (subs / "ivan-empty").mkdir()
    (subs / "ivan-empty" / "README.md").write_text("nothing here\n", encoding="utf-8")
    return subs, release


def read_gradebook(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def without_timing(book: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {k: {c: v for c, v in row.items() if c not in TIMING} for k, row in book.items()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    subs, release = build_class(tmp)
    config = test_config(tmp)
    out = tmp / "out"
    started = time.monotonic()
    done = run("batch", str(subs), "--out", str(out), "--config", str(config), "--jobs", "2", "--timeout", str(HANG_TIMEOUT), *ENGLISH)
    wall = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"\nbatch --jobs 2 on {len(CLASS)} submissions: {wall:.1f} s")
    return {"tmp": tmp, "subs": subs, "release": release, "config": config, "out": out, "wall": wall, "run": done}


def test_gradebook_totals_and_statuses(graded):
    book = read_gradebook(graded["out"] / "gradebook.csv")
    assert list(book) == sorted(CLASS)
    full = float(book["alice-ref"]["max"])
    code_checks = ("load_data", "show_sample", "normalize", "architecture", "compile", "train", "evaluate", "history", "predict")

    def lost(student: str) -> set[str]:
        row = book[student]
        return {c for c in code_checks + ("min_accuracy",) if float(row[c]) < float(book["alice-ref"][c])}

    assert book["alice-ref"]["status"] == "graded" and book["alice-ref"]["flags"] == ""
    assert float(book["alice-ref"]["total"]) == full
    points = load_config(graded["config"]).points
    assert all(float(book["alice-ref"][c]) == points[c] for c in points)
    assert float(book["alice-ref"]["test_accuracy"]) >= 0.85
    assert book["bob-stubs"]["status"] == "graded" and book["bob-stubs"]["total"] == "0"
    assert "architecture" in lost("carol-tanh") and {"normalize", "compile"}.isdisjoint(lost("carol-tanh"))
    assert "normalize" in lost("dave-nonorm") and {"architecture", "compile"}.isdisjoint(lost("dave-nonorm"))
    assert "compile" in lost("erin-rmsprop") and {"architecture", "normalize"}.isdisjoint(lost("erin-rmsprop"))
    for student in ("carol-tanh", "dave-nonorm", "erin-rmsprop"):
        assert 0 < float(book[student]["total"]) < full, student
        assert book[student]["flags"] == "", student
    assert book["aaron-hang"]["status"] == "timeout" and book["aaron-hang"]["total"] == "0"
    assert book["ivan-empty"]["status"] == "error"
    assert book["judy-killer"]["status"] == "error"


def test_tampered_checkout_is_ignored_and_flagged(graded):
    book = read_gradebook(graded["out"] / "gradebook.csv")
    frank = book["frank-tamper"]
    assert frank["status"] == "graded" and frank["total"] == "0"  # his full-marks grader was not used
    assert "protected_files_changed" in frank["flags"].split(";")
    assert set(frank["changed_files"].split(";")) == {
        "grader/scoring.py",
        "grader/config.toml",
        ".github/workflows/grade.yml",
        ".github/workflows/extra.yml",
    }
    unchanged = ("alice-ref", "bob-stubs", "carol-tanh", "dave-nonorm", "erin-rmsprop", "aaron-hang", "heidi-hostile", "judy-killer")
    assert all(book[s]["changed_files"] == "" for s in unchanged)
    record = json.loads((graded["out"] / "students" / "frank-tamper" / "batch.json").read_text())
    assert "grader/scoring.py (modified)" in record["changed_files"]
    assert ".github/workflows/extra.yml (added)" in record["changed_files"]


def test_runtime_tampering_is_undone_and_flagged(graded):
    book = read_gradebook(graded["out"] / "gradebook.csv")
    assert "grader_files_modified" in book["heidi-hostile"]["flags"].split(";")
    assert book["heidi-hostile"]["total"] == "0"
    # The instructor's own grader was never touched.
    assert "# tampered" not in (ROOT / "grader" / "config.toml").read_text(encoding="utf-8")


def test_hanging_submission_costs_only_its_limit(graded):
    book = read_gradebook(graded["out"] / "gradebook.csv")
    seconds = float(book["aaron-hang"]["grading_seconds"])
    assert HANG_TIMEOUT <= seconds <= HANG_TIMEOUT + 10
    assert "--timeout" in json.loads((graded["out"] / "students" / "aaron-hang" / "batch.json").read_text())["message"]
    # Its daemon (own session, own process group) was killed with it.
    assert dead(int((graded["tmp"] / "aaron-daemon.pid").read_text()))
    # It held one of the two slots and no more: the class took no longer than two-slot list
    # scheduling allows (Graham's bound: the total work over two slots plus half the longest job).
    others = sum(float(row["grading_seconds"]) for sid, row in book.items() if sid != "aaron-hang")
    longest = max(float(row["grading_seconds"]) for row in book.values())
    assert graded["wall"] < (others + seconds) / 2 + longest / 2 + 15


def dead(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_student_who_kills_the_grader_leaves_nothing_behind(graded):
    book = read_gradebook(graded["out"] / "gradebook.csv")
    assert float(book["judy-killer"]["grading_seconds"]) < 30
    assert "-9" in json.loads((graded["out"] / "students" / "judy-killer" / "batch.json").read_text())["message"]
    # Her worker lost its grader; the batch (a child subreaper) adopted and killed it.
    assert dead(int((graded["tmp"] / "judy-worker.pid").read_text()))


def test_student_folders_and_reports(graded):
    out = graded["out"]
    for student in CLASS:
        assert (out / "students" / student / "batch.json").is_file()
    for student in ("alice-ref", "frank-tamper"):
        folder = out / "students" / student
        assert {"score.json", "summary.md", "result.json", "gradescope.json"} <= {p.name for p in folder.iterdir()}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count('<img src="data:image/png;base64,') == 3
    for student in CLASS:
        assert f'id="s-{student}"' in html
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## Most frequent failures" in markdown and "frank-tamper" in markdown
    assert "progress" not in graded["run"].stdout.lower()
    # Four students handed in the reference answers: flagged as similar, their grades untouched.
    with open(out / "similarity.csv", newline="", encoding="utf-8") as handle:
        similar = {(r["a"], r["b"], r["part"]): float(r["score"]) for r in csv.DictReader(handle)}
    assert similar[("alice-ref", "carol-tanh", "q4")] == 1.0
    assert all(s not in {a for a, _, _ in similar} | {b for _, b, _ in similar} for s in ("bob-stubs", "frank-tamper"))
    assert 'id="similarity"' in html and "## Similarity" in markdown
    assert isinstance(json.loads((out / "run.json").read_text())["similarity_seconds"], float)
    assert f"[{len(CLASS)}/{len(CLASS)}]" in graded["run"].stderr  # one progress line per submission when not on a terminal


def test_serial_run_gives_the_same_grades(graded):
    """A roster file (paths) graded one at a time, against the release manifest."""
    tmp = graded["tmp"]
    subset = ("alice-ref", "frank-tamper", "ivan-empty")
    roster = tmp / "roster.txt"
    roster.write_text("# serial subset\n" + "".join(f"class/{s}\n" for s in subset), encoding="utf-8")
    out = tmp / "serial"
    started = time.monotonic()
    done = run(
        "batch",
        str(roster),
        "--out",
        str(out),
        "--config",
        str(graded["config"]),
        "--jobs",
        "1",
        "--manifest",
        str(graded["release"] / ".grader-manifest.json"),
        *ENGLISH,
    )
    print(f"\nbatch --jobs 1 on {len(subset)} submissions: {time.monotonic() - started:.1f} s")
    assert done.returncode == 0, done.stderr
    serial = without_timing(read_gradebook(out / "gradebook.csv"))
    parallel = without_timing(read_gradebook(graded["out"] / "gradebook.csv"))
    assert serial == {s: parallel[s] for s in subset}


def test_clone_from_git_url(graded, tmp_path):
    repo = tmp_path / "mnist-dense-zoe"
    shutil.copytree(graded["subs"] / "bob-stubs", repo)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "submission"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    roster = tmp_path / "roster.txt"
    roster.write_text(f"{repo.as_uri()}\nnobody file://{tmp_path}/missing.git\n", encoding="utf-8")
    out = tmp_path / "out"
    # Clone first, then grade without touching any remote (as grade-class.yml does).
    done = run("batch", str(roster), "--out", str(out), "--fetch-only")
    assert done.returncode == 0, done.stderr
    assert "nobody" in done.stderr and not (out / "gradebook.csv").exists()
    done = run("batch", str(roster), "--out", str(out), "--config", str(graded["config"]), "--jobs", "2", "--no-fetch", *ENGLISH)
    assert done.returncode == 0, done.stderr
    book = read_gradebook(out / "gradebook.csv")
    assert book["mnist-dense-zoe"]["status"] == "graded" and book["mnist-dense-zoe"]["total"] == "0"
    assert len(book["mnist-dense-zoe"]["commit"]) == 40  # the cloned commit is recorded
    assert book["nobody"]["status"] == "unavailable"
    assert (out / "cache" / "mnist-dense-zoe" / "assignment" / "mnist_dense.py").is_file()


def test_shards_partition_the_class_and_merge_back(graded, tmp_path):
    subs = graded["subs"]
    parts = []
    for index in (1, 2, 3):
        done = run("batch", str(subs), "--out", str(tmp_path / "unused"), "--shard", f"{index}/3", "--list")
        assert done.returncode == 0, done.stderr
        parts.append(done.stdout.split())
    assert sorted(i for part in parts for i in part) == sorted(CLASS)
    assert parts[0] == sorted(CLASS)[0::3]
    # Rebuild two shard folders from the graded class and merge them back.
    halves = []
    for index in (1, 2):
        ids = run("batch", str(subs), "--out", str(tmp_path / "unused"), "--shard", f"{index}/2", "--list").stdout.split()
        shard = tmp_path / f"shard-{index}"
        for student in ids:
            shutil.copytree(graded["out"] / "students" / student, shard / "students" / student)
            if (graded["out"] / "submitted" / student).is_dir():  # the files merge compares over the whole class
                shutil.copytree(graded["out"] / "submitted" / student, shard / "submitted" / student)
        meta = json.loads((graded["out"] / "run.json").read_text()) | {"submissions": ids}
        (shard / "run.json").write_text(json.dumps(meta))
        halves.append(shard)
    done = run("merge", *map(str, halves), "--out", str(tmp_path / "merged"))
    assert done.returncode == 0, done.stderr
    assert read_gradebook(tmp_path / "merged" / "gradebook.csv") == read_gradebook(graded["out"] / "gradebook.csv")


def test_rerun_skips_unchanged_submissions(graded, tmp_path):
    subs, out = tmp_path / "class", tmp_path / "out"
    shutil.copytree(graded["subs"], subs)
    shutil.copytree(graded["out"], out)
    score = out / "students" / "alice-ref" / "score.json"
    before = score.stat().st_mtime_ns
    args = ("batch", str(subs), "--out", str(out), "--config", str(graded["config"]), "--jobs", "2", "--timeout", str(HANG_TIMEOUT), *ENGLISH)
    started = time.monotonic()
    done = run(*args)
    assert done.returncode == 0, done.stderr
    meta = json.loads((out / "run.json").read_text())
    assert meta["graded"] == ["ivan-empty", "judy-killer"]  # errors are always retried
    assert set(meta["skipped"]) == set(CLASS) - {"ivan-empty", "judy-killer"}
    assert time.monotonic() - started < 30
    assert score.stat().st_mtime_ns == before
    assert without_timing(read_gradebook(out / "gradebook.csv")) == without_timing(read_gradebook(graded["out"] / "gradebook.csv"))
    # One changed answer: only that student is graded again.
    mutate(subs / "bob-stubs" / "assignment" / "answers" / "q1.md", "_Escribe aquí tu respuesta._", "MNIST.")
    done = run(*args)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "run.json").read_text())["graded"] == ["bob-stubs", "ivan-empty", "judy-killer"]


def test_rejudge_regrades_from_observations_without_running_student_code(graded, tmp_path):
    """batch --rejudge: the same grades when nothing changed; new points applied in seconds; recorded (issue 17)."""
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out, symlinks=True)
    before = without_timing(read_gradebook(out / "gradebook.csv"))
    started = time.monotonic()
    done = run("batch", str(graded["subs"]), "--out", str(out), "--config", str(graded["config"]), "--rejudge", *ENGLISH)
    same_seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert without_timing(read_gradebook(out / "gradebook.csv")) == before
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert "alice-ref" in meta["rejudged"] and "bob-stubs" in meta["rejudged"] and "aaron-hang" not in meta["rejudged"]
    assert json.loads((out / "students" / "alice-ref" / "batch.json").read_text(encoding="utf-8"))["rejudged"]

    # Double the architecture's points: only the judgement changes.
    config = tmp_path / "more-points.toml"
    text = graded["config"].read_text(encoding="utf-8")
    points = load_config(graded["config"]).points
    config.write_text(re.sub(r"(?m)^architecture = \S+", f"architecture = {points['architecture'] * 2}", text, count=1), encoding="utf-8")
    started = time.monotonic()
    done = run("batch", str(graded["subs"]), "--out", str(out), "--config", str(config), "--rejudge", *ENGLISH)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    book = read_gradebook(out / "gradebook.csv")
    assert float(book["alice-ref"]["architecture"]) == points["architecture"] * 2
    assert float(book["alice-ref"]["total"]) == float(before["alice-ref"]["total"]) + points["architecture"]
    assert float(book["carol-tanh"]["architecture"]) < points["architecture"] * 2  # still loses it
    assert book["aaron-hang"]["status"] == "timeout"  # not observed: kept as it was
    score = json.loads((out / "students" / "alice-ref" / "score.json").read_text(encoding="utf-8"))
    assert score["max_score"] == load_config(config).max_score
    print(f"\nbatch --rejudge on {len(CLASS)} submissions: {same_seconds:.1f} s unchanged, {seconds:.1f} s with new points")
    # No student code ran and nothing trained: far below one grading (aaron-hang alone hangs until killed).
    assert seconds < 120
