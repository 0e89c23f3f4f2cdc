"""Hostile case deep_tree_restart (issue 17, attack 4): normalize leaves a chain of 2,100 folders (a path of 6,300 bytes, past PATH_MAX and Python's recursion limit) in the state folder, then ends the process, so a new worker starts from that folder.

Graded at `user` (expected.toml: level), where the state folder is a host
folder the parent prepares for the restarted worker and removes at the end:
it never builds such a path nor recurses (grader/sandbox/tree.py). Appended
to the reference solution (solutions/mnist_dense.py) by tests/test_hostile.py.
"""

import os


# Paso 3: normalizar ---------------------------------------------------------
def normalize(images: np.ndarray) -> np.ndarray:
    start = os.getcwd()
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    for _ in range(2100):
        os.mkdir("dd")
        os.chdir("dd")
    os.chdir(start)
    os._exit(3)
