"""Keeping the grader's own files as they were while student code runs.

The worker runs with the same file permissions as the grader, so a hostile
submission can write to or delete the grader's files. The parent takes a
snapshot before the run and, after every student process is dead, puts back
anything changed, added or removed, and says which files those were.
Compiled caches (``__pycache__``) are guarded too: a planted ``.pyc`` would
otherwise run inside the next grading. The grader writes no bytecode itself
(``sys.dont_write_bytecode``), so any change there is the submission's.
"""

from __future__ import annotations

from pathlib import Path


class FileGuard:
    def __init__(self, roots: list[Path]) -> None:
        self.roots = [r.resolve() for r in roots]
        self.snapshot = {path: path.read_bytes() for path in self._files()}

    def _files(self) -> list[Path]:
        files = []
        for root in self.roots:
            candidates = [root] if root.is_file() else root.rglob("*")
            files.extend(p for p in candidates if p.is_file())
        return files

    def restore(self) -> list[str]:
        """Undo every change; return the paths that had been changed."""
        changed = []
        current = set(self._files())
        for path in current - set(self.snapshot):
            path.unlink()
            changed.append(str(path))
        for path, content in self.snapshot.items():
            if path not in current or path.read_bytes() != content:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                changed.append(str(path))
        return sorted(changed)
