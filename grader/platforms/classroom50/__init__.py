"""Classroom 50 (foundation50/classroom50): its grade job runs ``autograder.py`` in the student's checkout.

* ``exporter``: ``result.json`` and ``release-body.md``;
* ``packager``: ``python -m grader bundle OUT``, the autograder folder;
* ``autograder``: the runner, standard library only, with its error result;
  ``autograder_data`` generates the messages and schema facts it reads.
"""

from grader.platforms.base import Platform
from grader.platforms.classroom50.exporter import Classroom50Files

PLATFORM = Platform(
    name="classroom50",
    title="Classroom 50",
    exporter=Classroom50Files(),
    command="bundle",
    packager="grader.platforms.classroom50.packager",
    runner="grader.platforms.classroom50.autograder",
)
