"""Typed grading configuration, loaded from ``grader/config.toml``.

Every key carries a description (``field(metadata={"doc": ...})``) so that the
instructor documentation and error messages can say what a key means. A
value that is wrong is a ``ConfigError`` naming the file, the table and the
key, its sentence in the catalogues (``config.*``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from grader import i18n, spec
from grader.errors import GradingError
from grader.levels import LEVELS

DEFAULT_CONFIG = Path(__file__).with_name("config.toml")

# What architecture and compile are judged on; each earns its share of the
# check's points ([partial] in config.toml), so one message can list every
# difference and a submission loses only the aspects it got wrong.
ARCHITECTURE_ASPECTS = ("structure", "hidden", "output", "parameters")
COMPILE_ASPECTS = ("optimizer", "loss", "metrics", "returns_model", "parameter")


def doc(text: str, default: Any) -> Any:
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True)
class GradingSettings:
    seed: int = doc("Random seed set before building and training the model.", 1234)
    min_accuracy: float = doc(
        "Test accuracy the student's pipeline must reach, measured by the grader on the 10,000 test images.",
        0.97,
    )
    evaluate_tolerance: float = doc("How far evaluate_model's accuracy may be from the grader's own.", 0.001)
    prediction_tolerance: float = doc(
        "How far predict_sample's probabilities may be from the model's output.",
        0.0001,
    )
    memory_limit_mb: int = doc(
        "Peak resident memory of the student's process tree before it is stopped.",
        4096,
    )
    train_subset: int = doc(
        "Train on only the first N training images (0: all 60,000). Tests use it to keep mutant runs short; real grading leaves it at 0.",
        0,
    )
    output_limit_kb: int = doc(
        "How much of what the student's code prints is kept in student-output.txt.",
        256,
    )
    wall_factor: float = doc(
        "Wall-clock backstop of every step limit: a step is stopped after its [time_limits] CPU seconds "
        "(its whole process tree, all threads) or after wall_factor times that in real time, whichever "
        "comes first. CPU time does not depend on the machine's load; the wall backstop stops a step that "
        "sleeps or waits. At least 1.",
        3.0,
    )


@dataclass(frozen=True)
class PartialCredit:
    architecture: dict[str, float] = doc(
        "Share of the architecture points per aspect: structure (Flatten, 28x28 "
        "input, only Dense layers, a parameter count that matches them), hidden "
        "layer, output layer, parameters honoured. Shares add up to 1.",
        {"structure": 0.25, "hidden": 0.2, "output": 0.25, "parameters": 0.3},
    )
    compile: dict[str, float] = doc(
        "Share of the compile points per aspect: optimizer, loss, metrics, returns the model, optimizer parameter honoured. Shares add up to 1.",
        {"optimizer": 0.2, "loss": 0.3, "metrics": 0.15, "returns_model": 0.1, "parameter": 0.25},
    )


@dataclass(frozen=True)
class QuickSettings:
    train_subset: int = doc("python -m grader --quick trains on only the first N training images.", 2000)
    min_accuracy: float = doc(
        "Provisional accuracy bar of --quick: the reference solution trained on the quick subset clears it; a quick grade is never published.",
        0.85,
    )


@dataclass(frozen=True)
class IsolationSettings:
    minimum: str = doc(
        "Weakest isolation level python -m grader grades at when no road asks for more: "
        "'process' (a plain subprocess, any OS), 'user' (an unprivileged uid, POSIX, grader as root) "
        "or 'namespaces' (bubblewrap, Linux).",
        "process",
    )
    roads: str = doc(
        "Weakest level grade.yml and batch accept (they pass --require-isolation roads; the Classroom 50 "
        "and Gradescope autograders require at least 'user'). Lower it to 'process' only knowingly: "
        "there a submission can read and change whatever the grader's user can.",
        "namespaces",
    )
    tmpfs_mb: int = doc("Size of each private /tmp and /dev/shm the namespaces level gives the student's code.", 256)
    storage_mb: int = doc(
        "Total size of the student's state and working folders. At 'namespaces' a size-capped tmpfs holds "
        "them (a write past it fails with 'No space left on device' and nothing reaches the host's disk; "
        "with /tmp and /dev/shm the worker can write at most storage_mb + 2 x tmpfs_mb, all in memory); "
        "at 'process' and 'user' they are host folders: the grader checks their total every second and "
        "stops a step over it. Each file is also capped at 1 GiB (RLIMIT_FSIZE); the default leaves room for "
        "one such file and the grader's checkpoint.",
        1536,
    )


@dataclass(frozen=True)
class SimilaritySettings:
    """``[similarity]``: how ``batch`` compares a class's submissions (grader/instructor/similarity.py). Never a penalty."""

    threshold: float = doc("A pair whose answer or code scores at or above this is listed in the class report for a human read.", 0.5)
    shingle: int = doc("Words per prose fingerprint (function words left out).", 4)
    code_k: int = doc("Characters of abstracted code per hash (copydetect's noise threshold).", 25)
    code_window: int = doc("Winnowing window (copydetect's guarantee threshold is code_k + code_window - 1).", 6)
    common_share: float = doc("A fingerprint found in more than this share of the class is dropped (what everybody writes)...", 0.1)
    common_floor: int = doc("...but never one found in this many submissions or fewer.", 4)
    min_features: int = doc("A score's denominator (fingerprints of the shorter part) is at least this.", 8)
    listed_from: float = doc("similarity.csv lists the pairs and parts scoring at least this.", 0.1)
    top_pairs: int = doc("Pairs shown in the class report.", 20)

    @classmethod
    def from_config(cls, path: Path) -> SimilaritySettings:
        """The ``[similarity]`` table of the file at ``path`` alone (the tools that only compare: merge)."""
        return similarity_settings(path)


