"""Written glyphs brought to one placement before fine-tuning, and generated glyphs given the
hand's median placement back (zi2zi.data.placement)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zi2zi.config import RenderSettings
from zi2zi.data import placement as pl
from zi2zi.data.glyphfolder import write_glyph, write_manifest
from zi2zi.fonts import EmBox, open_font

from conftest import TINY_CHARS

SIZE = 64


@pytest.fixture(scope="module")
def sources(tiny_fonts):
    return pl.source_glyphs(open_font(tiny_fonts["source"]), TINY_CHARS, EmBox.cjk_default(SIZE))


def _jitter(image: np.ndarray, k: float, dx: float, dy: float) -> np.ndarray:
    """``image`` scaled by ``k`` about its centroid and moved by (dx, dy) em: a hand's placement."""
    m = pl.moments(image)
    assert m is not None
    return pl.warp(image, centre=(m.cx, m.cy), to=(m.cx + dx * SIZE, m.cy + dy * SIZE), kx=k, ky=k)


def test_each_normalisation_undoes_what_it_should(sources):
    char = "国"
    source = sources[char]
    written = _jitter(source, 0.8, 0.05, -0.04)
    iou = {m: pl.ink_iou(pl.normalise(written, source, m)[0], source) for m in pl.METHODS}
    # Moving alone cannot undo the size; scaling undoes both, per axis or uniformly.
    assert iou["none"] < iou["centroid"] < 0.75 < iou["scale"]
    assert iou["scale"] > 0.85 and iou["axes"] > 0.85
    _, off = pl.normalise(written, source, "scale")
    assert off is not None
    assert off.dx == pytest.approx(0.05, abs=0.01) and off.dy == pytest.approx(-0.04, abs=0.01)
    assert off.kx == pytest.approx(0.8, abs=0.04) and off.kx == off.ky


def test_the_median_placement_puts_generated_glyphs_where_the_hand_puts_them(sources):
    rng = np.random.default_rng(0)
    chars = list(sources)[:30]
    # A hand that writes every glyph about 0.85 of the source's size, a little right and high.
    jitter = {c: (0.85 + rng.uniform(-0.05, 0.05), 0.03 + rng.uniform(-0.02, 0.02), -0.02 + rng.uniform(-0.02, 0.02))
              for c in chars}
    written = {c: _jitter(sources[c], *jitter[c]) for c in chars}
    normalised, placement = pl.normalise_all(written, sources, "scale")
    assert placement.glyphs == len(chars)
    assert placement.kx == pytest.approx(0.85, abs=0.03) and placement.dx == pytest.approx(0.03, abs=0.01)
    assert placement.dy == pytest.approx(-0.02, abs=0.01)
    assert _round_trips(placement)
    # A glyph drawn at the source's placement (what the model learns to draw) placed as the hand does:
    placed = pl.place(sources["中"], placement)
    m, ms = pl.moments(placed), pl.moments(sources["中"])
    assert m is not None and ms is not None
    assert (m.cx - ms.cx) / SIZE == pytest.approx(placement.dx, abs=0.01)
    assert m.radius / ms.radius == pytest.approx(placement.kx, abs=0.04)
    # what the normalisation leaves: far less than the glyphs as written, by the box measures
    stats = {s.method: s for s in pl.compare(written, sources)}
    assert stats["scale"].median_iou > stats["none"].median_iou + 0.2
    assert stats["scale"].size_spread < stats["none"].size_spread
    assert stats["centroid"].centre_spread < stats["none"].centre_spread
    assert all(pl.ink_iou(normalised[c], sources[c]) > 0.8 for c in chars)


def _round_trips(placement: pl.Placement) -> bool:
    back = pl.Placement.from_dict(json.loads(json.dumps(placement.to_dict())))
    return back.method == placement.method and abs(back.kx - placement.kx) < 1e-4


def test_a_bad_method_or_record_is_one_clear_error():
    from zi2zi.errors import DatasetError, TrainingError
    from zi2zi.finetune.recipe import check_placement

    with pytest.raises(DatasetError, match="use one of none, centroid, scale, axes"):
        pl.Placement.from_dict({"method": "stretch"})
    with pytest.raises(TrainingError, match="choose one of"):
        check_placement("stretch")
    blank = np.full((SIZE, SIZE), 255, np.uint8)
    assert pl.normalise(blank, blank, "scale") == (blank, None) and pl.place(blank, pl.Placement("scale", kx=0.5)) is blank


def _written_folder(tmp_path, tiny_fonts, chars: str):
    """A glyph folder as `zi2zi scan` writes it (64 px, the 1000 / 880 / -120 em box), of the tiny
    bold font written by a hand at 0.75-0.85 of its size, a little left."""
    from zi2zi.fonts import Renderer

    folder = tmp_path / "hand"
    folder.mkdir()
    renderer = Renderer(open_font(tiny_fonts["bold"]), RenderSettings(size=SIZE))
    rng = np.random.default_rng(1)
    for char in chars:
        glyph = renderer.render(char)
        write_glyph(folder, char, _jitter(glyph, rng.uniform(0.75, 0.85), -0.04 + rng.uniform(-0.01, 0.01), 0.0))
    write_manifest(folder, render=RenderSettings(size=SIZE, mode="em", margin=0.0), embox=EmBox.cjk_default(SIZE),
                   characters=chars, complete=True, source="scan")
    return folder


