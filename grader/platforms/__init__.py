"""The platforms that run the grader, one package each: ``grader/platforms/<name>/``.

A platform package holds what that platform needs, together: its exporter
(the file it reads from ``--out``), its packager (the ``python -m grader
COMMAND`` that builds what the instructor uploads), its runner (what the
platform runs for each submission) and the result its runner writes when
grading cannot finish. Its ``__init__.py`` describes it in one
:class:`~grader.platforms.base.Platform` named ``PLATFORM``.

``REGISTRY`` is the one list of them: ``grader.exporters.outputs`` writes
their files and ``grader.cli`` offers their commands from it. A new platform
is one new folder here and one line below.

Standard library only and import-light (the entries are imported when asked
for): the Classroom 50 autograder imports ``grader.platforms.bounded_run``,
the runners' shared time budget and process-tree kill, before any dependency
is installed.
"""

from __future__ import annotations

import importlib

REGISTRY: tuple[str, ...] = (
    "grader.platforms.classroom50",
    "grader.platforms.gradescope",
    "grader.platforms.legacy_classroom",
    "grader.platforms.github_actions",
)


def platforms() -> tuple:
    """Every registered platform's ``PLATFORM``, in ``REGISTRY`` order."""
    return tuple(importlib.import_module(name).PLATFORM for name in REGISTRY)


def commands() -> dict[str, str]:
    """``python -m grader COMMAND`` -> the module whose ``main(argv)`` runs it, for every platform that has one."""
    return {p.command: p.packager for p in platforms() if p.command}


def exporters() -> tuple:
    """The platforms' exporters (each writes the files its platform reads), in ``REGISTRY`` order."""
    return tuple(p.exporter for p in platforms() if p.exporter is not None)
