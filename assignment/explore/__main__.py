"""``python -m assignment.explore``: see ``cli.py`` (``--help`` lists the options)."""

import os
import sys

# Before anything imports TensorFlow or matplotlib: no C++ log noise, no window.
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ.setdefault("MPLBACKEND", "Agg")

from assignment.explore.cli import main

sys.exit(main())