def test_finetune_trains_on_normalised_glyphs_and_generation_gives_the_placement_back(shipped, tiny_fonts, tmp_path):
    from zi2zi.data.layout import read_manifest, style_dir
    from zi2zi.finetune import finetune
    from zi2zi.generation import GlyphGenerator, generated_glyphs
    from zi2zi.images import read_grey, resize_glyph

    chars = TINY_CHARS[:16]
    folder = _written_folder(tmp_path, tiny_fonts, chars)
    summary = finetune("tiny", tmp_path / "ft", target_glyphs=folder, steps=2, progress=False, device="cpu")
    style = read_manifest(summary.data_dir)["styles"][0]
    recorded = pl.Placement.from_dict(style["placement"])
    assert recorded.method == pl.DEFAULT_METHOD == "scale" and recorded.glyphs == len(chars)
    # The bold font is drawn at about the source's size, so the hand's 0.75-0.85 shows in the median.
    assert 0.7 < recorded.kx < 0.9 and recorded.dx == pytest.approx(-0.04, abs=0.02)
    record = json.loads((summary.run_dir / "finetune.json").read_text(encoding="utf-8"))
    assert record["placement"] == style["placement"]
    # The training targets are the written glyphs brought onto the source glyphs' placement.
    sources = pl.source_glyphs(open_font(tiny_fonts["source"]), chars, EmBox.cjk_default(32))
    target = {c: read_grey(style_dir(summary.data_dir, 0) / f"U+{ord(c):04X}.png") for c in chars}
    as_written = {c: resize_glyph(read_grey(folder / f"U+{ord(c):04X}.png"), 32) for c in chars}
    assert pl.compare(target, sources, ["none"])[0].median_iou > pl.compare(as_written, sources, ["none"])[0].median_iou + 0.1
    # The checkpoint carries the placement; the glyph stage gives every generated glyph the hand's.
    model = GlyphGenerator(summary.run_dir, device="cpu")
    new = model.style(summary.style)
    assert model.style_placement(new) == recorded and model.style_placement(model.style(0)) is None
    source = open_font(tiny_fonts["source"])
    [(_, raw)] = list(model.generate_chars(source, ["的", "一"], new))
    [(_, placed)] = list(generated_glyphs(model, style=new, source=source, chars=["的", "一"]))
    assert all(np.array_equal(p, pl.place(r, recorded)) for p, r in zip(placed, raw))
    assert not np.array_equal(placed, raw)
    # --normalize-written: the written glyphs placed as generated ones are, all alike.
    from zi2zi.cli import main
    from zi2zi.finetune.tidy import tidy_folder

    tidy = tidy_folder(folder, summary.run_dir, tmp_path / "tidy")
    big = pl.source_glyphs(open_font(tiny_fonts["source"]), chars, EmBox.cjk_default(SIZE))
    written_64 = {c: read_grey(folder / f"U+{ord(c):04X}.png") for c in chars}
    tidied = {chr(cp): tidy.load(cp) for cp in tidy.codepoints}
    assert pl.box_spread(tidied, big)[1] < pl.box_spread(written_64, big)[1]  # the size jitter is gone
    assert tidy.embox == EmBox.cjk_default(SIZE) and len(tidied) == len(chars)
    assert main(["export", "--glyphs", str(folder), "--out", str(tmp_path / "Tidy.ttf"), "--family", "Tidy",
                 "--normalize-written", str(summary.run_dir)]) == 0
    assert main(["export", "--glyphs", str(folder), "--out", str(tmp_path / "Bad.ttf"), "--family", "Bad",
                 "--normalize-written", str(tmp_path)]) == 1
    # "none" trains on the glyphs as written and records that it did.
    plain = finetune("tiny", tmp_path / "ft-none", target_glyphs=folder, steps=2, progress=False, device="cpu",
                     placement="none")
    style = read_manifest(plain.data_dir)["styles"][0]
    assert pl.Placement.from_dict(style["placement"]).identity
    assert np.array_equal(read_grey(style_dir(plain.data_dir, 0) / f"U+{ord(chars[0]):04X}.png"), as_written[chars[0]])


def test_the_refining_stage_learns_from_the_same_normalised_glyphs(shipped_refined, tiny_fonts, tmp_path, monkeypatch):
    import zi2zi.refine.tune as tune
    from zi2zi.finetune import finetune
    from zi2zi.images import resize_glyph

    chars = TINY_CHARS[:12]
    folder = _written_folder(tmp_path, tiny_fonts, chars)
    seen = {}

    def capture(base, generator, style, *, pairs, out, **kwargs):  # its input is all that matters here
        seen["pairs"] = pairs
        return None

    monkeypatch.setattr(tune, "tune_refiner", capture)
    finetune("tiny", tmp_path / "ft", target_glyphs=folder, steps=2, progress=False, device="cpu")
    pairs = seen["pairs"]
    size = pairs.target.shape[-1]
    sources = pl.source_glyphs(open_font(tiny_fonts["source"]), chars, EmBox.cjk_default(size))
    from zi2zi.images import read_grey

    targets = dict(zip(pairs.chars, pairs.target))
    written = {c: resize_glyph(read_grey(folder / f"U+{ord(c):04X}.png"), size) for c in pairs.chars}
    # the refiner's targets sit on the source glyphs as the generator's do, not where the hand put them
    assert pl.compare(targets, sources, ["none"])[0].median_iou > pl.compare(written, sources, ["none"])[0].median_iou + 0.1
