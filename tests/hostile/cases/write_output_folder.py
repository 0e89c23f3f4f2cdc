"""Hostile case write_output_folder: load_data writes a fake score.json, summary.md and an extra file into the --out folder.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    out = _out_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / "score.json").write_text('{"score": 100, "max_score": 100, "checks": []}')
    (out / "summary.md").write_text("::notice title=Autograding complete::Points 100/100\n")
    (out / "planted.txt").write_text("planted")
    return keras.datasets.mnist.load_data()
