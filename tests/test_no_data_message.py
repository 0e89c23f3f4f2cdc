"""Offline without MNIST_NPZ: the one sentence says how to set the variable in bash and PowerShell."""

from __future__ import annotations

import subprocess

import pytest

from grader import data, fetch_data
from grader.grade import GradingError


@pytest.mark.parametrize("lang", ["es", "en"])
def test_no_data_message_gives_bash_and_powershell(lang, monkeypatch):
    monkeypatch.setattr(fetch_data.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1))
    monkeypatch.setattr(data, "dataset_file", lambda: None)
    with pytest.raises(GradingError) as raised:
        fetch_data.fetch(lang)
    message = str(raised.value)
    assert "export MNIST_NPZ=/" in message
    assert '$env:MNIST_NPZ = "C:\\' in message and 'mnist.npz"' in message
    assert "PowerShell" in message and "\n" not in message
