"""Benchmark: the grader against a plain training script.

    python bench/benchmark.py [--runs 3] [--submission solutions]

Runs, alternately and several times each, (a) ``bench/plain_training.py``,
(b) ``python -m grader --submission solutions`` at the strongest isolation
level the machine offers (``--require-isolation`` that level) and (c) the
same grading with the portable level forced (``GRADER_ISOLATION=process``),
and prints the median wall time of each, the ratios (the cost of grading,
and the cost of isolation alone), and the peak resident memory of each whole
process tree (parent plus children, sampled every 50 ms). Targets on the
2-core reference machine: strongest/plain <= 1.2, grader peak <= 2.5 GB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SECONDS = 0.05


def measure(command: list[str], extra_env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak tree RSS (MB) of one run of ``command``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), **extra_env)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(process.pid)
    peak = 0.0
    while process.poll() is None:
        total = 0
        try:
            for member in [root, *root.children(recursive=True)]:
                total += member.memory_info().rss
        except psutil.NoSuchProcess:
            pass
        peak = max(peak, total / 2**20)
        time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()[-2000:]}")
    return seconds, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (default 3)")
    parser.add_argument("--submission", default="solutions", help="what the grader grades (default solutions)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from grader.sandbox import isolation

    strongest = isolation.strongest()
    out = Path(tempfile.mkdtemp(prefix="bench-")) / "grading"
    grade = [sys.executable, "-m", "grader", "--submission", args.submission, "--out", str(out), "--quiet"]
    commands = {
        "plain": ([sys.executable, str(ROOT / "bench" / "plain_training.py")], {}),
        "grader": ([*grade, "--require-isolation", strongest], {}),
        "process": (grade, {isolation.FORCE_ENV: "process"}),
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    print(f"strongest isolation level here: {strongest}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    for run in range(1, args.runs + 1):
        for name, (command, extra_env) in commands.items():
            seconds, peak = measure(command, extra_env)
            times[name].append(seconds)
            peaks[name].append(peak)
            print(f"run {run}/{args.runs} {name:6s} {seconds:6.1f} s  peak {peak:7.0f} MB", flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    print()
    print(f"plain  median {median['plain']:.1f} s, peak {max(peaks['plain']):.0f} MB")
    print(f"grader median {median['grader']:.1f} s, peak {max(peaks['grader']):.0f} MB  (isolation: {strongest})")
    print(f"process median {median['process']:.1f} s, peak {max(peaks['process']):.0f} MB  (isolation: process)")
    print(f"ratio grader/plain {median['grader'] / median['plain']:.2f}  (target <= 1.2)")
    print(f"cost of isolation {strongest}/process {median['grader'] / median['process']:.2f}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}: figures from a loaded machine overstate every ratio's noise")
    print(f"grader peak {max(peaks['grader']) / 1024:.2f} GB  (target <= 2.5 GB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
