"""Smoke grading: the reference solution, graded on a training subset, must score full marks.

``python tests/smoke.py`` runs on any interpreter that has ``requirements.txt``
installed (no test dependencies): ``.ci/run`` runs it on every supported
Python other than the one of the full suite, and the instructor workflow
``.github/workflows/ci.yml`` runs it on Windows and macOS. It grades
``solutions/`` (code, model answers, exploration sheet) with a private copy
of the grader and the tests' fast config (``gradingkit.fast_config``: the
real ``grader/config.toml``, every check and point, training on the first
3,000 images with the bar lowered to match) and checks the grade itself, not
only the exit status: every check passed at full points, the total is the
config's maximum (100), and the measured test accuracy clears the bar. MNIST comes from ``MNIST_NPZ`` when set, else from
Keras's cache or download. Exit 0 when the grade is right, 1 otherwise; one
line of verdict either way.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from gradingkit import ROOT, fast_config, grade, mnist_env, private_repo  # noqa: E402

from grader.config import load_config  # noqa: E402

SOLUTIONS = ROOT / "solutions"


def problems(score: dict[str, Any] | None, min_accuracy: float) -> list[str]:
    """What is wrong with the reference's grade (empty when it is full marks)."""
    if score is None:
        return ["no score.json was written"]
    found = []
    for check in score.get("checks", []):
        if not check.get("passed") or check.get("score") != check.get("max_score"):
            found.append(f"{check.get('id')}: {check.get('score')}/{check.get('max_score')} ({check.get('message_key')})")
    if not score.get("checks"):
        found.append("no checks in score.json")
    if score.get("score") != score.get("max_score"):
        found.append(f"total {score.get('score')}/{score.get('max_score')}")
    accuracy = (score.get("metrics") or {}).get("test_accuracy")
    if not isinstance(accuracy, (int, float)) or accuracy < min_accuracy:
        found.append(f"test accuracy {accuracy} below {min_accuracy}")
    return found


def main() -> int:
    version = platform.python_version()
    with tempfile.TemporaryDirectory(prefix="grader-smoke-") as folder:
        work = Path(folder)
        repo = private_repo(work / "repo")
        config = fast_config(work / "fast.toml")
        min_accuracy = load_config(config).grading.min_accuracy
        started = time.monotonic()
        graded = grade(repo, SOLUTIONS, work / "out", config=config, env=mnist_env())
        seconds = time.monotonic() - started
    wrong = problems(graded.score, min_accuracy)
    if graded.returncode != 0:
        wrong.insert(0, f"python -m grader exited {graded.returncode}: {graded.stderr.strip()[-1500:]}")
    if wrong:
        print(f"smoke FAILED on Python {version} ({platform.system()}) in {seconds:.0f} s: " + "; ".join(wrong))
        return 1
    accuracy = graded.score["metrics"]["test_accuracy"]
    print(
        f"smoke ok on Python {version} ({platform.system()}): reference {graded.score['score']}/"
        f"{graded.score['max_score']}, test accuracy {accuracy:.4f}, graded in {seconds:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
