"""The ``bundle`` command: the Classroom 50 autograder folder.

``python -m grader bundle OUT [--slug mnist-dense] [--config FILE] [--lang es|en]``
writes ``OUT/<slug>/``, to be copied to ``<classroom>/autograders/<slug>/`` in
the Classroom 50 config repository:

* ``autograder.py``: ``grader/platforms/classroom50/autograder.py``, copied verbatim;
* ``autograder_data.json``: its messages and schema facts, generated now
  from the catalogues and the schema (``autograder_data.py``);
* ``README.md``: from ``grader/platforms/classroom50/README.template.md``;
* ``requirements.txt``: the repository's, installed by the autograder;
* ``grader/``: a pristine copy of this package (no ``__pycache__``, no
  ``instructor/`` tools), with ``--config`` as
  its ``config.toml`` when given;
* ``bundle.json``: slug, feedback language and where the bundle came from.

The folder is built next to ``OUT/<slug>`` and then swapped in, so a failed
build leaves the previous one intact. The build refuses a bundle of 10 MiB or
more (Classroom 50's limit) and any file whose content is one of the
reference solutions.
"""

from __future__ import annotations

import io
import json
import shutil
import string
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader import i18n
from grader.platforms import packaging
from grader.platforms.classroom50 import autograder_data
from grader.platforms.packaging import BundleError, check_inputs, source_description

SOURCES = Path(__file__).resolve().parent
GRADER_DIR = packaging.GRADER_DIR
REPO_ROOT = packaging.REPO_ROOT
AUTOGRADER = SOURCES / "autograder.py"
README_TEMPLATE = SOURCES / "README.template.md"
REQUIREMENTS = packaging.REQUIREMENTS
SOLUTIONS = packaging.SOLUTIONS
DEFAULT_SLUG = "mnist-dense"
PYTHON = "3.11"
MAX_BYTES = 10 * 1024 * 1024
# Seconds autograder.py may use in all: the grade job has 15 minutes, and the
# runner needs some before (checkout, Python) and after (the Release).
TIME_BUDGET = 780.0
SETTINGS = "bundle.json"
# The assignment's `allowed_files` that keeps the submission. Classroom 50's
# runner deletes every file these .gitignore-style lines match (`git
# check-ignore --no-index`; foundation50/classroom50 runner.py,
# enforce_allowed_files). `*` alone also excludes the folder assignment/, and
# git never re-includes a file below an excluded folder, so `!*/` re-includes
# every folder before `!assignment/**` re-includes the student's files.
# ["assignment/**"] alone is the opposite: it deletes exactly the submission.
ALLOWED_FILES = ("*", "!*/", "!assignment/**")
MARKER = "autograder.py"
# Left out of the bundle's grader/ copy, besides caches and the old names: the
# instructor tools (release, batch grading), which grading never needs.
# grader/platforms/ is shipped whole: the exporters write result.json and the
# other platforms' files, and autograder.py imports grader/platforms/bounded_run.py.
LEFT_OUT = (*packaging.OLD_NAMES, "instructor")


@dataclass
class Bundle:
    path: Path
    files: int
    bytes: int
    tar_gz_bytes: int


def _tar_gz_size(root: Path) -> int:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(root, arcname=root.name)
    return buffer.getbuffer().nbytes


def check_contents(root: Path) -> None:
    """Refuse compiled files and any file whose content is a reference solution (``SOLUTIONS``)."""
    packaging.check_contents(root, SOLUTIONS)


# The assignment's `runtime` block (Classroom 50's validator: keys runs-on,
# container, python, node, java, go, rust, apt; apt an array of Debian package
# names, installed on hosted runners only). bubblewrap isolates the student's code.
RUNTIME = {"runs-on": "ubuntu-latest", "python": PYTHON, "apt": ["bubblewrap"]}


def runtime_json() -> str:
    """RUNTIME as the JSON block a teacher pastes into the assignment (README indentation)."""
    return json.dumps(RUNTIME, indent=2).replace("\n", "\n   ")


def allowed_files_json() -> str:
    """ALLOWED_FILES as the JSON list a teacher pastes into the assignment."""
    return json.dumps(list(ALLOWED_FILES))


def error_test_name(lang: str) -> str:
    """The name autograder.py gives its error test (the ``classroom50.title`` message it reads)."""
    return autograder_data.messages(lang)["title"]


def build(out: Path, slug: str = DEFAULT_SLUG, config: Path | None = None, lang: str = "es") -> Bundle:
    """Write ``out/slug`` and return what was written."""
    if not slug or slug in (".", "..") or any(c in slug for c in "/\\") or slug != slug.strip():
        raise BundleError(f"invalid slug {slug!r}")
    check_inputs(config, (AUTOGRADER, README_TEMPLATE, REQUIREMENTS))
    out = out.resolve()
    target = out / slug
    if target.exists() and not (target / MARKER).is_file():
        raise BundleError(f"{target} exists and is not an autograder bundle; not replacing it")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=out))
    try:
        shutil.copy2(AUTOGRADER, staging / "autograder.py")
        autograder_data.write(staging / autograder_data.FILE_NAME)
        shutil.copy2(REQUIREMENTS, staging / "requirements.txt")
        packaging.copy_grader(staging / "grader", LEFT_OUT, config)
        source = source_description()
        settings = {"slug": slug, "lang": lang, "python": PYTHON, "time_budget": TIME_BUDGET, "source": source}
        (staging / SETTINGS).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        check_contents(staging)
        template = README_TEMPLATE.read_text(encoding="utf-8")
        files = packaging.files_under(staging)
        approximate = sum(p.stat().st_size for p in files) + len(template.encode())
        readme = string.Template(template).substitute(
            slug=slug,
            lang=lang,
            python=PYTHON,
            source=source,
            budget=f"{TIME_BUDGET:.0f}",
            allowed_files=allowed_files_json(),
            runtime=runtime_json(),
            error_test=error_test_name(lang),
            size_kib=f"{approximate / 1024:.0f}",
            files=len(files) + 1,
        )
        (staging / "README.md").write_text(readme, encoding="utf-8")
        files = packaging.files_under(staging)
        total = sum(p.stat().st_size for p in files)
        packed = _tar_gz_size(staging)
        if total >= MAX_BYTES or packed >= MAX_BYTES:
            raise BundleError(f"the bundle is {total} bytes ({packed} as tar.gz); Classroom 50 accepts less than {MAX_BYTES}")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Bundle(target, len(files), total, packed)


def main(argv: list[str]) -> int:
    from grader.command_line import command_parser, requested_lang

    parser, t = command_parser("bundle", requested_lang(argv))
    parser.add_argument("out", type=Path, help=t("out"))
    parser.add_argument("--slug", default=DEFAULT_SLUG, help=t("slug", default=DEFAULT_SLUG))
    parser.add_argument("--config", type=Path, default=None, help=t("config"))
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default="es", help=t("lang"))
    args = parser.parse_args(argv)
    try:
        bundle = build(args.out, args.slug, args.config, args.lang)
    except (BundleError, OSError) as error:
        print(f"bundle: {error}", file=sys.stderr)
        return 2
    print(
        f"Wrote {bundle.path} ({bundle.files} files, {bundle.bytes / 1024:.0f} KiB; "
        f"{bundle.tar_gz_bytes / 1024:.0f} KiB as tar.gz; limit {MAX_BYTES // 2**20} MiB)."
    )
    print(
        f"Copy it to <classroom>/autograders/{args.slug}/ in the Classroom 50 config repository "
        f'and set the assignment\'s runtime python to "{PYTHON}" (see its README.md).'
    )
    return 0
