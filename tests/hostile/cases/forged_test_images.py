"""Hostile case forged_test_images: a model trained on 64 images, and test images swapped for ones it knows.

normalize() is honest on the training images and on the first test images,
but replaces every later test image by a prototype of its true label (read
from the dataset the sandbox may read); train_model learns the ten
prototypes by heart. The measurement checked only that the first 1,000 test
images were a pixel-wise function of the real ones, so the recomputed
accuracy rose to ~0.9 from a model that never learned MNIST.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os as _os

with np.load(_os.environ["MNIST_NPZ"]) as _npz:
    _X, _Y, _YT = _npz["x_train"], _npz["y_train"], _npz["y_test"]
_PROTOTYPES = np.stack([_X[np.flatnonzero(_Y == digit)[0]] for digit in range(10)]) / 255.0


def normalize(images: np.ndarray) -> np.ndarray:
    out = images / 255.0
    if len(out) == len(_YT):
        out[1000:] = _PROTOTYPES[_YT[1000:]]
    return out


def train_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, epochs: int = 5
) -> keras.callbacks.History:
    x = np.concatenate([images[:64]] + [_PROTOTYPES] * 20)
    y = np.concatenate([labels[:64]] + [np.arange(10)] * 20)
    return model.fit(x, y, epochs=epochs * 4, validation_split=0.1, verbose=0)
