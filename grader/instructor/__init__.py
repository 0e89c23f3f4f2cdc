"""Instructor tools: ``release``, ``batch`` and ``merge`` (``python -m grader COMMAND``).

- ``release OUT`` writes the student template repository and its manifest;
- ``batch SUBMISSIONS --out DIR`` grades a class, in parallel, with the
  instructor's own grader, and writes the gradebook, the class report (in
  ``--lang``), ``similarity.csv`` and, with ``--export``, the LMS files;
- ``merge SHARD_DIRS... --out DIR`` joins the outputs of sharded batches.

Nothing here is imported by a student's grading run.
"""
