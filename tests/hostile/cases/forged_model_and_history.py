"""Hostile case forged_model_and_history: the answerer's describer claims a perfect model, and the History it sends has text where numbers belong.

The description of a model and the History are return values as far as the
observer is concerned: a forged description can win the architecture check
only as a claim about the returned model, and the accuracy is still measured
outside from the weights (here the stubs train nothing, so min_accuracy is
low). A History whose values are not numbers fails its step as tampered.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import gc as _gc


def _liar(encode_history):
    def forged(history):
        described = encode_history(history)
        described["history"] = {"loss": ["0.1", {"__class__": "os.system"}], "accuracy": [1.0, 1.0]}
        return described

    return forged


for _object in _gc.get_objects():
    try:
        _names = vars(_object)
    except TypeError:
        continue
    if "objects" in _names and "outbox" in _names and callable(getattr(_object, "encode_history", None)):
        _object.encode_history = _liar(_object.encode_history)


def build_model(hidden_units=128, activation="relu", num_classes=10):
    # Fewer units than asked for; the describer below claims the asked-for number.
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation=activation),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


def _claims_128(describe):
    def forged(request):
        described = describe(request)
        if request.get("as") == "model" and isinstance(described, dict):
            for layer in described.get("layers", []):
                if layer.get("units") == 32:
                    layer["units"] = 128
        return described

    return forged


for _object in _gc.get_objects():
    try:
        _names = vars(_object)
    except TypeError:
        continue
    if "objects" in _names and "outbox" in _names and callable(getattr(_object, "op_describe", None)):
        _object.op_describe = _claims_128(_object.op_describe)
