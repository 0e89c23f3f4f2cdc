"""GitHub Actions: ``grade.yml`` (or ``classroom.yml``) grades each push of the student's repository.

* ``runner``: ``python -m grader.actions``, run after the grading step:
  the job summary (``summary.md``), the step outputs and the legacy
  reporter's notices;
* packaged by ``python -m grader release OUT`` (the student repository with
  its workflow); it reads the files every grading writes, so it has no
  exporter of its own.
"""

from grader.platforms.base import Platform

PLATFORM = Platform(
    name="github_actions",
    title="GitHub Actions",
    runner="grader.platforms.github_actions.runner",
    workflow="grade.yml",
)
