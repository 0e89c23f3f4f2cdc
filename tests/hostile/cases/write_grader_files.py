"""Hostile case write_grader_files: load_data rewrites the grader's files, plants checks, a .pyc, conftest.py files and a config.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os
from pathlib import Path

# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    grader_dir = _grader_dir()
    evil = "import os\nos._exit(97)\n"
    (grader_dir / "checks" / "check_model.py").write_text("def test_everything():\n    pass\n")
    (grader_dir / "checks" / "check_zz_extra.py").write_text(evil)
    (grader_dir / "checks" / "conftest.py").write_text(evil)
    (grader_dir / "conftest.py").write_text(evil)
    (grader_dir / "checks" / "__pycache__").mkdir(exist_ok=True)
    (grader_dir / "checks" / "__pycache__" / "check_data.cpython-311.pyc").write_bytes(b"\0" * 64)
    (grader_dir / "config.toml").write_text("[points]\n")
    (grader_dir / "messages" / "es" / "core.toml").write_text("")
    (_parent_cwd() / "conftest.py").write_text(evil)
    (_parent_cwd() / "pytest.ini").write_text("[pytest]\naddopts = -p no:pytest_jsonreport\n")
    args = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().split(b"\0")
    config = Path(args[args.index(b"--config") + 1].decode())
    (config if config.is_absolute() else _parent_cwd() / config).write_text("[grading]\nmin_accuracy = 0.0\n")
    return keras.datasets.mnist.load_data()
