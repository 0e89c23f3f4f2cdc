"""Scoring of the free-text parts of the assignment, in pure Python.

- :mod:`grader.answers.markdown` reads the student's answer files and the
  exploration sheet (the text between the markers).
- :mod:`grader.answers.rubric` scores each comprehension answer on its key
  ideas (rubric in ``grader/config.toml`` under ``[rubric.qN]``).
- :mod:`grader.answers.exploration` scores the exploration sheet
  (settings under ``[exploration]``).

Nothing here imports TensorFlow: these checks run in the grader's process.
"""
