"""What every ``python -m grader COMMAND`` shares: its help and messages in the requested language.

A command's module builds its parser here (``command_parser``), so that a
command (a platform's packager among them) needs nothing of ``grader.cli``,
which lists the commands. ``grader.cli`` keeps these names too.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from grader import i18n


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
