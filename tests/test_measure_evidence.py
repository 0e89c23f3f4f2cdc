"""The measurement's check of the test images the student's normalize() produced.

The parent recomputes the accuracy on these images with labels the worker
never reports; if some of them were not a pixel-wise function of the real
test images, the student could have put there images the model knows (case
``forged_test_images`` of tests/hostile/).
"""

from __future__ import annotations

import numpy as np

from grader.measure import inputs_are_pixelwise

RNG = np.random.default_rng(0)
RAW = RNG.integers(0, 256, size=(3000, 28, 28), dtype=np.uint8)


def test_a_pixelwise_transform_of_every_image_is_consistent() -> None:
    assert inputs_are_pixelwise(RAW, RAW / 255.0)
    assert inputs_are_pixelwise(RAW, (RAW.astype("float32") - 33.3) / 78.5)


def test_images_swapped_after_the_first_thousand_are_caught() -> None:
    forged = RAW / 255.0
    forged[1000:] = forged[7]  # every later image replaced by one the model knows
    assert not inputs_are_pixelwise(RAW, forged)


def test_the_last_image_alone_swapped_is_caught() -> None:
    forged = RAW / 255.0
    forged[-1] = RAW[0] / 255.0
    assert not inputs_are_pixelwise(RAW, forged)
