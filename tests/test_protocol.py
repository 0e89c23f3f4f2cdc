"""The words the worker and the supervisor share (grader/sandbox/protocol.py).

* A status read from the channel is one of ``StepStatus``; anything else was
  written by the student's code and reads as ``tampered``.
* A phase goes over the channel as ``step`` or ``step:restore`` /
  ``step:fallback`` and comes back as the same ``Phase``; any other text is
  not a phase.
"""

from __future__ import annotations

import json

import pytest

from grader.checks.context import FAILURE_STATUSES
from grader.sandbox.protocol import Phase, StepStatus
from grader.spec import STEP_NAMES


@pytest.mark.parametrize("status", list(StepStatus))
def test_every_status_parses_as_itself(status):
    assert StepStatus.parse(str(status)) is status
    assert StepStatus.parse(json.loads(json.dumps({"status": status}))["status"]) is status  # as the channel carries it


@pytest.mark.parametrize("value", ["passed", "OK", "", "ok ", None, 0, True, ["ok"], {"status": "ok"}])
def test_an_unknown_status_is_tampered(value):
    assert StepStatus.parse(value) is StepStatus.TAMPERED


def test_statuses_read_as_their_text():
    assert StepStatus.TIMEOUT == "timeout" and f"step.{StepStatus.NOT_IMPLEMENTED}" == "step.not_implemented"
    assert set(FAILURE_STATUSES) == set(StepStatus) - {StepStatus.OK}


@pytest.mark.parametrize("text", [*STEP_NAMES, "import-salvage", "import:restore", "import-salvage:restore", "train_model:restore", "normalize:fallback"])
def test_a_phase_round_trips_through_its_wire_format(text):
    phase = Phase.parse(text)
    assert str(phase) == text and Phase.parse(str(phase)) == phase
    assert phase.is_step == (":" not in text)


def test_a_phase_knows_its_step_and_time_limit():
    assert Phase.parse("train_model:fallback") == Phase("train_model", "fallback")
    assert Phase.parse("train_model") == Phase("train_model", "run")
    assert Phase.parse("import-salvage:restore").step == "import-salvage"
    assert Phase.parse("import-salvage:restore").limit_key == "import"
    assert Phase("history", "restore").limit_key == "history"


@pytest.mark.parametrize("text", ["train_model:run", "train_model:retry", "train_model:restore:x", ":restore", "", "train_model:"])
def test_anything_else_is_not_a_phase(text):
    with pytest.raises(ValueError):
        Phase.parse(text)


def test_a_phase_is_built_only_of_known_kinds():
    with pytest.raises(ValueError):
        Phase("train_model", "retry")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Phase("train_model:restore")
