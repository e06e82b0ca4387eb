"""Files someone sends you: resuming their run or previewing their dataset must not run their
code or read files outside their folder."""

from __future__ import annotations

import json
import pathlib
import random
import shutil

import numpy as np
import pytest
import torch

from zi2zi import checkpoints as ckpt
from zi2zi.errors import CheckpointError
from zi2zi.training import TrainOptions, train

from clihelpers import fails_with_one_line
from trainhelpers import tiny_config, tiny_overrides

MARKER = "pwned-marker"


class Payload:
    """Unpickling this calls ``Path.touch(marker)``: harmless, and visible if it ran."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


@pytest.fixture
def run_dir(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    train(TrainOptions(data=tiny_dataset, out=run, progress=False,
                       config=tiny_config("train.max_steps=2", "train.checkpoint_every=2", "train.sample_every=0")))
    return run


def test_resume_never_unpickles_objects(capsys, run_dir, tiny_dataset, tmp_path):
    marker = tmp_path / MARKER
    state_file = ckpt.state_path(ckpt.latest_resumable(run_dir))
    state = torch.load(state_file, weights_only=True)
    state["extra"] = Payload(marker)
    torch.save(state, state_file)
    # Really a payload: plain unpickling would run it.
    torch.load(state_file, weights_only=False)
    assert marker.exists()
    marker.unlink()

    argv = ["train", "--data", tiny_dataset, "--out", run_dir, "--resume", "--max-steps", "4", "--no-progress",
            *sum((["--set", o] for o in tiny_overrides() if "max_steps" not in o), [])]
    fails_with_one_line(capsys, argv, state_file.name, "safely")
    assert not marker.exists()


def test_the_resume_state_holds_only_tensors_and_plain_data(run_dir):
    state = ckpt.load_state(ckpt.state_path(ckpt.latest_resumable(run_dir)))

    def plain(x) -> bool:
        if isinstance(x, dict):
            return all(isinstance(k, (str, int)) and plain(v) for k, v in x.items())
        if isinstance(x, (list, tuple)):
            return all(plain(v) for v in x)
        return x is None or isinstance(x, (bool, int, float, str, torch.Tensor))

    assert plain(state)


def test_states_written_before_the_rule_still_load(tmp_path):
    """Earlier runs stored NumPy's RNG state as an array; those files resume unchanged."""
    path = tmp_path / "old.state.pt"
    torch.save({"rng": {"python": random.getstate(), "numpy": np.random.get_state()}}, path)
    state = ckpt.load_state(path)
    assert np.array_equal(state["rng"]["numpy"][1], np.random.get_state()[1])


def test_rng_state_round_trips(tmp_path):
    device = torch.device("cpu")
    saved = ckpt.rng_state(device)
    torch.save(saved, tmp_path / "s.pt")
    expected = (random.random(), np.random.rand(), torch.rand(1))
    ckpt.set_rng_state(ckpt.load_state(tmp_path / "s.pt"), device)
    assert (random.random(), np.random.rand(), torch.rand(1)) == expected


def test_corrupt_state_is_one_line(capsys, run_dir, tiny_dataset):
    state_file = ckpt.state_path(ckpt.latest_resumable(run_dir))
    state_file.write_bytes(state_file.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=state_file.name):
        ckpt.load_state(state_file)


@pytest.mark.parametrize("where", ["../../outside", "ABSOLUTE"])
def test_manifest_folders_must_stay_inside_the_dataset(capsys, make_tiny_dataset, tmp_path, where):
    data = tmp_path / "sent" / "data"
    shutil.copytree(make_tiny_dataset(), data)
    secret = tmp_path / "outside"
    shutil.copytree(data / "styles" / "0", secret)  # what the attacker hopes to show
    manifest = json.loads((data / "manifest.json").read_text())
    manifest["styles"][0]["dir"] = str(secret) if where == "ABSOLUTE" else where
    (data / "manifest.json").write_text(json.dumps(manifest))
    fails_with_one_line(capsys, ["preview", data, "--out", tmp_path / "p.png"], "manifest.json", "not a folder inside"
                        if where == "ABSOLUTE" else "outside the dataset")
    assert not (tmp_path / "p.png").exists()


def test_a_state_of_the_wrong_shape_is_one_line(capsys, run_dir, tiny_dataset):
    state_file = ckpt.state_path(ckpt.latest_resumable(run_dir))
    torch.save({"step": "two", "rng": [1, 2]}, state_file)
    argv = ["train", "--data", tiny_dataset, "--out", run_dir, "--resume", "--max-steps", "4", "--no-progress",
            *sum((["--set", o] for o in tiny_overrides() if "max_steps" not in o), [])]
    fails_with_one_line(capsys, argv, state_file.name, "does not hold the state")
