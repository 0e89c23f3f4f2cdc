"""The single command-line entry: ``python -m grader [COMMAND] ...``.

Without a command it grades one submission. Each command lives in its own
module; this file only wires arguments to them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from grader import i18n, platforms
from grader.config import load_config
from grader.errors import GradingError
from grader.sandbox.isolation import LEVELS

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


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout with its "usage: " in the requested language."""

    usage_prefix = "usage: "

    def add_usage(self, usage, actions, groups, prefix=None):  # noqa: ANN001 - argparse's signature
        return super().add_usage(usage, actions, groups, self.usage_prefix if prefix is None else prefix)


def requested_lang(argv: list[str]) -> str:
    """The --lang of ``argv`` if it is a known language, else Spanish (the students' default)."""
    for index, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--lang=") else argv[index + 1] if arg == "--lang" and index + 1 < len(argv) else None
        if value in i18n.LANGUAGES:
            return value
    return "es"


def command_parser(command: str, lang: str, **params: object) -> tuple[argparse.ArgumentParser, Callable[..., str]]:
    """The parser of ``python -m grader COMMAND`` with its texts in ``lang``
    (``help.COMMAND.*`` of the catalogue), and the function that gives the
    help text of one option: ``text("jobs")``. ``params`` fill the description."""

    def text(key: str, **fields: object) -> str:
        return i18n.render(lang, f"help.{command}.{key}", **fields)

    formatter = type("Formatter", (_Formatter,), {"usage_prefix": i18n.render(lang, "cli.usage")})
    parser = argparse.ArgumentParser(prog=f"python -m grader {command}", description=text("description", **params), formatter_class=formatter, add_help=False)
    parser._positionals.title = i18n.render(lang, "help.positionals")  # argparse's own headings, in the chosen language
    parser._optionals.title = i18n.render(lang, "help.options")
    parser.add_argument("-h", "--help", action="help", help=i18n.render(lang, "cli.help"))
    return parser, text


def add_lang(parser: argparse.ArgumentParser, lang: str, help_text: str | None = None) -> None:
    """``--lang es|en``: for a command whose only text is its help and messages."""
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default="es", help=help_text or i18n.render(lang, "help.lang"))


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
