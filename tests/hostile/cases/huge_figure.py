"""Hostile case huge_figure: show_sample also draws 3,000 images as one 84000x28 picture.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 2: ver un ejemplo -----------------------------------------------------
def show_sample(images: np.ndarray, labels: np.ndarray, index: int) -> Figure:
    print(f"Etiqueta: {labels[index]}")
    fig, ax = plt.subplots()
    # cmap="gray" muestra los niveles de gris tal como son (0 = negro).
    ax.imshow(images[index], cmap="gray")
    ax.set_title(f"Ejemplo {index}: dígito {labels[index]}")
    extra = fig.add_axes((0.0, 0.0, 0.1, 0.1))
    extra.imshow(images[:3000].reshape(-1, 28), cmap="gray")
    ax.axis("off")
    return fig