GRADESCOPE_VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # results.json's "visibility"


@dataclass(frozen=True)
class GradescopeSettings:
    visibility: str = doc(
        "When Gradescope shows students each check (results.json's visibility): 'visible', 'hidden', "
        "'after_due_date' or 'after_published'. The default of every check.",
        "visible",
    )
    checks: dict[str, str] = doc("Visibility of single checks, by check id (e.g. min_accuracy = 'after_due_date').", {})

    def of(self, check: str) -> str:
        return self.checks.get(check, self.visibility)


@dataclass(frozen=True)
class Config:
    grading: GradingSettings = field(default_factory=GradingSettings, metadata={"doc": "Thresholds and limits."})
    isolation: IsolationSettings = field(default_factory=IsolationSettings, metadata={"doc": "How the student's code is isolated."})
    time_limits: dict[str, float] = doc(
        "Seconds each step of the student's module may take, by step name: CPU seconds of the "
        "student's whole process tree (all threads and child processes), so the same submission ends "
        "the same way on a busy and a quiet machine; [grading] wall_factor times as many real seconds "
        "stop a step that sleeps or waits.",
        {},
    )
    points: dict[str, int] = doc("Points of each check, by check id.", {})
    rubric: dict[str, Any] = doc(
        "Key ideas each comprehension answer is scored on (see grader/answers).",
        {},
    )
    exploration: dict[str, Any] = doc("What the exploration check looks for (see grader/answers).", {})
    partial: PartialCredit = field(default_factory=PartialCredit, metadata={"doc": "Partial credit per aspect."})
    quick: QuickSettings = field(default_factory=QuickSettings, metadata={"doc": "The quick self-check (--quick)."})
    gradescope: GradescopeSettings = field(default_factory=GradescopeSettings, metadata={"doc": "What Gradescope shows students, and when."})
    similarity: SimilaritySettings = field(default_factory=SimilaritySettings, metadata={"doc": "How batch flags similar submissions (never a penalty)."})
    # Derived at load, not keys of the file: the rubric compiled (question id ->
    # grader.answers.rubric.QuestionRubric) and [exploration] typed, or None when
    # those checks have no points. The raw tables above stay, as the form that
    # crosses to the free-text scorer's child process.
    answers: dict[str, Any] | None = field(default=None, compare=False, metadata={"derived": True})
    exploration_settings: Any = field(default=None, compare=False, metadata={"derived": True})

    def time_limit(self, step: str) -> float:
        return float(self.time_limits[step])

    @property
    def max_score(self) -> int:
        return sum(self.points.values())


class ConfigError(GradingError, ValueError):
    """The configuration file is missing a key or has a wrong value: one sentence naming the file, the table and the key.

    It carries a catalogue key (``config.<key>``) and its fields, rendered
    where the language is known: ``sentence(lang)`` is what ``python -m
    grader`` prints; ``str()`` is the file and the English detail, for the
    instructor's tools.
    """

    def __init__(self, path: Path | str, key: str, /, **params: Any) -> None:
        self.path, self.key, self.params = str(path), f"config.{key}", params
        super().__init__(f"{self.path}: {self.detail('en')}")

    def detail(self, lang: str) -> str:
        """What is wrong, naming the table and the key."""
        return i18n.render(lang, self.key, **self.params)

    def sentence(self, lang: str) -> str:
        """The whole error in ``lang``, naming the file too."""
        return i18n.render(lang, "error.config", path=self.path, detail=self.detail(lang))


def _word(key: str) -> dict[str, Any]:
    """What a value should be, in words of the message's language (a catalogue part)."""
    return {"key": f"config.want.{key}", "params": {}}


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(path, "unreadable", detail=str(error)) from error


