"""Generating from a tiny trained checkpoint: glyph folders, resume, specimen, interpolation, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from zi2zi.cli import main
from zi2zi.config import load_config
from zi2zi.device import cpu_prefers_bf16
from zi2zi.errors import CheckpointError, Zi2ziError
from zi2zi.fonts import open_font
from zi2zi.generation import GlyphGenerator, generate_to_folder, write_interpolation, write_specimen
from zi2zi.training import TrainOptions, train

from conftest import TINY_CHARS

TINY = ["model.generator.ngf=8", "model.generator.style_dim=8", "model.discriminator.ndf=8",
        "train.batch_size=4", "train.max_steps=2", "train.eval_every=2", "train.sample_every=0",
        "train.checkpoint_every=2"]


@pytest.fixture(scope="module")
def checkpoint(make_tiny_dataset, tmp_path_factory):
    data = make_tiny_dataset()
    run = tmp_path_factory.mktemp("run") / "tiny"
    summary = train(TrainOptions(data=data, out=run, image_size_from_data=True, progress=False,
                                 config=load_config("cpu-small", overrides=TINY)))
    return summary.checkpoint


def test_generate_writes_glyphs_manifest_and_resumes(checkpoint, tiny_fonts, tmp_path):
    model = GlyphGenerator(checkpoint, device="cpu")
    # Drawn in bf16 where this kind of CPU is faster in it (benchmarks/reports/bf16-speed.md), else fp32.
    assert model.precision.dtype is (torch.bfloat16 if cpu_prefers_bf16() else None)
    assert GlyphGenerator(checkpoint, device="cpu", amp="none").precision.dtype is None
    source = open_font(tiny_fonts["source"])
    out = tmp_path / "glyphs"
    report = generate_to_folder(model, style=model.style(1), source=source, chars="的一是永", out=out)
    assert report.written == list("的一是") and report.missing_in_source == ["永"]
    files = sorted(p.name for p in out.glob("U+*.png"))
    assert files == sorted(f"U+{ord(c):04X}.png" for c in "的一是")
    image = np.asarray(Image.open(out / files[0]))
    assert image.shape == (32, 32) and image.dtype == np.uint8
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["render"] == {"size": 32, "mode": "em", "margin": 0.0}
    assert manifest["style"] == {"id": 1, "name": "Tiny Light Regular"}
    assert manifest["embox"]["units_per_em"] == 1000 and manifest["advance"] == 1000
    with pytest.raises(Zi2ziError, match="pass --resume"):
        generate_to_folder(model, style=model.style(1), source=source, chars="的", out=out)
    again = generate_to_folder(model, style=model.style(1), source=source, chars="的一了", out=out, resume=True)
    assert again.written == ["了"] and again.skipped_existing == list("的一")
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["characters"] == "".join(
        sorted("的一是了", key=ord))
    # overwrite (the web app's): the earlier glyphs go, even of another style.
    replaced = generate_to_folder(model, style=model.style(0), source=source, chars="我", out=out, overwrite=True)
    assert replaced.written == ["我"] and sorted(p.name for p in out.glob("U+*.png")) == [f"U+{ord('我'):04X}.png"]
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["style"]["id"] == 0


def test_generation_is_the_model_on_rendered_sources(checkpoint, tiny_fonts):
    model = GlyphGenerator(checkpoint, device="cpu")
    source = open_font(tiny_fonts["source"])
    [(chars, images)] = list(model.generate_chars(source, list("的一"), model.style(0)))
    direct = model.generate(np.stack([model.renderer(source).render(c) for c in chars]), model.style(0))
    assert np.array_equal(images, direct)
    other = model.generate(np.stack([model.renderer(source).render(c) for c in chars]), model.style(1))
    assert not np.array_equal(images, other)  # the style id changes the output


def test_styles_by_name_and_errors(checkpoint, tmp_path):
    model = GlyphGenerator(checkpoint, device="cpu")
    assert model.style("tiny bold regular").id == 0 and model.style("1").name == "Tiny Light Regular"
    with pytest.raises(CheckpointError, match="unknown style 'Gothic'; this checkpoint has 0: Tiny Bold"):
        model.style("Gothic")
    with pytest.raises(CheckpointError, match="does not exist"):
        GlyphGenerator(tmp_path / "missing.safetensors")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError):
        GlyphGenerator(corrupt)


def test_specimen_and_interpolation(checkpoint, tiny_fonts, tmp_path):
    model = GlyphGenerator(checkpoint, device="cpu")
    source = open_font(tiny_fonts["source"])
    sheet = Image.open(write_specimen(model, style=model.style(0), source=source, text="的一 是", out=tmp_path / "s.png"))
    # generated, source and target font rows (the target font is still where the checkpoint says)
    assert sheet.height > 3 * 64
    strip = Image.open(write_interpolation(model, a=model.style(0), b=model.style(1), source=source,
                                           chars="的一", steps=3, out=tmp_path / "i.png"))
    assert strip.height > 3 * 64
    gif = Image.open(write_interpolation(model, a=model.style(0), b=model.style(1), source=source,
                                         chars="的一", steps=3, out=tmp_path / "i.gif"))
    assert gif.n_frames == 4  # 3 steps forth, 1 back (the ends are not repeated)
    ends = model.interpolate(np.stack([model.renderer(source).render("的")]), model.style(0), model.style(1), [0.0, 1.0])
    assert np.array_equal(ends[0], model.generate(np.stack([model.renderer(source).render("的")]), model.style(0)))
    with pytest.raises(Zi2ziError, match="must end in .gif"):
        write_interpolation(model, a=model.style(0), b=model.style(1), source=source, chars="的", steps=3,
                            out=tmp_path / "i.jpg")


def test_generate_cli(checkpoint, tiny_fonts, tmp_path, capsys):
    run_dir = checkpoint.parent.parent  # a run directory works as CKPT too
    out = tmp_path / "all"
    assert main(["generate", "--checkpoint", str(run_dir), "--style", "all", "--source-font",
                 str(tiny_fonts["source"]), "--chars", TINY_CHARS[:5], "--out", str(out)]) == 0
    assert len(list((out / "style-0").glob("*.png"))) == 5 and len(list((out / "style-1").glob("*.png"))) == 5
    assert main(["generate", "--checkpoint", str(run_dir), "--style", "9", "--source-font",
                 str(tiny_fonts["source"]), "--chars", "的", "--out", str(tmp_path / "x")]) == 1
    assert "unknown style '9'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_generate_with_punctuation_follows_the_target_font(checkpoint, tiny_fonts, tmp_path):
    """--with-punctuation adds what a sentence needs: the marks the style's target font has (the
    tiny bold font has none), or with --missing-from those that font lacks."""
    from fontfactory import CJK_PUNCTUATION_GLYPHS, LATIN_GLYPHS, sentence_font

    source = tmp_path / "source.ttf"
    sentence_font(TINY_CHARS).save(str(source))
    common = ["generate", "--checkpoint", str(checkpoint), "--style", "0", "--source-font", str(source)]
    assert main([*common, "--chars", TINY_CHARS[0], "--with-punctuation", "--out", str(tmp_path / "a")]) == 0
    assert [p.name for p in (tmp_path / "a").glob("U+*.png")] == [f"U+{ord(TINY_CHARS[0]):04X}.png"]
    assert main([*common, "--missing-from", str(tiny_fonts["bold"]), "--within", f"text:{TINY_CHARS[:2]}",
                 "--with-punctuation", "--out", str(tmp_path / "b")]) == 0
    written = {chr(int(p.stem[2:], 16)) for p in (tmp_path / "b").glob("U+*.png")}
    assert written == set(CJK_PUNCTUATION_GLYPHS) | set(LATIN_GLYPHS)
