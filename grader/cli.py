"""The single command-line entry: ``python -m grader [COMMAND] ...``.

Without a command it grades one submission. Each command lives in its own
module; this file only wires arguments to them.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

from grader import i18n, platforms
from grader.command_line import _Formatter, add_lang, command_parser, requested_lang
from grader.config import load_config
from grader.errors import GradingError
from grader.levels import LEVELS

__all__ = ["COMMANDS", "add_lang", "command_parser", "grade_main", "main", "requested_lang"]

# name -> module with a ``main(argv) -> int``; ``python -m grader NAME --help``
# describes each. The platforms' commands (``bundle``, ``gradescope``, ...)
# come from their one registry, grader.platforms.REGISTRY.
COMMANDS = {
    "release": "grader.instructor.release",
    "batch": "grader.instructor.batch",
    "merge": "grader.instructor.merge",
    "notebook": "grader.notebook",
    **platforms.commands(),
    "config": "grader.config_doc",
}


def _grade_parser(lang: str = "es") -> argparse.ArgumentParser:
    def t(key: str, **params: object) -> str:
        return i18n.render(lang, f"cli.{key}", **params)

    formatter = type("Formatter", (_Formatter,), {"usage_prefix": t("usage")})
    parser = argparse.ArgumentParser(
        prog="python -m grader", description=t("description", commands=", ".join(COMMANDS)), formatter_class=formatter, add_help=False
    )
    options = parser.add_argument_group(t("options"))
    options.add_argument("-h", "--help", action="help", help=t("help"))
    options.add_argument("--submission", type=Path, default=Path("assignment"), metavar=t("metavar_folder"), help=t("submission"))
    options.add_argument("--out", type=Path, default=Path("grading"), metavar=t("metavar_folder"), help=t("out"))
    options.add_argument("--lang", choices=i18n.LANGUAGES, default="es", help=t("lang"))
    options.add_argument("--config", type=Path, default=None, metavar=t("metavar_file"), help=t("config"))
    options.add_argument("--threads", type=int, default=2, metavar=t("metavar_number"), help=t("threads"))
    options.add_argument("--quiet", action="store_true", help=t("quiet"))
    options.add_argument("--quick", action="store_true", help=t("quick"))
    options.add_argument("--require-isolation", choices=(*LEVELS, "roads"), default=None, metavar=t("metavar_level"), help=t("require_isolation"))
    return parser


def grade_main(argv: list[str]) -> int:
    args = _grade_parser(requested_lang(argv)).parse_args(argv)
    from grader.grade import Request, grade
    from grader.terminal import ProgressDisplay, print_result

    try:
        config = load_config(args.config)
        with ProgressDisplay(args.lang) if not args.quiet else nullcontext() as progress:
            request = Request(
                args.submission,
                args.out,
                args.lang,
                config,
                args.config,
                args.threads,
                require_isolation=args.require_isolation,
                quick=args.quick,
                progress=progress,
            )
            result = grade(request)
    except GradingError as error:  # a bad config among them, in the chosen language
        print(i18n.render(args.lang, "error.prefix", reason=error.sentence(args.lang)), file=sys.stderr)
        return 2
    if not args.quiet:
        print_result(result, str(args.out))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        import importlib

        module = importlib.import_module(COMMANDS[argv[0]])
        return module.main(argv[1:])
    return grade_main(argv)
