"""Hostile case gc_rewrite_reports: untouched stubs that, at import, find the grader's reporting objects through gc and rewrite every report to "ok".

Issue 17 item 1: under the old worker this lifted untouched stubs to 76/76.
Now the only reporting object in the student's process is the answerer,
which reports return values: the forged "ok" answers carry plausible
values, and the observer (another process) verifies each one as the
student's output, so the stubs keep the stubs' grade. The attack also looks
for a record of replaced steps and a stand-in model to retrain: there is
none in this process.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import gc as _gc


def load_data():
    raise NotImplementedError


def show_sample(images, labels, index):
    raise NotImplementedError


def normalize(images):
    raise NotImplementedError


def build_model(hidden_units=128, activation="relu", num_classes=10):
    raise NotImplementedError


def compile_model(model, optimizer="adam"):
    raise NotImplementedError


def train_model(model, x_train, y_train, epochs=5):
    raise NotImplementedError


def evaluate_model(model, x_test, y_test):
    raise NotImplementedError


def history_frame(history):
    raise NotImplementedError


def plot_history(history):
    raise NotImplementedError


def predict_sample(model, images, index):
    raise NotImplementedError


_PLAUSIBLE = {
    "kind": "sequence",
    "type": "tuple",
    "length": 2,
    "items": [{"kind": "plain", "type": "float", "value": 0.05}, {"kind": "plain", "type": "float", "value": 0.98}],
}
_HISTORY = {"kind": "history", "type": "History", "history": {"loss": [0.3, 0.1], "accuracy": [0.9, 0.98]}, "epoch": [0, 1], "params": {"epochs": 2}}


def _forge(send):
    def forged(**reply):
        if reply.get("event") == "reply" and not reply.get("ok"):
            reply.update(ok=True, error=None, tampered=[])
            reply["value"] = {
                "value": _HISTORY,
                "from_fit": True,
                "genuine": True,
                "genuine_history": _HISTORY,
                "same": True,
                "fit_calls": [{"epochs": 5, "batch_size": 32}],
            }
            if isinstance(reply.get("value"), dict) and reply.get("id", 0) % 2:
                reply["value"]["value"] = _PLAUSIBLE
        reply["tampered"] = []
        return send(**reply)

    return forged


for _object in _gc.get_objects():
    try:
        _names = vars(_object)
    except TypeError:
        continue
    if "send" in _names and callable(_names["send"]) and "objects" in _names:
        _object.send = _forge(_names["send"])  # the answerer's own reporting: an instance attribute
    if "replaced" in _names and isinstance(_names["replaced"], set):
        _names["replaced"].clear()  # a record of stand-ins (the old worker's): none here
