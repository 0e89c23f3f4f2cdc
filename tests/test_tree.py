"""Student-made trees handled by the parent (grader/sandbox/tree.py) and the storage quota of the host-folder levels.

Fast: no training. The trees are real: a folder chain deeper than PATH_MAX
and than Python's recursion limit, links to outside files, fallocated files.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from grader import i18n
from grader.checks.context import step_failure
from grader.config import load_config
from grader.sandbox import tree
from grader.sandbox.protocol import StepStatus
from grader.sandbox.supervisor import StepOutcome

DEPTH = 2100  # 2,100 x "dd/": 6,300 bytes, past PATH_MAX (4,096) and past the recursion limit (1,000)


@pytest.fixture(autouse=True)
def _no_chain_left(tmp_path):
    """A test that fails half-way must not leave its chain behind: pytest's own clean-up
    of old temporary folders (shutil.rmtree) would crash on it in a later session."""
    yield
    tree.empty_folder(tmp_path)


def _deep_chain(root: Path, depth: int = DEPTH) -> None:
    start = os.getcwd()
    os.chdir(root)
    try:
        for _ in range(depth):
            os.mkdir("dd")
            os.chdir("dd")
        with open("deepest", "wb") as handle:
            handle.write(b"x" * 10_000)
    finally:
        os.chdir(start)


def test_a_chain_past_path_max_is_measured_and_removed_without_recursion(tmp_path):
    _deep_chain(tmp_path)
    with pytest.raises((OSError, RecursionError)):
        list(tmp_path.rglob("deepest"))[0].stat()  # what the parent did before: a path too long to use
    assert tree.disk_usage(tmp_path) >= 10_000
    tree.remove_path(tmp_path / "dd")
    assert os.listdir(tmp_path) == []


def test_walks_need_one_descriptor_whatever_the_depth(tmp_path):
    import resource

    _deep_chain(tmp_path)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
    try:
        assert tree.disk_usage(tmp_path) >= 10_000
        tree.empty_folder(tmp_path)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert os.listdir(tmp_path) == []


def test_links_are_removed_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("the grader's")
    box = tmp_path / "box"
    (box / "sub").mkdir(parents=True)
    (box / "sub" / "link").symlink_to(outside)
    (box / "top-link").symlink_to(outside / "keep")
    (box / "module.py").write_text("kept")
    tree.empty_folder(box, keep=("module.py",))
    assert os.listdir(box) == ["module.py"]
    assert (outside / "keep").read_text() == "the grader's"


@pytest.mark.skipif(not tree.DIR_FD, reason="the bound applies to the walk by descriptor")
def test_empty_folder_stops_at_its_entry_bound(tmp_path):
    # A folder of more entries than the caller allowed is an OSError (the step's failure),
    # not a removal that runs as long as the student's tree is large.
    many = tmp_path / "many"
    many.mkdir()
    for index in range(10):
        (many / f"f{index}").write_text("")
    with pytest.raises(tree.TooManyEntries):
        tree.empty_folder(tmp_path, max_entries=3)
    with pytest.raises(tree.TooManyEntries):
        tree.remove_path(many, max_entries=3)
    tree.empty_folder(tmp_path, max_entries=10)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_chown_entries_touches_only_the_top_level(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "file").write_text("")
    (tmp_path / "link").symlink_to("/etc/passwd")
    tree.chown_entries(tmp_path, 65534, 65534)
    assert os.stat(tmp_path).st_uid == 65534 and os.stat(tmp_path / "a").st_uid == 65534
    assert os.lstat(tmp_path / "link").st_uid == 65534 and os.stat("/etc/passwd").st_uid == 0  # the link, not its target
    assert os.stat(tmp_path / "a" / "b").st_uid == 0  # below the top: not walked
    grader_file = tmp_path.parent / f"{tmp_path.name}-grader-file"
    grader_file.write_text("root's")
    os.link(grader_file, tmp_path / "hardlink")
    tree.chown_entries(tmp_path, 65534, 65534)
    assert os.stat(grader_file).st_uid == 0  # a second name of the grader's file does not change its owner
    grader_file.unlink()


def test_quota_counts_allocated_blocks_and_is_checked_every_second(tmp_path):
    quota = tree.Quota((tmp_path,), limit_mb=2, every=1.0)
    now = time.monotonic()
    assert not quota.over(now)
    with open(tmp_path / "big", "wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, 3 * 2**20)  # no byte written: only allocated
    assert not quota.over(now + 0.5), "checked at most every second"
    assert quota.over(now + 0.5, force=True), "a step that ended is checked at once"
    assert quota.used >= 3 * 2**20
    assert quota.over(now + 2.0)
    (tmp_path / "big").unlink()
    assert not quota.over(now + 4.0)


def test_quota_counts_a_tree_it_cannot_walk_as_over(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise tree.TooManyEntries("too many")

    monkeypatch.setattr(tree, "disk_usage", fail)
    assert tree.Quota((tmp_path,), limit_mb=1000).over(time.monotonic())


def test_over_the_storage_cap_is_its_own_message():
    config = load_config()
    key, fields = step_failure(StepOutcome(step="normalize", status=StepStatus.STORAGE), config)
    assert key == "step.storage"
    for lang, word in (("es", "disco"), ("en", "disk")):
        text = i18n.render(lang, key, **fields)
        assert f"{config.isolation.storage_mb} MB" in text and word in text and "normalize" in text
        assert word in i18n.render(lang, "measure.status.storage")


def test_timeout_message_names_both_limits():
    config = load_config()
    key, fields = step_failure(StepOutcome(step="compile_model", status=StepStatus.TIMEOUT), config)
    limit = int(config.time_limits["compile_model"])
    assert (fields["limit"], fields["wall_limit"]) == (limit, int(limit * config.grading.wall_factor))
    assert f"{limit} s" in i18n.render("es", key, **fields) and f"{fields['wall_limit']} s" in i18n.render("en", key, **fields)


def test_shutil_would_have_crashed_on_the_same_chain(tmp_path):
    """Why tree.py exists: the standard library's recursive removal gives up on such a chain."""
    (tmp_path / "copy").mkdir()
    _deep_chain(tmp_path / "copy")
    with pytest.raises((RecursionError, OSError)):
        shutil.rmtree(tmp_path / "copy")
    tree.remove_path(tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_an_entry_removed_during_the_walk_is_skipped(tmp_path, monkeypatch):
    """The worker may still be writing (a library's temporary file): a vanished entry is not an error."""
    (tmp_path / "gone").write_text("x")
    (tmp_path / "kept").write_bytes(b"x" * 8192)
    real_stat = os.stat

    def racing_stat(name, *args, **kwargs):
        if name == "gone":
            raise FileNotFoundError(name)
        return real_stat(name, *args, **kwargs)

    monkeypatch.setattr(tree.os, "stat", racing_stat)
    assert tree.disk_usage(tmp_path) >= 8192
    assert not tree.Quota((tmp_path,), limit_mb=1).over(time.monotonic())
