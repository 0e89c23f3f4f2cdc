"""What every check can see: the sandbox's observations, the measurement, the config.

A step's observations reach a check typed (``grader.facts``): ``facts(step)``
for the step a check grades (a failed step fails the check), ``observed(step)``
for hints drawn from another step (None when it did not run cleanly).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from grader import crashes, spec
from grader import facts as observations
from grader.checks import causes
from grader.checks.verdict import fail
from grader.config import Config
from grader.measure import Measurement, measure
from grader.sandbox.protocol import StepStatus
from grader.sandbox.supervisor import SandboxRun, StepOutcome
from grader.spec import function_of


@dataclass
class GradingContext:
    config: Config
    run: SandboxRun
    x_test: np.ndarray
    y_test: np.ndarray
    submission: Path

    @cached_property
    def measurement(self) -> Measurement | None:
        """The grader's own measurement of the trained model; None when no trained model was left.

        The copy the supervisor took when training ended: later steps cannot
        rewrite it. Without one (training, even the stand-in's, never ended
        within its limit) there is nothing to measure.
        """
        try:
            return measure(self.run.evidence_dir or self.run.state_dir, self.x_test, self.y_test)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None

    @cached_property
    def grader_training(self) -> observations.GraderTraining | None:
        """The epochs of the History kept with the trained model; None when there is none."""
        folder = self.run.evidence_dir or self.run.state_dir
        if folder is None:
            return None
        try:
            saved = json.loads((Path(folder) / "history.json").read_text(encoding="utf-8"))
            return observations.parse_as(observations.GraderTraining, {"epochs": len(saved["epoch"])})
        except (OSError, TypeError, ValueError, KeyError, observations.MalformedFacts):
            return None

    def facts(self, step: str) -> Any:
        """The step's observations; fails the check when the step did not run cleanly."""
        outcome = self.run.outcome(step)
        self.fail_if_unimportable(step)
        if outcome is None:
            fail("step.not_run", function=function_of(step))
        if outcome.status != "ok":
            key, params = step_failure(outcome, self.config, self.submission / spec.MODULE_FILE)
            fail(key, **params)
        try:
            return observations.parse(step, outcome.data)
        except observations.MalformedFacts:
            # Not what the worker writes: the student's code wrote on the grader's channel.
            fail("step.tampered", function=function_of(step), names="?")

    def observed(self, step: str) -> Any:
        """The step's observations when it ran cleanly, else None: for hints, never for a verdict."""
        outcome = self.run.outcome(step)
        if outcome is None or outcome.status != "ok":
            return None
        try:
            return observations.parse(step, outcome.data)
        except observations.MalformedFacts:
            return None

    def fail_if_unimportable(self, step: str | None) -> None:
        """Fail when the module could not be loaded at all: the cause once (step 1), a pointer to it elsewhere."""
        unimportable = self._import_failure()
        if unimportable is None:
            return
        function = function_of(step) if step else "min_accuracy"
        if step == FIRST_STEP:
            fail("step.import_failed", function=function, cause=causes.error_cause(unimportable))
        fail("step.import_failed_again", function=function, first=function_of(FIRST_STEP))

    def _import_failure(self) -> dict[str, Any] | None:
        """Why the module could not be loaded, when neither import nor salvage worked."""
        plain, salvage = self.run.outcome("import"), self.run.outcome("import-salvage")
        if plain is None or plain.status == "ok" or (salvage is not None and salvage.status == "ok"):
            return None
        error = (salvage.error if salvage is not None and salvage.error else plain.error) or {}
        return {**error, "type": error.get("type") or plain.status}


# The check that explains an unloadable module; the others point to it.
FIRST_STEP = "load_data"
# Step statuses with a message of their own (step.<status>); any other is step.error.
FAILURE_STATUSES = tuple(s for s in StepStatus if s is not StepStatus.OK)


def step_failure(outcome: StepOutcome, config: Config, source: Path | None = None) -> tuple[str, dict[str, Any]]:
    """Catalogue key and fields describing why a step did not finish.

    A crash the catalogue knows is explained (``crash.explained``); a missing
    function with a near-miss in ``source`` (the student's file) names it.
    """
    error = outcome.error or {}
    key = f"step.{outcome.status}" if outcome.status in FAILURE_STATUSES else "step.error"
    if key == "step.error":
        known = causes.crash_failure(function_of(outcome.step), error)
        if known is not None:
            return known
    if key == "step.missing" and source is not None:
        wanted = str(error.get("message") or function_of(outcome.step))
        near = causes.near_miss(source, wanted)
        if near is not None:
            return "step.missing_near", {"function": wanted, "near": near}
    return key, {
        "function": function_of(outcome.step),
        "error_type": error.get("type", ""),
        "error_message": crashes.clean(str(error.get("message", ""))),
        "line": error.get("line") or "?",
        "limit": int(config.time_limit(outcome.step)) if outcome.step in config.time_limits else "?",
        "wall_limit": int(config.time_limit(outcome.step) * max(1.0, config.grading.wall_factor)) if outcome.step in config.time_limits else "?",
        "memory_limit": config.grading.memory_limit_mb,
        "storage_limit": config.isolation.storage_mb,
        "code": error.get("code", ""),
        "names": ", ".join(str(n) for n in error.get("names", [])[:3]) or "?",
    }
