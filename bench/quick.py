"""Benchmark: how long ``python -m grader --quick`` takes on the reference solution.

    python bench/quick.py [--runs 3] [--submission solutions]

Prints the median wall time and the median CPU time (user + system of the
whole process tree) of several quick self-checks. Target on the 2-core
reference machine, with nothing else running: under 10 s wall. The CPU time
is printed too because it barely depends on other load: on an idle 2-core
machine the wall time is at least half of it.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark import ROOT, measure  # noqa: E402


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--submission", default="solutions")
    args = parser.parse_args(argv)
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            command = [sys.executable, "-m", "grader", "--submission", args.submission, "--out", str(Path(tmp) / f"out{run}"), "--quick", "--quiet"]
            before = cpu_seconds()
            seconds, _ = measure(command)
            walls.append(seconds)
            cpus.append(cpu_seconds() - before)
            print(f"run {run + 1}: {seconds:.1f} s wall, {cpus[-1]:.1f} s CPU", flush=True)
    print(
        f"python -m grader --quick ({ROOT.name}/{args.submission}): median {statistics.median(walls):.1f} s wall, {statistics.median(cpus):.1f} s CPU over {args.runs} runs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
