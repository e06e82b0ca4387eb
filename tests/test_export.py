"""Export: glyph bitmaps -> TTF / OTF / WOFF2, merging into a base font, round-trip checks.

Bitmaps are drawn here at 256 px (a ring 口, a ring in a ring 回, a solid blob); fonts are built
with fontTools; re-rendering goes through zi2zi's one renderer.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.areaPen import AreaPen
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.ttLib import TTFont
from PIL import Image

from zi2zi.cli import main
from zi2zi.config import RenderSettings
from zi2zi.data.glyphfolder import read_glyph_folder
from zi2zi.errors import ExportError
from zi2zi.export import check_font, export_font, merge_into_font
from zi2zi.export.trace import TraceOptions, trace_bitmap, trace_files
from zi2zi.fonts import EmBox, Renderer, open_font

S = 256
KOU, HUI, BLOB = 0x53E3, 0x56DE, 0x25CF  # 口 回 ●


def ring(image: np.ndarray, outer: int, inner: int) -> None:
    image[outer : S - outer, outer : S - outer] = 0
    image[inner : S - inner, inner : S - inner] = 255


def bitmaps() -> dict[int, np.ndarray]:
    kou = np.full((S, S), 255, np.uint8)
    ring(kou, 40, 84)
    hui = np.full((S, S), 255, np.uint8)
    ring(hui, 24, 56)
    hui[88 : S - 88, 88 : S - 88] = 0
    hui[112 : S - 112, 112 : S - 112] = 255
    yy, xx = np.mgrid[:S, :S] + 0.5
    blob = np.where((xx - 128) ** 2 / 90**2 + (yy - 150) ** 2 / 60**2 < 1, 0, 255).astype(np.uint8)
    return {KOU: kou, HUI: hui, BLOB: blob}


def write_glyphs(folder: Path, images: dict[int, np.ndarray], manifest: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for cp, image in images.items():
        Image.fromarray(image).save(folder / f"U+{cp:04X}.png")
    if manifest is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def cjk_manifest(size: int = S) -> dict:
    box = EmBox.cjk_default(size)
    return {"render": {"size": size, "mode": "em", "margin": 0.0}, "embox": box.to_dict(), "advance": 1000}


@pytest.fixture
def glyph_dir(tmp_path: Path) -> Path:
    return write_glyphs(tmp_path / "glyphs", bitmaps(), cjk_manifest())


def ink_iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a < 128, b < 128
    return float((a & b).sum() / (a | b).sum())


def rerender(font_path: Path, codepoint: int) -> np.ndarray:
    """Render in the font's ideographic em box (its typo box), where its glyphs were traced; the
    renderer alone would use the hhea box, which holds line spacing around it."""
    os2 = TTFont(font_path)["OS/2"]
    font = dataclasses.replace(open_font(font_path), ascender=os2.sTypoAscender, descender=os2.sTypoDescender)
    image = Renderer(font, RenderSettings(size=S, mode="em")).render(chr(codepoint))
    assert image is not None, f"U+{codepoint:04X} rendered empty"
    return image


# --- new fonts -------------------------------------------------------------------------------


def test_ttf_round_trip_keeps_counters_and_ink(glyph_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "font.ttf"
    result = export_font(glyph_dir, out, family="Zi2zi Test")
    assert result.glyphs == 3 and result.warnings == []

    font = TTFont(out)
    assert "glyf" in font and font.getBestCmap() == {
        KOU: "uni53E3", HUI: "uni56DE", BLOB: "uni25CF", 0x20: "space", 0xA0: "space", 0x3000: "uni3000"
    }
    assert font.getGlyphOrder()[0] == ".notdef"
    images = bitmaps()
    kou, hui, blob = (rerender(out, cp) for cp in (KOU, HUI, BLOB))
    assert kou[128, 128] == 255 and kou[60, 128] == 0  # the counter of 口 stays a hole
    assert hui[128, 128] == 255 and hui[100, 128] == 0 and hui[70, 128] == 255  # ring, gap, ring
    assert blob[150, 128] == 0
    for cp, image in zip((KOU, HUI, BLOB), (kou, hui, blob)):
        assert ink_iou(image, images[cp]) >= 0.95

    # TrueType's convention: filled contours run clockwise (negative area in fontTools' sense).
    pen = AreaPen(font.getGlyphSet())
    font.getGlyphSet()["uni53E3"].draw(pen)
    assert pen.value < 0


def test_glyphs_land_where_the_em_box_put_them(tmp_path: Path) -> None:
    """The inverse of EmBox.to_pixels: a box drawn at known pixels gets the matching font units."""
    box = EmBox(units_per_em=2048, ascender=1802, descender=-246, size=S, margin=0.05)
    image = np.full((S, S), 255, np.uint8)
    image[48:200, 64:176] = 0  # rows 48..199, columns 64..175
    manifest = {"render": {"size": S, "mode": "em", "margin": 0.05}, "embox": box.to_dict(), "advance": 2048}
    glyphs = write_glyphs(tmp_path / "g", {0x4E00: image}, manifest)
    out = tmp_path / "box.ttf"
    export_font(glyphs, out, family="Box")

    font = TTFont(out)
    glyph = font["glyf"]["uni4E00"]
    x0, y1 = box.to_units(64, 48, 2048)
    x1, y0 = box.to_units(176, 200, 2048)
    assert abs(glyph.xMin - x0) <= 2 and abs(glyph.xMax - x1) <= 2
    assert abs(glyph.yMin - y0) <= 2 and abs(glyph.yMax - y1) <= 2
    assert font["head"].unitsPerEm == 2048 and font["hmtx"]["uni4E00"][0] == 2048
    # The ideographic em box is the typo box; hhea spreads 1.3 em of line evenly around it.
    assert (font["OS/2"].sTypoAscender, font["OS/2"].sTypoDescender) == (1802, -246)
    assert (font["hhea"].ascent, font["hhea"].descent) == (1802 + 307, -246 - 307)


def test_otf_and_woff2_round_trips(glyph_dir: Path, tmp_path: Path) -> None:
    otf, woff2, ttf = tmp_path / "f.otf", tmp_path / "f.woff2", tmp_path / "f.ttf"
    export_font(glyph_dir, otf, family="Zi2zi Test")
    export_font(glyph_dir, woff2, family="Zi2zi Test")
    export_font(glyph_dir, ttf, family="Zi2zi Test")

    cff = TTFont(otf)
    assert "CFF " in cff and "glyf" not in cff and cff.sfntVersion == "OTTO"
    assert set(cff.getBestCmap()) == {KOU, HUI, BLOB, 0x20, 0xA0, 0x3000}
    images = bitmaps()
    for cp in (KOU, HUI, BLOB):
        assert ink_iou(rerender(otf, cp), images[cp]) >= 0.95
    assert rerender(otf, KOU)[128, 128] == 255

    web = TTFont(woff2)
    assert web.flavor == "woff2" and "glyf" in web
    plain = TTFont(ttf)
    for name in plain.getGlyphOrder():  # same outlines as the TrueType font it compresses
        assert _recording(web, name) == _recording(plain, name)


def test_fonts_pass_the_opentype_sanitizer(glyph_dir: Path, tmp_path: Path) -> None:
    ots = pytest.importorskip("ots", reason="opentype-sanitizer is not installed")
    for suffix in (".ttf", ".otf", ".woff2"):
        out = tmp_path / f"font{suffix}"
        export_font(glyph_dir, out, family="Zi2zi Test")
        result = ots.sanitize(str(out), capture_output=True)
        assert result.returncode == 0, (suffix, result.stdout, result.stderr)


def test_names_weight_and_metrics(glyph_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bold.ttf"
    export_font(glyph_dir, out, family="My Kai", style="Bold")
    font = TTFont(out)
    name = font["name"]
    assert name.getDebugName(1) == "My Kai" and name.getDebugName(2) == "Bold"
    assert name.getDebugName(4) == "My Kai Bold" and name.getDebugName(6) == "MyKai-Bold"
    assert font["OS/2"].usWeightClass == 700 and font["OS/2"].fsSelection & (1 << 5)
    assert font["head"].macStyle & 1
    assert {adv for adv, _ in font["hmtx"].metrics.values()} == {500, 1000}  # half-width space

    light = tmp_path / "light.ttf"
    export_font(glyph_dir, light, family="我的楷体", style="Light")
    font = TTFont(light)
    assert font["OS/2"].usWeightClass == 300
    assert font["name"].getDebugName(16) == "我的楷体" and font["name"].getDebugName(17) == "Light"
    ps_name = font["name"].getDebugName(6)
    assert ps_name.isascii() and " " not in ps_name and ps_name.endswith("-Light")

    with pytest.raises(ExportError, match="style 'Wobbly'"):
        export_font(glyph_dir, tmp_path / "x.ttf", family="X", style="Wobbly")


def test_blank_image_gives_an_empty_glyph_with_advance(tmp_path: Path) -> None:
    images = {0x3000: np.full((S, S), 255, np.uint8), KOU: bitmaps()[KOU]}
    glyphs = write_glyphs(tmp_path / "g", images, cjk_manifest())
    out = tmp_path / "f.ttf"
    export_font(glyphs, out, family="Blank")
    font = TTFont(out)
    assert font["glyf"]["uni3000"].numberOfContours == 0
    assert font["hmtx"]["uni3000"][0] == 1000


def test_transparent_images_are_read_as_ink_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((S, S, 4), np.uint8)  # transparent black paper ...
    rgba[..., 3] = (bitmaps()[KOU] < 128) * 255  # ... with opaque black ink
    folder = tmp_path / "g"
    folder.mkdir()
    Image.fromarray(rgba, "RGBA").save(folder / "U+53E3.png")
    image = read_glyph_folder(folder, em_box=(1000, 880, -120)).load(KOU)
    assert ink_iou(image, bitmaps()[KOU]) == 1.0


def test_a_folder_without_em_box_is_refused_not_guessed(tmp_path: Path) -> None:
    glyphs = write_glyphs(tmp_path / "g", bitmaps())
    with pytest.raises(ExportError, match="--em-box"):
        export_font(glyphs, tmp_path / "f.ttf", family="X")
    assert not (tmp_path / "f.ttf").exists()
    # An explicit em box places them: 2048 units, 1800 / -248.
    folder = read_glyph_folder(glyphs, em_box=(2048, 1800, -248))
    export_font(folder, tmp_path / "f.ttf", family="X")
    font = TTFont(tmp_path / "f.ttf")
    assert font["head"].unitsPerEm == 2048 and font["OS/2"].sTypoAscender == 1800


def test_a_dataset_style_folder_is_placed_by_the_dataset_manifest(tmp_path: Path) -> None:
    """styles/N of a dataset has no manifest of its own: the dataset's names its em box. Glyphs of
    a font with a tall box (ascender 1000, descender -400 per 1000) must come out at that size, not
    at the size a default 880 / -120 box would give (15 % smaller and raised)."""
    box = EmBox(units_per_em=1000, ascender=1000, descender=-400, size=S)
    root = tmp_path / "dataset"
    write_glyphs(root / "styles" / "0", {KOU: bitmaps()[KOU]})
    manifest = {
        "format": "zi2zi-dataset", "version": 1, "render": {"size": S, "mode": "em", "margin": 0.0},
        "source": {"dir": "source", "embox": EmBox.cjk_default(S).to_dict()},
        "styles": [{"id": 0, "dir": "styles/0", "embox": box.to_dict()}],
    }
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    folder = read_glyph_folder(root / "styles" / "0")
    assert folder.embox == box and folder.warnings == []
    out = tmp_path / "f.ttf"
    export_font(folder, out, family="X")
    glyph = TTFont(out)["glyf"]["uni53E3"]
    # Rows 40..215 of 256 px in a 1400-unit box: 1000 - 40 * 1400/256 = 781 down to -182.
    assert abs(glyph.yMax - box.to_units(0, 40, 1000)[1]) <= 2 and abs(glyph.yMin - box.to_units(0, 216, 1000)[1]) <= 2


def test_fit_glyphs_are_refused_without_an_em_box_and_placed_with_one(tmp_path: Path) -> None:
    fit = {**cjk_manifest(), "render": {"size": S, "mode": "fit", "margin": 0.0}}
    glyphs = write_glyphs(tmp_path / "g", bitmaps(), fit)
    with pytest.raises(ExportError, match="'fit' mode.*--em-box"):
        read_glyph_folder(glyphs)
    folder = read_glyph_folder(glyphs, em_box=(1000, 880, -120))  # what the refusal told the user to do
    assert (folder.embox.units_per_em, folder.embox.ascender) == (1000, 880)


def test_another_tools_manifest_above_the_glyphs_is_not_judged(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('["a web app manifest, not ours"]', encoding="utf-8")
    glyphs = write_glyphs(tmp_path / "g", bitmaps())
    with pytest.raises(ExportError, match="--em-box"):  # no em box known: asked for, not guessed
        read_glyph_folder(glyphs)
    assert read_glyph_folder(glyphs, em_box=(1000, 880, -120)).embox.units_per_em == 1000


def test_check_reports_median_and_worst(glyph_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.ttf"
    export_font(glyph_dir, out, family="X")
    report = check_font(out, glyph_dir, embox=read_glyph_folder(glyph_dir).embox)
    assert set(report.ious) == {KOU, HUI, BLOB}
    assert report.median >= 0.95
    assert [cp for cp, _ in report.worst(5)][0] == min(report.ious, key=report.ious.get)
    # A glyph that does not match its image is named among the worst.
    images = bitmaps()
    images[KOU] = images[BLOB]
    wrong = write_glyphs(tmp_path / "wrong", images, cjk_manifest())
    bad = check_font(out, wrong, embox=read_glyph_folder(wrong).embox)
    assert bad.worst(1)[0][0] == KOU and bad.worst(1)[0][1] < 0.5


def test_parallel_tracing_matches_serial(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = {}
    for i in range(70):  # enough for two workers
        image = np.full((64, 64), 255, np.uint8)
        x, y, w, h = rng.integers(4, 28, size=4)
        image[y : y + h, x : x + w] = 0
        images[0x4E00 + i] = image
    glyphs = write_glyphs(tmp_path / "g", images, cjk_manifest(64))
    folder = read_glyph_folder(glyphs)
    options = TraceOptions(speckle=2.0)
    serial, one = trace_files(folder.files, folder.embox, 1000, quadratic=True, options=options, workers=1)
    parallel, two = trace_files(folder.files, folder.embox, 1000, quadratic=True, options=options, workers=2)
    assert (one, two) == (1, 2)
    assert serial == parallel


def test_trace_follows_the_ink_not_the_paper() -> None:
    box = EmBox.cjk_default(S)
    blob = bitmaps()[BLOB]
    pen = AreaPen()
    for operator, operands in trace_bitmap(blob, box, 1000, quadratic=False):
        getattr(pen, operator)(*operands)
    ink_units = (blob < 128).sum() / box.scale**2
    assert pen.value == pytest.approx(ink_units, rel=0.03)  # the blob, not the page around it


# --- merging into a base font ----------------------------------------------------------------


def _rect_outline(pen, x0, y0, x1, y1, clockwise: bool) -> None:
    points = [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]
    if not clockwise:
        points.reverse()
    pen.moveTo(points[0])
    for p in points[1:]:
        pen.lineTo(p)
    pen.closePath()


def build_base(path: Path, *, cff: bool, upm: int = 1000) -> Path:
    """A base font with 'A' (advance 600, lsb 50), 口 and an unmapped glyph that already holds
    the production name uni56DE, to prove new glyph names never collide."""
    order = [".notdef", "A", "uni53E3", "uni56DE"]
    fb = FontBuilder(upm, isTTF=not cff)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({0x41: "A", KOU: "uni53E3"})
    rects = {".notdef": (50, 0, 450, 700), "A": (50, 0, 550, 700), "uni53E3": (100, -50, 900, 800), "uni56DE": (0, 0, 10, 10)}
    advances = {".notdef": 500, "A": 600, "uni53E3": upm, "uni56DE": upm}
    if cff:
        charstrings = {}
        for name in order:
            pen = T2CharStringPen(advances[name], None)
            _rect_outline(pen, *rects[name], clockwise=False)
            charstrings[name] = pen.getCharString()
        fb.setupCFF("Base-Regular", {"FullName": "Base"}, charstrings, {})
    else:
        from fontTools.pens.ttGlyphPen import TTGlyphPen

        glyphs = {}
        for name in order:
            pen = TTGlyphPen(None)
            _rect_outline(pen, *rects[name], clockwise=True)
            glyphs[name] = pen.glyph()
        fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({name: (advances[name], rects[name][0]) for name in order})
    fb.setupHorizontalHeader(ascent=880, descent=-120)
    fb.setupNameTable({"familyName": "Base", "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    fb.setupPost()
    fb.save(str(path))
    return path


def sanitize_if_available(path: Path) -> None:
    """Run the OpenType sanitizer (what browsers use) when opentype-sanitizer is installed."""
    try:
        import ots
    except ImportError:
        return
    result = ots.sanitize(str(path), capture_output=True)
    assert result.returncode == 0, (path.name, result.stdout, result.stderr)


def _recording(font: TTFont, name: str):
    pen = DecomposingRecordingPen(font.getGlyphSet())
    font.getGlyphSet()[name].draw(pen)
    return pen.value


@pytest.mark.parametrize("cff", [False, True], ids=["glyf", "cff"])
def test_merge_adds_only_missing_and_keeps_base(glyph_dir: Path, tmp_path: Path, cff: bool) -> None:
    base_path = build_base(tmp_path / ("base.otf" if cff else "base.ttf"), cff=cff)
    out = tmp_path / ("merged.otf" if cff else "merged.ttf")
    result = merge_into_font(glyph_dir, base_path, out)
    assert result.codepoints == [BLOB, HUI] and result.skipped == [KOU]
    sanitize_if_available(out)

    base, merged = TTFont(base_path), TTFont(out)
    base_order = base.getGlyphOrder()
    assert merged.getGlyphOrder()[: len(base_order)] == base_order  # ids unchanged
    for name in base_order:
        assert _recording(merged, name) == _recording(base, name), name
        assert merged["hmtx"][name] == base["hmtx"][name], name
    if cff:
        base_cs, merged_cs = base["CFF "].cff[0].CharStrings, merged["CFF "].cff[0].CharStrings
        for name in base_order:
            assert merged_cs[name].bytecode == base_cs[name].bytecode
    else:
        for name in base_order:
            assert merged["glyf"][name].compile(merged["glyf"]) == base["glyf"][name].compile(base["glyf"])

    cmap = merged.getBestCmap()
    assert {cp: cmap[cp] for cp in (0x41, KOU)} == {0x41: "A", KOU: "uni53E3"}
    assert set(cmap) == {0x41, KOU, HUI, BLOB}
    assert cmap[HUI] != "uni56DE"  # the base's unmapped glyph of that name is left alone
    assert merged["maxp"].numGlyphs == len(base_order) + 2
    assert merged["hmtx"][cmap[HUI]][0] == 1000  # full-width: the base's em
    # Its own names, so it installs beside the base instead of replacing it.
    assert merged["name"].getDebugName(1) == "Base zi2zi" and merged["name"].getDebugName(6) == "Basezi2zi-Regular"
    assert merged["name"].getDebugName(3) != base["name"].getDebugName(3)
    if cff:
        assert merged["CFF "].cff.fontNames == ["Basezi2zi-Regular"]
    kept = tmp_path / ("kept.otf" if cff else "kept.ttf")
    merge_into_font(glyph_dir, base_path, kept, keep_names=True)
    assert TTFont(kept)["name"].getDebugName(1) == "Base" and TTFont(kept)["name"].getDebugName(3) == base["name"].getDebugName(3)
    hui = rerender(out, HUI)
    assert hui[128, 128] == 255 and ink_iou(hui, bitmaps()[HUI]) >= 0.95


def make_cid_keyed(path: Path) -> Path:
    """Turn the name-keyed CFF base into a CID-keyed one (as CJK OpenType fonts usually are)."""
    from fontTools.cffLib import FDArrayIndex, FDSelect, FontDict

    font = TTFont(path)
    renames = {name: (name if name == ".notdef" else f"cid{i:05d}") for i, name in enumerate(font.getGlyphOrder())}
    top = font["CFF "].cff.topDictIndex[0]
    charstrings = top.CharStrings
    bytecode = {renames[name]: charstrings[name] for name in font.getGlyphOrder()}
    charstrings.charStrings = {}
    charstrings.charStringsIndex.items = list(bytecode.values())
    charstrings.charStrings = {name: i for i, name in enumerate(bytecode)}
    top.charset = list(bytecode)
    top.ROS = ("Adobe", "Identity", 0)
    top.CIDCount = len(bytecode)
    fd = FontDict()
    fd.Private = top.Private
    top.FDArray = FDArrayIndex()
    top.FDArray.append(fd)
    top.FDSelect = FDSelect()
    top.FDSelect.format = 3
    top.FDSelect.gidArray = [0] * len(bytecode)
    charstrings.fdArray, charstrings.fdSelect = top.FDArray, top.FDSelect
    del top.Private
    for table in font["cmap"].tables:
        table.cmap = {cp: renames[name] for cp, name in table.cmap.items()}
    hmtx = font["hmtx"]
    hmtx.metrics = {renames[name]: metric for name, metric in hmtx.metrics.items()}
    font.setGlyphOrder(list(bytecode))
    font.save(str(path))
    return path


def test_merge_into_cid_keyed_cff(glyph_dir: Path, tmp_path: Path) -> None:
    base_path = make_cid_keyed(build_base(tmp_path / "base.otf", cff=True))
    base = TTFont(base_path)
    assert base["CFF "].cff.topDictIndex[0].ROS[0] == "Adobe"
    out = tmp_path / "merged.otf"
    merge_into_font(glyph_dir, base_path, out)
    sanitize_if_available(out)

    merged = TTFont(out)
    top = merged["CFF "].cff.topDictIndex[0]
    cmap = merged.getBestCmap()
    assert cmap[HUI].startswith("cid") and int(cmap[HUI][3:]) >= len(base.getGlyphOrder())
    assert top.CIDCount == len(merged.getGlyphOrder())
    assert len(top.FDSelect.gidArray) == len(merged.getGlyphOrder())
    for name in base.getGlyphOrder():
        assert _recording(merged, name) == _recording(base, name)
        assert merged["hmtx"][name] == base["hmtx"][name]
    hui = rerender(out, HUI)
    assert hui[128, 128] == 255 and ink_iou(hui, bitmaps()[HUI]) >= 0.95


@pytest.mark.parametrize("cff", [False, True], ids=["glyf", "cff"])
def test_merged_latin_and_digits_get_widths_from_their_ink(tmp_path: Path, cff: bool) -> None:
    """A digit added to a hand's font is spaced as a proportional glyph, not set on a full em."""
    from zi2zi.export.widths import SIDE_BEARING_EM

    one = np.full((S, S), 255, np.uint8)
    one[40:216, 118:138] = 0  # a bar 20 px wide: 20 / 256 of the em
    glyphs = write_glyphs(tmp_path / "g", {0x31: one, HUI: bitmaps()[HUI]}, cjk_manifest())
    base_path = build_base(tmp_path / ("base.otf" if cff else "base.ttf"), cff=cff)
    out = tmp_path / ("merged.otf" if cff else "merged.ttf")
    merge_into_font(glyphs, base_path, out)
    sanitize_if_available(out)
    merged = TTFont(out)
    cmap = merged.getBestCmap()
    advance, lsb = merged["hmtx"][cmap[0x31]]
    bearing = round(SIDE_BEARING_EM * 1000)
    ink = 20 / S * 1000
    assert lsb == pytest.approx(bearing, abs=2) and advance == pytest.approx(ink + 2 * bearing, abs=12)
    assert merged["hmtx"][cmap[HUI]][0] == 1000  # the ideograph stays full-width
    glyph_set = merged.getGlyphSet()
    assert glyph_set[cmap[0x31]].width == advance  # the CFF charstring's own width agrees with hmtx
    assert merged["hhea"].minRightSideBearing <= advance - (lsb + ink) + 2


