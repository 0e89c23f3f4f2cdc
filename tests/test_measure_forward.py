"""The grader's own forward pass and measurement (grader/measure.py), without Keras.

min_accuracy rests on this computation alone, so each rule of it has a fast
test: every activation, separate Activation layers, a Dense without bias, the
weights that must all be used, layers it cannot compute, the cross-entropy
from logits and from probabilities, and ``measure`` on a checkpoint folder.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from grader.facts import Layer
from grader.measure import _cross_entropy, forward, measure

RNG = np.random.default_rng(3)
IMAGES = RNG.random((12, 28, 28)).astype("float32")
W1, B1 = RNG.normal(0, 0.05, (784, 16)).astype("float32"), RNG.normal(0, 0.1, 16).astype("float32")
W2, B2 = RNG.normal(0, 0.3, (16, 10)).astype("float32"), RNG.normal(0, 0.1, 10).astype("float32")
LABELS = np.arange(12) % 10

# The activations written out plainly, as a reader checks them by hand.
ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "sigmoid": lambda x: np.exp(x) / (1.0 + np.exp(x)),
    "tanh": lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True),
}


def flatten() -> Layer:
    return Layer("flatten", "Flatten")


def dense(units: int, activation: str, use_bias: bool = True) -> Layer:
    return Layer("dense", "Dense", units=units, activation=activation, use_bias=use_bias)


@pytest.mark.parametrize("hidden", ["linear", "relu", "sigmoid", "tanh"])
def test_every_activation_is_computed_as_keras_does(hidden):
    output, logits = forward([flatten(), dense(16, hidden), dense(10, "softmax")], [W1, B1, W2, B2], IMAGES)
    pre = ACTIVATIONS[hidden](IMAGES.reshape(12, -1) @ W1 + B1) @ W2 + B2
    assert np.allclose(output, ACTIVATIONS["softmax"](pre), atol=1e-5)
    assert np.allclose(logits, pre, atol=1e-5)  # the final softmax's input, for the loss


def test_activation_layers_and_a_dense_without_bias():
    layers = [
        flatten(),
        dense(16, "linear", use_bias=False),
        Layer("activation", "ReLU", activation="relu"),
        dense(10, "linear"),
        Layer("activation", "Softmax", activation="softmax"),
    ]
    output, logits = forward(layers, [W1, W2, B2], IMAGES)
    pre = np.maximum(IMAGES.reshape(12, -1) @ W1, 0) @ W2 + B2
    assert np.allclose(output, ACTIVATIONS["softmax"](pre), atol=1e-5) and np.allclose(logits, pre, atol=1e-5)


def test_an_output_without_softmax_has_no_logits():
    output, logits = forward([flatten(), dense(16, "relu"), dense(10, "linear")], [W1, B1, W2, B2], IMAGES)
    assert logits is None and np.allclose(output, np.maximum(IMAGES.reshape(12, -1) @ W1 + B1, 0) @ W2 + B2, atol=1e-5)


@pytest.mark.parametrize(
    ("layers", "weights"),
    [
        ([flatten(), dense(16, "relu"), dense(10, "softmax")], [W1, B1, W2, B2, B2]),  # a weight left over
        ([flatten(), dense(16, "relu"), dense(10, "softmax")], [W1, B1, W2]),  # a weight missing
        ([flatten(), Layer("other", "BatchNormalization"), dense(10, "softmax")], [W2, B2]),  # a layer it cannot compute
        ([flatten(), dense(16, "other:swish"), dense(10, "softmax")], [W1, B1, W2, B2]),  # an activation it does not know
    ],
)
def test_what_it_cannot_compute_faithfully_is_not_computed(layers, weights):
    assert forward(layers, weights, IMAGES) is None


def test_cross_entropy_from_logits_and_from_probabilities():
    logits = RNG.normal(0, 2, (12, 10))
    probabilities = ACTIVATIONS["softmax"](logits)
    expected = float(np.mean(-np.log(probabilities[np.arange(12), LABELS])))
    assert _cross_entropy(probabilities, logits, LABELS) == pytest.approx(expected, rel=1e-6)
    assert _cross_entropy(probabilities, None, LABELS) == pytest.approx(expected, rel=1e-4)
    assert np.isnan(_cross_entropy(probabilities[:, :5], None, LABELS))  # fewer outputs than classes


def _checkpoint(folder, layers, weights, images, reported):
    (folder / "model.json").write_text(json.dumps({"layers": [dataclasses.asdict(layer) for layer in layers]}))
    np.savez(folder / "weights.npz", **{f"w{i}": w for i, w in enumerate(weights)})
    np.save(folder / "x_test_n.npy", images)
    np.save(folder / "probabilities.npy", reported)


def test_measure_recomputes_the_accuracy_on_the_real_labels(tmp_path):
    raw = (IMAGES * 255).astype("uint8")
    layers, weights = [flatten(), dense(16, "relu"), dense(10, "softmax")], [W1, B1, W2, B2]
    truth, _ = forward(layers, weights, raw / 255.0)
    _checkpoint(tmp_path, layers, weights, (raw / 255.0).astype("float32"), truth.astype("float32"))
    measured = measure(tmp_path, raw, LABELS)
    assert measured.recomputed and measured.inputs_consistent and measured.outputs_agree
    assert measured.accuracy == pytest.approx(float(np.mean(truth.argmax(axis=1) == LABELS)))
    assert measured.loss == pytest.approx(float(np.mean(-np.log(truth[np.arange(12), LABELS]))), rel=1e-3)


def test_measure_does_not_take_the_workers_word(tmp_path):
    raw = (IMAGES * 255).astype("uint8")
    layers, weights = [flatten(), dense(16, "relu"), dense(10, "softmax")], [W1, B1, W2, B2]
    perfect = np.eye(10, dtype="float32")[LABELS]  # what a forged report would claim
    _checkpoint(tmp_path, layers, weights, (raw / 255.0).astype("float32"), perfect)
    measured = measure(tmp_path, raw, LABELS)
    truth, _ = forward(layers, weights, raw / 255.0)
    assert measured.recomputed and not measured.outputs_agree
    assert np.allclose(measured.probabilities, truth, atol=1e-6)


def test_images_of_another_shape_are_replaced_by_the_real_ones(tmp_path):
    raw = (IMAGES * 255).astype("uint8")
    layers, weights = [flatten(), dense(16, "relu"), dense(10, "softmax")], [W1, B1, W2, B2]
    truth, _ = forward(layers, weights, raw / 255.0)
    _checkpoint(tmp_path, layers, weights, np.zeros((3, 28, 28), "float32"), truth.astype("float32"))
    measured = measure(tmp_path, raw, LABELS)
    assert not measured.inputs_consistent and np.allclose(measured.probabilities, truth, atol=1e-5)


def test_without_a_forward_pass_the_reported_output_is_used_and_said(tmp_path):
    raw = (IMAGES * 255).astype("uint8")
    reported = np.eye(10, dtype="float32")[LABELS]
    _checkpoint(tmp_path, [flatten(), Layer("other", "Secret")], [W2], (raw / 255.0).astype("float32"), reported)
    measured = measure(tmp_path, raw, LABELS)
    assert not measured.recomputed and measured.accuracy == 1.0  # min_accuracy refuses it: not_recomputed


def test_layers_that_change_nothing_after_the_softmax_keep_its_logits():
    layers = [flatten(), dense(16, "relu"), dense(10, "softmax"), Layer("dropout", "Dropout"), flatten()]
    output, logits = forward(layers, [W1, B1, W2, B2], IMAGES)
    pre = np.maximum(IMAGES.reshape(12, -1) @ W1 + B1, 0) @ W2 + B2
    assert np.allclose(output, ACTIVATIONS["softmax"](pre), atol=1e-5) and np.allclose(logits, pre, atol=1e-5)


def test_a_description_that_does_not_match_the_weights_is_not_computed():
    """A forged description (128 units claimed, 32 in the weights) is never measured (issue 17)."""
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(784, 32)).astype("float32"), np.zeros(32, "float32"), rng.normal(size=(32, 10)).astype("float32"), np.zeros(10, "float32")]
    images = np.zeros((2, 28, 28), "float32")
    assert forward([flatten(), dense(32, "relu"), dense(10, "softmax")], weights, images) is not None
    assert forward([flatten(), dense(128, "relu"), dense(10, "softmax")], weights, images) is None


def test_the_checkpoint_is_loaded_only_uncompressed_and_under_its_cap(tmp_path):
    """A deflated checkpoint (a decompression bomb) is refused before anything is inflated (issue 17)."""
    import zipfile

    from grader.measure import load_weights

    np.savez(tmp_path / "plain.npz", w0=np.ones((4, 3), "float32"))
    assert load_weights(tmp_path / "plain.npz")[0].shape == (4, 3)
    np.savez_compressed(tmp_path / "deflated.npz", w0=np.zeros((1000, 1000), "float32"))
    with pytest.raises(ValueError, match="compressed"):
        load_weights(tmp_path / "deflated.npz")
    with pytest.raises(ValueError, match="cap"):
        load_weights(tmp_path / "plain.npz", max_bytes=10)
    with zipfile.ZipFile(tmp_path / "plain.npz") as archive:
        assert all(m.compress_type == zipfile.ZIP_STORED for m in archive.infolist())
