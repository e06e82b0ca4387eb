"""Shipped bases and fine-tuning: `zi2zi models`, `zi2zi finetune` from a font, a glyph folder
and a dataset, and the refusals, on a tiny base trained from tiny fonts (conftest.tiny_base)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import zi2zi.bases as bases
from zi2zi import checkpoints as ckpt
from zi2zi.cli import main
from zi2zi.config import Config, RenderSettings
from zi2zi.data import render_dataset
from zi2zi.data.layout import read_manifest
from zi2zi.device import cpu_prefers_bf16
from zi2zi.errors import CheckpointError, DatasetError, TrainingError
from zi2zi.finetune import finetune, recipe_for
from zi2zi.training import TrainOptions
from zi2zi.training.rundir import read_run_info

from conftest import TINY_CHARS


def test_packaged_base_is_fp16_self_describing_and_has_a_card(tiny_base, make_tiny_dataset):
    from safetensors import safe_open

    with safe_open(str(tiny_base), framework="pt") as fh:
        dtypes = {str(fh.get_tensor(k).dtype) for k in fh.keys()}
    assert "torch.float16" in dtypes and "torch.float32" not in dtypes
    meta = ckpt.read_metadata(tiny_base)
    holdout = read_manifest(make_tiny_dataset(size=32, holdout=4))["split"]["holdout"]
    assert meta["base"]["holdout"] == holdout and len(holdout) == 4
    loaded = ckpt.load_checkpoint(tiny_base)  # fp16 on disk, fp32 in memory
    assert next(loaded.generator.parameters()).dtype.is_floating_point
    assert str(next(loaded.generator.parameters()).dtype) == "torch.float32"
    card = tiny_base.with_suffix(".md").read_text(encoding="utf-8")
    assert "Tiny Bold" in card and "| l1 | 0.1000 | 0.2000 |" in card


def test_models_lists_shipped_bases(shipped, capsys):
    assert main(["models", "--json"]) == 0
    [info] = json.loads(capsys.readouterr().out)
    assert info["kind"] == "base" and info["name"] == "tiny" and info["image_size"] == 32
    assert info["source_family"] == "Tiny Source" and info["source_file"] == "source.ttf"
    assert len(info["styles"]) == 2 and info["parameters"] > 1000
    assert info["file_bytes"] == shipped.stat().st_size
    assert main(["models"]) == 0
    assert "tiny: 32 px, source Tiny Source" in capsys.readouterr().out


def test_finetune_from_a_font_adds_a_style_and_is_an_ordinary_run(shipped, tiny_fonts, tmp_path, capsys):
    run = tmp_path / "ft"
    code = main(["finetune", "--base", "tiny", "--target", str(tiny_fonts["light"]), "--steps", "4",
                 "--style-name", "Mine", "--out", str(run), "--no-progress", "--device", "cpu"])
    assert code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["style"] == "Mine" and out["step"] == 4
    manifest = read_manifest(run / "data")
    base_holdout = ckpt.read_metadata(shipped)["base"]["holdout"]
    # Held out: the base's own unseen characters, never in training.
    assert set(manifest["split"]["holdout"]) <= set(base_holdout) and manifest["split"]["holdout"]
    assert not set(manifest["split"]["train"]) & set(manifest["split"]["holdout"])
    loaded = ckpt.load_checkpoint(run)
    assert loaded.styles[-1] == {"id": 2, "name": "Mine"} and loaded.num_styles == 40  # a spare row
    # Few glyphs: no discriminator (zi2zi.finetune.recipe says why), recorded in the run's config.
    assert json.loads((run / "config.json").read_text(encoding="utf-8"))["loss"]["adversarial"] is False
    record = json.loads((run / "finetune.json").read_text(encoding="utf-8"))
    assert record["train_glyphs"] == len(manifest["split"]["train"]) and record["recipe"]["steps"] == 4
    # The precision it trained in, recorded: bf16 where this kind of CPU is faster in it, else fp32.
    assert read_run_info(run)["precision"] == ("torch.bfloat16" if cpu_prefers_bf16() else "fp32")
    # The run works with the other commands unchanged.
    glyphs = tmp_path / "glyphs"
    assert main(["generate", "--checkpoint", str(run), "--style", "Mine", "--source-font", str(tiny_fonts["source"]),
                 "--chars", manifest["split"]["holdout"], "--out", str(glyphs)]) == 0
    assert len(list(glyphs.glob("U+*.png"))) == len(manifest["split"]["holdout"])
    assert main(["evaluate", "--checkpoint", str(run), "--data", str(run / "data"), "--no-classifier", "--json"]) == 0


def test_finetune_from_a_glyph_folder_keeps_its_placement(shipped, tiny_fonts, tmp_path):
    glyphs = tmp_path / "hand"
    assert main(["generate", "--checkpoint", str(shipped), "--style", "0", "--source-font", str(tiny_fonts["source"]),
                 "--chars", TINY_CHARS[:20], "--out", str(glyphs)]) == 0
    # placement "none": the glyphs as given (tests/test_placement.py tests the normalisations)
    summary = finetune("tiny", tmp_path / "ft", target_glyphs=glyphs, holdout=2, steps=2, progress=False, device="cpu",
                       placement="none")
    manifest = read_manifest(summary.data_dir)
    assert summary.train_glyphs == 18 and summary.holdout_glyphs == 2 and summary.style == "hand"
    style = manifest["styles"][0]
    assert style["font"] is None
    written = json.loads((glyphs / "manifest.json").read_text(encoding="utf-8"))["embox"]
    assert {k: style["embox"][k] for k in ("units_per_em", "ascender", "descender")} == {
        k: written[k] for k in ("units_per_em", "ascender", "descender")}
    # The target images are the given glyphs, untouched at the same size.
    from PIL import Image

    char = manifest["split"]["train"][0]
    name = f"U+{ord(char):04X}.png"
    assert np.array_equal(np.asarray(Image.open(glyphs / name)), np.asarray(Image.open(summary.data_dir / "styles/0" / name)))


def test_finetune_from_a_dataset_and_the_refusals(shipped, tiny_fonts, tmp_path):
    good = tmp_path / "good"
    render_dataset(source=str(tiny_fonts["source"]), targets=[str(tiny_fonts["light"])], chars=TINY_CHARS,
                   out=good, settings=RenderSettings(size=32), holdout=4, workers=1)
    summary = finetune("tiny", tmp_path / "ft", data=good, steps=2, progress=False, device="cpu")
    assert summary.step == 2 and summary.data_dir == good

    other_size = tmp_path / "size24"
    render_dataset(source=str(tiny_fonts["source"]), targets=[str(tiny_fonts["light"])], chars=TINY_CHARS,
                   out=other_size, settings=RenderSettings(size=24), holdout=4, workers=1)
    with pytest.raises(DatasetError, match="rendered with .*'size': 24.*--size 32"):
        finetune("tiny", tmp_path / "ft2", data=other_size, progress=False)
    other_source = tmp_path / "src"
    render_dataset(source=str(tiny_fonts["bold"]), targets=[str(tiny_fonts["light"])], chars=TINY_CHARS[:-2],
                   out=other_source, settings=RenderSettings(size=32), holdout=4, workers=1)
    with pytest.raises(DatasetError, match="source font bold.ttf .*the base reads source.ttf"):
        finetune("tiny", tmp_path / "ft3", data=other_source, progress=False)
    with pytest.raises(DatasetError, match="exactly one of"):
        finetune("tiny", tmp_path / "ft4", data=good, target=str(tiny_fonts["light"]), progress=False)
    with pytest.raises(CheckpointError, match="no shipped base of that name .*shipped: tiny"):
        finetune("nope", tmp_path / "ft5", data=good, progress=False)
    # A finished run is not silently redone or mixed with another input.
    assert finetune("tiny", tmp_path / "ft", data=good, steps=2, progress=False, device="cpu").step == 2


def test_finetune_with_a_fresh_discriminator(shipped, tiny_fonts, tmp_path, capsys):
    run = tmp_path / "ft"
    assert main(["finetune", "--base", "tiny", "--target", str(tiny_fonts["light"]), "--steps", "2",
                 "--discriminator", "fresh", "--out", str(run), "--no-progress", "--device", "cpu"]) == 0
    assert json.loads((run / "config.json").read_text(encoding="utf-8"))["loss"]["adversarial"] is True
    recipe = json.loads((run / "finetune.json").read_text(encoding="utf-8"))["recipe"]
    assert recipe["fresh_discriminator"] is True
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any("d_loss" in r for r in records)  # D trained beside G
    # Two Adam steps move a weight by about 2 * lr at most; a fresh D is far from the base's.
    base_d = ckpt.read_weights(shipped)["discriminator"]
    run_d = ckpt.read_weights(ckpt.resolve_checkpoint(run))["discriminator"]
    moved = max((run_d[k].float() - base_d[k].float()).abs().max().item()
                for k in base_d if run_d[k].shape == base_d[k].shape)
    assert moved > 10 * 2 * recipe["lr"]
    with pytest.raises(TrainingError, match="discriminator 'pretrained': choose one of none, fresh"):
        finetune("tiny", tmp_path / "ft2", target=str(tiny_fonts["light"]), discriminator="pretrained",
                 progress=False)
    assert not (tmp_path / "ft2").exists()  # refused before anything was written
    with pytest.raises(TrainingError, match="needs --init-from"):
        TrainOptions(data=tmp_path, out=tmp_path / "x", fresh_discriminator=True).check()
    no_gan = Config()
    no_gan.loss.adversarial = False
    with pytest.raises(TrainingError, match="would never train"):
        TrainOptions(data=tmp_path, out=tmp_path / "x", config=no_gan, init_from=shipped, fresh_discriminator=True).check()


def test_missing_base_source_font_names_what_to_install(shipped, tiny_fonts, tmp_path, monkeypatch):
    meta = ckpt.read_metadata(shipped)
    from zi2zi.generation import base_source_font

    info = json.loads(json.dumps(meta["data_info"]))
    info["source"]["font"]["path"] = str(tmp_path / "gone" / "NotoSerifCJK-Regular.ttc")
    monkeypatch.setenv("ZI2ZI_FONT_DIRS", str(tmp_path))
    monkeypatch.setattr("zi2zi.fonts.system.font_dirs", lambda: [tmp_path])
    with pytest.raises(Exception, match="fonts-noto-cjk"):
        base_source_font(info, print)


@pytest.mark.parametrize("source", ["Noto.ttc", {"font": "Noto.ttc"}, {"font": {"path": 7}},
                                    {"font": {"path": "Noto.ttc", "face": "first"}}])
def test_damaged_record_of_the_base_source_font_is_one_line(source):
    from zi2zi.errors import CheckpointError, DatasetError
    from zi2zi.generation import base_source_font

    with pytest.raises((CheckpointError, DatasetError), match="source font"):
        base_source_font({"source": source}, print)


def test_recipe_follows_the_glyph_count():
    few, some, many = recipe_for(50), recipe_for(200), recipe_for(2000)
    assert few.freeze_encoder and some.freeze_encoder and not many.freeze_encoder
    assert few.steps <= some.steps <= many.steps
    assert recipe_for(200, steps=7).steps == 7


@pytest.mark.parametrize("name", bases.base_names())
def test_every_shipped_base_loads_offline_within_its_limits(name):
    """Shipped weights are package data: fp16, at most 30 MB, and a model that generates."""
    import torch

    path = bases.resolve_base(name)
    assert path.stat().st_size <= 30_000_000
    loaded = ckpt.load_checkpoint(path)
    meta = loaded.meta["base"]
    assert meta["holdout"] and meta["fonts"] and path.with_suffix(".md").is_file()
    size = loaded.config.model.image_size
    with torch.no_grad():
        out = loaded.generator(torch.zeros(1, 1, size, size), torch.tensor([0]))
    assert out.shape == (1, 1, size, size) and torch.isfinite(out).all()


def test_a_run_stopped_while_its_dataset_renders_is_still_ours(shipped, tiny_fonts, tmp_path, monkeypatch):
    """The run's marker is written before its dataset, so the same command starts it again."""
    from zi2zi.finetune import inputs
    from zi2zi.training.rundir import FINETUNE_KIND

    run = tmp_path / "ft"

    def stopped(*args, **kwargs):
        (run / ".data.rendering-killed").mkdir()  # what a killed render leaves
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(inputs, "dataset_from_font", stopped)
        with pytest.raises(KeyboardInterrupt):
            finetune("tiny", run, target=str(tiny_fonts["light"]), steps=1, progress=False, device="cpu")
    assert FINETUNE_KIND.read_marker(run) is not None
    summary = finetune("tiny", run, target=str(tiny_fonts["light"]), steps=1, progress=False, device="cpu")
    assert summary.step == 1 and not (run / ".data.rendering-killed").exists()


