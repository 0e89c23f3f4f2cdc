"""The typed facts of each step: declared for every step, and what the worker writes is what the parent reads."""

from __future__ import annotations

import dataclasses
import json

import pytest

from grader import facts, spec
from grader.sandbox.channel import _plain


def test_every_step_reports_a_facts_class():
    assert set(facts.FACTS_OF_STEP) == set(spec.STEP_NAMES) | {"import-salvage"}
    assert all(dataclasses.is_dataclass(cls) for cls in facts.FACTS_OF_STEP.values())


SAMPLES = [
    facts.BuildFacts(
        default=facts.ModelDescription(
            is_model=True, type="Sequential", layers=[facts.Layer("flatten", "Flatten"), facts.Layer("dense", "Dense", 10, "softmax")]
        ),
        variants={"classes_5": facts.ModelDescription(error=facts.ErrorInfo("TypeError", "no", 12, "build_model"))},
    ),
    facts.TrainFacts("History", True, True, True, fit_calls=[facts.FitCall(5, 32, 0.0, 1.0, [60000, 28, 28])], default_epochs=5, epochs=5),
    facts.HistoryFacts({"loss": [float("nan"), 0.5]}, 2, figure=facts.FigureDescription(True, "Figure", [facts.Axes([], [[1.0, 0.5]])])),
    facts.NormalizeFacts("ndarray", True, dtype="float32", is_float=True, min=0.0, max=1.0, max_error=0.0),
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_what_the_channel_carries_comes_back_equal(sample):
    wire = json.loads(json.dumps(sample, default=_plain))
    step = next(step for step, cls in facts.FACTS_OF_STEP.items() if cls is type(sample))
    back = facts.parse(step, wire)
    assert type(back) is type(sample)
    assert json.dumps(dataclasses.asdict(back)) == json.dumps(dataclasses.asdict(sample))  # NaN compares equal as text


@pytest.mark.parametrize(
    ("step", "data"),
    [
        ("normalize", {"type": "ndarray"}),  # a required field missing
        ("train_model", {"returned_type": "History", "is_history": True, "from_fit": True, "weights_changed": True, "fit_calls": "all of them"}),
        ("predict", {"samples": [{"index": "zero", "type": "tuple"}]}),
        ("build_model", None),
    ],
)
def test_a_payload_the_worker_could_not_write_is_refused(step, data):
    with pytest.raises(facts.MalformedFacts):
        facts.parse(step, data)