def test_merge_beyond_bmp_adds_a_format_12_cmap(tmp_path: Path) -> None:
    base_path = build_base(tmp_path / "base.ttf", cff=False)
    glyphs = write_glyphs(tmp_path / "g", {0x20000: bitmaps()[HUI]}, cjk_manifest())
    out = tmp_path / "merged.ttf"
    merge_into_font(glyphs, base_path, out)
    sanitize_if_available(out)
    merged = TTFont(out)
    assert merged.getBestCmap()[0x20000] == "u20000"
    assert any(t.format == 12 for t in merged["cmap"].tables)
    assert merged.getBestCmap()[0x41] == "A"


def test_merge_with_nothing_missing_says_so(tmp_path: Path) -> None:
    base_path = build_base(tmp_path / "base.ttf", cff=False)
    glyphs = write_glyphs(tmp_path / "g", {KOU: bitmaps()[KOU]}, cjk_manifest())
    out = tmp_path / "merged.ttf"
    with pytest.raises(ExportError, match="already has all 1 characters"):
        merge_into_font(glyphs, base_path, out)
    assert not out.exists()


def test_merge_refuses_a_mismatched_extension(glyph_dir: Path, tmp_path: Path) -> None:
    base_path = build_base(tmp_path / "base.otf", cff=True)
    with pytest.raises(ExportError, match=r"CFF .*\.otf or \.woff2"):
        merge_into_font(glyph_dir, base_path, tmp_path / "merged.ttf")


