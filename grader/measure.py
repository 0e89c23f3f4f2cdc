"""The grader's own measurement of the trained model, in the parent process.

The worker leaves the trained weights, a description of the layers, the test
images as the student's ``normalize`` transformed them, and the model's
output on them. None of it is taken on trust: the test images must be a
pixel-wise function of the real ones (so no other images can be slipped in),
and for the layers this activity uses the forward pass is recomputed here
with NumPy from the weights, on labels the worker never reports.

The files are the copy the supervisor took the moment training ended
(``SandboxRun.evidence_dir``), so a later step cannot replace them; and
``min_accuracy`` is awarded only when ``recomputed`` is True: the worker's
reported probabilities serve only to compare ``evaluate`` and ``predict``
against.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.facts import Layer, MalformedFacts, ModelDescription, parse_as

SUPPORTED = {"input", "flatten", "dense", "activation", "dropout"}
MAX_WEIGHTS_BYTES = 256 * 2**20


@dataclass
class Measurement:
    accuracy: float
    loss: float
    probabilities: np.ndarray
    recomputed: bool  # True: NumPy forward pass; False: the worker's output
    inputs_consistent: bool
    outputs_agree: bool


def _activation(name: str, x: np.ndarray) -> np.ndarray:
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        shifted = np.exp(x - x.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)
    raise ValueError(name)


def forward(layers: list[Layer], weights: list[np.ndarray], images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The model's output computed from its weights, or None if a layer is unknown.

    Also the input of the final softmax, when the model ends in one: Keras
    computes the cross-entropy from those logits, without clipping.
    """
    if any(layer.kind not in SUPPORTED for layer in layers):
        return None
    if any(str(layer.activation or "linear").startswith("other") for layer in layers):
        return None
    x = images.astype("float32")
    logits = None
    position = 0
    for layer in layers:
        kind = layer.kind
        if kind == "flatten":
            x = x.reshape(len(x), -1)
        elif kind == "dense":
            if position + 1 + bool(layer.use_bias) > len(weights):
                return None
            if layer.units is not None and (weights[position].ndim != 2 or weights[position].shape[-1] != layer.units):
                return None  # the description does not match the weights: nothing is recomputed from it
            x = x @ weights[position]
            position += 1
            if layer.use_bias:
                x = x + weights[position]
                position += 1
        if kind in ("dense", "activation"):
            activation = layer.activation or "linear"
            logits = x if activation == "softmax" else None
            x = _activation(activation, x)
        # Flatten (of the 2-D output) and Dropout (at inference) change nothing:
        # the softmax's input stays the logits.
    return (x, logits) if position == len(weights) else None


def _cross_entropy(probabilities: np.ndarray, logits: np.ndarray | None, labels: np.ndarray) -> float:
    rows = np.arange(len(labels))
    if probabilities.ndim != 2 or probabilities.shape[-1] <= int(labels.max()):
        return float("nan")
    if logits is not None:
        top = logits.max(axis=-1)
        log_sum = top + np.log(np.exp(logits - top[:, None]).sum(axis=-1))
        return float(np.mean(log_sum - logits[rows, labels]))
    return float(-np.mean(np.log(np.clip(probabilities[rows, labels], 1e-7, 1.0))))


def inputs_are_pixelwise(raw: np.ndarray, transformed: np.ndarray) -> bool:
    """True when equal raw pixels always map to equal transformed values, over every image.

    Every image, not a sample: an image left out could be any image at all
    (one the model knows by heart, of the true label).
    """
    raw = raw.ravel()
    values = transformed.ravel()
    if raw.shape != values.shape:
        return False
    order = np.argsort(raw, kind="stable")
    raw, values = raw[order], values[order]
    starts = np.flatnonzero(np.r_[True, raw[1:] != raw[:-1]])
    spread = np.maximum.reduceat(values, starts) - np.minimum.reduceat(values, starts)
    return bool(np.all(spread <= 1e-6))


def load_weights(path: Path, max_bytes: int = MAX_WEIGHTS_BYTES) -> list[np.ndarray]:
    """The weights of a checkpoint (an npz), read only if it is stored uncompressed and within ``max_bytes``.

    The observer writes the checkpoint itself, from arrays it checked; the cap
    makes loading more than a declared, bounded size impossible even so: a
    deflated member (a decompression bomb) or one larger than the cap is a
    ValueError before anything is inflated.
    """
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if any(m.compress_type != zipfile.ZIP_STORED for m in members) or sum(m.file_size for m in members) > max_bytes:
            raise ValueError("checkpoint compressed or over its size cap")
    with np.load(path, allow_pickle=False) as archive:
        return [archive[f"w{i}"] for i in range(len(archive.files))]


def measure(state_dir: Path, x_test: np.ndarray, y_test: np.ndarray) -> Measurement:
    try:
        layers = parse_as(ModelDescription, json.loads((state_dir / "model.json").read_text())).layers
    except MalformedFacts:
        layers = [Layer(kind="unknown", class_name="?")]  # not what the worker writes: nothing is recomputed from it
    weights = load_weights(state_dir / "weights.npz")
    images = np.load(state_dir / "x_test_n.npy", allow_pickle=False)
    reported = np.load(state_dir / "probabilities.npy", allow_pickle=False)
    consistent = images.shape == x_test.shape and inputs_are_pixelwise(x_test, images)
    if not consistent:
        images = x_test.astype("float32") / 255.0
    result = forward(layers, weights, images)
    computed, logits = result if result is not None else (None, None)
    agree = computed is not None and reported.shape == computed.shape and bool(np.allclose(reported, computed, atol=1e-4))
    probabilities = computed if computed is not None else reported
    return Measurement(
        accuracy=float(np.mean(probabilities.argmax(axis=-1) == y_test)),
        loss=_cross_entropy(probabilities, logits, y_test),
        probabilities=probabilities,
        recomputed=computed is not None,
        inputs_consistent=consistent,
        outputs_agree=agree,
    )
