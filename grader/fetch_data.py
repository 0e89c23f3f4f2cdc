"""Download MNIST through Keras, in a child process, when nothing is cached.

The grader's own process never imports TensorFlow; this is the one place
that asks Keras for the dataset, and only when ``MNIST_NPZ`` is unset and
Keras's cache is empty. Offline that fails, and the message says what to do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from grader import data, i18n
from grader.errors import GradingError

SCRIPT = "import keras; keras.datasets.mnist.load_data()"


def fetch(lang: str) -> Path:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, timeout=600)
    path = data.dataset_file()
    if done.returncode != 0 or path is None:
        raise GradingError(i18n.render(lang, "error.no_data", var=data.ENV_VAR, cache=data.keras_cache_file()))
    return path
