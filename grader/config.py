"""Typed grading configuration, loaded from ``grader/config.toml``.

Every key carries a description (``field(metadata={"doc": ...})``) so that the
instructor documentation and error messages can say what a key means.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from grader.sandbox.isolation import LEVELS

DEFAULT_CONFIG = Path(__file__).with_name("config.toml")

CODE_CHECKS = (
    "load_data",
    "show_sample",
    "normalize",
    "architecture",
    "compile",
    "train",
    "evaluate",
    "history",
    "predict",
    "min_accuracy",
)
ANSWER_CHECKS = tuple(f"q{n}" for n in range(1, 8))
EXPLORATION_CHECKS = ("exploration",)
ALL_CHECKS = CODE_CHECKS + ANSWER_CHECKS + EXPLORATION_CHECKS

# Steps of the student's module, in the order the sandbox runs them.
STEPS = (
    "import",
    "load_data",
    "show_sample",
    "normalize",
    "build_model",
    "compile_model",
    "train_model",
    "evaluate_model",
    "history",
    "predict",
)


def doc(text: str, default: Any) -> Any:
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True)
class GradingSettings:
    seed: int = doc("Random seed set before building and training the model.", 1234)
    min_accuracy: float = doc(
        "Test accuracy the student's pipeline must reach, measured by the grader "
        "on the 10,000 test images.",
        0.97,
    )
    evaluate_tolerance: float = doc(
        "How far evaluate_model's accuracy may be from the grader's own.", 0.001
    )
    prediction_tolerance: float = doc(
        "How far predict_sample's probabilities may be from the model's output.",
        0.0001,
    )
    memory_limit_mb: int = doc(
        "Peak resident memory of the student's process tree before it is stopped.",
        4096,
    )
    train_subset: int = doc(
        "Train on only the first N training images (0: all 60,000). Tests use it "
        "to keep mutant runs short; real grading leaves it at 0.",
        0,
    )
    output_limit_kb: int = doc(
        "How much of what the student's code prints is kept in student-output.txt.",
        256,
    )


@dataclass(frozen=True)
class IsolationSettings:
    minimum: str = doc(
        "Weakest isolation level python -m grader grades at when no road asks for more: "
        "'process' (a plain subprocess, any OS) or 'namespaces' (bubblewrap, Linux).",
        "process",
    )
    roads: str = doc(
        "Weakest level the unattended roads accept (grade.yml, the Classroom 50 autograder "
        "and batch pass --require-isolation roads). Lower it to 'process' only knowingly: "
        "there a submission can read and change whatever the grader's user can.",
        "namespaces",
    )
    tmpfs_mb: int = doc("Size of each private /tmp and /dev/shm the namespaces level gives the student's code.", 256)


@dataclass(frozen=True)
class Config:
    grading: GradingSettings = field(default_factory=GradingSettings, metadata={"doc": "Thresholds and limits."})
    isolation: IsolationSettings = field(default_factory=IsolationSettings, metadata={"doc": "How the student's code is isolated."})
    time_limits: dict[str, float] = doc(
        "Seconds each step of the student's module may take, by step name.",
        {},
    )
    points: dict[str, int] = doc("Points of each check, by check id.", {})
    rubric: dict[str, Any] = doc(
        "Key ideas each comprehension answer is scored on (see grader/answers).",
        {},
    )
    exploration: dict[str, Any] = doc(
        "What the exploration check looks for (see grader/answers).", {}
    )

    def time_limit(self, step: str) -> float:
        return float(self.time_limits[step])

    @property
    def max_score(self) -> int:
        return sum(self.points.values())


class ConfigError(ValueError):
    """The configuration file is missing a key or has a wrong value."""


def load_config(path: Path | None = None) -> Config:
    path = path or DEFAULT_CONFIG
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    known = {f.name for f in fields(GradingSettings)}
    unknown = set(raw.get("grading", {})) - known
    if unknown:
        raise ConfigError(f"{path}: unknown [grading] keys: {sorted(unknown)}")
    unknown = set(raw.get("isolation", {})) - {f.name for f in fields(IsolationSettings)}
    if unknown:
        raise ConfigError(f"{path}: unknown [isolation] keys: {sorted(unknown)}")
    config = Config(
        grading=GradingSettings(**raw.get("grading", {})),
        isolation=IsolationSettings(**raw.get("isolation", {})),
        time_limits=dict(raw.get("time_limits", {})),
        points={k: int(v) for k, v in raw.get("points", {}).items()},
        rubric=dict(raw.get("rubric", {})),
        exploration=dict(raw.get("exploration", {})),
    )
    _validate(config, path)
    return config


def _validate(config: Config, path: Path) -> None:
    missing_steps = [s for s in STEPS if s not in config.time_limits]
    if missing_steps:
        raise ConfigError(f"{path}: [time_limits] lacks {missing_steps}")
    unknown_checks = sorted(set(config.points) - set(ALL_CHECKS))
    if unknown_checks:
        raise ConfigError(f"{path}: [points] has unknown checks {unknown_checks}")
    missing_checks = [c for c in CODE_CHECKS if c not in config.points]
    if missing_checks:
        raise ConfigError(f"{path}: [points] lacks {missing_checks}")
    if any(p < 0 for p in config.points.values()):
        raise ConfigError(f"{path}: [points] must not be negative")
    for key in ("minimum", "roads"):
        if getattr(config.isolation, key) not in LEVELS:
            raise ConfigError(f"{path}: [isolation] {key} must be one of {list(LEVELS)}")
