"""Message catalogues: one per language, split into files by area.

``messages/<lang>/*.toml`` are merged into one flat catalogue of
``key -> template``. Templates use ``str.format`` fields. A missing key or
field is a grader bug and raises, so tests catch it.

A field may itself be a message: ``{"key": ..., "params": {...}}`` (see
``grader.checks.verdict.part``), or a list of them, rendered in the same
language and joined. That is how one verdict lists several findings, or names
a value's type in words a student knows, without the check knowing the
language.

When ``GRADER_KEYS_LOG`` names a file, every key ``render`` looks up (parts
included) is appended to it, once per process, for the test suite's check
that every key is reached by some test (``tests/key_coverage.py``). The
sandboxed worker renders nothing and never inherits the variable.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("es", "en")
MESSAGES_DIR = Path(__file__).with_name("messages")
KEYS_LOG_ENV = "GRADER_KEYS_LOG"
_logged: set[tuple[str, str]] = set()  # (log file, key) already appended by this process


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalogue(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {LANGUAGES}")
    merged: dict[str, str] = {}
    for path in sorted((MESSAGES_DIR / lang).glob("*.toml")):
        with open(path, "rb") as handle:
            merged.update(_flatten(tomllib.load(handle)))
    return merged


def _log_key(key: str) -> None:
    """Append ``key`` to the ``GRADER_KEYS_LOG`` file, if set: one O_APPEND write, safe across processes."""
    path = os.environ.get(KEYS_LOG_ENV)
    if path and (path, key) not in _logged:
        _logged.add((path, key))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError:
            return  # a record for the tests never stops a grading
        try:
            os.write(fd, f"{key}\n".encode())
        finally:
            os.close(fd)


def render(lang: str, key: str, /, **params: Any) -> str:
    """The message ``key`` of ``lang`` with its fields (a field may itself be named key or lang)."""
    template = catalogue(lang)[key]
    _log_key(key)
    return template.format(**{name: _field(lang, value) for name, value in params.items()})


def _is_part(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"key", "params"} and isinstance(value["key"], str)


def _field(lang: str, value: Any) -> Any:
    if _is_part(value):
        return render(lang, value["key"], **(value["params"] or {}))
    if isinstance(value, list) and value and all(_is_part(v) for v in value):
        return " ".join(render(lang, v["key"], **(v["params"] or {})) for v in value)
    return value
