"""Gradescope: the autograder zip (``python -m grader gradescope OUT.zip``) and what runs in it.

* ``autograder_zip``: the command; writes ``setup.sh``, ``run_autograder``,
  ``requirements.txt``, ``autograder.json`` and a pristine ``grader/`` at
  the zip's root;
* ``setup.sh``, ``run_autograder``: shipped verbatim (Gradescope's
  "Autograder Specifications": gradescope/autograder_samples, docs/specs.md);
* ``run``: what ``run_autograder`` runs for each submission.
"""
