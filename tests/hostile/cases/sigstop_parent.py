"""Hostile case sigstop_parent (issue 9, attack 6): show_sample sends SIGSTOP to its parent and to its parent's process group, so that the grading would never finish.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os
import signal

# Paso 2: ver un ejemplo -----------------------------------------------------
def show_sample(images: np.ndarray, labels: np.ndarray, index: int) -> Figure:
    print(f"Etiqueta: {labels[index]}")
    for stop in (lambda: os.kill(os.getppid(), signal.SIGSTOP), lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGSTOP)):
        try:
            stop()
        except OSError:
            pass
    fig, ax = plt.subplots()
    ax.imshow(images[index], cmap="gray")
    ax.set_title(f"Ejemplo {index}: dígito {labels[index]}")
    ax.axis("off")
    return fig
