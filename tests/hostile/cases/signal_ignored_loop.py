"""Hostile case signal_ignored_loop: show_sample ignores SIGALRM, then sleeps forever: only the supervisor can stop it.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 2: ver un ejemplo -----------------------------------------------------
def show_sample(images: np.ndarray, labels: np.ndarray, index: int) -> Figure:
    print(f"Etiqueta: {labels[index]}")
    import signal
    import time

    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        time.sleep(0.1)
    fig, ax = plt.subplots()
    # cmap="gray" muestra los niveles de gris tal como son (0 = negro).
    ax.imshow(images[index], cmap="gray")
    ax.set_title(f"Ejemplo {index}: dígito {labels[index]}")
    ax.axis("off")
    return fig
