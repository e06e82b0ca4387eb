"""Exported fonts checked as a font foundry checks them: outlines, CJK metrics, vertical text,
basics, fontbakery's universal profile, and HarfBuzz setting vertical text.

One TTF and one OTF are built per session from 160 synthetic anti-aliased glyphs (bars, a
slanted stroke, a ring) of GB 2312 code points: enough for fontbakery to treat them as CJK fonts
(150 ideographs), small enough to trace in a few seconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from PIL import Image

from fontcheck import fontbakery_findings
from zi2zi.export import FontInfo, export_font, merge_into_font, trace_bitmap
from zi2zi.export.coverage import code_page_bits
from zi2zi.fonts import EmBox
from zi2zi.fonts.charsets import builtin_charset

S = 64  # glyph images: small, so the session's fonts trace in seconds
N = 160
REPO = Path(__file__).resolve().parents[1]


def supersampled(inside, size: int, factor: int = 4) -> np.ndarray:
    """(size, size) uint8 grey with anti-aliased edges: `inside(x, y)` on a finer grid, averaged."""
    fine = (np.mgrid[: size * factor, : size * factor] + 0.5) / factor
    yy, xx = fine
    ink = inside(xx, yy).astype(np.float64)
    coverage = ink.reshape(size, factor, size, factor).mean(axis=(1, 3))
    return np.round(255 * (1 - coverage)).astype(np.uint8)


def synthetic_glyph(i: int, size: int = S) -> np.ndarray:
    u = size / 64.0
    bars = [(10 + 9 * k) * u for k in range(5) if i >> k & 1]

    def inside(x, y):
        ink = (x > 12 * u) & (x < 18 * u) & (y > 8 * u) & (y < 56 * u)  # a stem
        for top in bars:
            ink |= (x > 20 * u) & (x < 54 * u) & (y > top) & (y < top + 4 * u)
        if i % 3 == 0:  # a slanted stroke: diagonal edges must not come out as stair steps
            ink |= np.abs((x - 36 * u) - 0.6 * (y - 34 * u)) < 2.5 * u
            ink &= y < 60 * u
        if i % 4 == 1:  # a ring: curves with points at their extremes
            r = np.hypot(x - 40 * u, y - 40 * u)
            ink |= (r > 8 * u) & (r < 13 * u)
        return ink

    return supersampled(inside, size)


def write_folder(folder: Path, images: dict[int, np.ndarray], size: int = S) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for cp, image in images.items():
        Image.fromarray(image).save(folder / f"U+{cp:04X}.png")
    manifest = {
        "render": {"size": size, "mode": "em", "margin": 0.0},
        "embox": EmBox.cjk_default(size).to_dict(),
        "advance": 1000,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def fonts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("foundry")
    hanzi = [ord(c) for c in builtin_charset("gb2312-1")[:N]]
    folder = write_folder(root / "glyphs", {cp: synthetic_glyph(i) for i, cp in enumerate(hanzi)})
    info = FontInfo(
        version="1.002",
        copyright="Copyright 2026 The Zi2zi Test Authors",
        license="This Font Software is licensed under the SIL Open Font License, Version 1.1.",
        license_url="https://openfontlicense.org",
    )
    out = {}
    for suffix in ("ttf", "otf"):
        out[suffix] = root / f"Zi2ziFoundry-Regular.{suffix}"
        export_font(folder, out[suffix], family="Zi2zi Foundry", info=info)
    return out


# --- outlines --------------------------------------------------------------------------------


def contours(outline) -> list[list[tuple[str, tuple]]]:
    result, current = [], []
    for op, args in outline:
        if op == "moveTo":
            current = [(op, args)]
        elif op in ("closePath", "endPath"):
            result.append(current)
        else:
            current.append((op, args))
    return result


def on_curve_points(contour) -> list[tuple[float, float]]:
    return [args[-1] for _, args in contour]


def test_a_rectangle_is_four_lines_with_sharp_corners() -> None:
    box = EmBox.cjk_default(256)
    image = supersampled(lambda x, y: (x > 40.3) & (x < 200.7) & (y > 60.2) & (y < 180.6), 256)
    outline = trace_bitmap(image, box, 1000, quadratic=False)
    (contour,) = contours(outline)
    assert [op for op, _ in contour] == ["moveTo", "lineTo", "lineTo", "lineTo"]
    xs = sorted({x for x, _ in on_curve_points(contour)})
    ys = sorted({y for _, y in on_curve_points(contour)})
    (x0, y1), (x1, y0) = box.to_units(40.3, 60.2, 1000), box.to_units(200.7, 180.6, 1000)
    assert len(xs) == len(ys) == 2  # corners kept sharp, edges straight and axis-aligned
    # Within half a unit of rounding plus a tenth of a pixel (3.9 units here).
    assert abs(xs[0] - x0) <= 1.5 and abs(xs[1] - x1) <= 1.5 and abs(ys[0] - y0) <= 1.5 and abs(ys[1] - y1) <= 1.5


def test_a_slanted_stroke_has_no_stair_steps() -> None:
    box = EmBox.cjk_default(256)
    image = supersampled(lambda x, y: (np.abs((x - 128) - 0.45 * (y - 128)) < 12) & (y > 30) & (y < 226), 256)
    (contour,) = contours(trace_bitmap(image, box, 1000, quadratic=True))
    # Two slanted sides and two flat ends: four straight lines, whatever the pixel grid did.
    assert [op for op, _ in contour] == ["moveTo", "lineTo", "lineTo", "lineTo"]


def test_a_ring_is_few_smooth_curves_with_points_at_extremes() -> None:
    box = EmBox.cjk_default(256)
    image = supersampled(lambda x, y: (np.hypot(x - 128, y - 128) < 90) & (np.hypot(x - 128, y - 128) > 60), 256)
    outline = trace_bitmap(image, box, 1000, quadratic=False)
    assert len(contours(outline)) == 2
    pen = BoundsPen(None)
    for contour in contours(outline):
        ops = [op for op, _ in contour]
        assert "lineTo" not in ops and len(ops) <= 9  # a drawn circle has 4 cubics; a trace may add a few
        points = on_curve_points(contour)
        for op, args in contour:
            getattr(pen, op)(*args)
        # Points at extrema: the contour's box is spanned by on-curve points.
        pen_box = BoundsPen(None)
        pen_box.moveTo(contour[0][1][0])
        for op, args in contour[1:]:
            getattr(pen_box, op)(*args)
        pen_box.closePath()
        x0, y0, x1, y1 = pen_box.bounds
        xs, ys = [x for x, _ in points], [y for _, y in points]
        assert min(xs) <= x0 + 1 and max(xs) >= x1 - 1 and min(ys) <= y0 + 1 and max(ys) >= y1 - 1


def test_no_duplicate_points_and_few_points(fonts) -> None:
    font = TTFont(fonts["ttf"])
    glyf = font["glyf"]
    counts = []
    for name in font.getGlyphOrder():
        glyph = glyf[name]
        if glyph.numberOfContours <= 0:
            continue
        coords, ends, _ = glyph.getCoordinates(glyf)
        start = 0
        for end in ends:
            points = list(coords[start : end + 1])
            assert all(points[k] != points[(k + 1) % len(points)] for k in range(len(points))), name
            start = end + 1
        counts.append(len(coords))
    # Bars and a stem are 4 points a contour; a ring's two contours are a few curves each.
    assert np.median(counts) <= 40


def test_cff_is_subroutinised(fonts) -> None:
    cff = TTFont(fonts["otf"])["CFF "].cff
    top = cff.topDictIndex[0]
    assert len(cff.GlobalSubrs) + len(getattr(top.Private, "Subrs", [])) > 0


# --- metrics and vertical text ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_cjk_vertical_metrics(fonts, kind: str) -> None:
    font = TTFont(fonts[kind])
    os2, hhea, head = font["OS/2"], font["hhea"], font["head"]
    assert head.unitsPerEm == 1000
    assert (os2.sTypoAscender, os2.sTypoDescender, os2.sTypoLineGap) == (880, -120, 0)  # the ideographic em box
    assert not os2.fsSelection & (1 << 7)  # USE_TYPO_METRICS off
    assert (hhea.ascent, -hhea.descent, hhea.lineGap) == (os2.usWinAscent, os2.usWinDescent, 0)
    assert 1.1 < (hhea.ascent - hhea.descent) / 1000 <= 1.5
    assert hhea.ascent >= head.yMax and hhea.descent <= head.yMin  # nothing clipped
    assert os2.ySubscriptYSize > 0 and os2.ySuperscriptYOffset > 0 and os2.yStrikeoutSize > 0
    assert -120 < os2.yStrikeoutPosition < 880


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_base_table_names_the_ideographic_baselines(fonts, kind: str) -> None:
    axis = TTFont(fonts[kind])["BASE"].table.HorizAxis
    tags = axis.BaseTagList.BaselineTag
    records = {r.BaseScriptTag: r.BaseScript.BaseValues for r in axis.BaseScriptList.BaseScriptRecord}
    hani = records["hani"]
    coords = {tag: c.Coordinate for tag, c in zip(tags, hani.BaseCoord)}
    assert coords == {"ideo": -120, "idtp": 880, "romn": 0}
    assert tags[hani.DefaultIndex] == "ideo" and tags[records["latn"].DefaultIndex] == "romn"


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_vertical_metrics_tables(fonts, kind: str) -> None:
    font = TTFont(fonts[kind])
    assert "vhea" in font and "vmtx" in font
    glyph_set = font.getGlyphSet()
    for name in font.getGlyphOrder()[:40]:
        height, tsb = font["vmtx"][name]
        assert height == 1000
        if kind == "ttf":  # rasterisers read yMax from the glyph header (the control box)
            y_max = getattr(font["glyf"][name], "yMax", None) if font["glyf"][name].numberOfContours else None
        else:
            pen = BoundsPen(glyph_set)
            glyph_set[name].draw(pen)
            y_max = pen.bounds[3] if pen.bounds else None
        # Hung from the em box top; an empty glyph's tsb is the origin itself.
        assert tsb + (y_max or 0) == pytest.approx(880, abs=1)
    if kind == "otf":
        assert font["VORG"].defaultVertOriginY == 880


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_harfbuzz_sets_vertical_text_one_em_apart(fonts, kind: str) -> None:
    hb = pytest.importorskip("uharfbuzz")
    font = TTFont(fonts[kind])
    text = "".join(chr(cp) for cp in sorted(font.getBestCmap()) if cp >= 0x4E00)[:12] + "\u3000"
    blob = hb.Blob.from_file_path(str(fonts[kind]))
    hb_font = hb.Font(hb.Face(blob))
    for direction, advance in (("ttb", (0, -1000)), ("ltr", (1000, 0))):
        buf = hb.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        buf.direction = direction
        hb.shape(hb_font, buf)
        assert len(buf.glyph_positions) == len(text)
        assert {(p.x_advance, p.y_advance) for p in buf.glyph_positions} == {advance}, direction
        if direction == "ttb":
            # Each glyph hangs from the em box top, centred across the column.
            origins = {hb_font.get_glyph_v_origin(info.codepoint) for info in buf.glyph_infos}
            assert origins == {(500, 880)}


def test_merging_keeps_the_bases_vertical_origin(fonts, tmp_path: Path) -> None:
    """A merge into a font with vertical metrics hangs the new glyphs where the base hangs its own."""
    base = TTFont(fonts["otf"])
    extra = {0x9F99 + i: synthetic_glyph(i) for i in range(3)}  # 龙 and neighbours: not in the base
    folder = write_folder(tmp_path / "extra", extra)
    for kind in ("ttf", "otf"):
        out = tmp_path / f"merged.{kind}"
        merge_into_font(folder, fonts[kind], out)
        merged = TTFont(out)
        glyph_set = merged.getGlyphSet()
        cmap = merged.getBestCmap()
        for cp in extra:
            name = cmap[cp]
            pen = BoundsPen(glyph_set)
            glyph_set[name].draw(pen)
            height, tsb = merged["vmtx"][name]
            assert height == 1000 and tsb + pen.bounds[3] == pytest.approx(880, abs=1)
        assert merged["name"].getDebugName(1) == "Zi2zi Foundry zi2zi"
    assert "VORG" in base


# --- basics ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_whitespace_gasp_names_and_coverage_bits(fonts, kind: str) -> None:
    font = TTFont(fonts[kind])
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    assert hmtx[cmap[0x20]][0] == 500 and cmap[0xA0] == cmap[0x20] and hmtx[cmap[0x3000]][0] == 1000
    assert font["gasp"].gaspRange == {0xFFFF: 0x000F}
    name = font["name"]
    assert name.getDebugName(0).startswith("Copyright 2026")
    assert "Open Font License" in name.getDebugName(13) and name.getDebugName(14) == "https://openfontlicense.org"
    assert name.getDebugName(5) == "Version 1.002" and "Zi2ziFoundry-Regular" in name.getDebugName(3)
    os2 = font["OS/2"]
    pages = os2.getCodePageRanges()
    assert pages == {18}  # GB 2312 (the standard of its hanzi); no Latin 1 without Latin letters
    assert 59 in os2.getUnicodeRanges()  # CJK Unified Ideographs
    assert font["post"].isFixedPitch == 1 and os2.panose.bProportion == 9  # dual width: fixed pitch


def test_code_page_bits_follow_coverage() -> None:
    gb = [ord(c) for c in builtin_charset("gb2312-1")]
    big5 = [ord(c) for c in builtin_charset("big5-1")]
    latin = [ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    assert 18 in code_page_bits(gb) and 20 not in code_page_bits(gb)
    assert 20 in code_page_bits(big5)
    assert 0 in code_page_bits(gb + latin) and 0 not in code_page_bits(gb)
    assert code_page_bits(gb[:300]) == {18}  # below the threshold: the one standard it is written for


# --- fontbakery ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_fontbakery_universal_profile_has_no_fail(fonts, kind: str, tmp_path: Path) -> None:
    found = fontbakery_findings(fonts[kind], kind, tmp_path)
    assert found.get("FAIL", []) == [] and found.get("ERROR", []) == [] and found.get("FATAL", []) == []
    # The WARNs the README lists, and no others.
    expected = {"cjk_chws_feature"} | ({"opentype/monospace"} if kind == "ttf" else set())
    assert set(found.get("WARN", [])) <= expected, found.get("WARN")
    if kind == "otf":
        font = TTFont(fonts[kind])
        assert font["hhea"].advanceWidthMax == 1000 and font["OS/2"].panose.bProportion == 9


def test_metrics_options_change_line_spacing_and_typo_bit(tmp_path: Path) -> None:
    from zi2zi.export import MetricsOptions

    folder = write_folder(tmp_path / "g", {0x4E00 + i: synthetic_glyph(i) for i in range(3)})
    out = tmp_path / "loose.ttf"
    export_font(folder, out, family="Loose", metrics=MetricsOptions(line_spacing=1.5, use_typo_metrics=True))
    font = TTFont(out)
    assert font["OS/2"].fsSelection & (1 << 7)
    assert (font["hhea"].ascent, font["hhea"].descent) == (880 + 250, -120 - 250)
    assert (font["OS/2"].sTypoAscender, font["OS/2"].sTypoDescender) == (880, -120)


def test_merge_with_a_cjk_family_name_into_cff(fonts, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "extra", {0x9F99: synthetic_glyph(1)})
    out = tmp_path / "merged.otf"
    merge_into_font(folder, fonts["otf"], out, family="合并 Kai")
    font = TTFont(out)
    ps_name = font["name"].getDebugName(6)
    assert font["name"].getDebugName(1) == "合并 Kai" and ps_name.isascii() and ps_name.endswith("-Regular")
    assert font["CFF "].cff.fontNames == [ps_name] and font["CFF "].cff.topDictIndex[0].FamilyName.isascii()
    assert font["name"].getDebugName(3) != TTFont(fonts["otf"])["name"].getDebugName(3)
    assert any(r.nameID == 1 and r.langID == 0x0804 for r in font["name"].names)


def test_fontconfig_sees_the_fixed_pitch_the_post_table_claims(fonts) -> None:
    """fontconfig derives spacing from the advances: ideographs one em, the space half an em is
    'dual' (90), the fixed pitch of CJK fonts, which post.isFixedPitch = 1 states."""
    fc_query = shutil.which("fc-query")
    if fc_query is None:
        pytest.skip("fontconfig's fc-query is not installed")
    for kind in ("ttf", "otf"):
        out = subprocess.run([fc_query, "--format", "%{spacing}", str(fonts[kind])], capture_output=True, text=True)
        assert out.stdout.strip() == "90" and TTFont(fonts[kind])["post"].isFixedPitch == 1


@pytest.mark.parametrize(("version", "why"), [("40000.000", "at most 32767"), ("1.0.0", "MAJOR.MINOR"),
                                              ("١.٠٠٠", "MAJOR.MINOR"), ("v1.000", "MAJOR.MINOR")])
def test_a_version_the_head_table_cannot_hold_is_refused_before_tracing(version, why) -> None:
    from zi2zi.errors import ExportError

    with pytest.raises(ExportError, match=f"font version .*{why}.*--version"):
        FontInfo(version=version)
    assert FontInfo(version="32767.999").version == "32767.999"
