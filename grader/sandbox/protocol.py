"""The words the worker and the supervisor share: how a step ended, what is running.

``StepStatus``: how a step ended. The worker reports most of them; the
supervisor adds those a worker cannot report itself (killed over its time or
memory limit, exited, crashed). It is a ``StrEnum``, so it travels over the
channel, into reports and into catalogue keys (``step.<status>``) as its text.

``Phase``: what the worker is running, a step or the re-creation of a
step's state for the later ones (``restore``: re-running a step that worked,
``fallback``: the grader's stand-in for one that did not; neither is
reported). On the channel it is the step's name, followed by ``:restore`` or
``:fallback`` for a phase: ``train_model``, ``train_model:restore``.

What the worker sends is read as untrusted (the student's code shares its
process): a status or a phase that is not one of these was written by the
student's code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal, get_args


class StepStatus(enum.StrEnum):
    OK = "ok"
    NOT_IMPLEMENTED = "not_implemented"  # raised NotImplementedError
    MISSING = "missing"  # the module has no such function
    TIMEOUT = "timeout"  # over its time limit (interrupted in the worker, or killed)
    ERROR = "error"  # raised anything else
    EXITED = "exited"  # sys.exit / os._exit
    CRASHED = "crashed"  # killed by a signal (a segmentation fault)
    MEMORY = "memory"  # over the memory limit
    STORAGE = "storage"  # wrote more to disk than the grading's storage cap (levels that check it: process, user)
    TAMPERED = "tampered"  # replaced the grader's functions or wrote to its channel: its facts are not trusted

    @classmethod
    def parse(cls, value: object) -> StepStatus:
        """A status read from the worker's channel; anything unknown was forged there, so ``TAMPERED``."""
        return cls(value) if isinstance(value, str) and value in cls._value2member_map_ else cls.TAMPERED


PhaseKind = Literal["run", "restore", "fallback"]
KINDS: tuple[str, ...] = get_args(PhaseKind)


@dataclass(frozen=True)
class Phase:
    step: str  # a step of grader.spec.STEPS, or import-salvage (the module's definitions alone)
    kind: PhaseKind = "run"  # run: the step itself, reported; restore, fallback: re-creating its state

    def __post_init__(self) -> None:
        if self.kind not in KINDS or not self.step or ":" in self.step:
            raise ValueError(f"not a phase: {self.step!r}, {self.kind!r}")

    @classmethod
    def parse(cls, text: str) -> Phase:
        """``train_model:restore`` -> ``Phase("train_model", "restore")``; ValueError for anything else."""
        step, colon, kind = text.partition(":")
        if colon and kind not in KINDS[1:]:
            raise ValueError(f"not a phase: {text!r}")
        return cls(step, kind or "run")

    def __str__(self) -> str:
        return self.step if self.kind == "run" else f"{self.step}:{self.kind}"

    @property
    def is_step(self) -> bool:
        """The step itself (its ``end`` is reported), not a phase re-creating its state."""
        return self.kind == "run"

    @property
    def limit_key(self) -> str:
        """Its ``[time_limits]`` key: a phase runs under its step's limit, import-salvage under import's."""
        return self.step.split("-")[0]
