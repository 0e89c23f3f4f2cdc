"""How a check says what it found: full marks, partial credit or a failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn


class CheckFailed(AssertionError):
    """A check's verdict short of full marks: a catalogue key, its fields, a fraction."""

    def __init__(self, key: str, fraction: float = 0.0, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.fraction = max(0.0, min(1.0, fraction))
        self.params = params


def part(key: str, **params: Any) -> dict[str, Any]:
    """A message inside a message: rendered by ``i18n.render`` in the verdict's language."""
    return {"key": key, "params": params}


def fail(key: str, fraction: float = 0.0, **params: Any) -> NoReturn:
    raise CheckFailed(key, fraction, **params)


@dataclass
class Verdict:
    """The message of a check that passes (failures raise CheckFailed)."""

    key: str = "check.ok"
    params: dict[str, Any] = field(default_factory=dict)

    def ok(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params
