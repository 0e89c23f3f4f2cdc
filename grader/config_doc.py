"""``python -m grader config [--config FILE]``: every key of the config with its description.

The descriptions are the ``doc`` metadata of ``grader/config.py``; the values
are the loaded file's (default ``grader/config.toml``), so a typo or a wrong
type stops here with the same sentence a grading would print.
"""

from __future__ import annotations

import sys
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from grader import spec
from grader.answers.exploration import ExplorationSettings
from grader.answers.rubric import AnswerSettings
from grader.config import Config, ConfigError, load_config

# What one entry of each free-form table means (its keys come from the spec or the file).
ENTRY_DOC = {
    "time_limits": "CPU seconds the step {subject} may take (wall backstop: [grading] wall_factor times as many real seconds)",
    "points": "points of the check {subject}",
}

# The typed settings whose fields describe the keys of the other tables.
TABLE_SETTINGS = {"rubric": AnswerSettings, "exploration": ExplorationSettings}
QUESTION_DOC = "a comprehension question: its title, question text, min_words, topic and key ideas (regexes)"


def describe(config: Config) -> list[str]:
    lines: list[str] = []
    for table in fields(config):
        if table.metadata.get("derived"):
            continue  # computed from the tables above, not a key of the file
        value = getattr(config, table.name)
        lines += ["", f"[{table.name}]  # {table.metadata.get('doc', '')}"]
        if is_dataclass(value):
            lines += [f"{f.name} = {getattr(value, f.name)!r}  # {f.metadata.get('doc', '')}" for f in fields(value)]
        elif table.name in ENTRY_DOC:
            lines += [f"{key} = {entry!r}  # {ENTRY_DOC[table.name].format(subject=_subject(table.name, key))}" for key, entry in value.items()]
        else:
            docs = {f.name: f.metadata.get("doc", "") for f in fields(TABLE_SETTINGS[table.name])}
            lines += [f"{key} = {_short(entry)}  # {docs.get(key) or QUESTION_DOC}" for key, entry in value.items()]
    return lines[1:]


def _subject(table: str, key: str) -> str:
    if table == "points":
        check = spec.check_by_id(key)
        return f"{key} (step {check.step})" if check.step else key
    return f"{key} ({spec.function_of(key)})" if spec.function_of(key) != key else key


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(value) + "}"
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def main(argv: list[str]) -> int:
    from grader.cli import add_lang, command_parser, requested_lang

    lang = requested_lang(argv)
    parser, t = command_parser("config", lang)
    parser.add_argument("--config", type=Path, default=None, help=t("config"))
    add_lang(parser, lang)
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"config: {error}", file=sys.stderr)
        return 2
    print("\n".join(describe(config)))
    return 0
