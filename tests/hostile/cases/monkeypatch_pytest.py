"""Hostile case monkeypatch_pytest: at import, replaces pytest.main and the checks' verdict module in its own process.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import sys


import types


import pytest


pytest.main = lambda *args, **kwargs: 0


pytest.fail = lambda *args, **kwargs: None


sys.modules["grader.checks.verdict"] = types.ModuleType("grader.checks.verdict")
