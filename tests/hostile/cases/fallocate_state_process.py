"""Hostile case fallocate_state_process (issue 17, attack 3 at `process`): normalize allocates 3 x 1 GiB with posix_fallocate in the state folder, a host folder at this level.

No tmpfs bounds it here: the supervisor checks the state and working
folders' total every second ([isolation] storage_mb), stops the step over it
(step.storage) and removes what it left. Appended to the reference solution
(solutions/mnist_dense.py) by tests/test_hostile.py.
"""

import os


# Paso 3: normalizar ---------------------------------------------------------
def normalize(images: np.ndarray) -> np.ndarray:
    state = os.path.dirname(os.path.abspath(__file__))
    for part in range(3):
        try:
            fd = os.open(os.path.join(state, f"hostile-fallocate-{part}"), os.O_CREAT | os.O_WRONLY, 0o600)
            try:
                os.posix_fallocate(fd, 0, 1 << 30)
            finally:
                os.close(fd)
        except OSError as error:
            print("HOSTILE_FALLOCATE_FAILED", part, error.strerror)
    return images.astype("float32") / 255.0
