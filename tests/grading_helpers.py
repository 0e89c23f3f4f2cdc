"""Shared helpers for tests that run the real grader in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"


def mnist_env() -> dict[str, str]:
    """The environment with MNIST_NPZ set (from the caller or ../shared)."""
    env = dict(os.environ)
    if not env.get("MNIST_NPZ") and SHARED_MNIST.is_file():
        env["MNIST_NPZ"] = str(SHARED_MNIST)
    env.pop("PYTHONPATH", None)
    return env


def write_config(path: Path, **grading: Any) -> Path:
    """A copy of grader/config.toml with some [grading] or [time_limits] keys changed.

    Keys named ``limit_<step>`` go to [time_limits]; the rest to [grading].
    """
    with open(ROOT / "grader" / "config.toml", "rb") as handle:
        raw = tomllib.load(handle)
    for key, value in grading.items():
        if key.startswith("limit_"):
            raw["time_limits"][key.removeprefix("limit_")] = value
        else:
            raw["grading"][key] = value
    path.write_text(_dump_toml(raw), encoding="utf-8")
    return path


def _dump_toml(raw: dict[str, Any]) -> str:
    """A minimal TOML writer for the config's shapes (tables, arrays of tables)."""
    lines: list[str] = []

    def value(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False) if not isinstance(v, bool) else str(v).lower()

    def table(name: str, body: dict[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict) and not _is_table_list(v)}
        lines.append(f"[{name}]")
        lines.extend(f"{json.dumps(k)} = {value(v)}" for k, v in scalars.items())
        for k, v in body.items():
            if isinstance(v, dict):
                table(f"{name}.{json.dumps(k)}", v)
            elif _is_table_list(v):
                for item in v:
                    lines.append(f"[[{name}.{json.dumps(k)}]]")
                    lines.extend(f"{json.dumps(ik)} = {value(iv)}" for ik, iv in item.items())

    for name, body in raw.items():
        table(json.dumps(name), body)
    return "\n".join(lines) + "\n"


def _is_table_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(i, dict) for i in v)


def grade(submission: Path, out: Path, *extra: str, config: Path | None = None, env: dict | None = None,
          cwd: Path = ROOT, timeout: float = 600, prefix: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess, dict | None]:
    """Run ``python -m grader`` on ``submission`` (behind ``prefix``, e.g. taskset);
    return the process and score.json."""
    command = [*prefix, sys.executable, "-m", "grader", "--submission", str(submission), "--out", str(out), "--quiet", *extra]
    if config is not None:
        command += ["--config", str(config)]
    done = subprocess.run(command, cwd=cwd, env=env or mnist_env(), capture_output=True, text=True, timeout=timeout)
    score = out / "score.json"
    return done, json.loads(score.read_text()) if score.exists() else None


def failing(score: dict) -> set[str]:
    return {c["id"] for c in score["checks"] if not c["passed"]}
