"""An exported font sets a sentence: CJK punctuation, digits and Latin beside the hanzi.

The glyph folder is rendered from a drawn font (tests/fontfactory.py: punctuation placed in the
em box as CJK fonts place it, proportional Latin) by zi2zi's renderer, exactly as `generate`
writes a model's glyphs; the export traces it. HarfBuzz then shapes a paragraph with it, and the
exported glyphs are compared with the drawn ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

from fontcheck import fontbakery_findings
from zi2zi.config import RenderSettings
from zi2zi.export import FontInfo, TakeGlyphs, export_font
from zi2zi.fonts import Renderer, open_font
from zi2zi.fonts.charsets import builtin_charset
from zi2zi.fonts.punctuation import (
    COMMON_CJK_PUNCTUATION,
    cjk_punctuation,
    is_proportional,
    latin,
    template_extras,
)
from zi2zi.images import save_png

from fontfactory import CJK_PUNCTUATION_GLYPHS, LATIN_GLYPHS, sentence_font

S = 64
HANZI = "".join(builtin_charset("gb2312-1")[:160])  # enough ideographs for fontbakery's CJK checks
PARAGRAPH = f"{HANZI[0]}{HANZI[1]}，{HANZI[2]}{HANZI[3]}、{HANZI[4]}。Hello, World! 2026（{HANZI[5]}）“{HANZI[6]}”？"
DONOR_LICENCE = "Licensed under the Drawn Test Licence 1.0"


def render_folder(font_path: Path, chars: str, out: Path) -> Path:
    """``chars`` of the font as a glyph folder, drawn by the one renderer as `generate` would."""
    font = open_font(font_path)
    renderer = Renderer(font, RenderSettings(size=S, mode="em", margin=0.0))
    out.mkdir(parents=True)
    for char in chars:
        image = renderer.render(char)
        assert image is not None, char
        save_png(out / f"U+{ord(char):04X}.png", image)
    manifest = {"render": {"size": S, "mode": "em", "margin": 0.0}, "embox": font.embox(S).to_dict(), "advance": 1000}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("drawn") / "drawn.ttf"
    sentence_font(HANZI, family="Drawn Sentence", names={"licenseDescription": DONOR_LICENCE,
                                                         "copyright": "Copyright 2026 Drawn"}).save(str(path))
    return path


@pytest.fixture(scope="module")
def exported(drawn, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sentence")
    chars = HANZI + "".join(CJK_PUNCTUATION_GLYPHS) + "".join(LATIN_GLYPHS)
    folder = render_folder(drawn, chars, root / "glyphs")
    info = FontInfo(copyright="Copyright 2026 The Zi2zi Test Authors",
                    license="This Font Software is licensed under the SIL Open Font License, Version 1.1.",
                    license_url="https://openfontlicense.org")
    out = {}
    for kind in ("ttf", "otf"):
        out[kind] = root / f"Sentence-Regular.{kind}"
        export_font(folder, out[kind], family="Zi2zi Sentence", info=info)
    return out


def bounds(font: TTFont, char: str) -> tuple[float, float, float, float]:
    glyphs = font.getGlyphSet()
    pen = BoundsPen(glyphs)
    glyphs[font.getBestCmap()[ord(char)]].draw(pen)
    assert pen.bounds is not None, char
    return pen.bounds


def shape(path: Path, text: str) -> list[tuple[int, int]]:
    hb = pytest.importorskip("uharfbuzz")
    face = hb.Face(path.read_bytes())
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(hb.Font(face), buf, {})
    return [(info.codepoint, pos.x_advance) for info, pos in zip(buf.glyph_infos, buf.glyph_positions)]


# --- the charsets ------------------------------------------------------------------------------


def test_punctuation_comes_from_the_standards_codecs() -> None:
    marks = cjk_punctuation()
    assert len(marks) == len(set(marks)) == 242
    # GB 2312 row 1 as fonts map it (GB 18030): middle dot and em dash, not katakana dot and bar.
    assert marks[:4] == ("、", "。", "·", "ˉ") and "—" in marks and "・" in marks  # JIS has the katakana dot
    assert set(COMMON_CJK_PUNCTUATION) <= set(marks) and set("，；：？！（）《》【】「」『』…") <= set(marks)
    assert not any(c.isascii() or c.isspace() or "\u4e00" <= c <= "\u9fff" for c in marks)
    assert "Ａ" not in marks and "０" not in marks  # full-width letters and digits stay out
    assert "".join(latin()) == "".join(chr(c) for c in range(0x21, 0x7F))
    assert is_proportional(ord("A")) and is_proportional(ord("1")) and not is_proportional(ord("，"))
    assert builtin_charset("cjk-punctuation") == marks and builtin_charset("latin") == latin()
    extras = template_extras()
    assert set("0123456789") <= set(extras) and set("AZaz") <= set(extras) and "。" in extras


# --- the exported font -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_harfbuzz_sets_a_paragraph_with_no_notdef(exported, kind: str) -> None:
    glyphs = shape(exported[kind], PARAGRAPH)
    assert len(glyphs) == len(PARAGRAPH)
    assert all(gid != 0 for gid, _ in glyphs), [c for c, (gid, _) in zip(PARAGRAPH, glyphs) if gid == 0]
    advances = dict(zip(PARAGRAPH, (adv for _, adv in glyphs)))
    assert advances["，"] == advances["。"] == advances[HANZI[0]] == 1000  # full width
    assert advances["l"] < advances["o"] < advances["W"] < 1000  # proportional Latin


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_full_width_punctuation_sits_where_the_drawn_font_puts_it(exported, drawn, kind: str) -> None:
    font, original = TTFont(exported[kind]), TTFont(drawn)
    pixel = 1000 / S
    for char in CJK_PUNCTUATION_GLYPHS:
        got, want = np.array(bounds(font, char)), np.array(bounds(original, char))
        assert np.abs(got - want).max() <= 1.5 * pixel, (char, got, want)
    # The CJK convention, in the ideographic em box (-120 .. 880): 、。， low at the left, ？！ centred.
    for char in "、。，":
        x0, y0, x1, y1 = bounds(font, char)
        assert (x0 + x1) / 2 < 330 and (y0 + y1) / 2 < 150, char
    for char in "？！":
        x0, y0, x1, y1 = bounds(font, char)
        assert abs((x0 + x1) / 2 - 500) < 40 and 200 < (y0 + y1) / 2 < 500, char


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_latin_and_digits_are_as_wide_as_their_ink(exported, kind: str) -> None:
    font = TTFont(exported[kind])
    hmtx, cmap = font["hmtx"], font.getBestCmap()
    for char in LATIN_GLYPHS:
        x0, _, x1, _ = bounds(font, char)
        advance, lsb = hmtx[cmap[ord(char)]]
        assert abs(advance - (x1 - x0 + 120)) <= 2 and abs(x0 - 60) <= 2, (char, advance, x0, x1)
    assert font["post"].isFixedPitch == 0 and font["OS/2"].panose.bProportion == 0


def test_punctuation_and_latin_taken_unchanged_from_a_font(drawn, tmp_path: Path) -> None:
    """From a donor at 2048 units with a one-em typo box: outlines scaled, 。 kept in the
    ideographic box, Latin on the baseline, and the donor's licence in the name table."""
    donor = tmp_path / "donor.ttf"
    sentence_font(HANZI[:8], units_per_em=2048, family="Donor Serif",
                  names={"licenseDescription": DONOR_LICENCE, "licenseInfoURL": "https://example.org/licence"}
                  ).save(str(donor))
    folder = render_folder(drawn, HANZI[:8] + "。", tmp_path / "glyphs")
    out = tmp_path / "Taken.otf"
    result = export_font(folder, out, family="Taken", take=[TakeGlyphs(donor, "punctuation"), TakeGlyphs(donor, "latin")])
    font, original = TTFont(out), TTFont(drawn)
    assert ord("H") in result.borrowed and ord("。") in result.borrowed and ord("。") not in result.codepoints
    for char in "。？H2":
        assert np.abs(np.array(bounds(font, char)) - np.array(bounds(original, char))).max() <= 1, char
    assert font["hmtx"][font.getBestCmap()[ord("H")]][0] == 540  # the donor's width, scaled
    licence = font["name"].getDebugName(13)
    assert DONOR_LICENCE in licence and "Donor Serif" in licence and "donor.ttf" in licence
    assert font["name"].getDebugName(14) == "https://example.org/licence"
    assert all(gid != 0 for gid, _ in shape(out, f"{HANZI[0]}。Hello 2026？"))


