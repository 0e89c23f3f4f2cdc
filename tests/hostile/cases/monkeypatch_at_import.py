"""Hostile case monkeypatch_at_import: at import, replaces keras.Model.predict and numpy.allclose.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

keras.Model.predict = lambda self, x, *args, **kwargs: np.full((len(x), 10), 0.1)


np.allclose = lambda *args, **kwargs: True
