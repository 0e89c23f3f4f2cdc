"""Hostile case checkpoint_overwrite (issue 9, attack 4): train_model trains on 64 images; evaluate_model then rewrites the checkpoint (model.json with an unknown layer kind, probabilities.npy one-hot on the true labels).

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import json
import sys
from pathlib import Path

# Paso 6: entrenar -----------------------------------------------------------
def train_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, epochs: int = 5
) -> keras.callbacks.History:
    return model.fit(images[:64], labels[:64], epochs=epochs, validation_split=0.1, verbose=0)


# Paso 7: evaluar ------------------------------------------------------------
def evaluate_model(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    loss, accuracy = model.evaluate(images, labels, verbose=0)
    state = Path(sys.modules[__name__].__file__).parent
    try:
        (state / "model.json").write_text(json.dumps({"layers": [{"kind": "secret"}]}))
        np.save(state / "probabilities.npy", np.eye(10, dtype="float32")[labels])
    except OSError:
        pass
    return float(loss), float(accuracy)