def _headers(tables) -> str:
    """Table names as their TOML headers: "[grading], [points]"."""
    return ", ".join(f"[{t}]" for t in tables)


def file_tables() -> tuple[str, ...]:
    """The top-level tables a config file may have: the fields of ``Config`` that are not derived."""
    return tuple(f.name for f in fields(Config) if not f.metadata.get("derived"))


def load_config(path: Path | None = None) -> Config:
    """The whole config, typed and checked: every error names its key, before any training."""
    path = path or DEFAULT_CONFIG
    raw = _read(path)
    config = Config(
        grading=_typed(GradingSettings, raw.get("grading", {}), "grading", path),
        isolation=_typed(IsolationSettings, raw.get("isolation", {}), "isolation", path),
        time_limits=_numbers(raw.get("time_limits", {}), "time_limits", path, float),
        points=_numbers(raw.get("points", {}), "points", path, int),
        rubric=dict(raw.get("rubric", {})),
        exploration=dict(raw.get("exploration", {})),
        partial=_partial(raw.get("partial", {}), path),
        quick=_typed(QuickSettings, raw.get("quick", {}), "quick", path),
        gradescope=_gradescope(raw.get("gradescope", {}), path),
        similarity=_similarity(raw.get("similarity", {}), path),
    )
    unknown = sorted(set(raw) - set(file_tables()))
    if unknown:
        # A misspelt table ([gradng]) would otherwise leave its keys unread and the defaults in force.
        raise ConfigError(path, "unknown_file_tables", tables=_headers(unknown), known=_headers(file_tables()))
    _validate(config, path)
    return _with_free_text(config, path)


def _numbers(values: Any, table: str, path: Path, kind: type) -> dict[str, Any]:
    """A table of numbers of ``kind`` (int: whole numbers >= 0; float: seconds > 0)."""
    if not isinstance(values, dict):
        raise ConfigError(path, "not_table", table=table)
    for key, value in values.items():
        number = isinstance(value, int) if kind is int else isinstance(value, (int, float))
        if isinstance(value, bool) or not number or (value < 0 if kind is int else value <= 0):
            want = _word("points" if kind is int else "seconds")
            raise ConfigError(path, "wrong_value", table=table, key=key, want=want, value=repr(value))
    return {key: kind(value) for key, value in values.items()}


def _with_free_text(config: Config, path: Path) -> Config:
    """``config`` with the rubric compiled and the exploration settings typed, when their checks have points."""
    from grader.answers.exploration import load_exploration_settings
    from grader.answers.rubric import RubricError, load_rubric

    try:
        answers = load_rubric(config.rubric) if any(q in config.points for q in spec.ANSWER_IDS) else None
        exploration = load_exploration_settings(config.exploration) if "exploration" in config.points else None
    except (RubricError, TypeError) as error:
        raise ConfigError(path, "free_text", detail=str(error)) from error
    return replace(config, answers=answers, exploration_settings=exploration)


# What a value of the settings' tables should be, by the type of its default.
TYPE_WORDS = {int: "integer", float: "number", str: "text"}


