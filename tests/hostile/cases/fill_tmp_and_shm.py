"""Hostile case fill_tmp_and_shm (issue 9, attack 7): normalize writes up to 512 MB into /tmp and into /dev/shm (twice the cap of each), in files of 128 MB (past any per-file limit), and leaves them there.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 3: normalizar ---------------------------------------------------------
def normalize(images: np.ndarray) -> np.ndarray:
    chunk = b"\0" * (16 << 20)
    for folder in ("/tmp", "/dev/shm"):
        for part in range(4):
            try:
                with open(f"{folder}/hostile-fill-{part}", "ab") as handle:
                    if handle.tell() < (128 << 20):
                        for _ in range(8):
                            handle.write(chunk)
            except OSError:
                break
    return images.astype("float32") / 255.0
