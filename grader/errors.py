"""The one family of errors that stop a grading before it starts.

Every failure to grade at all (no module, no data, a bad ``MNIST_NPZ``, a bad
config, no sandbox) is a :class:`GradingError`: ``python -m grader`` prints
its one sentence after the ``error.prefix`` of the chosen language and exits 2.
"""

from __future__ import annotations


class GradingError(RuntimeError):
    """Grading could not happen at all; the message says why, in one sentence."""

    def sentence(self, lang: str) -> str:
        """The sentence in ``lang``: most are rendered where they are raised, in the request's language
        (``ConfigError`` is raised before the language is known, and renders here)."""
        return str(self)
