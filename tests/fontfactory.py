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
    advances: dict[str, int] | None = None,
    names: dict[str, str] | None = None,
):
    """A TTFont with one glyph per character (an empty rect list makes an empty glyph);
    ``advances`` gives single characters their own width, ``names`` adds name records
    (FontBuilder's keys, e.g. licenseDescription)."""
    advance = units_per_em if advance is None else advance
    widths = {f"uni{ord(c):04X}": w for c, w in (advances or {}).items()}
    order = [".notdef"] + [f"uni{ord(c):04X}" for c in glyphs]
    fb = FontBuilder(units_per_em, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({ord(c): f"uni{ord(c):04X}" for c in glyphs})
    outlines = {".notdef": _glyph([(50, 0, advance - 50, ascender - 80)])}
    outlines.update({f"uni{ord(c):04X}": _glyph(r) for c, r in glyphs.items()})
    fb.setupGlyf(outlines)
    # The left side bearing must equal each glyph's xMin: TrueType rasterisers place outlines by it.
    fb.setupHorizontalMetrics({name: (widths.get(name, advance), getattr(outlines[name], "xMin", 0)) for name in order})
    fb.setupHorizontalHeader(ascent=ascender, descent=descender)
    fb.setupNameTable({"familyName": family, "styleName": style, **(names or {})})
    fb.setupOS2(sTypoAscender=ascender, sTypoDescender=descender, usWinAscent=ascender, usWinDescent=-descender)
    fb.setupPost()
    return fb.font


def _ring(x0: int, y0: int, x1: int, y1: int, w: int) -> list[Rect]:
    return [(x0, y0, x1, y0 + w), (x0, y1 - w, x1, y1), (x0, y0 + w, x0 + w, y1 - w), (x1 - w, y0 + w, x1, y1 - w)]


# Full-width punctuation placed as CJK fonts place it in the em box (880 / -120 for 1000 units):
# 。、， low at the left, ？！ centred, （ at the right, ） at the left, “ high at the right.
CJK_PUNCTUATION_GLYPHS: dict[str, list[Rect]] = {
    "。": _ring(90, -50, 290, 150, 45),
    "、": [(110, -30, 250, 110)],
    "，": [(120, -90, 220, 110)],
    "？": [(380, 560, 620, 640), (560, 360, 640, 600), (460, 240, 540, 400), (460, 0, 540, 90)],
    "！": [(460, 200, 540, 720), (460, 0, 540, 90)],
    "（": [(640, -80, 720, 800)],
    "）": [(280, -80, 360, 800)],
    "“": [(560, 560, 640, 720), (700, 560, 780, 720)],
    "”": [(220, 560, 300, 720), (360, 560, 440, 720)],
}

# Latin and digits of a proportional font: character -> (rectangles, advance). Every letter has
# its other case (fontbakery's case_mapping).
LATIN_GLYPHS: dict[str, tuple[list[Rect], int]] = {
    "H": ([(60, 0, 140, 700), (400, 0, 480, 700), (140, 320, 400, 390)], 540),
    "W": ([(40, 0, 120, 700), (320, 0, 400, 500), (600, 0, 680, 700), (120, 0, 600, 70)], 720),
    "e": ([*_ring(50, 0, 430, 500, 70), (120, 220, 360, 290)], 480),
    "l": ([(60, 0, 140, 740)], 200),
    "o": ([*_ring(50, 0, 450, 500, 70)], 500),
    "r": ([(60, 0, 140, 500), (140, 430, 320, 500)], 340),
    "d": ([*_ring(50, 0, 400, 500, 70), (330, 0, 400, 740)], 460),
    "h": ([(60, 0, 140, 740), (360, 0, 440, 500), (140, 430, 360, 500)], 500),
    "w": ([(40, 0, 110, 500), (280, 0, 350, 400), (520, 0, 590, 500), (110, 0, 520, 70)], 630),
    "E": ([(60, 0, 140, 700), (140, 630, 440, 700), (140, 320, 400, 390), (140, 0, 440, 70)], 490),
    "L": ([(60, 0, 140, 700), (140, 0, 420, 70)], 450),
    "O": ([*_ring(50, 0, 600, 700, 80)], 650),
    "R": ([(60, 0, 140, 700), (140, 630, 440, 700), (380, 390, 450, 630), (140, 320, 400, 390), (330, 0, 410, 320)], 500),
    "D": ([(60, 0, 140, 700), (140, 630, 420, 700), (420, 70, 500, 630), (140, 0, 420, 70)], 560),
    "0": ([*_ring(50, 0, 450, 700, 70)], 500),
    "2": ([(50, 630, 450, 700), (380, 350, 450, 630), (50, 350, 450, 420), (50, 70, 120, 350), (50, 0, 450, 70)], 500),
    "6": ([*_ring(50, 0, 450, 420, 70), (50, 420, 120, 700), (120, 630, 450, 700)], 500),
    ".": ([(60, 0, 150, 90)], 210),
    ",": ([(60, -120, 140, 90)], 200),
    "!": ([(70, 200, 150, 700), (70, 0, 150, 90)], 220),
}


def sentence_font(hanzi: str, *, units_per_em: int = 1000, names: dict[str, str] | None = None, weight: int = 80,
                  **kwargs):
    """A drawn font that sets a sentence: ``hanzi`` as bar patterns (``weight`` thick), CJK
    punctuation, Latin and digits (proportional), scaled to ``units_per_em``."""
    k = units_per_em / 1000

    def scaled(rects):
        return [tuple(round(v * k) for v in r) for r in rects]

    glyphs = {c: scaled(r) for c, r in {**pattern_glyphs(hanzi, weight=weight), **CJK_PUNCTUATION_GLYPHS}.items()}
    glyphs.update({c: scaled(r) for c, (r, _) in LATIN_GLYPHS.items()})
    advances = {c: round(w * k) for c, (_, w) in LATIN_GLYPHS.items()}
    return build_font(glyphs, units_per_em=units_per_em, ascender=round(880 * k), descender=round(-120 * k),
                      advances=advances, names=names, **kwargs)


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
