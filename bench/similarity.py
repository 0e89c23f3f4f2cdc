"""Benchmark: what the similarity flag adds to a batch, on a generated class.

    python bench/similarity.py [--students 300] [--runs 3]

Generates a class (``tests/similarity_class.py``: the template, independent
Spanish answers and code, one pair copying answers, one copying code), then
times what ``batch`` does after the gradings: reading the editable files,
comparing every pair part by part, writing similarity.csv and rendering the
class report's section. Prints the median of ``--runs`` (wall and CPU
seconds: on a busy machine the wall time grows, the CPU time much less) and
the number of rows. Target: at most a few seconds for 300 students on the 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from similarity_class import make_class  # noqa: E402

from grader.instructor import class_report, files, records, similarity  # noqa: E402
from grader.instructor.workspace import GRADER_ROOT  # noqa: E402


def run_once(folders: dict[str, Path], out: Path) -> tuple[float, float, float, int, float]:
    """Seconds to read + compare, to write the CSV, to render the report; CSV rows; CPU seconds of all three."""
    cpu = time.process_time()
    started = time.perf_counter()
    submissions = similarity.read_folders(folders, tuple(files.student_files()))
    compared = similarity.compare(
        submissions, similarity.Template.from_root(GRADER_ROOT), similarity.Settings.from_config(GRADER_ROOT / "grader" / "config.toml")
    )
    compared_at = time.perf_counter()
    similarity.write_csv(out / similarity.CSV_FILE, compared)
    written_at = time.perf_counter()
    everyone = [records.StudentRecord(s, "graded") for s in compared.students]
    report = class_report.build(everyone, lang="es", similar=compared)
    class_report.render_html(report)
    class_report.render_md(report)
    rendered_at = time.perf_counter()
    return compared_at - started, written_at - compared_at, rendered_at - written_at, len(compared.pairs), time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        folders = make_class(Path(tmp) / "class", args.students)
        print(f"generated {args.students} submissions in {time.perf_counter() - started:.1f} s")
        runs = [run_once(folders, Path(tmp)) for _ in range(args.runs)]
    compare, write, render = (statistics.median(r[i] for r in runs) for i in range(3))
    total = statistics.median(sum(r[:3]) for r in runs)
    pairs = args.students * (args.students - 1) // 2
    print(f"{args.students} students, {pairs} pairs, {runs[0][3]} rows in similarity.csv (median of {args.runs} runs):")
    print(f"  read + compare     {compare:6.2f} s")
    print(f"  similarity.csv     {write:6.2f} s")
    print(f"  report section     {render:6.2f} s")
    print(f"  total added        {total:6.2f} s wall, {statistics.median(r[4] for r in runs):.2f} s CPU (the wall time grows with the machine's load)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
