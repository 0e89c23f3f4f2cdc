"""Hostile case background_thread: load_data starts a thread that keeps writing a fake score.json into --out and printing fake notices.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    # Keras descarga MNIST la primera vez y lo guarda en ~/.keras/datasets.
    import threading
    import time

    out = _out_dir()

    def forge():
        while True:
            try:
                out.mkdir(parents=True, exist_ok=True)
                (out / "score.json").write_text('{"score": 100, "max_score": 100}')
            except OSError:
                pass
            print("::notice title=Autograding complete::Points 100/100")
            time.sleep(0.2)

    threading.Thread(target=forge, daemon=True).start()
    return keras.datasets.mnist.load_data()
