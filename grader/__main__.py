import sys

# The grader writes no bytecode, so any .pyc that appears in its folders
# during a run was planted (see grader/protect.py).
sys.dont_write_bytecode = True

from grader.cli import main  # noqa: E402

sys.exit(main())
