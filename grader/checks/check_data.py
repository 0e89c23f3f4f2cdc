"""Checks of the data steps: load_data, show_sample, normalize."""

from __future__ import annotations

import re

from grader.checks.registry import check
from grader.checks.verdict import fail, part
from grader.checks.words import found_type

# The arrays keras.datasets.mnist.load_data() gives.
MNIST_SHAPES = {"x_train": [60000, 28, 28], "y_train": [60000], "x_test": [10000, 28, 28], "y_test": [10000]}
# float32 rounding of x / 255 is about 3e-8; anything past this is wrong.
NORMALIZE_TOLERANCE = 1e-5


@check("load_data", step="load_data")
def test_load_data(ctx, verdict):
    facts = ctx.facts("load_data")
    if not facts.structure_ok:
        fail("load_data.structure", found=found_type(facts.type))
    for array in facts.arrays:
        if not array.equal:
            expected = MNIST_SHAPES.get(array.name)
            if array.shape is not None and expected is not None and array.shape != expected:
                # Cut or reshaped: say the shape MNIST has, not only the one found.
                fail("load_data.shape", name=array.name, shape=array.shape, expected=expected)
            fail("load_data.different", name=array.name, found_type=found_type(array.type), shape=array.shape, dtype=array.dtype)
    verdict.ok("load_data.ok")


@check("show_sample", step="show_sample")
def test_show_sample(ctx, verdict):
    facts = ctx.facts("show_sample")
    if not facts.is_figure:
        fail("show_sample.not_figure", found=found_type(facts.type))
    if facts.images == 0:
        fail("show_sample.no_image")
    if not facts.image_matches:
        fail("show_sample.wrong_image", index=facts.index)
    printed = ctx.run.outcome("show_sample").printed
    if not re.search(rf"(?<!\d){facts.label}(?!\d)", printed):
        fail("show_sample.label_not_printed", label=facts.label, index=facts.index)
    verdict.ok("show_sample.ok")


@check("normalize", step="normalize")
def test_normalize(ctx, verdict):
    facts = ctx.facts("normalize")
    if facts.dtype is None:
        found = part("found.ndarray_shape", shape=str(tuple(facts.shape))) if facts.type == "ndarray" and facts.shape else found_type(facts.type)
        fail("normalize.not_array", found=found)
    if not facts.input_unchanged:
        fail("normalize.modified_input")
    if not facts.is_float:
        fail("normalize.not_float", dtype=facts.dtype)
    if facts.max_error is None or facts.max_error > NORMALIZE_TOLERANCE:
        fail("normalize.wrong_values", min=_fmt(facts.min), max=_fmt(facts.max))
    verdict.ok("normalize.ok")


def _fmt(value):
    return "?" if value is None else f"{value:.4g}"
