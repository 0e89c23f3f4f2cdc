"""The legacy GitHub Classroom autograding reporter (classroom-resources/autograding-grading-reporter).

* ``exporter``: ``legacy-classroom.b64``, the reporter's payload and notices;
* packaged by ``python -m grader release OUT --legacy-classroom`` (the
  student repository with ``classroom.yml``), run by that workflow through
  the GitHub Actions runner, ``python -m grader.actions``.
"""

from grader.platforms.base import Platform
from grader.platforms.legacy_classroom.exporter import LegacyClassroomFiles

PLATFORM = Platform(
    name="legacy_classroom",
    title="GitHub Classroom (legacy reporter)",
    exporter=LegacyClassroomFiles(),
    runner="grader.platforms.github_actions.runner",
    workflow="classroom.yml",
)
