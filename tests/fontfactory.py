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