def test_a_fresh_discriminator_takes_its_own_settings(shipped, tiny_fonts, tmp_path):
    from dataclasses import replace

    from zi2zi.models import Discriminator

    base_d = Config.from_dict(ckpt.read_metadata(shipped)["config"]).model.discriminator
    wanted = replace(base_d, blur="output" if base_d.blur != "output" else "layers", blur_sigma=0.5, blur_fade_steps=2)
    run = tmp_path / "ft"
    finetune("tiny", run, target=str(tiny_fonts["light"]), steps=2, discriminator="fresh",
             discriminator_config=wanted, progress=False, device="cpu", refine=False)
    saved = json.loads((run / "config.json").read_text(encoding="utf-8"))["model"]["discriminator"]
    assert saved == dataclasses.asdict(wanted)
    assert json.loads((run / "finetune.json").read_text(encoding="utf-8"))["discriminator_config"] == saved
    d = ckpt.load_checkpoint(ckpt.resolve_checkpoint(run)).discriminator
    assert isinstance(d, Discriminator) and d.blur_place == wanted.blur and d.base_sigma == 0.5
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    sigmas = [r["d_blur_sigma"] for r in records if r.get("kind") == "train"]
    assert sigmas and all(0.0 < s <= 0.5 for s in sigmas)  # its own sigma, fading over the 2 steps
    with pytest.raises(TrainingError, match="fresh discriminator"):
        finetune("tiny", tmp_path / "ft2", target=str(tiny_fonts["light"]), discriminator_config=wanted,
                 progress=False)
    assert not (tmp_path / "ft2").exists()
    with pytest.raises(TrainingError, match="fresh discriminator only"):
        TrainOptions(data=tmp_path, out=tmp_path / "x", init_from=shipped, discriminator_config=wanted).check()


def test_a_run_made_with_relative_paths_resumes_from_another_folder(shipped, tiny_fonts, tmp_path, monkeypatch):
    from zi2zi.finetune import finetune
    from zi2zi.training.rundir import recorded_data_dir

    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    first = finetune("tiny", "runs/hand", target=str(tiny_fonts["light"]), steps=2, progress=False, device="cpu")
    record = json.loads((tmp_path / "project" / "runs/hand/finetune.json").read_text(encoding="utf-8"))
    assert Path(record["data"]).is_absolute() and Path(record["base"]).is_absolute()
    monkeypatch.chdir(tmp_path)
    again = finetune("tiny", "project/runs/hand", target=str(tiny_fonts["light"]), steps=2, progress=False,
                     device="cpu")
    assert again.step == first.step == 2  # resumed (nothing left to train), not "dataset does not exist"
    assert recorded_data_dir("project/runs/hand") == (tmp_path / "project/runs/hand/data").resolve()
