"""What crosses from the sandbox and what is kept of it, fast: the channel, the
protocol's words, the observations record a class is rejudged from.

* a result too large for the channel becomes the step's error, never a lost step;
* a status or phase the answerer never sends is refused (``tampered``);
* the record keeps the checkpoint only when there was one, copies the
  student's text files only when regular and bounded, and a record of another
  version is refused rather than misread;
* a quick observation is judged with the quick bar, and a salvaged import
  names its cause only when one was observed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from grader import observations
from grader.config import load_config
from grader.judge import _flag_details, judging_config
from grader.sandbox import channel
from grader.sandbox.protocol import Phase, StepStatus
from grader.sandbox.supervisor import SandboxRun, StepOutcome


def _channel(tmp_path: Path) -> tuple[channel.Channel, Path]:
    """The answerer's end of a channel, into a file (a pipe nobody reads would block on a large line)."""
    path = tmp_path / "channel"
    return channel.Channel(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)), path


def _read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_a_result_too_large_for_the_channel_is_the_steps_error(tmp_path):
    sender, path = _channel(tmp_path)
    sender.send(event="end", step="normalize", status="ok", data={"x": 1})
    huge = "x" * (channel.MAX_LINE + 10)
    sender.send(event="end", step="normalize", status="ok", data=huge)
    sender.send(event="reply", id=3, ok=True, value=huge)
    small, large, reply = _read_events(path)
    assert small == {"event": "end", "step": "normalize", "status": "ok", "data": {"x": 1}}
    assert large["status"] == "error" and large["data"] is None and large["error"]["type"] == "ResultTooLarge"
    assert reply["ok"] is False and reply["value"] is None


def test_a_large_line_without_data_is_sent_as_it_is(tmp_path):
    sender, path = _channel(tmp_path)
    event = {"event": "tampered", "names": ["n" * (channel.MAX_LINE + 10)]}
    sender.send(**event)
    assert _read_events(path) == [event]


def test_numpy_scalars_cross_as_numbers_and_arrays_as_text():
    assert channel._plain(np.float32(0.5)) == 0.5 and channel._plain(np.int64(3)) == 3
    assert channel._plain(np.array([1, 2])) == "[1 2]"
    assert channel.parse_line(b"x" * (channel.MAX_LINE + 1)) is None
    assert channel.parse_line(b'{"event": "ready"}' + b" " * (channel.MAX_LINE - 18)) == {"event": "ready"}


def test_statuses_and_phases_the_answerer_never_sends_are_refused():
    assert StepStatus.parse("ok") == StepStatus.OK and StepStatus.parse("memory") == StepStatus.MEMORY
    assert StepStatus.parse("great") == StepStatus.TAMPERED and StepStatus.parse(1) == StepStatus.TAMPERED
    assert Phase.parse("train_model:restore") == Phase("train_model", "restore")
    assert str(Phase("train_model", "fallback")) == "train_model:fallback" and str(Phase("normalize")) == "normalize"
    assert Phase("normalize").is_step and not Phase("normalize", "restore").is_step
    assert Phase("import-salvage").limit_key == "import"
    for text in ("train_model:run", "train_model:", "a:b:c", ":restore"):
        with pytest.raises(ValueError):
            Phase.parse(text)
    with pytest.raises(ValueError):
        Phase("normalize", "other")  # type: ignore[arg-type]


def _run(tmp_path: Path, evidence: bool) -> SandboxRun:
    evidence_dir = tmp_path / "evidence"
    evidence_dir.mkdir(exist_ok=True)
    for name in observations.EVIDENCE_FILES:
        (evidence_dir / name).write_text(name)
    outcomes = {"normalize": StepOutcome("normalize", StepStatus.TIMEOUT, {"type": "StepTimeout"}, seconds=3.0)}
    return SandboxRun(outcomes, {"normalize"}, tmp_path, 12.5, 2, tmp_path / "out.txt", evidence_dir if evidence else None, grader_training="standin")


def test_the_record_keeps_a_checkpoint_only_when_there_was_one(tmp_path):
    submission = tmp_path / "submission"
    (submission / "answers").mkdir(parents=True)
    (submission / "answers" / "q1.md").write_text("respuesta")
    (submission / "mnist_dense.py").write_text("x" * (observations.TEXT_BYTES + 1))
    (submission / "exploration.md").write_text("notas")
    folder = tmp_path / "out"
    observations.write(folder, observations.Observations(_run(tmp_path, evidence=True), submission, mode="quick"), submission)
    read = observations.read(folder)
    assert read.run.evidence_dir is not None and (read.run.evidence_dir / "weights.npz").read_text() == "weights.npz"
    assert read.run.outcomes["normalize"].status == StepStatus.TIMEOUT and read.run.outcomes["normalize"].seconds == 3.0
    assert read.run.replaced == {"normalize"} and read.run.grader_training == "standin" and read.mode == "quick"
    assert (read.submission / "answers" / "q1.md").read_text() == "respuesta"
    assert (read.submission / "exploration.md").read_text() == "notas"
    assert not (read.submission / "mnist_dense.py").exists()  # over TEXT_BYTES: as if absent
    other = tmp_path / "other"
    observations.write(other, observations.Observations(_run(tmp_path, evidence=False), submission), submission)
    assert observations.read(other).run.evidence_dir is None and not (other / observations.FOLDER / "evidence").exists()


def test_a_linked_text_file_is_not_copied(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    secret = tmp_path / "secret.md"
    secret.write_text("token")
    (submission / "exploration.md").symlink_to(secret)
    observations.write(tmp_path / "out", observations.Observations(_run(tmp_path, evidence=False), submission), submission)
    assert not (tmp_path / "out" / observations.FOLDER / "submission" / "exploration.md").exists()


def test_a_record_of_another_version_or_none_is_refused(tmp_path):
    with pytest.raises(observations.ObservationsError):
        observations.read(tmp_path)
    (tmp_path / observations.FOLDER).mkdir()
    (tmp_path / observations.FOLDER / observations.RECORD).write_text(json.dumps({"version": observations.VERSION + 1}))
    with pytest.raises(observations.ObservationsError):
        observations.read(tmp_path)
    (tmp_path / observations.FOLDER / observations.RECORD).write_text("[1]")
    with pytest.raises(observations.ObservationsError):
        observations.read(tmp_path)


def test_a_quick_observation_is_judged_with_the_quick_bar(tmp_path):
    config = load_config()
    run = _run(tmp_path, evidence=False)
    quick = judging_config(observations.Observations(run, tmp_path, mode="quick"), config)
    assert quick.grading.min_accuracy == config.quick.min_accuracy and quick.grading.train_subset == config.quick.train_subset
    assert judging_config(observations.Observations(run, tmp_path), config) is config


def test_a_salvaged_import_names_its_cause_only_when_one_was_observed(tmp_path):
    run = _run(tmp_path, evidence=False)
    run.outcomes["import"] = StepOutcome("import", StepStatus.ERROR, {"type": "NameError", "message": "name 'x' is not defined", "line": 3})
    details = _flag_details(run, ["import_salvaged"])
    assert set(details) == {"import_salvaged"} and details["import_salvaged"]["cause"]
    assert _flag_details(run, ["tampered"]) == {}
    run.outcomes["import"] = StepOutcome("import", StepStatus.TIMEOUT, None)
    assert _flag_details(run, ["import_salvaged"]) == {}
    del run.outcomes["import"]
    assert _flag_details(run, ["import_salvaged"]) == {}
