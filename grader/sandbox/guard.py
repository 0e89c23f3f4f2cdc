"""Undoing what one step changed in the worker's shared state.

The student's code runs in the worker's own process, so it can replace a
function the grader relies on (``keras.Model.evaluate``, ``numpy.array_equal``,
one of the grader's own) or change process-wide settings (the working
folder, Keras's float type, the SIGALRM handler, ``sys.stdout``). The worker
takes a snapshot before importing the student's module and, after every
step, puts everything back. Replaced functions are reported: that step's
observations are not trusted. Settings are reset silently: changing them is
allowed, it only must not leak into the next step.

This is a tripwire, not a wall: code in the same process can always reach
further (ctypes, gc). The parent's own measurement (``grader/measure.py``)
does not depend on it.
"""

from __future__ import annotations

import os
import signal
import sys
import types
from typing import Any

# Modules whose functions the grader's code in the worker calls.
MODULES = ("builtins", "os", "json", "signal", "inspect", "numpy", "pandas", "keras", "keras.utils", "keras.ops", "matplotlib.pyplot")
MISSING = object()


def _classes() -> list[type]:
    import keras
    import matplotlib.axes
    import matplotlib.figure
    import matplotlib.image
    import matplotlib.lines
    import pandas

    roots = [
        keras.Sequential,
        keras.layers.Dense,
        keras.layers.Flatten,
        keras.layers.Dropout,
        keras.layers.Activation,
        keras.layers.InputLayer,
        keras.callbacks.History,
        matplotlib.figure.Figure,
        matplotlib.axes.Axes,
        matplotlib.image.AxesImage,
        matplotlib.lines.Line2D,
        pandas.DataFrame,
    ]
    return list(dict.fromkeys(c for root in roots for c in root.__mro__ if c is not object))


def _name(owner: Any, attribute: str) -> str:
    return f"{getattr(owner, '__module__', '')}.{getattr(owner, '__qualname__', getattr(owner, '__name__', '?'))}.{attribute}".lstrip(".")


def _functions(value: Any) -> list[types.FunctionType]:
    inner = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
    return [inner] if isinstance(inner, types.FunctionType) else []


class Guard:
    def __init__(self) -> None:
        self.entries: list[tuple[Any, str, Any]] = []  # (owner, attribute, original value)
        self.class_keys: dict[type, set[str]] = {}
        self.code: dict[types.FunctionType, tuple[Any, Any, Any]] = {}
        self.settings = self._settings()
        # The worker runs as __main__; its globals are the grader's too.
        grader_modules = [m for n, m in list(sys.modules.items()) if n in ("grader", "__main__") or n.startswith("grader.")]
        for module in grader_modules:
            self._watch(module, vars(module), everything=True)
            for value in list(vars(module).values()):
                if isinstance(value, type) and value.__module__ == module.__name__ and value not in self.class_keys:
                    self._watch_class(value)
        for name in MODULES:
            if name in sys.modules:
                self._watch(sys.modules[name], vars(sys.modules[name]), everything=False)
        for cls in _classes():
            self._watch_class(cls)

    def _watch(self, owner: Any, namespace: Any, everything: bool) -> None:
        for attribute, value in list(namespace.items()):
            if everything or callable(value) or isinstance(value, types.ModuleType):
                self.entries.append((owner, attribute, value))
                for function in _functions(value):
                    self.code[function] = (function.__code__, function.__defaults__, function.__kwdefaults__)

    def _watch_class(self, cls: type) -> None:
        self.class_keys[cls] = set(vars(cls))
        self._watch(cls, vars(cls), everything=False)

    @staticmethod
    def _settings() -> dict[str, Any]:
        import keras

        return {
            "cwd": os.getcwd(),
            "alarm": signal.getsignal(signal.SIGALRM) if hasattr(signal, "SIGALRM") else None,
            "streams": (sys.stdout, sys.stderr, sys.stdin),
            "trace": (sys.gettrace(), sys.getprofile()),
            "floatx": keras.config.floatx(),
            "epsilon": keras.config.epsilon(),
            "image_data_format": keras.config.image_data_format(),
            "dtype_policy": keras.config.dtype_policy(),
        }

    def restore(self) -> list[str]:
        """Put everything back; return the functions that had been replaced."""
        changed: list[str] = []
        for owner, attribute, original in self.entries:
            namespace = vars(owner)
            if namespace.get(attribute, MISSING) is not original:
                setattr(owner, attribute, original)
                changed.append(_name(owner, attribute))
        for cls, keys in self.class_keys.items():
            for attribute in set(vars(cls)) - keys:
                if callable(vars(cls)[attribute]) or isinstance(vars(cls)[attribute], (classmethod, staticmethod, property)):
                    delattr(cls, attribute)
                    changed.append(_name(cls, attribute))
        for function, (code, defaults, kwdefaults) in self.code.items():
            if function.__code__ is not code or function.__defaults__ is not defaults or function.__kwdefaults__ is not kwdefaults:
                function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
                changed.append(f"{function.__module__}.{function.__qualname__}")
        self._reset_settings()
        return sorted(set(changed))

    def _reset_settings(self) -> None:
        import keras

        saved = self.settings
        os.makedirs(saved["cwd"], exist_ok=True)  # the step may have deleted it
        os.chdir(saved["cwd"])
        if hasattr(signal, "SIGALRM"):
            signal.signal(signal.SIGALRM, saved["alarm"])
        sys.stdout, sys.stderr, sys.stdin = saved["streams"]
        sys.settrace(saved["trace"][0])
        sys.setprofile(saved["trace"][1])
        keras.config.set_floatx(saved["floatx"])
        keras.config.set_epsilon(saved["epsilon"])
        keras.config.set_image_data_format(saved["image_data_format"])
        keras.config.set_dtype_policy(saved["dtype_policy"])
