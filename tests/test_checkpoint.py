"""Checkpoints: self-contained loading, clear errors for bad files, atomic writes, resolution."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import save_file

from zi2zi import checkpoints as ckpt
from zi2zi.config import Config, RenderSettings
from zi2zi.errors import CheckpointError
from zi2zi.storage.atomic import atomic_path
from zi2zi.training import TrainOptions, train

from trainhelpers import tiny_config


@pytest.fixture(scope="module")
def trained_run(make_tiny_dataset, tmp_path_factory):
    run = tmp_path_factory.mktemp("ckpt") / "run"
    train(TrainOptions(data=make_tiny_dataset(), out=run, progress=False,
                       config=tiny_config("train.max_steps=4", "train.checkpoint_every=2", "train.sample_every=0")))
    return run


def test_checkpoint_alone_rebuilds_the_model(trained_run, tmp_path):
    alone = tmp_path / "elsewhere" / "model.safetensors"
    alone.parent.mkdir()
    shutil.copyfile(trained_run / "checkpoints" / "step-00000004.safetensors", alone)

    loaded = ckpt.load_checkpoint(alone)
    assert loaded.step == 4 and loaded.epoch == 0
    assert isinstance(loaded.config, Config) and loaded.config.model.image_size == 32
    assert loaded.render == RenderSettings(size=32, mode="em", margin=0.0)
    assert [s["name"] for s in loaded.styles] == ["Tiny Bold Regular", "Tiny Light Regular"]
    assert loaded.data_info["source"]["embox"]["size"] == 32
    assert all("embox" in s and "font" in s for s in loaded.data_info["styles"])
    assert "val_l1" in loaded.metrics
    assert not loaded.generator.training

    # Same weights as the run wrote, so the same glyphs: compare with a fresh read of the file.
    weights = ckpt.read_weights(trained_run / "checkpoints" / "step-00000004.safetensors")
    for key, value in loaded.generator.state_dict().items():
        assert torch.equal(value, weights["generator"][key]), key
    source = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        out = loaded.generator(source, torch.tensor([0, 1]))
    assert out.shape == (2, 1, 32, 32) and out.abs().max() <= 1
    assert loaded.style_id("Tiny Light Regular") == 1
    with pytest.raises(CheckpointError, match="unknown style"):
        loaded.style_id("Nope")


def test_metadata_is_json_with_format_and_version(trained_run):
    meta = ckpt.read_metadata(trained_run / "checkpoints" / "step-00000002.safetensors")
    assert meta["format"] == ckpt.FORMAT and meta["format_version"] == ckpt.FORMAT_VERSION
    assert meta["zi2zi_version"] and meta["step"] == 2
    assert meta["style_map"] == {"0": 0, "1": 1}
    json.dumps(meta)  # round-trips


def test_weights_are_written_only_with_the_builders_document(trained_run, tmp_path):
    loaded = ckpt.load_checkpoint(trained_run)
    with pytest.raises(ValueError, match="checkpoint_meta"):
        ckpt.save_weights(tmp_path / "x.safetensors", generator=loaded.generator, discriminator=loaded.discriminator,
                          meta={"config": loaded.config.to_dict(), "step": 1})
    assert not (tmp_path / "x.safetensors").exists()
    # State dicts are written like modules: what a packaged base (fp16 tensors) goes through.
    meta = ckpt.checkpoint_meta(config=loaded.config, num_styles=loaded.num_styles, styles=loaded.styles,
                                render=loaded.render, step=7, note="kept")
    out = ckpt.save_weights(tmp_path / "y.safetensors", generator=loaded.generator.state_dict(),
                            discriminator=loaded.discriminator, meta=meta)
    again = ckpt.load_checkpoint(out)
    assert again.step == 7 and again.meta["note"] == "kept" and again.render == loaded.render
    for key, value in loaded.generator.state_dict().items():
        assert torch.equal(value, again.generator.state_dict()[key]), key


def test_resolve_checkpoint_prefers_best_then_latest(trained_run, tmp_path):
    assert ckpt.resolve_checkpoint(trained_run).name == "best.safetensors"
    assert ckpt.resolve_checkpoint(trained_run / "checkpoints").name == "best.safetensors"
    copy = tmp_path / "copy"
    shutil.copytree(trained_run, copy)
    (copy / "checkpoints" / "best.safetensors").unlink()
    assert ckpt.resolve_checkpoint(copy).name == "step-00000004.safetensors"
    assert ckpt.latest_resumable(copy).name == "step-00000004.safetensors"
    ckpt.state_path(copy / "checkpoints" / "step-00000004.safetensors").unlink()
    assert ckpt.latest_resumable(copy).name == "step-00000002.safetensors"  # weights without state


def test_clear_errors_for_bad_checkpoints(trained_run, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        ckpt.load_checkpoint(tmp_path / "missing.safetensors")

    empty_run = tmp_path / "empty_run"
    empty_run.mkdir()
    with pytest.raises(CheckpointError, match="holds no checkpoints"):
        ckpt.load_checkpoint(empty_run)

    text = tmp_path / "notes.safetensors"
    text.write_text("hello, not tensors")
    with pytest.raises(CheckpointError, match="not a readable safetensors checkpoint"):
        ckpt.load_checkpoint(text)

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign), metadata={"author": "someone"})
    with pytest.raises(CheckpointError, match="not a zi2zi checkpoint"):
        ckpt.load_checkpoint(foreign)

    good = (trained_run / "checkpoints" / "step-00000004.safetensors").read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError):
        ckpt.load_checkpoint(truncated)


def test_atomic_write_leaves_old_file_or_new_file_never_a_part(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half of the new")
            raise RuntimeError("killed while writing")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]

    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent  # same folder: os.replace is a rename
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_prune_keeps_newest_and_drops_orphan_states(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for step in (1, 2, 3, 10):
        (folder / ckpt.checkpoint_name(step)).write_bytes(b"w")
        ckpt.state_path(folder / ckpt.checkpoint_name(step)).write_bytes(b"s")
    (folder / "step-00000011.state.pt").write_bytes(b"s")  # its weights never landed
    (folder / ckpt.BEST).write_bytes(b"b")
    ckpt.prune(tmp_path, keep_last=2)
    assert sorted(p.name for p in folder.iterdir()) == [
        "best.safetensors",
        "step-00000003.safetensors",
        "step-00000003.state.pt",
        "step-00000010.safetensors",
        "step-00000010.state.pt",
    ]
