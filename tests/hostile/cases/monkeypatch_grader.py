"""Hostile case monkeypatch_grader: compile_model compiles with SGD and replaces the grader's describe_compile with a perfect answer.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

# Paso 5: compilar -----------------------------------------------------------
def compile_model(model: keras.Model, optimizer: str = "adam") -> keras.Model:
    import grader.sandbox.introspect as introspect

    def perfect(model):
        return {"is_model": True, "compiled": True, "optimizer": "Adam",
                "loss": {"name": "sparse_categorical_crossentropy", "from_logits": False},
                "metrics": [{"name": "accuracy", "from_logits": False}]}

    introspect.describe_compile = perfect
    optimizer = "sgd"
    # Las etiquetas son enteros (0-9), por eso la pérdida "sparse".
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