def test_taking_from_a_font_without_such_glyphs_is_refused(drawn, tmp_path: Path) -> None:
    from zi2zi.errors import ExportError

    from fontfactory import pattern_glyphs, save_font

    bare = save_font(tmp_path / "bare.ttf", pattern_glyphs(HANZI[:4]))
    folder = render_folder(drawn, HANZI[:4], tmp_path / "glyphs")
    with pytest.raises(ExportError, match="has none of the digits and Latin; take them from another font"):
        export_font(folder, tmp_path / "x.ttf", family="X", take=[TakeGlyphs(bare, "latin")])


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_fontbakery_has_no_fail_on_a_font_with_punctuation_and_latin(exported, kind: str, tmp_path: Path) -> None:
    found = fontbakery_findings(exported[kind], kind, tmp_path)
    assert found.get("FAIL", []) == [] and found.get("ERROR", []) == [] and found.get("FATAL", []) == []


def test_a_donor_glyph_that_cannot_be_read_is_one_clear_error(drawn, tmp_path: Path) -> None:
    """A donor that opens (fonts are read lazily) but whose glyph of H is damaged: one ExportError
    naming the character and the donor, and no font written."""
    from fontTools.ttLib import TTFont

    from zi2zi.errors import ExportError

    donor = tmp_path / "donor.ttf"
    sentence_font(HANZI[:4], family="Donor Serif").save(str(donor))
    with TTFont(str(donor)) as tt:
        name = tt.getBestCmap()[ord("H")]
        start = tt["loca"][tt.getGlyphID(name)]
        glyf_offset = tt.reader.tables["glyf"].offset
    data = bytearray(donor.read_bytes())
    data[glyf_offset + start: glyf_offset + start + 2] = (30000).to_bytes(2, "big")  # 30000 contours: reads past its data
    donor.write_bytes(bytes(data))
    with TTFont(str(donor), lazy=True) as tt:  # it still opens
        assert tt.getBestCmap()[ord("H")] == name
    folder = render_folder(drawn, HANZI[:4], tmp_path / "glyphs")
    out = tmp_path / "x.ttf"
    with pytest.raises(ExportError, match=r"cannot read the glyph of H .*donor\.ttf.*take them from an intact font"):
        export_font(folder, out, family="X", take=[TakeGlyphs(donor, "latin")])
    assert not out.exists()
