"""Checkpoints that cannot be written or that were damaged: a save that fails for lack of room (a
real one: a file size limit on the training process) stops the run with one line and leaves the
previous checkpoint as the newest; a resume passes over damaged checkpoints to the newest intact
one and says so."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from zi2zi import checkpoints as ckpt
from zi2zi.training import TrainOptions
from zi2zi.training.trainer import train

from trainhelpers import tiny_config, tiny_overrides


def _train_argv(data, run, max_steps: int, *extra: str) -> list[str]:
    sets = sum((["--set", o] for o in tiny_overrides("train.sample_every=0") if "max_steps" not in o), [])
    return [sys.executable, "-m", "zi2zi", "train", "--data", str(data), "--out", str(run), "--preset", "cpu-small",
            "--max-steps", str(max_steps), "--no-progress", *sets, *extra]


@pytest.fixture
def run_at_3(tiny_dataset, tmp_path):
    """A tiny run with one checkpoint, at step 3."""
    run = tmp_path / "run"
    train(TrainOptions(data=tiny_dataset, out=run, progress=False,
                       config=tiny_config("train.max_steps=3", "train.sample_every=0")))
    assert [p.name for p in ckpt.list_checkpoints(run)] == ["step-00000003.safetensors"]
    return run


def test_a_save_that_finds_no_room_keeps_the_previous_checkpoint_newest(tiny_dataset, run_at_3):
    state_size = ckpt.state_path(ckpt.list_checkpoints(run_at_3)[0]).stat().st_size
    limit = state_size // 2  # the run's logs fit, a checkpoint does not
    before = sorted(p.name for p in (run_at_3 / "checkpoints").iterdir())

    def no_room() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(_train_argv(tiny_dataset, run_at_3, 6, "--resume"), capture_output=True, text=True,
                          timeout=300, preexec_fn=no_room)
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and len(errors) == 1, done.stderr
    assert "could not save the checkpoint of step 6" in errors[0]
    assert "larger than this system allows" in errors[0]
    assert "the newest checkpoint is still step-00000003.safetensors" in errors[0]
    left = sorted(p.name for p in (run_at_3 / "checkpoints").iterdir())
    assert left == before and "step-00000003.state.pt" in left, left  # no half of step 6, no temporary
    # With room again, a resume goes on from step 3.
    said: list[str] = []
    train(TrainOptions(data=tiny_dataset, out=run_at_3, resume=True, progress=False, echo=said.append,
                       config=tiny_config("train.max_steps=6", "train.sample_every=0")))
    assert any("resumed from step-00000003.safetensors" in m for m in said)
    assert ckpt.latest_resumable(run_at_3).name == "step-00000006.safetensors"


@pytest.mark.parametrize("damage", ["weights", "state"])
def test_a_resume_passes_over_a_damaged_newest_checkpoint_and_says_so(tiny_dataset, run_at_3, damage):
    train(TrainOptions(data=tiny_dataset, out=run_at_3, resume=True, progress=False,
                       config=tiny_config("train.max_steps=6", "train.sample_every=0")))
    newest = run_at_3 / "checkpoints" / "step-00000006.safetensors"
    victim = newest if damage == "weights" else ckpt.state_path(newest)
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])  # a crash mid-copy, a full disk
    said: list[str] = []
    summary = train(TrainOptions(data=tiny_dataset, out=run_at_3, resume=True, progress=False, echo=said.append,
                                 config=tiny_config("train.max_steps=9", "train.sample_every=0")))
    assert summary.step == 9
    passed = [m for m in said if "passed over the damaged checkpoint" in m]
    assert len(passed) == 1 and newest.name in passed[0] and "resuming from step-00000003.safetensors" in passed[0]
    assert any("resumed from step-00000003.safetensors (step 3" in m for m in said)


def test_every_checkpoint_damaged_is_one_line_not_no_checkpoint(capsys, tiny_dataset, run_at_3):
    from clihelpers import fails_with_one_line

    weights = ckpt.list_checkpoints(run_at_3)[0]
    weights.write_bytes(b"\x00" * 16)
    argv = _train_argv(tiny_dataset, run_at_3, 6, "--resume")[3:]
    fails_with_one_line(capsys, argv, "every checkpoint", "damaged", "--overwrite")


def test_a_damaged_run_record_is_named(capsys, tiny_dataset, run_at_3):
    from clihelpers import fails_with_one_line

    (run_at_3 / "run.json").write_text('{"format": "zi2zi-run", "version": 1, "styles": [[[[', encoding="utf-8")
    argv = _train_argv(tiny_dataset, run_at_3, 6, "--resume")[3:]
    fails_with_one_line(capsys, argv, "run.json", "not valid JSON")