def _typed(cls: type, values: dict[str, Any], table: str, path: Path) -> Any:
    """``cls(**values)``, refusing unknown keys and values of the wrong type."""
    if not isinstance(values, dict):
        raise ConfigError(path, "not_table", table=table)
    known = {f.name: f for f in fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(path, "unknown_keys", table=table, keys=sorted(unknown))
    typed = {}
    for name, value in values.items():
        want = type(known[name].default)
        if isinstance(value, bool) or not isinstance(value, (int, float) if want is float else want):
            raise ConfigError(path, "wrong_value", table=table, key=name, want=_word(TYPE_WORDS[want]), value=repr(value))
        typed[name] = float(value) if want is float else value
    return cls(**typed)


def _gradescope(raw: Any, path: Path) -> GradescopeSettings:
    """[gradescope]: a default visibility and one per check id, each one of GRADESCOPE_VISIBILITIES."""
    if not isinstance(raw, dict):
        raise ConfigError(path, "not_table", table="gradescope")
    unknown = set(raw) - {"visibility", "checks"}
    if unknown:
        raise ConfigError(path, "unknown_keys", table="gradescope", keys=sorted(unknown))
    checks = raw.get("checks", {})
    if not isinstance(checks, dict):
        raise ConfigError(path, "not_table", table="gradescope.checks")
    unknown_checks = sorted(set(checks) - set(spec.check_ids()))
    if unknown_checks:
        raise ConfigError(path, "unknown_checks", table="gradescope.checks", keys=unknown_checks)
    for table, key, value in [("gradescope", "visibility", raw.get("visibility", "visible")), *(("gradescope.checks", k, v) for k, v in checks.items())]:
        if value not in GRADESCOPE_VISIBILITIES:
            raise ConfigError(path, "one_of", table=table, key=key, choices=list(GRADESCOPE_VISIBILITIES), value=repr(value))
    return GradescopeSettings(raw.get("visibility", "visible"), dict(checks))


def _similarity(raw: Any, path: Path) -> SimilaritySettings:
    """[similarity]: numbers of 0 or more (whole numbers where the default is one)."""
    if not isinstance(raw, dict):
        raise ConfigError(path, "not_table", table="similarity")
    known = {f.name: f for f in fields(SimilaritySettings)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError(path, "unknown_keys", table="similarity", keys=sorted(unknown))
    wrong = sorted(k for k, v in raw.items() if isinstance(v, bool) or not isinstance(v, int | float) or v < 0)
    if wrong:
        raise ConfigError(path, "not_numbers", table="similarity", keys=wrong)
    for name, value in raw.items():
        if isinstance(known[name].default, int) and not isinstance(value, int):
            raise ConfigError(path, "wrong_value", table="similarity", key=name, want=_word("integer"), value=repr(value))
    return SimilaritySettings(**raw)


def similarity_settings(path: Path | None = None) -> SimilaritySettings:
    """``[similarity]`` of the file at ``path`` alone (the other tables unchecked): for the tools that only compare."""
    path = path or DEFAULT_CONFIG
    return _similarity(_read(path).get("similarity", {}), path)


def _partial(raw: dict[str, Any], path: Path) -> PartialCredit:
    defaults = PartialCredit()
    aspects = {"architecture": ARCHITECTURE_ASPECTS, "compile": COMPILE_ASPECTS}
    if not isinstance(raw, dict):
        raise ConfigError(path, "not_table", table="partial")
    unknown = set(raw) - set(aspects)
    if unknown:
        raise ConfigError(path, "unknown_tables", table="partial", tables=sorted(unknown))
    shares: dict[str, dict[str, float]] = {}
    for check, names in aspects.items():
        table = raw.get(check, getattr(defaults, check))
        if not isinstance(table, dict):
            raise ConfigError(path, "not_table", table=f"partial.{check}")
        if set(table) != set(names) or any(isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 for v in table.values()):
            raise ConfigError(path, "partial_shares", table=f"partial.{check}", aspects=list(names))
        if abs(sum(table.values()) - 1.0) > 1e-9:
            raise ConfigError(path, "partial_sum", table=f"partial.{check}", total=round(sum(table.values()), 6))  # 0.9, not 0.8999999999999999
        shares[check] = {k: float(v) for k, v in table.items()}
    return PartialCredit(**shares)


def _validate(config: Config, path: Path) -> None:
    missing_steps = [s for s in spec.STEP_NAMES if s not in config.time_limits]
    if missing_steps:
        raise ConfigError(path, "lacks", table="time_limits", keys=missing_steps)
    unknown_steps = sorted(set(config.time_limits) - set(spec.STEP_NAMES))
    if unknown_steps:
        raise ConfigError(path, "unknown_steps", table="time_limits", keys=unknown_steps, steps=list(spec.STEP_NAMES))
    registered = spec.checks()
    unknown_checks = sorted(set(config.points) - {c.points_key for c in registered})
    if unknown_checks:
        raise ConfigError(path, "unknown_checks", table="points", keys=unknown_checks)
    missing_checks = [c.points_key for c in registered if not c.optional and c.points_key not in config.points]
    if missing_checks:
        raise ConfigError(path, "lacks", table="points", keys=missing_checks)
    # [points] are whole numbers >= 0 already (_numbers).
    for key in ("minimum", "roads"):
        value = getattr(config.isolation, key)
        if value not in LEVELS:
            raise ConfigError(path, "one_of", table="isolation", key=key, choices=list(LEVELS), value=repr(value))


# The keys the observation (running the student's code) depends on; every
# other key ([points], [partial], [rubric], [exploration], min_accuracy and
# the tolerances) only changes the judgement, so a class can be judged again
# from its stored observations (``batch --rejudge``) after a change of them.
# A table listed with None: all its keys.
OBSERVATION_KEYS: dict[str, tuple[str, ...] | None] = {
    "grading": ("seed", "train_subset", "memory_limit_mb", "output_limit_kb", "wall_factor"),
    "time_limits": None,
    "isolation": None,
    "quick": ("train_subset",),
}


def observation_settings(config: Config) -> dict[str, Any]:
    """The values of ``config`` an observation depends on (OBSERVATION_KEYS), as plain data."""
    settings: dict[str, Any] = {}
    for table, keys in OBSERVATION_KEYS.items():
        value = getattr(config, table)
        if keys is None:
            settings[table] = dict(value) if isinstance(value, dict) else {f.name: getattr(value, f.name) for f in fields(value)}
        else:
            settings[table] = {key: getattr(value, key) for key in keys}
    return settings
