"""Types named the way a student knows them, in the verdict's language.

The worker reports ``type(value).__name__``; a beginner reads "NoneType" or
"EagerTensor" as jargon. ``found_type`` turns the name into a nested message
(see ``verdict.part``): None says the function returns nothing (a missing
``return``), a tensor says it is TensorFlow's and not NumPy's, and so on.
"""

from __future__ import annotations

from typing import Any

from grader.checks.verdict import part

_KINDS = {
    "NoneType": "none",
    "list": "list",
    "tuple": "tuple",
    "dict": "dict",
    "str": "text",
    "bool": "bool",
    "ndarray": "ndarray",
    "History": "history",
    "Figure": "figure",
    "DataFrame": "frame",
    "Series": "series",
}
_TENSORS = {"EagerTensor", "Tensor", "SymbolicTensor", "KerasTensor", "ResourceVariable", "Variable", "KerasVariable"}
_NUMBERS = {"int", "float", "float16", "float32", "float64", "int32", "int64", "uint8", "Decimal"}
_MODELS = {"Sequential", "Functional", "Model"}


def found_type(name: Any) -> dict[str, Any]:
    """A nested message naming the type ``name`` in plain words."""
    name = str(name)
    if name in _TENSORS:
        return part("found.tensor", name=name)
    if name in _NUMBERS:
        return part("found.number", name=name)
    if name in _MODELS:
        return part("found.model", name=name)
    kind = _KINDS.get(name)
    return part(f"found.{kind}") if kind else part("found.other", name=name)


def found_types(names: list[Any]) -> list[dict[str, Any]]:
    """Several types as one phrase: each but the last followed by a comma."""
    parts = [found_type(n) for n in names]
    return [part("found.and_then", what=p) for p in parts[:-1]] + parts[-1:]
