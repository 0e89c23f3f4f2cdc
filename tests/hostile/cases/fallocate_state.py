"""Hostile case fallocate_state (issue 17, attack 3): normalize allocates 3 x 1 GiB with posix_fallocate in the state folder (instant: no time limit bounds it) and leaves the files there.

At `namespaces` the state folder is in the sandbox's one size-capped tmpfs
([isolation] storage_mb): at most one 1 GiB file fits, nothing reaches the
host's disk. Appended to the reference solution (solutions/mnist_dense.py)
by tests/test_hostile.py; later definitions replace the reference's.
"""

import os


# Paso 3: normalizar ---------------------------------------------------------
def normalize(images: np.ndarray) -> np.ndarray:
    state = os.path.dirname(os.path.abspath(__file__))
    made = 0
    for part in range(3):
        try:
            fd = os.open(os.path.join(state, f"hostile-fallocate-{part}"), os.O_CREAT | os.O_WRONLY, 0o600)
            try:
                os.posix_fallocate(fd, 0, 1 << 30)
                made += 1
            finally:
                os.close(fd)
        except OSError as error:
            print("HOSTILE_FALLOCATE_FAILED", part, error.strerror)
    print(f"HOSTILE_ALLOCATED {made}")
    return images.astype("float32") / 255.0
