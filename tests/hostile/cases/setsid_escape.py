"""Hostile case setsid_escape: predict_sample starts a new session (setsid) with a double fork and a `setsid` command, to leave the process tree and outlive the grading.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os

# Paso 9: predecir -----------------------------------------------------------
def predict_sample(model: keras.Model, images: np.ndarray, index: int) -> tuple[np.ndarray, int]:
    import subprocess
    import sys

    sleeper = [sys.executable, "-c", "import time; time.sleep(120)", "hostile-marker-setsid_escape"]
    try:
        subprocess.Popen(["setsid", "-f", *sleeper], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        pass
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, sleeper)
        os._exit(0)
    os.wait()
    probabilities = model.predict(images[index : index + 1], verbose=0)[0]
    return probabilities, int(np.argmax(probabilities))
