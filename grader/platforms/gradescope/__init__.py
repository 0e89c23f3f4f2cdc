"""Gradescope: its harness runs ``run_autograder`` once per submission.

* ``exporter``: ``gradescope.json`` (Gradescope's results.json format);
* ``packager``: ``python -m grader gradescope OUT.zip``, with ``setup.sh``
  and ``run_autograder`` shipped verbatim (gradescope/autograder_samples,
  docs/specs.md);
* ``runner``: what ``run_autograder`` runs, with its error result.
"""

from grader.platforms.base import Platform
from grader.platforms.gradescope.exporter import GradescopeFiles

PLATFORM = Platform(
    name="gradescope",
    title="Gradescope",
    exporter=GradescopeFiles(),
    command="gradescope",
    packager="grader.platforms.gradescope.packager",
    runner="grader.platforms.gradescope.runner",
)
