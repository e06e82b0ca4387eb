"""The font-making chain as one call: a base and a target font in, a finished font file out."""

from __future__ import annotations

import pytest
from fontTools.ttLib import TTFont

import zi2zi
from zi2zi.data.glyphfolder import read_glyph_folder
from zi2zi.data.layout import read_manifest
from zi2zi.errors import ExportError

from conftest import TINY_CHARS


def test_make_font_fine_tunes_generates_and_exports_a_new_font(shipped, tiny_fonts, tmp_path):
    heard: list[tuple[str, int, int]] = []
    wanted = TINY_CHARS[30:40]
    made = zi2zi.make_font("tiny", tmp_path / "Mine.ttf", work=tmp_path / "work", chars=wanted,
                           target=str(tiny_fonts["light"]), train_chars=f"text:{TINY_CHARS[:30]}", holdout=0,
                           steps=2, family="Mine", device="cpu", style_name="Mine", echo=lambda _: None,
                           progress=lambda *event: heard.append(event))
    assert made.font == tmp_path / "Mine.ttf" and made.model is not None and made.model.step == 2
    # The run learned from the training characters; the font holds exactly the generated ones.
    assert set(read_manifest(tmp_path / "work" / "run" / "data")["split"]["train"]) == set(TINY_CHARS[:30])
    assert set(TTFont(made.font).getBestCmap()) - {0x20, 0xA0, 0x3000} == {ord(c) for c in wanted}
    assert {chr(cp) for cp in read_glyph_folder(tmp_path / "work" / "generated").codepoints} == set(wanted)
    assert made.source.path == tiny_fonts["source"]  # the base's own source font, found from its record
    stages = [stage for stage, _, _ in heard]
    assert stages[0] == "finetune" and stages[-1] == "export" and "generate" in stages
    assert ("generate", len(wanted), len(wanted)) in heard and set(made.seconds) == {"finetune", "generate", "export"}


def test_make_font_merges_into_a_font_and_keeps_its_glyphs(shipped, tiny_fonts, tmp_path):
    made = zi2zi.make_font("tiny", tmp_path / "filled.ttf", work=tmp_path / "work", chars=TINY_CHARS,
                           target=str(tiny_fonts["light"]), train_chars=f"text:{TINY_CHARS[:20]}", holdout=0,
                           steps=1, merge_into=tiny_fonts["bold"], device="cpu", echo=lambda _: None)
    # The bold font lacks the last two characters: only they are generated and added.
    assert made.export is not None and made.export.glyphs == 2
    cmap = TTFont(made.font).getBestCmap()
    assert {ord(c) for c in TINY_CHARS} <= set(cmap)
    assert TTFont(tiny_fonts["bold"]).getBestCmap()[ord(TINY_CHARS[0])] == cmap[ord(TINY_CHARS[0])]


def test_a_new_font_without_a_name_is_refused_before_any_work(shipped, tiny_fonts, tmp_path):
    with pytest.raises(ExportError, match="needs a name"):
        zi2zi.make_font("tiny", tmp_path / "x.ttf", work=tmp_path / "work", chars=TINY_CHARS[:4],
                        target=str(tiny_fonts["light"]), holdout=0, steps=1, device="cpu", echo=lambda _: None)
    assert not (tmp_path / "work").exists()