# --- bad input -------------------------------------------------------------------------------


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "g").mkdir()
    with pytest.raises(ExportError, match=r"g holds no U\+XXXX\.png"):
        export_font(tmp_path / "g", tmp_path / "f.ttf", family="X")
    assert not (tmp_path / "f.ttf").exists()


def test_stray_files_are_named(glyph_dir: Path, tmp_path: Path) -> None:
    (glyph_dir / "notes.txt").write_text("hello")
    Image.fromarray(bitmaps()[KOU]).save(glyph_dir / "u+4e00.png")
    before = _files(tmp_path)
    with pytest.raises(ExportError, match=r"notes\.txt") as info:
        export_font(glyph_dir, tmp_path / "f.ttf", family="X")
    assert "u+4e00.png" in str(info.value)
    assert _files(tmp_path) == before


def test_wrong_size_image_is_named(glyph_dir: Path, tmp_path: Path) -> None:
    Image.fromarray(np.full((128, 128), 255, np.uint8)).save(glyph_dir / "U+4E00.png")
    with pytest.raises(ExportError, match=r"U\+4E00\.png \(128x128\)"):
        export_font(glyph_dir, tmp_path / "f.ttf", family="X")
    assert not (tmp_path / "f.ttf").exists()


def test_non_square_images(tmp_path: Path) -> None:
    glyphs = write_glyphs(tmp_path / "g", {KOU: np.full((S, S // 2), 255, np.uint8)})
    with pytest.raises(ExportError, match="not square"):
        export_font(glyphs, tmp_path / "f.ttf", family="X")


def test_manifest_size_must_match_images(tmp_path: Path) -> None:
    glyphs = write_glyphs(tmp_path / "g", bitmaps(), cjk_manifest(128))
    with pytest.raises(ExportError, match="rendered at 128 px but the images are 256 px"):
        export_font(glyphs, tmp_path / "f.ttf", family="X")


def test_output_checks(glyph_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        export_font(glyph_dir, tmp_path / "missing" / "f.ttf", family="X")
    assert not (tmp_path / "missing").exists()
    with pytest.raises(ExportError, match="unknown extension"):
        export_font(glyph_dir, tmp_path / "f.svg", family="X")
    existing = tmp_path / "f.ttf"
    existing.write_bytes(b"keep me")
    with pytest.raises(ExportError, match="--overwrite"):
        export_font(glyph_dir, existing, family="X")
    assert existing.read_bytes() == b"keep me"
    export_font(glyph_dir, existing, family="X", overwrite=True)
    assert TTFont(existing).getBestCmap()


def test_failed_save_leaves_no_file(glyph_dir: Path, tmp_path: Path, monkeypatch) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def broken_save(self, file, *args, **kwargs):
        Path(file).write_bytes(b"half a font")
        raise OSError("disk full")

    monkeypatch.setattr(TTFont, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        export_font(glyph_dir, out_dir / "f.ttf", family="X")
    assert list(out_dir.iterdir()) == []


# --- command line ----------------------------------------------------------------------------


def test_cli_export_with_check(glyph_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli.ttf"
    assert main(["export", "--glyphs", str(glyph_dir), "--out", str(out), "--family", "Cli", "--check"]) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "median" in printed and "U+" in printed
    assert TTFont(out)["name"].getDebugName(1) == "Cli"

    assert main(["export", "--glyphs", str(glyph_dir), "--out", str(out), "--family", "Cli"]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert main(["export", "--glyphs", str(glyph_dir), "--out", str(tmp_path / "x.ttf")]) == 1
    assert "--family" in capsys.readouterr().err


def test_cli_merge(glyph_dir: Path, tmp_path: Path, capsys) -> None:
    base = build_base(tmp_path / "base.ttf", cff=False)
    out = tmp_path / "merged.ttf"
    code = main(["export", "--glyphs", str(glyph_dir), "--out", str(out), "--merge-into", str(base), "--check"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "added 2 glyph(s)" in printed and "over 2 glyphs" in printed


def test_cli_woff2_and_non_latin_otf_with_check(glyph_dir: Path, tmp_path: Path, capsys) -> None:
    """Two crashes of old: --check on a .woff2 (after writing it), a CJK family name in CFF."""
    for out, family in ((tmp_path / "web.woff2", "网页 Kai"), (tmp_path / "cjk.otf", "测试 Kai"), (tmp_path / "cjk.ttf", "测试 Kai")):
        code = main(["export", "--glyphs", str(glyph_dir), "--out", str(out), "--family", family, "--check"])
        assert code == 0, capsys.readouterr().err
        printed = capsys.readouterr().out
        median = float(printed.split("median ")[1].split(";")[0])
        assert median >= 0.95, printed
        font = TTFont(out)
        assert font["name"].getDebugName(1) == family
        ps_name = font["name"].getDebugName(6)
        assert ps_name.isascii() and ps_name.endswith("-Regular")
        if out.suffix == ".otf":
            top = font["CFF "].cff.topDictIndex[0]
            assert font["CFF "].cff.fontNames == [ps_name] and top.FamilyName.isascii()
        if out.suffix != ".woff2":
            # The name in its own language too (zh-CN: Windows language id 0x0804).
            assert any(r.nameID == 1 and r.langID == 0x0804 and r.toUnicode() == family for r in font["name"].names)


def test_cli_em_box_option(tmp_path: Path, capsys) -> None:
    glyphs = write_glyphs(tmp_path / "g", bitmaps())
    out = tmp_path / "f.ttf"
    assert main(["export", "--glyphs", str(glyphs), "--out", str(out), "--family", "X"]) == 1
    assert "--em-box" in capsys.readouterr().err and not out.exists()
    assert main(["export", "--glyphs", str(glyphs), "--out", str(out), "--family", "X", "--em-box", "1000,880,-120"]) == 0
    assert main(["export", "--glyphs", str(glyphs), "--out", str(out), "--family", "X", "--em-box", "1000,880"]) == 1
    assert "--em-box" in capsys.readouterr().err


def test_merge_into_a_font_exported_from_glyphs_keeps_the_written_size(tmp_path: Path) -> None:
    # A hand's font: its glyphs traced in the folder's em box, its hhea widened for line spacing.
    # Glyphs drawn in the same em box and merged into it must come out at the written glyphs' size.
    images = bitmaps()
    written = export_font(write_glyphs(tmp_path / "written", {KOU: images[KOU]}, cjk_manifest()),
                          tmp_path / "hand.ttf", family="Hand").path
    hhea = TTFont(written)["hhea"]
    os2 = TTFont(written)["OS/2"]
    assert (hhea.ascent, hhea.descent) != (os2.sTypoAscender, os2.sTypoDescender)  # what makes it a trap
    out = tmp_path / "completed.ttf"
    merge_into_font(write_glyphs(tmp_path / "generated", {HUI: images[KOU]}, cjk_manifest()), written, out)

    def ink_box(codepoint: int) -> tuple[float, ...]:
        font = TTFont(out)
        pen = BoundsPen(font.getGlyphSet())
        font.getGlyphSet()[font.getBestCmap()[codepoint]].draw(pen)
        return pen.bounds

    assert ink_box(HUI) == pytest.approx(ink_box(KOU), abs=3)  # font units of a 1000-unit em
