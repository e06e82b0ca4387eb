"""Tiny real fonts for tests, built with fontTools, so no test needs a system font.

Each glyph is a set of axis-aligned rectangles in font units, so a test knows exactly where ink
must land. ``pattern_glyphs`` gives every character a different bar pattern derived from its code
point (a stand-in "style" per font through ``weight``), enough for datasets and tiny trainings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in font units


def _glyph(rects: Sequence[Rect]):
    pen = TTGlyphPen(None)
    for x0, y0, x1, y1 in rects:
        # Clockwise outer contours: TrueType's convention for filled areas.
        pen.moveTo((x0, y0))
        pen.lineTo((x0, y1))
        pen.lineTo((x1, y1))
        pen.lineTo((x1, y0))
        pen.closePath()
    return pen.glyph()


def build_font(
    glyphs: dict[str, Sequence[Rect]],
    *,
    units_per_em: int = 1000,
    ascender: int = 880,
    descender: int = -120,
    family: str = "Zi2zi Test",
    style: str = "Regular",
    advance: int | None = None,
):
    """A TTFont with one glyph per character (an empty rect list makes an empty glyph)."""
    advance = units_per_em if advance is None else advance
    order = [".notdef"] + [f"uni{ord(c):04X}" for c in glyphs]
    fb = FontBuilder(units_per_em, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({ord(c): f"uni{ord(c):04X}" for c in glyphs})
    outlines = {".notdef": _glyph([(50, 0, advance - 50, ascender - 80)])}
    outlines.update({f"uni{ord(c):04X}": _glyph(r) for c, r in glyphs.items()})
    fb.setupGlyf(outlines)
    # The left side bearing must equal each glyph's xMin: TrueType rasterisers place outlines by it.
    fb.setupHorizontalMetrics({name: (advance, getattr(outlines[name], "xMin", 0)) for name in order})
    fb.setupHorizontalHeader(ascent=ascender, descent=descender)
    fb.setupNameTable({"familyName": family, "styleName": style})
    fb.setupOS2(sTypoAscender=ascender, sTypoDescender=descender, usWinAscent=ascender, usWinDescent=-descender)
    fb.setupPost()
    return fb.font


def save_font(path: Path, glyphs: dict[str, Sequence[Rect]], **kwargs) -> Path:
    build_font(glyphs, **kwargs).save(str(path))
    return path


def save_collection(path: Path, faces: Iterable[dict]) -> Path:
    collection = TTCollection()
    collection.fonts = [build_font(**face) for face in faces]
    collection.save(str(path))
    return path


def pattern_glyphs(chars: str, *, weight: int = 80) -> dict[str, list[Rect]]:
    """Distinct bar patterns per character: bit k of the code point draws bar k.

    ``weight`` is the bar thickness in font units, so two fonts made with different weights are
    two "styles" of the same characters.
    """
    glyphs = {}
    for char in chars:
        cp = ord(char)
        rects: list[Rect] = [(100, 0, 100 + weight, 760)]  # a stem every glyph shares
        for k in range(6):
            if cp >> k & 1:
                y = 40 + k * 120
                rects.append((220, y, 900, y + weight))
        glyphs[char] = rects
    return glyphs


Quad = tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]


def _stroke(x0: int, y0: int, x1: int, y1: int, width: int) -> Quad:
    """A straight pen stroke from (x0, y0) to (x1, y1) as a quadrilateral ``width`` units wide."""
    dx, dy = x1 - x0, y1 - y0
    length = max(1.0, (dx * dx + dy * dy) ** 0.5)
    nx, ny = -dy / length * width / 2, dx / length * width / 2
    pts = [(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)]
    return tuple((round(x), round(y)) for x, y in pts)  # type: ignore[return-value]


def stroke_glyphs(chars: str, *, width: int = 70) -> dict[str, list[Quad]]:
    """Hand-like glyphs: slanted strokes (horizontal, vertical, falling, rising) chosen by the code
    point, so each character differs and strokes are not pixel-aligned, as with a pen."""
    glyphs = {}
    for char in chars:
        cp = ord(char)
        quads = [_stroke(150, 700, 850, 740, width), _stroke(480, 800, 470, -60, width)]  # 一 and 丨
        if cp & 1:
            quads.append(_stroke(200, 520, 420, 160, width))  # falling left (撇)
        if cp & 2:
            quads.append(_stroke(560, 480, 840, 120, width))  # rising right (捺, mirrored)
        if cp & 4:
            quads.append(_stroke(180, 330, 820, 300, width))  # a second horizontal
        if cp & 8:
            quads.append(_stroke(260, 60, 740, 40, width))  # a base stroke near the baseline
        if cp & 16:
            quads.append(_stroke(250, 600, 330, 420, width))  # a dot
        # a short stroke whose position depends on the whole code point: no two glyphs alike
        h = cp * 2654435761 % 4294967296 >> 8
        x, y = 180 + (h % 29) * 22, 80 + (h // 29 % 29) * 22
        quads.append(_stroke(x, y, x + 90, y + 60, width))
        glyphs[char] = quads
    return glyphs


def build_quad_font(glyphs: dict[str, Sequence[Quad]], *, family: str = "Zi2zi Hand", units_per_em: int = 1000,
                    ascender: int = 880, descender: int = -120):
    """Like :func:`build_font` but each glyph is a set of quadrilaterals (overlaps allowed)."""
    order = [".notdef"] + [f"uni{ord(c):04X}" for c in glyphs]
    fb = FontBuilder(units_per_em, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({ord(c): f"uni{ord(c):04X}" for c in glyphs})
    outlines = {".notdef": _glyph([(50, 0, units_per_em - 50, ascender - 80)])}
    for char, quads in glyphs.items():
        pen = TTGlyphPen(None)
        for quad in quads:
            # Clockwise in font units (y up) so every quad is filled.
            area = sum(quad[i][0] * quad[(i + 1) % 4][1] - quad[(i + 1) % 4][0] * quad[i][1] for i in range(4))
            points = list(quad) if area < 0 else list(reversed(quad))
            pen.moveTo(points[0])
            for p in points[1:]:
                pen.lineTo(p)
            pen.closePath()
        outlines[f"uni{ord(char):04X}"] = pen.glyph()
    fb.setupGlyf(outlines)
    fb.setupHorizontalMetrics({name: (units_per_em, getattr(outlines[name], "xMin", 0)) for name in order})
    fb.setupHorizontalHeader(ascent=ascender, descent=descender)
    fb.setupNameTable({"familyName": family, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=ascender, sTypoDescender=descender, usWinAscent=ascender, usWinDescent=-descender)
    fb.setupPost()
    return fb.font
