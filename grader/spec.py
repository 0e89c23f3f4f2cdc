"""The assignment's steps and the grader's checks, each declared once.

Steps: the functions of the student's module, in the order the sandbox runs
them (``STEPS``), and the file they are written in (``MODULE_FILE``). The
observer's step loop, ``[time_limits]`` validation, the step names, numbers and
titles in messages and on the terminal, and the facts each step reports
(``grader.facts.FACTS_OF_STEP``) derive from this table. What each step should
do is the reference answer, ``grader/reference.py``.

Checks: every check module (``grader/checks/check_*.py``) declares its checks
with ``grader.checks.registry.check(id, step=...)``, which registers them
here. Points come from ``[points]`` (key: the check id), titles from the
catalogues (key ``title.<id>``). ``checks()`` imports every check module and
validates the registry: a step it does not know or a title missing from a
catalogue is a ``SpecError`` at load. Config validation refuses a ``[points]``
key the registry does not know and a code check without points.

Adding a check with its own points: a check module (new or existing),
``config.toml`` (its ``[points]`` key) and the two catalogues (its title and
messages). A check that gives partial credit also names its aspects and their
shares in ``[partial]`` (validated against the check's own list), and the
observer must report any fact the check reads that no step records yet.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CHECKS_DIR = Path(__file__).with_name("checks")
# The student's module: its import name, and its file (in assignment/ of a submission).
MODULE_NAME = "mnist_dense"
MODULE_FILE = f"{MODULE_NAME}.py"
# Groups of checks, in the order a result lists them.
GROUPS = ("code", "answer", "exploration")
# Groups a config may leave out of [points] (to grade the code alone); a code check never.
OPTIONAL_GROUPS = ("answer", "exploration")
# The comprehension answers (assignment/answers/q1.md .. q7.md), one check each.
ANSWER_IDS = tuple(f"q{n}" for n in range(1, 8))


class SpecError(ValueError):
    """The check registry contradicts itself or the step table: a grader bug."""


@dataclass(frozen=True)
class Step:
    name: str
    function: str  # what messages call it
    action: str | None = None  # Observer method that runs it (None: the observer imports the module itself)
    restore: str | None = None  # Observer method that re-creates its state for the later steps
    title: str = ""  # catalogue key of its title on the terminal (title.<the check that grades it>)
    facts: str = ""  # the grader.facts class of what it reports


STEPS = (
    Step("import", "import", title="progress.import", facts="ImportFacts"),
    Step("load_data", "load_data", "load_data", title="title.load_data", facts="LoadDataFacts"),
    Step("show_sample", "show_sample", "show_sample", title="title.show_sample", facts="ShowSampleFacts"),
    Step("normalize", "normalize", "normalize", "restore_normalize", title="title.normalize", facts="NormalizeFacts"),
    Step("build_model", "build_model", "build_model", "restore_build", title="title.architecture", facts="BuildFacts"),
    Step("compile_model", "compile_model", "compile_model", "restore_compile", title="title.compile", facts="CompileFacts"),
    Step("train_model", "train_model", "train_model", "restore_train", title="title.train", facts="TrainFacts"),
    Step("evaluate_model", "evaluate_model", "evaluate_model", title="title.evaluate", facts="EvaluateFacts"),
    Step("history", "history_frame / plot_history", "history_step", title="title.history", facts="HistoryFacts"),
    Step("predict", "predict_sample", "predict", title="title.predict", facts="PredictFacts"),
)
STEP_NAMES = tuple(s.name for s in STEPS)
_STEP = {s.name: s for s in STEPS}
# The import's second try when the module does not import: its definitions alone. Recorded as an
# outcome of its own, shown and typed as the import.
SALVAGE = "import-salvage"


def step_of(name: str) -> Step | None:
    """The step called ``name`` (the salvage is the import's); None when there is none."""
    return _STEP.get("import" if name == SALVAGE else name)


def function_of(step: str) -> str:
    """The function a message names for ``step`` (the step's own name when unknown)."""
    return _STEP[step].function if step in _STEP else step


def number_of(step: str) -> int | None:
    """The number ``step`` has in the student's file and in the titles ("paso 4"); None for the import or an unknown step."""
    return (STEP_NAMES.index(step) or None) if step in _STEP else None


@dataclass(frozen=True)
class Check:
    id: str
    step: str | None  # the step whose function it grades; None: files, or the grader's own measurement
    group: str = "code"
    module: str = ""  # file stem of the check module that declares it
    line: int = 0  # where in it (results list a module's checks in this order)

    @property
    def points_key(self) -> str:
        return self.id

    @property
    def title_key(self) -> str:
        return f"title.{self.id}"

    @property
    def optional(self) -> bool:
        return self.group in OPTIONAL_GROUPS


_REGISTERED: dict[str, Check] = {}


def register(check: Check) -> None:
    """Record ``check`` (a module imported twice registers the same check again: fine)."""
    known = _REGISTERED.get(check.id)
    if known is not None and (known.step, known.group) != (check.step, check.group):
        raise SpecError(f"check {check.id!r} is declared twice with different steps or groups")
    if check.group not in GROUPS:
        raise SpecError(f"check {check.id!r}: unknown group {check.group!r}; use one of {list(GROUPS)}")
    if check.step is not None and check.step not in _STEP:
        raise SpecError(f"check {check.id!r}: unknown step {check.step!r}; use one of {list(STEP_NAMES)}")
    _REGISTERED.setdefault(check.id, check)


@cache
def checks() -> tuple[Check, ...]:
    """Every check, in the order a result lists them: by group, then module, then position."""
    for module in sorted(m.name for m in pkgutil.iter_modules([str(CHECKS_DIR)])):
        if module.startswith("check_"):
            importlib.import_module(f"grader.checks.{module}")
    ordered = tuple(sorted(_REGISTERED.values(), key=lambda c: (GROUPS.index(c.group), c.module, c.line)))
    _check_titles(ordered)
    return ordered


def _check_titles(registered: tuple[Check, ...]) -> None:
    from grader import i18n

    for lang in i18n.LANGUAGES:
        missing = [c.title_key for c in registered if c.title_key not in i18n.catalogue(lang)]
        if missing:
            raise SpecError(f"the {lang} catalogue has no title for {missing} (grader/messages/{lang}/)")


def check_ids(group: str | None = None) -> tuple[str, ...]:
    """Ids of every check, or of one group's."""
    return tuple(c.id for c in checks() if group is None or c.group == group)


def check_by_id(check_id: str) -> Check:
    """The registered check ``check_id`` (a lookup; ``grader.checks.registry.check`` is the decorator that declares one)."""
    for known in checks():
        if known.id == check_id:
            return known
    raise KeyError(check_id)


check = check_by_id  # its first name, kept for callers outside the grader
