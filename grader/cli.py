"""The single command-line entry: ``python -m grader [COMMAND] ...``.

Without a command it grades one submission. Each command lives in its own
module; this file only wires arguments to them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader import i18n
from grader.config import ConfigError, load_config

# name -> module with a ``main(argv) -> int``; ``python -m grader NAME --help``
# describes each.
COMMANDS = {
    "release": "grader.instructor.release",
    "batch": "grader.instructor.batch",
    "merge": "grader.instructor.merge",
    "notebook": "grader.notebook",
    "bundle": "grader.classroom50_bundle",
}


def _grade_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description="Grade assignment/mnist_dense.py (or --submission DIR) and write the reports. "
        f"Other commands: {', '.join(COMMANDS)} (python -m grader COMMAND --help).",
    )
    parser.add_argument("--submission", type=Path, default=Path("assignment"), help="folder holding mnist_dense.py (default: assignment)")
    parser.add_argument("--out", type=Path, default=Path("grading"), help="folder for score.json, summary.md, report.json (default: grading); replaced on every run")
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default="es", help="language of the feedback (default: es)")
    parser.add_argument("--config", type=Path, default=None, help="grading config (default: grader/config.toml)")
    parser.add_argument("--threads", type=int, default=2, help="TensorFlow threads; fixed so grades do not depend on the machine (default: 2)")
    parser.add_argument("--quiet", action="store_true", help="do not print the summary")
    parser.add_argument(
        "--require-isolation",
        choices=("process", "namespaces", "roads"),
        default=None,
        help="weakest isolation accepted; 'roads' is [isolation] roads of the config (grade.yml, Classroom 50 and batch pass it); "
        "exit 2 when the machine offers less (default: [isolation] minimum)",
    )
    return parser


def grade_main(argv: list[str]) -> int:
    args = _grade_parser().parse_args(argv)
    from grader.grade import GradingError, Request, grade
    from grader.exporters import summary_md

    try:
        config = load_config(args.config)
        request = Request(args.submission, args.out, args.lang, config, args.config, args.threads, args.require_isolation)
        result = grade(request)
    except (GradingError, ConfigError) as error:
        print(i18n.render(args.lang, "error.prefix", reason=error), file=sys.stderr)
        return 2
    if not args.quiet:
        print(summary_md.render(result))
        print(i18n.render(args.lang, "summary.written", out=args.out))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        import importlib

        module = importlib.import_module(COMMANDS[argv[0]])
        return module.main(argv[1:])
    return grade_main(argv)
