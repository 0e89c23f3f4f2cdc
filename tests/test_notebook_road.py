"""The one documented way to open and run the notebook on a student's machine.

README's student half, the notebook's first cell and requirements-notebook.txt
say the same commands; the packages pinned there provide them (at the versions
the test suite runs); and the headless command, exactly as documented, runs
every cell of the notebook against the reference solution.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "assignment" / "mnist_dense.ipynb"
INSTALL = "pip install -r requirements-notebook.txt"
OPEN = "jupyter notebook assignment/mnist_dense.ipynb"
RUN = "jupyter execute --inplace assignment/mnist_dense.ipynb"


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text("utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s#]+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_readme_and_notebook_give_the_same_commands():
    readme = (ROOT / "README.md").read_text("utf-8")
    student_half = readme.split("## Para estudiantes", 1)[1]
    intro = " ".join(nbformat.read(NOTEBOOK, as_version=4).cells[0].source.split())
    for command in (INSTALL, OPEN, RUN):
        assert command in student_half, command
        assert command in intro, command


def test_the_notebook_requirements_pin_what_provides_the_commands():
    notebook_pins = pins(ROOT / "requirements-notebook.txt")
    assert "-r requirements.txt" in (ROOT / "requirements-notebook.txt").read_text("utf-8")
    assert {"notebook", "nbclient", "ipykernel"} <= set(notebook_pins)
    dev = pins(ROOT / "requirements-dev.txt")
    # jupyter execute comes from nbclient; the suite runs the notebook with these same versions.
    assert notebook_pins["nbclient"] == dev["nbclient"] and notebook_pins["ipykernel"] == dev["ipykernel"]
    assert any(e.name == "jupyter-execute" and e.value.startswith("nbclient") for e in entry_points(group="console_scripts"))


@pytest.mark.slow
def test_the_documented_headless_command_runs_every_cell(tmp_path, monkeypatch):
    from ipykernel.kernelspec import write_kernel_spec

    from grader.data import dataset_file

    source = dataset_file()
    if source is None:
        pytest.skip("MNIST_NPZ is not set")
    with np.load(source) as f:
        subset = {"x_train": f["x_train"][:3000], "y_train": f["y_train"][:3000], "x_test": f["x_test"][:1000], "y_test": f["y_test"][:1000]}
    npz = tmp_path / "mnist_small.npz"
    np.savez_compressed(npz, **subset)
    repo = tmp_path / "repo"
    (repo / "assignment").mkdir(parents=True)
    shutil.copy(NOTEBOOK, repo / "assignment" / "mnist_dense.ipynb")
    shutil.copy(ROOT / "solutions" / "mnist_dense.py", repo / "assignment" / "mnist_dense.py")
    kernels = tmp_path / "jupyter"
    write_kernel_spec(kernels / "kernels" / "python3", overrides={"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]})
    env = {"JUPYTER_PATH": str(kernels), "MNIST_NPZ": str(npz), "PYTHONPATH": str(ROOT)}
    jupyter = Path(sys.executable).with_name("jupyter")
    done = subprocess.run([str(jupyter), *RUN.split()[1:]], cwd=repo, capture_output=True, text=True, timeout=900, env={**_base_env(), **env})
    assert done.returncode == 0, done.stderr[-3000:]
    executed = nbformat.read(repo / "assignment" / "mnist_dense.ipynb", as_version=4)
    outputs = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the sample and the history, saved in the file


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND")}
