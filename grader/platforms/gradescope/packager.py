"""The ``gradescope`` command: the autograder zip to upload to Gradescope.

``python -m grader gradescope OUT.zip [--config FILE] [--lang es|en] [--time-budget S]``
writes a zip whose root holds what Gradescope's "Autograder Specifications"
ask for (gradescope/autograder_samples, docs/specs.md), plus what they run:

* ``setup.sh``: installs a supported Python, a virtual environment with the
  pinned requirements and MNIST (``setup.sh`` of this folder, verbatim);
* ``run_autograder`` (executable): runs ``runner.py`` of this folder for each
  submission (``run_autograder`` of this folder, verbatim);
* ``requirements.txt``: the repository's;
* ``grader/``: a pristine copy of this package (no caches, no old module
  names), with ``--config`` as its ``config.toml`` when given;
* ``autograder.json``: feedback language, time budget, source commit.

Never ``solutions/`` or ``tests/``: the zip is refused when any file in it
has the content of a reference solution.
"""

from __future__ import annotations

import json
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

from grader import i18n
from grader.platforms import packaging
from grader.platforms.packaging import BundleError, check_contents, check_inputs, source_description

HERE = Path(__file__).resolve().parent
GRADER_DIR = packaging.GRADER_DIR
REPO_ROOT = packaging.REPO_ROOT
REQUIREMENTS = packaging.REQUIREMENTS
SETUP = HERE / "setup.sh"
RUN_AUTOGRADER = HERE / "run_autograder"
SETTINGS = "autograder.json"
EXECUTABLES = ("setup.sh", "run_autograder")
# Seconds run.py lets the grader take; the assignment's autograder timeout on
# Gradescope must be longer.
TIME_BUDGET = 1200.0


def _stage(staging: Path, config: Path | None, lang: str, time_budget: float) -> None:
    shutil.copy2(SETUP, staging / "setup.sh")
    shutil.copy2(RUN_AUTOGRADER, staging / "run_autograder")
    shutil.copy2(REQUIREMENTS, staging / "requirements.txt")
    packaging.copy_grader(staging / "grader", packaging.OLD_NAMES, config)
    settings = {"lang": lang, "time_budget": time_budget, "source": source_description()}
    (staging / SETTINGS).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    check_contents(staging)


def _zip(staging: Path, out: Path) -> int:
    """Write the zip (files at its root, executables marked so); the number of files."""
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            name = path.relative_to(staging).as_posix()
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            mode = 0o755 if name in EXECUTABLES else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return len(files)


def build(out: Path, config: Path | None = None, lang: str = "es", time_budget: float = TIME_BUDGET) -> int:
    """Write the autograder zip to ``out``; the number of files in it."""
    if out.suffix != ".zip":
        raise BundleError(f"{out}: the autograder must be a .zip file")
    check_inputs(config, (SETUP, RUN_AUTOGRADER, REQUIREMENTS))
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gradescope-zip-") as folder:
        staging = Path(folder) / "root"
        staging.mkdir()
        _stage(staging, config, lang, time_budget)
        partial = out.with_name(out.name + ".partial")
        count = _zip(staging, partial)
        partial.replace(out)
    return count


def main(argv: list[str]) -> int:
    from grader.command_line import command_parser, requested_lang

    parser, t = command_parser("gradescope", requested_lang(argv))
    parser.add_argument("out", type=Path, help=t("out"))
    parser.add_argument("--config", type=Path, default=None, help=t("config"))
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default="es", help=t("lang"))
    parser.add_argument("--time-budget", type=float, default=TIME_BUDGET, help=t("time_budget", default=f"{TIME_BUDGET:.0f}"))
    args = parser.parse_args(argv)
    try:
        count = build(args.out, args.config, args.lang, args.time_budget)
    except (BundleError, OSError) as error:
        print(f"gradescope: {error}", file=sys.stderr)
        return 2
    print(
        f"Wrote {args.out} ({count} files, {args.out.stat().st_size / 1024:.0f} KiB). Upload it on the assignment's "
        "Configure Autograder page (see docs/instructors.md, section Gradescope)."
    )
    return 0
