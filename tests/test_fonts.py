"""Fonts, the renderer, and charsets, on fonts built by the tests."""

from __future__ import annotations

import numpy as np
import pytest

from zi2zi.config import RenderSettings
from zi2zi.errors import CharsetError, FontError
from zi2zi.fonts import EmBox, Renderer, filter_by_fonts, open_font, resolve_charset

from fontfactory import save_collection, save_font


def ink_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the ink, inclusive."""
    rows = np.flatnonzero((image < 128).any(axis=1))
    cols = np.flatnonzero((image < 128).any(axis=0))
    return cols[0], rows[0], cols[-1], rows[-1]


@pytest.fixture(scope="module")
def box_font(tmp_path_factory):
    glyphs = {
        "口": [(200, 0, 800, 500)],  # a block resting on the baseline
        "g": [(300, -120, 700, 300)],  # reaches the descender
        "一": [(0, 760, 1000, 880)],  # touches the ascender and both sides of the em
        "空": [],  # in the cmap, but an empty glyph
    }
    return open_font(save_font(tmp_path_factory.mktemp("f") / "box.ttf", glyphs))


def test_open_font_reports_metrics_and_coverage(box_font):
    assert box_font.family == "Zi2zi Test" and box_font.style == "Regular"
    assert (box_font.units_per_em, box_font.ascender, box_font.descender) == (1000, 880, -120)
    assert box_font.coverage == frozenset(map(ord, "口g一空"))
    assert len(box_font.sha256) == 64


@pytest.mark.parametrize("size", [100, 256])
def test_em_mode_places_glyph_at_font_units(box_font, size):
    renderer = Renderer(box_font, RenderSettings(size=size, mode="em"))
    embox = EmBox(1000, 880, -120, size)
    image = renderer.render("口")
    assert image.shape == (size, size) and image.dtype == np.uint8
    x0, y0 = embox.to_pixels(200, 500, 1000)  # top-left corner of the block
    x1, y1 = embox.to_pixels(800, 0, 1000)  # bottom-right corner
    left, top, right, bottom = ink_box(image)
    assert abs(left - x0) <= 1 and abs(top - y0) <= 1
    assert abs(right + 1 - x1) <= 1 and abs(bottom + 1 - y1) <= 1


def test_em_mode_keeps_descenders_and_full_em(box_font):
    renderer = Renderer(box_font, RenderSettings(size=100))
    left, top, right, bottom = ink_box(renderer.render("g"))
    assert bottom == 99  # the descender reaches the last row and is not cut
    assert abs(top - (100 - 42)) <= 1  # 300 units above the baseline at row 88
    full = renderer.render("一")
    assert ink_box(full)[0] == 0 and ink_box(full)[2] == 99 and ink_box(full)[1] == 0


def test_missing_and_empty_glyphs_are_reported_not_blank(box_font):
    renderer = Renderer(box_font, RenderSettings(size=64))
    assert renderer.render("永") is None  # not in the cmap
    assert renderer.render("空") is None  # in the cmap, renders empty
    for mode in ("em", "fit"):
        assert Renderer(box_font, RenderSettings(size=64, mode=mode)).render("空") is None


def test_fit_mode_fills_the_margin(box_font):
    renderer = Renderer(box_font, RenderSettings(size=100, mode="fit", margin=0.1))
    left, top, right, bottom = ink_box(renderer.render("口"))
    # The block is wider than tall: its width fills 80 px, centred.
    assert abs(left - 10) <= 1 and abs(right - 89) <= 1
    assert abs((top + bottom) / 2 - 49.5) <= 1


def test_bad_font_inputs_name_the_file(tmp_path):
    with pytest.raises(FontError, match="does not exist"):
        open_font(tmp_path / "nope.ttf")
    not_font = tmp_path / "notes.ttf"
    not_font.write_text("hello")
    with pytest.raises(FontError, match="notes.ttf is not a readable font"):
        open_font(not_font)
    with pytest.raises(FontError, match="is a folder"):
        open_font(tmp_path)


def test_collection_faces_by_index_and_name(tmp_path):
    path = save_collection(tmp_path / "two.ttc", [
        {"glyphs": {"一": [(0, 0, 500, 500)]}, "family": "Face Zero"},
        {"glyphs": {"二": [(0, 0, 500, 500)]}, "family": "Face One"},
    ])
    assert open_font(path, 1).family == "Face One"
    assert open_font(path, "Face Zero Regular").face_index == 0
    assert open_font(path, "1").coverage == frozenset([ord("二")])
    with pytest.raises(FontError, match="has no face 5; it has 2 face"):
        open_font(path, 5)
    with pytest.raises(FontError, match="no face named 'Bold'"):
        open_font(path, "Bold")


@pytest.mark.parametrize(
    "name,count",
    [("gb2312", 6763), ("gb2312-1", 3755), ("big5", 13053), ("big5-1", 5401),
     ("tgh8105", 8105), ("jis0208", 6355), ("ksx1001", 4888)],
)
def test_builtin_charset_counts(name, count):
    chars = resolve_charset(name)
    assert len(chars) == count == len(set(chars))


def test_charset_sources(tmp_path):
    assert resolve_charset("text:永字八法永") == list("永字八法")
    assert resolve_charset("gb2312-1")[:3] == list("啊阿埃")  # GB 2312 code order
    lines = tmp_path / "chars.txt"
    lines.write_text("永\n字\n\n八\n", encoding="utf-8")
    assert resolve_charset(str(lines)) == list("永字八")
    prose = tmp_path / "prose.txt"
    prose.write_text("永字 八法，永", encoding="utf-8")
    assert resolve_charset(str(prose)) == list("永字八法，")
    assert set(resolve_charset("gb2312-1")) <= set(resolve_charset("gb2312"))


def test_charset_errors(tmp_path):
    with pytest.raises(CharsetError, match="unknown charset 'gb9999'"):
        resolve_charset("gb9999")
    with pytest.raises(CharsetError, match="holds no characters"):
        resolve_charset("text:   ")
    # The characters themselves without text: read as a file name too long for the system.
    with pytest.raises(CharsetError, match="or text:CHARACTERS"):
        resolve_charset("永" * 300)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(CharsetError, match="holds no characters"):
        resolve_charset(str(empty))


def test_set_operations_with_fonts(box_font):
    chars = list("口永g字")
    assert filter_by_fonts(chars, covered_by=[box_font]) == list("口g")
    assert filter_by_fonts(chars, missing_from=[box_font]) == list("永字")


def test_em_mode_is_sub_pixel_exact(tmp_path):
    """Hinting would snap edges to the pixel grid; the renderer must not (export maps pixels back)."""
    embox = EmBox(1000, 880, -120, 256)
    expected_bottom = embox.to_pixels(0, 100, 1000)[1]  # 199.68: the block's bottom edge
    for top in range(700, 712, 3):  # the top edge moves; the bottom must stay put
        font = open_font(save_font(tmp_path / f"t{top}.ttf", {"口": [(200, 100, 800, top)]}))
        column = 255 - Renderer(font, RenderSettings(size=256)).render("口")[:, 128].astype(float)
        rows = np.flatnonzero(column > 0)
        last = rows[-1]
        bottom = last + column[last] / 255.0  # partial coverage of the last row
        assert abs(bottom - expected_bottom) < 0.05


def test_another_fonts_em_box_places_glyphs_at_its_scale_and_height(box_font, tmp_path):
    # The same block in a 2048-unit font with taller metrics: in its own box it is smaller and
    # lower; in box_font's box (converted to its units) it lands where box_font's does.
    tall = open_font(save_font(tmp_path / "tall.ttf", {"口": [(410, 0, 1638, 1024)]}, units_per_em=2048,
                               ascender=2400, descender=-600))
    settings = RenderSettings(size=128)
    own = Renderer(box_font, settings).render("口")
    borrowed = Renderer(tall, settings, embox=box_font.embox(128)).render("口")
    assert ink_box(Renderer(tall, settings).render("口")) != ink_box(own)
    assert all(abs(a - b) <= 1 for a, b in zip(ink_box(borrowed), ink_box(own)))
    with pytest.raises(FontError, match="em box of 64 px given for rendering at 128 px"):
        Renderer(tall, settings, embox=box_font.embox(64))
    assert box_font.embox(128).in_units(2048).ascender == round(880 * 2.048)


def test_the_coverage_order_is_gb2312_level1_components_first():
    """The coverage order (measured against the fine-tuning default, code order): every level-1
    character once, and (where the Unicode Han Database is installed) exactly what the derivation
    computes, with far more radicals and phonetic series in its first 200 than code order has."""
    from pathlib import Path

    from zi2zi.finetune.recipe import DEFAULT_CHARSET
    from zi2zi.fonts import coverage_order

    ordered = resolve_charset("gb2312-1-coverage")
    assert DEFAULT_CHARSET == "gb2312-1" and sorted(ordered) == sorted(resolve_charset(DEFAULT_CHARSET))
    assert ordered[:200] != resolve_charset("gb2312-1")[:200]
    unihan = Path("/usr/share/unicode")
    if not (unihan / "Unihan_IRGSources.txt.bz2").is_file():
        pytest.skip("the Unicode Han Database (Debian package unicode-data) is not installed")
    assert coverage_order.derive(unihan) == ordered
    from zi2zi.handwriting.charset_derivation import _field

    phonetic = _field(unihan / "Unihan_DictionaryLikeData.txt.bz2", "kPhonetic")
    radical = {c: v.split()[0].split(".")[0].rstrip("'")
               for c, v in _field(unihan / "Unihan_IRGSources.txt.bz2", "kRSUnicode").items()}

    def covered(chars):
        return set().union(*(coverage_order.parts(radical.get(c), phonetic.get(c)) for c in chars))

    assert len(covered(ordered[:200])) > 2 * len(covered(resolve_charset("gb2312-1")[:200]))


def test_a_font_spec_with_a_hash_in_its_file_name_and_odd_digits(tiny_fonts, tmp_path):
    import shutil

    from zi2zi.fonts.font import open_font_spec, parse_font_spec

    odd = tmp_path / "C#" / "Font #2.ttf"
    odd.parent.mkdir()
    shutil.copy(tiny_fonts["light"], odd)
    assert open_font_spec(str(odd)).family == "Tiny Light"  # the whole name, not "C" face "/Font #2.ttf"
    assert open_font_spec(f"{odd}#0").family == "Tiny Light"  # a face after the last #
    assert parse_font_spec("fonts/a.ttc#3") == ("fonts/a.ttc", 3)
    # "①" passes str.isdigit() but not int(): a face name, refused with the faces the file has.
    with pytest.raises(FontError, match="has no face named '①'; it has: Tiny Light"):
        open_font_spec(f"{tiny_fonts['light']}#①")
