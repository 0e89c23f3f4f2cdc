"""Experiments of the exploration sheet: ``python -m assignment.explore``.

Runs the experiments that ``assignment/exploration.md`` asks for, with the
student's own functions from ``mnist_dense.py``, and writes a results table
(CSV and Markdown) and plots to ``<submission>/exploration_results/``. See
``python -m assignment.explore --help``.

Modules: ``experiments`` (what each exercise runs; no TensorFlow),
``run`` (trains one setting with the student's functions), ``analysis``
(probabilities, confusion matrix...), ``results`` (the table), ``plots``,
``text`` (Spanish and English messages) and ``cli`` (the command).
Nothing heavy is imported here.
"""
