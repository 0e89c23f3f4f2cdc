"""The commonest crashes of this activity, recognised and explained.

Each entry is an exception type and a pattern of the library's own message
(captured from real Keras / NumPy / Python errors; see tests/test_crashes.py).
A recognised crash is explained in the student's language from the catalogue
(``crash.<name>.explanation`` and ``crash.<name>.hint``); the fields of the
explanation are the pattern's named groups. The hint names the idea and the
function to use, never the finished line. The original English message stays
below the explanation (``step.error_explained``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Keras wraps parts of its messages in terminal colour codes ("\x1b[1m...\x1b[0m", or "[1m" once the escape is lost).
_ANSI = re.compile(r"(?:\x1b)?\[[0-9;]*m")


@dataclass(frozen=True)
class Crash:
    name: str  # catalogue keys crash.<name>.explanation / crash.<name>.hint
    types: tuple[str, ...]  # exception class names
    pattern: re.Pattern[str]  # searched in the message; named groups become fields


def _crash(name: str, types: tuple[str, ...], pattern: str) -> Crash:
    return Crash(name, types, re.compile(pattern, re.DOTALL))


# One dimension of a shape as Keras prints it: a number, or None in a traced (graph) call.
_N = r"(?:\d+|None)"

# Order matters: the first match wins (the more specific patterns first).
CRASHES: tuple[Crash, ...] = (
    # Python cannot read the file at all.
    _crash("tab_error", ("TabError",), r""),
    _crash("indentation_error", ("IndentationError",), r""),
    _crash("syntax_error", ("SyntaxError",), r""),
    _crash("module_not_found", ("ModuleNotFoundError",), r"No module named '(?P<module>[^']+)'"),
    # Labels turned into one-hot vectors (to_categorical) for the sparse loss.
    _crash("one_hot_sparse", ("ValueError",), rf"must have rank \(ndim\) `target\.ndim - 1`.*target\.shape=\({_N}, {_N}\), output\.shape=\({_N}, {_N}\)"),
    # No Flatten: the Dense layers run along the last axis and keep the 28 rows.
    _crash("no_flatten", ("ValueError",), rf"must have rank \(ndim\) `target\.ndim - 1`.*target\.shape=\({_N},\), output\.shape=\({_N}(?:, {_N}){{2,}}\)"),
    # Integer labels with categorical_crossentropy.
    _crash(
        "integer_labels_categorical", ("ValueError",), rf"`target` and `output` must have the same rank.*target\.shape=\({_N},\), output\.shape=\({_N}, {_N}\)"
    ),
    # keras.Input(shape=(784,)) on 28x28 images.
    _crash("input_flat", ("ValueError",), r"Expected shape \(None, (?P<expected>\d+)\), but input has incompatible shape \(\d+, 28, 28\)"),
    # One image given to predict without its batch dimension.
    _crash("no_batch", ("ValueError",), r"Expected shape \(None, 28, 28\), but input has incompatible shape \(28, 28\)"),
    # The same, once the model's predict has been traced on batches: Keras retraces with an unknown rank.
    _crash("unknown_rank", ("ValueError",), r"Cannot take the length of shape with unknown rank"),
    # validation_data given a fraction (validation_split's job), or validation_split given data.
    _crash("validation_data_number", ("ValueError",), r"Unrecognized data type: x=(?P<value>[-+0-9.eE]+) \(of type <class '(?:float|int)'>\)"),
    _crash("validation_split_data", ("TypeError",), r"unsupported operand type\(s\) for -: 'float' and '(?:tuple|list)'"),
    # Python lists (not NumPy arrays) given to fit.
    _crash("fit_lists", ("ValueError",), r"Unrecognized data type: x=\[|Data cardinality is ambiguous.*'x' sizes: 28, 28"),
    # images /= 255.0 on the uint8 images.
    _crash(
        "inplace_divide",
        ("UFuncTypeError", "_UFuncOutputCastingError", "UFuncOutputCastingError", "TypeError"),
        r"Cannot cast ufunc '(?:true_)?divide' output from dtype\('float\d*'\) to dtype\('u?int\d*'\)",
    ),
    # A name defined only by module-level code (which the grader may leave out) or whose import failed.
    _crash("name_not_defined", ("NameError",), r"name '(?P<name>[A-Za-z_][A-Za-z0-9_]*)' is not defined"),
    # np.argmax(probs, axis=1) on the probabilities of one image (one dimension).
    _crash("axis_out_of_bounds", ("AxisError",), r"axis (?P<axis>-?\d+) is out of bounds for array of dimension (?P<ndim>\d+)"),
)


def clean(message: str) -> str:
    """The library's message without terminal colour codes, on one line."""
    return " ".join(_ANSI.sub("", message).split())


def recognise(error_type: str, message: str) -> tuple[str, dict[str, str]] | None:
    """The catalogue name of a known crash and its fields, or None."""
    text = clean(message)
    for crash in CRASHES:
        if error_type in crash.types:
            match = crash.pattern.search(text)
            if match is not None:
                return crash.name, {k: v for k, v in match.groupdict().items() if v is not None}
    return None


def explanation(error_type: str, message: str) -> dict | None:
    """The Spanish (or English) explanation and hint of a known crash, as message parts; None if unknown."""
    known = recognise(error_type, message)
    if known is None:
        return None
    name, fields = known
    # Message parts (grader.checks.verdict.part), rendered in the verdict's language.
    return {"explanation": {"key": f"crash.{name}.explanation", "params": fields}, "hint": {"key": f"crash.{name}.hint", "params": fields}}
