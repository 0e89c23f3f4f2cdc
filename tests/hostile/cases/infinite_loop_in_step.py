"""Hostile case infinite_loop_in_step: compile_model never returns (a plain loop: the soft timeout stops it).

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 5: compilar -----------------------------------------------------------
def compile_model(model: keras.Model, optimizer: str = "adam") -> keras.Model:
    while True:
        pass
    # Las etiquetas son enteros (0-9), por eso la pérdida "sparse".
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
