"""The refining stage in use: fine-tuning trains the run's refiner, and every command that draws
glyphs from the run draws them at the refiner's size unless told not to."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zi2zi.cli import main
from zi2zi.errors import CheckpointError
from zi2zi.finetune import finetune
from zi2zi.generation import GlyphGenerator
from zi2zi.images import read_grey
from zi2zi.refine.files import read_refiner_metadata
from zi2zi.refine.runtime import RUN_REFINER

from conftest import TINY_CHARS

REFINER_STEPS = 30  # the refining stage's budget, given to finetune (its default is RefinerTuning's)


@pytest.fixture(scope="module")
def refined_run(tiny_refiner, tiny_fonts, tmp_path_factory):
    import zi2zi.bases as bases

    original = bases.bases_dir
    bases.bases_dir = lambda: tiny_refiner.parent
    try:
        run = tmp_path_factory.mktemp("refined") / "run"
        summary = finetune("tiny", run, target=str(tiny_fonts["light"]), steps=4, progress=False, device="cpu",
                           refiner_steps=REFINER_STEPS)
    finally:
        bases.bases_dir = original
    return summary


def test_models_lists_the_shipped_refiner(shipped_refined, capsys):
    assert main(["models", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [(x["kind"], x["name"]) for x in listing] == [("base", "tiny"), ("refiner", "tiny-refine")]
    refiner = listing[1]
    assert refiner["base"] == "tiny" and (refiner["coarse_size"], refiner["size"]) == (32, 64)
    assert main(["models"]) == 0
    assert "tiny-refine: refiner of tiny, 32 -> 64 px" in capsys.readouterr().out


def test_finetune_tunes_the_run_refiner_on_the_training_glyphs(refined_run, tiny_refiner):
    assert refined_run.refiner == refined_run.run_dir / RUN_REFINER
    doc = read_refiner_metadata(refined_run.refiner)
    assert doc["tuned"]["from"] == str(tiny_refiner)
    assert doc["tuned"]["glyphs"] == refined_run.train_glyphs and doc["tuned"]["steps"] == REFINER_STEPS
    record = json.loads((refined_run.run_dir / "finetune.json").read_text(encoding="utf-8"))
    assert record["refiner"] == str(tiny_refiner) and record["refiner_steps"] == REFINER_STEPS
    # Running the same command again is a resume: nothing retrains, the refiner stays.
    before = refined_run.refiner.stat().st_mtime_ns
    import zi2zi.bases as bases

    original = bases.bases_dir
    bases.bases_dir = lambda: tiny_refiner.parent
    try:
        again = finetune("tiny", refined_run.run_dir, target=str(tiny_fonts_light(refined_run)), steps=4,
                         progress=False, device="cpu")
    finally:
        bases.bases_dir = original
    assert again.refiner == refined_run.refiner and refined_run.refiner.stat().st_mtime_ns == before


def test_an_overwritten_run_tunes_its_refiner_anew(refined_run, tiny_refiner, tmp_path):
    # The same generator recipe gives the same generator; the refiner's own budget changed, so the
    # refiner tuned for the old run must not be kept.
    import shutil

    import zi2zi.bases as bases

    run = tmp_path / "run"
    shutil.copytree(refined_run.run_dir, run)
    original = bases.bases_dir
    bases.bases_dir = lambda: tiny_refiner.parent
    try:
        again = finetune("tiny", run, target=tiny_fonts_light(refined_run), steps=4, progress=False, device="cpu",
                         refiner_steps=REFINER_STEPS + 5, overwrite=True)
    finally:
        bases.bases_dir = original
    assert again.refiner == run / RUN_REFINER
    assert read_refiner_metadata(again.refiner)["tuned"]["steps"] == REFINER_STEPS + 5


def tiny_fonts_light(summary):
    from zi2zi.data.layout import read_manifest

    return read_manifest(summary.data_dir)["styles"][0]["font"]["path"]


def test_generate_draws_refined_glyphs_unless_told_not_to(refined_run, tiny_fonts, tmp_path):
    run, style = refined_run.run_dir, refined_run.style
    chars = TINY_CHARS[:6]
    refined, plain = tmp_path / "refined", tmp_path / "plain"
    common = ["--checkpoint", str(run), "--style", style, "--source-font", str(tiny_fonts["source"]), "--chars", chars]
    assert main(["generate", *common, "--out", str(refined)]) == 0
    assert main(["generate", *common, "--out", str(plain), "--no-refine"]) == 0
    manifest = json.loads((refined / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["render"]["size"] == 64 and manifest["embox"]["size"] == 64
    assert manifest["refiner"]["path"] == str(run / RUN_REFINER)
    assert json.loads((plain / "manifest.json").read_text(encoding="utf-8"))["refiner"] is None
    assert read_grey(next(refined.glob("U+*.png"))).shape == (64, 64)
    assert read_grey(next(plain.glob("U+*.png"))).shape == (32, 32)
    # Both folders export; the refined one is traced from its 64 px glyphs in the same em box.
    for folder in (refined, plain):
        assert main(["export", "--glyphs", str(folder), "--out", str(tmp_path / f"{folder.name}.ttf"),
                     "--family", "Refined Test"]) == 0
    # A resume never mixes refined glyphs with plain ones.
    assert main(["generate", *common, "--out", str(refined), "--no-refine", "--resume"]) == 1
    # --amp none draws in fp32: the same glyphs as the default, which is bf16 only where the CPU has it.
    fp32 = tmp_path / "fp32"
    assert main(["generate", *common, "--out", str(fp32), "--amp", "none"]) == 0
    for path in refined.glob("U+*.png"):
        a, b = read_grey(path) < 128, read_grey(fp32 / path.name) < 128
        # The tiny test model inks a few dozen pixels, where bf16 rounding flips a handful: judge
        # the whole glyph image, not the IoU of so little ink.
        assert (a ^ b).mean() <= 0.01


def test_specimen_and_interpolation_are_refined(refined_run, tiny_fonts, tmp_path):
    model = GlyphGenerator(refined_run.run_dir, device="cpu")
    assert model.refiner is not None and model.output_render.size == 64
    [(chars, glyphs)] = list(model.generate_chars(open_font_of(tiny_fonts["source"]), TINY_CHARS[:3],
                                                 model.style(refined_run.style)))
    assert glyphs.shape == (3, 64, 64) and glyphs.dtype == np.uint8
    out = tmp_path / "specimen.png"
    assert main(["specimen", "--checkpoint", str(refined_run.run_dir), "--style", refined_run.style,
                 "--source-font", str(tiny_fonts["source"]), "--text", TINY_CHARS[:4], "--out", str(out)]) == 0
    assert out.is_file()


def test_a_refiner_for_other_glyphs_is_refused_naming_both(tiny_fonts, tmp_path, shipped_refined):
    import torch

    from zi2zi.config import RenderSettings
    from zi2zi.refine.files import save_refiner
    from zi2zi.refine.model import Refiner, RefinerConfig

    wrong = save_refiner(tmp_path / "wrong.safetensors", Refiner(RefinerConfig(size=128, coarse_size=64, width=4,
                                                                                 context_width=4, blocks=1)),
                         coarse=RenderSettings(size=64), meta={}, dtype=torch.float16)
    with pytest.raises(CheckpointError, match=r"refiner .*wrong.safetensors refines 64 px .* the base tiny draws 32 px"):
        finetune("tiny", tmp_path / "ft", target=str(tiny_fonts["light"]), steps=2, refiner=wrong, progress=False)
    assert not (tmp_path / "ft").exists()
    with pytest.raises(CheckpointError, match="wrong.safetensors refines 64 px"):
        GlyphGenerator(shipped_refined, device="cpu", refiner=wrong)


def open_font_of(path):
    from zi2zi.fonts import open_font

    return open_font(path)
