"""What a platform is: the one description each ``grader/platforms/<name>/__init__.py`` gives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Platform:
    """One platform that runs the grader (GitHub Actions, Classroom 50, Gradescope, ...).

    Modules are named, not imported, so that listing the platforms costs
    nothing: ``grader.cli`` imports a packager only to run its command.
    """

    name: str  # the package's folder name
    title: str  # how instructors call it
    exporter: Any = None  # a grader.exporters.protocol.Exporter: the files it reads from --out (publishing)
    command: str | None = None  # `python -m grader COMMAND` that builds what the instructor uploads
    packager: str | None = None  # the module whose main(argv) runs `command`
    runner: str | None = None  # the module the platform runs per submission (`python -m RUNNER`)
    workflow: str | None = None  # the .github/workflows file a release ships for it, if any
