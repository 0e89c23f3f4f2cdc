"""How a check module declares its checks: ``@check("id", step="...")``.

The decorator registers the check in ``grader.spec`` (id, step, group; points
and title follow from the id) and marks the test with the id, which the
plugin records in report.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grader import spec


def check(check_id: str, *, step: str | None = None, group: str = "code") -> pytest.MarkDecorator:
    caller = sys._getframe(1)
    module = Path(caller.f_globals.get("__file__") or "").stem
    spec.register(spec.Check(check_id, step, group, module, caller.f_lineno))
    return pytest.mark.check(check_id)
