"""Run a test's body in a Python process of its own.

The process kills under test (``kill_below``, ``kill_descendants``, the stray kill)
kill every other child of the process that calls them: in the test process (an
xdist worker) those are other tests' processes, so the body runs apart.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_apart(prelude: str, body: str) -> None:
    """Run ``prelude`` then ``body`` with the repository on the path; fail with its output unless it exits 0."""
    done = subprocess.run([sys.executable, "-c", prelude + body], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
