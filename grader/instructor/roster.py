"""What to grade: a folder of student checkouts, or a roster file.

- A folder: each sub-folder is one student's checkout, named by the id.
- A text file: one submission per line, a git URL or a local path (relative
  to the roster file), optionally preceded by the id (``alice https://...``)
  and followed by the student's identifier in the LMS, usually the e-mail
  address (``ID URL EMAIL``), used by ``--export``. Blank lines and ``#``
  comments are skipped. A URL's id is its repository name. URLs are cloned
  with ``git clone --depth 1`` into ``DIR/cache/<id>`` (or updated there
  when already cloned).

With ``--ref REF`` every submission, URL or local git repository, is cloned
at that tag or branch and the commit recorded; one without it is
"no submission at REF" and is not graded at its head.

Cloning and grading can be split (``--fetch-only``, then ``--no-fetch``) so
that no git credential is around while student code runs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CLONE_TIMEOUT = 300.0
CLONE_THREADS = 8
URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class RosterError(ValueError):
    """The submissions cannot be listed; the message says why."""


@dataclass
class Submission:
    id: str
    location: str  # a local folder or a git URL
    path: Path | None = None  # the checkout to grade, once available
    problem: str = ""  # why it is unavailable
    lms_id: str = ""  # the roster's third column (e-mail or LMS login), for --export
    commit: str = ""  # sha of the cloned commit

    @property
    def is_url(self) -> bool:
        return bool(URL.match(self.location))


def safe_id(text: str) -> str:
    cleaned = UNSAFE.sub("-", text).strip(".-")
    return cleaned or "submission"


def id_from_location(location: str) -> str:
    name = location.rstrip("/").replace(":", "/").rsplit("/", 1)[-1]
    return safe_id(name.removesuffix(".git"))


def list_submissions(source: Path) -> list[Submission]:
    if source.is_dir():
        subs = [Submission(safe_id(p.name), str(p), path=p) for p in sorted(source.iterdir()) if p.is_dir() and not p.name.startswith(".")]
    elif source.is_file():
        subs = _read_roster(source)
    else:
        raise RosterError(f"{source}: no such folder or roster file")
    seen: dict[str, str] = {}
    for sub in subs:
        if sub.id in seen:
            raise RosterError(f"two submissions have the id {sub.id!r}: {seen[sub.id]} and {sub.location}; give ids in the roster")
        seen[sub.id] = sub.location
    return sorted(subs, key=lambda s: s.id)


def _read_roster(roster: Path) -> list[Submission]:
    subs = []
    for number, line in enumerate(roster.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            fields = shlex.split(line)
        except ValueError as error:
            raise RosterError(f"{roster}:{number}: {error}") from error
        if len(fields) not in (1, 2, 3):
            raise RosterError(f"{roster}:{number}: expected 'LOCATION', 'ID LOCATION' or 'ID LOCATION EMAIL'")
        location = fields[0] if len(fields) == 1 else fields[1]
        ident = safe_id(fields[0]) if len(fields) >= 2 else id_from_location(location)
        sub = Submission(ident, location, lms_id=fields[2] if len(fields) == 3 else "")
        if not sub.is_url:
            path = (roster.parent / location).expanduser()
            sub.location = str(path)
            sub.path = path if path.is_dir() else None
            sub.problem = "" if sub.path else f"{path}: no such folder"
        subs.append(sub)
    return subs


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise RosterError(f"--shard {text!r}: expected I/N with 1 <= I <= N, for example 2/4")
    return int(match[1]), int(match[2])


def shard(subs: list[Submission], index: int, count: int) -> list[Submission]:
    """Every count-th submission by sorted id, starting at the index-th (1-based)."""
    ordered = sorted(subs, key=lambda s: s.id)
    return ordered[index - 1 :: count]


def cloned(sub: Submission, ref: str | None) -> bool:
    """Whether the submission is graded from a clone in the cache: every URL,
    and with ``--ref`` every local folder too (read as a git repository)."""
    return sub.is_url or ref is not None


def fetch(subs: list[Submission], cache: Path, ref: str | None = None, missing_ref: str = "no submission at {ref}") -> None:
    """Clone (or update) the submissions that come from git into ``cache``, in parallel."""
    remote = [s for s in subs if cloned(s, ref)]
    if not remote:
        return
    cache.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=CLONE_THREADS) as pool:
        list(pool.map(lambda s: _clone(s, cache / s.id, ref, missing_ref), remote))


def use_cache(subs: list[Submission], cache: Path, ref: str | None = None) -> None:
    """Point the git submissions at clones fetched earlier (``--no-fetch``)."""
    for sub in subs:
        if cloned(sub, ref):
            target = cache / sub.id
            sub.path = target if target.is_dir() else None
            sub.problem = "" if sub.path else f"not fetched: no clone in {target} (run without --no-fetch)"
            sub.commit = head_commit(target) if sub.path else ""


def head_commit(checkout: Path) -> str:
    """The sha of the commit checked out in a clone the batch made ("" if none)."""
    if not (checkout / ".git").is_dir():
        return ""
    done = _git(["rev-parse", "--verify", "HEAD"], cwd=checkout)
    return done.stdout.strip() if done.returncode == 0 else ""


def _git(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=CLONE_TIMEOUT, stdin=subprocess.DEVNULL, check=False)


def _clone(sub: Submission, target: Path, ref: str | None = None, missing_ref: str = "no submission at {ref}") -> None:
    sub.path, sub.problem, sub.commit = None, "", ""  # a local folder is graded from its clone, never as it is; no commit until one is checked out
    try:
        if (target / ".git").is_dir():
            fetched = _git(["fetch", "--depth", "1", "origin", *([ref] if ref else [])], cwd=target)
            if fetched.returncode == 0:
                updated = _git(["checkout", "--force", "--detach", "FETCH_HEAD"], cwd=target)
                if updated.returncode == 0:
                    _git(["clean", "-fdx"], cwd=target)
                    sub.path, sub.commit = target, head_commit(target)
                    return
            shutil.rmtree(target)
        elif target.exists():
            shutil.rmtree(target)
        branch = ["--branch", ref] if ref else []
        done = _git(["clone", "--quiet", "--depth", "1", *branch, "--", sub.location, str(target)])
        if done.returncode == 0:
            sub.path, sub.commit = target, head_commit(target)
        elif ref and _lacks_ref(sub.location, ref):
            sub.problem = missing_ref.format(ref=ref)
        else:
            lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
            sub.problem = f"git clone failed: {lines[-1] if lines else done.returncode}"
    except (subprocess.TimeoutExpired, OSError) as error:
        sub.problem = f"git clone failed: {error}"


def _lacks_ref(location: str, ref: str) -> bool:
    """The repository answers but has no branch or tag named ``ref`` (a folder
    that is no git repository has none either)."""
    if not URL.match(location) and not Path(location).is_dir():
        return False
    listed = _git(["ls-remote", "--exit-code", "--", location, ref])
    return listed.returncode == 2 or (listed.returncode != 0 and "git repository" in listed.stderr.lower())
