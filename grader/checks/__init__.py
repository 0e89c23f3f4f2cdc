"""The grader's checks, as pytest tests.

``python -m grader`` runs pytest on this folder (files ``check_*.py``, one
test per check id) in its own process, after the sandbox has run the
student's code. The tests judge what the sandbox observed; they never run
student code themselves. The repository's own test suite does not collect
them (its ``testpaths`` is ``tests/``).
"""
