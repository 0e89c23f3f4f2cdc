"""No message hands the student a finished line of the reference solution.

A hint names the idea and the function; the expression a step returns (or
the call whose result it keeps) is what the student writes. Every such
expression in ``solutions/mnist_dense.py`` is looked for, whitespace-free,
in every message of both catalogues.
"""

from __future__ import annotations

import ast
import re

import pytest

from gradingkit import ROOT

from grader import i18n

COSMETIC_KEYWORDS = {"verbose"}


def _without_cosmetic_keywords(node: ast.AST) -> ast.AST:
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            call.keywords = [k for k in call.keywords if k.arg not in COSMETIC_KEYWORDS]
    return node


def _code(node: ast.AST) -> str:
    node = _without_cosmetic_keywords(node)
    if isinstance(node, ast.Tuple):
        return ", ".join(ast.unparse(element) for element in node.elts)
    return ast.unparse(node)


def finished_expressions() -> set[str]:
    """What each reference step returns or keeps, beyond a bare name: the lines a student writes."""
    tree = ast.parse((ROOT / "solutions" / "mnist_dense.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None and not isinstance(node.value, ast.Name):
            found.add(_code(node.value))
            if isinstance(node.value, ast.Tuple):
                found.update(_code(e) for e in node.value.elts if _has_nested_call(e))
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Call, ast.Subscript)):
            found.add(_code(node.value))
    # A call without arguments (plt.subplots(), load_data()) names a function; it is not a finished line.
    return {e for e in found if "/" in e or ("(" in e and "()" not in e)}


def _has_nested_call(node: ast.AST) -> bool:
    return sum(isinstance(n, ast.Call) for n in ast.walk(node)) > 1


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_reference_has_the_finished_lines_this_test_looks_for():
    expressions = finished_expressions()
    assert {"images / 255.0", "pd.DataFrame(history.history)", "float(loss), float(accuracy)"} <= expressions
    assert "model.predict(images[index:index + 1])[0]" in expressions


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_no_message_pastes_a_finished_line(lang):
    expressions = {squeeze(e): e for e in finished_expressions()}
    pasted = [(key, code) for key, text in i18n.catalogue(lang).items() for squeezed, code in expressions.items() if squeezed in squeeze(text)]
    assert pasted == []
